"""Value types shared by decoders, validator and pipeline: rejects, decode results, reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from minepos.measurement import Measurement

__all__ = [
    "REASONS",
    "DecodeContext",
    "DecodeResult",
    "FieldError",
    "IngestReport",
    "Reject",
]

#: Every reason code a reject may carry; a closed set so metrics labels stay bounded.
REASONS: Final = frozenset(
    {
        "invalid_json",  # the bytes are not JSON (or not UTF-8)
        "payload_too_large",
        "malformed",  # wrong structure, missing field or wrong type
        "unknown_field",  # a field the format does not define (catches typos like "rssi")
        "bad_ts",  # unreadable timestamp
        "bad_value",  # impossible value: negative range, RSSI out of range, non-finite, ...
        "empty",  # nothing measured: no anchor, event, status or position
        "unknown_event",
        "unknown_tag",
        "unknown_anchor",
        "ts_future",  # further ahead of the server clock than the allowed skew
        "ts_stale",  # older than the allowed age
        "wrong_topic",  # the MQTT topic does not fit the decoder
        "no_decoder",  # no decoder configured for this topic / name
        "decoder_error",  # a decoder bug: caught, logged, and the payload kept as a dead letter
        "sink_error",  # the engine refused the batch
    }
)


@dataclass(frozen=True, slots=True)
class Reject:
    """One item (or the whole payload, ``index=None``) refused, with a code and a reason."""

    index: int | None
    code: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the API and the CLI."""
        return {"index": self.index, "code": self.code, "reason": self.reason}


class FieldError(ValueError):
    """Raised inside decoders for one bad item; always caught there and turned into a `Reject`."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DecodeContext:
    """What a transport knows besides the bytes: server receive time, MQTT topic, gateway name."""

    received_at: float
    topic: str | None = None
    gateway: str | None = None


@dataclass(slots=True)
class DecodeResult:
    """A decoder's answer: measurements (with the index of the payload item each came from) and
    per-item rejects. One item may give several measurements (a reading and a battery status).
    """

    measurements: list[Measurement] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    #: a gateway name the payload itself carries (canonical batches, vendor gateway ids)
    gateway: str | None = None

    def add(self, index: int, measurement: Measurement) -> None:
        """Record one decoded measurement."""
        self.measurements.append(measurement)
        self.indexes.append(index)

    def reject(self, index: int | None, code: str, reason: str) -> None:
        """Record one refused item."""
        self.rejects.append(Reject(index, code, reason))

    @classmethod
    def refused(cls, code: str, reason: str) -> DecodeResult:
        """The whole payload refused (it cannot be split into items)."""
        return cls(rejects=[Reject(None, code, reason)])


@dataclass(slots=True)
class IngestReport:
    """What became of one payload: how many accepted, how many duplicates, why others were not."""

    gateway: str
    transport: str
    decoder: str
    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejects: list[Reject] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Number of refused items (a whole-payload refusal counts as one)."""
        return len(self.rejects)

    def to_dict(self) -> dict[str, Any]:
        """JSON form returned by `POST /api/v1/mines/<mine>/ingest`."""
        return {
            "gateway": self.gateway,
            "transport": self.transport,
            "decoder": self.decoder,
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejects": [r.to_dict() for r in self.rejects],
        }
