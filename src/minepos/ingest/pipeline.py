"""The ingest pipeline, the same for every transport: decode, validate, de-duplicate, hand over.

Every payload ends in exactly one of: accepted (handed to the sink, i.e. the engine), dropped as a
duplicate, or refused with a reason; refusals are counted per gateway and reason and the payload
is kept as a dead letter. Nothing is lost silently.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from minepos.ingest.deadletters import DeadLetter, DeadLetterSink, payload_text
from minepos.ingest.decoders import DECODERS, Decoder
from minepos.ingest.dedup import Deduplicator
from minepos.ingest.metrics import IngestMetrics
from minepos.ingest.report import DecodeContext, DecodeResult, IngestReport, Reject
from minepos.ingest.validate import Validator
from minepos.measurement import Measurement

__all__ = ["IngestPipeline", "Sink"]

logger = logging.getLogger(__name__)

#: where accepted measurements go (the engine's input); called with one batch per payload
Sink = Callable[[Sequence[Measurement]], None]

MAX_PAYLOAD_BYTES: Final = 1 << 20
_REASONS_IN_LETTER: Final = 10
_OTHER_GATEWAYS: Final = "_other"


class IngestPipeline:
    """Decode -> validate -> de-duplicate -> sink, with counters, metrics and dead letters.

    Thread-safe: transports on the event loop and HTTP handlers in a thread pool may share it.
    """

    def __init__(
        self,
        sink: Sink,
        validator: Validator,
        *,
        dedup: Deduplicator | None = None,
        dead_letters: DeadLetterSink | None = None,
        metrics: IngestMetrics | None = None,
        decoders: Mapping[str, Decoder] = DECODERS,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
        max_gateway_labels: int = 1000,
    ) -> None:
        self.sink = sink
        self.validator = validator
        self.clock = validator.clock
        # not `dedup or ...`: an empty Deduplicator is falsy (it has __len__)
        self.dedup = dedup if dedup is not None else Deduplicator(validator.clock)
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.decoders = decoders
        self.max_payload_bytes = max_payload_bytes
        self.max_gateway_labels = max_gateway_labels
        self._counts: Counter[tuple[str, str]] = Counter()
        self._labels: set[str] = set()
        self._lock = threading.Lock()

    def accept(
        self,
        payload: bytes,
        gateway: str | None,
        transport: str,
        *,
        decoder: str = "canonical",
        topic: str | None = None,
        default_gateway: str = "unknown",
    ) -> IngestReport:
        """Take one payload through the pipeline and say what became of each item.

        `gateway` is the authenticated or configured gateway name (HTTP key, MQTT topic); when
        None the name the payload carries is used, else `default_gateway`.
        """
        with self._lock:
            now = self.clock()
            result = self._decode(payload, decoder, DecodeContext(now, topic, gateway))
            name = gateway or result.gateway or default_gateway
            report = IngestReport(name, transport, decoder)
            report.received = len(result.measurements) + len(result.rejects)
            accepted = self._screen(result, now, report)
            if accepted:
                self._deliver(accepted, report)
            self._account(report)
            if report.rejects:
                self._dead_letter(payload, report, now)
            return report

    def counters(self) -> dict[tuple[str, str], int]:
        """Counts by (gateway, outcome): ``accepted``, ``duplicate`` or a reject reason code."""
        with self._lock:
            return dict(self._counts)

    def _decode(self, payload: bytes, name: str, ctx: DecodeContext) -> DecodeResult:
        decoder = self.decoders.get(name)
        if decoder is None:
            return DecodeResult.refused("no_decoder", f"no decoder named {name!r:.60}")
        if len(payload) > self.max_payload_bytes:
            return DecodeResult.refused(
                "payload_too_large",
                f"payload of {len(payload)} bytes is over the {self.max_payload_bytes} byte limit",
            )
        try:
            return decoder.decode(payload, ctx)
        except Exception as exc:  # decoders are total; this is the last line of defence
            logger.exception("decoder %s raised", name)
            return DecodeResult.refused(
                "decoder_error", f"{name} decoder failed: {type(exc).__name__}"
            )

    def _screen(self, result: DecodeResult, now: float, report: IngestReport) -> list[Measurement]:
        check = self.validator.check
        self.dedup.tick(now)
        valid: list[Measurement] = []
        rejects = list(result.rejects)
        for index, m in zip(result.indexes, result.measurements, strict=True):
            problem = check(m, now)
            if problem is not None:
                rejects.append(Reject(index, problem[0], problem[1]))
            else:
                valid.append(m)
        accepted = self.dedup.unseen(valid)  # one lock for the batch (shared across lanes)
        report.duplicates += len(valid) - len(accepted)
        rejects.sort(key=lambda r: -1 if r.index is None else r.index)
        report.rejects = rejects
        return accepted

    def _deliver(self, accepted: list[Measurement], report: IngestReport) -> None:
        try:
            self.sink(accepted)
        except Exception as exc:  # the engine refusing must not lose the batch silently
            logger.exception("sink refused %d measurements from %s", len(accepted), report.gateway)
            reason = f"engine refused the batch: {type(exc).__name__}: {exc}"[:300]
            report.rejects.extend(Reject(None, "sink_error", reason) for _ in accepted)
            return
        report.accepted = len(accepted)

    def _account(self, report: IngestReport) -> None:
        gw = report.gateway
        counts = self._counts
        if report.accepted:
            counts[(gw, "accepted")] += report.accepted
        if report.duplicates:
            counts[(gw, "duplicate")] += report.duplicates
        by_reason = Counter(r.code for r in report.rejects)
        for code, n in by_reason.items():
            counts[(gw, code)] += n
        if self.metrics is not None:
            self._export(report, by_reason)

    def _export(self, report: IngestReport, by_reason: Counter[str]) -> None:
        metrics = self.metrics
        assert metrics is not None
        label = self._gateway_label(report.gateway)
        metrics.payloads.labels(transport=report.transport, gateway=label).inc()
        if report.accepted:
            metrics.accepted.labels(transport=report.transport, gateway=label).inc(report.accepted)
        if report.duplicates:
            metrics.duplicates.labels(gateway=label).inc(report.duplicates)
        for code, n in by_reason.items():
            metrics.rejected.labels(gateway=label, reason=code).inc(n)

    def _gateway_label(self, gateway: str) -> str:
        # Gateway names come from the outside; cap the label set so /metrics stays bounded.
        if gateway in self._labels:
            return gateway
        if len(self._labels) < self.max_gateway_labels:
            self._labels.add(gateway)
            return gateway
        return _OTHER_GATEWAYS

    def _dead_letter(self, payload: bytes, report: IngestReport, now: float) -> None:
        if self.dead_letters is None:
            return
        letter = DeadLetter(
            received_at=now,
            gateway=report.gateway,
            transport=report.transport,
            decoder=report.decoder,
            reason=_summary(report),
            payload=payload_text(payload),
        )
        try:
            self.dead_letters.put([letter])
        except Exception:  # a full disk must not stop ingest; the counters still have it
            logger.exception("cannot store a dead letter from %s", report.gateway)


def _summary(report: IngestReport) -> str:
    rejects = report.rejects
    if len(rejects) == 1 and rejects[0].index is None:
        return f"{rejects[0].code}: {rejects[0].reason}"
    parts = [
        f"[{'-' if r.index is None else r.index}] {r.code}: {r.reason}"
        for r in rejects[:_REASONS_IN_LETTER]
    ]
    more = len(rejects) - _REASONS_IN_LETTER
    head = f"{len(rejects)} of {report.received} refused: "
    return head + "; ".join(parts) + (f"; (+{more} more)" if more > 0 else "")
