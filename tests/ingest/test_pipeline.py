"""The pipeline: validation reasons, partial batches, duplicates, counters, metrics, dead letters"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from minepos.ingest import (
    IngestMetrics,
    IngestPipeline,
    MemoryDeadLetterStore,
    SqliteDeadLetterStore,
    ValidationLimits,
    Validator,
    render,
)
from minepos.ingest.deadletters import MAX_PAYLOAD_TEXT, DeadLetter, payload_text
from minepos.ingest.dedup import Deduplicator
from minepos.measurement import Measurement

from .conftest import NOW, FakeClock, RecordingSink

TAGS = {"t1", "t2"}
ANCHORS = {"a1", "a2"}


def _pipeline(
    clock: FakeClock, sink: RecordingSink, **kwargs: object
) -> tuple[IngestPipeline, MemoryDeadLetterStore]:
    letters = MemoryDeadLetterStore()
    validator = Validator(TAGS, ANCHORS, clock, ValidationLimits(max_future_s=2, max_age_s=60))
    pipe = IngestPipeline(sink, validator, dead_letters=letters, **kwargs)  # type: ignore[arg-type]
    return pipe, letters


def _batch(*items: dict[str, object], gateway: str = "g1") -> bytes:
    return json.dumps({"gateway": gateway, "measurements": list(items)}).encode()


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"tag": "t9", "anchor": "a1", "range_m": 3}, "unknown_tag"),
        ({"tag": "t1", "anchor": "a9", "range_m": 3}, "unknown_anchor"),
        ({"tag": "t1", "anchor": "a1", "range_m": -0.5}, "bad_value"),
        ({"tag": "t1", "anchor": "a1", "range_m": 1e6}, "bad_value"),
        ({"tag": "t1", "anchor": "a1", "rssi_dbm": 35}, "bad_value"),
        ({"tag": "t1", "anchor": "a1", "rssi_dbm": -200}, "bad_value"),
        ({"tag": "t1", "battery_pct": 101}, "bad_value"),
        ({"tag": "t1", "battery_pct": -1}, "bad_value"),
        ({"tag": "t1", "event": "party"}, "unknown_event"),
        ({"tag": "t1", "xyz": [0, 0, 1e9]}, "bad_value"),
        ({"tag": "t1"}, "empty"),
        ({"tag": "t1", "event": "sos", "ts": NOW + 10}, "ts_future"),
        ({"tag": "t1", "event": "sos", "ts": NOW - 61}, "ts_stale"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_item_is_rejected_with_reason_rest_accepted(
    clock: FakeClock, sink: RecordingSink, item: dict[str, object], code: str
) -> None:
    pipe, letters = _pipeline(clock, sink)
    good = {"ts": NOW, "tag": "t2", "anchor": "a2", "rssi_dbm": -70}
    report = pipe.accept(_batch(good, {"ts": NOW, **item}), None, "http")
    assert report.accepted == 1
    assert sink.measurements == [Measurement(ts=NOW, tag="t2", anchor="a2", rssi_dbm=-70.0)]
    assert [(r.index, r.code) for r in report.rejects] == [(1, code)]
    assert report.rejects[0].reason
    assert pipe.counters() == {("g1", "accepted"): 1, ("g1", code): 1}
    (letter,) = letters.recent(10)
    assert letter.gateway == "g1"
    assert letter.transport == "http"
    assert code in letter.reason
    assert '"t2"' in letter.payload


def test_every_canonical_example_of_the_contract_is_accepted(
    clock: FakeClock, sink: RecordingSink
) -> None:
    pipe, letters = _pipeline(clock, sink)
    items = [
        {"ts": NOW, "anchor": "a1", "tag": "t1", "range_m": 12.34},
        {"ts": NOW, "anchor": "a2", "tag": "t1", "rssi_dbm": -71.5},
        {"ts": NOW, "anchor": "a1", "tag": "t1"},
        {"ts": NOW, "tag": "t1", "event": "sos"},
        {"ts": NOW, "tag": "t1", "motion": False, "battery_pct": 35},
        {"ts": "2025-11-22T06:39:59.5Z", "tag": "t1", "event": "lamp_out"},
    ]
    report = pipe.accept(json.dumps(items).encode(), "g7", "mqtt")
    assert (report.accepted, report.rejected, report.duplicates) == (6, 0, 0)
    assert sink.measurements[-1].ts == NOW - 0.5
    assert letters.recent(10) == []


def test_duplicates_through_two_gateways_are_dropped_once(
    clock: FakeClock, sink: RecordingSink
) -> None:
    pipe, _ = _pipeline(clock, sink)
    reading = {"ts": NOW, "tag": "t1", "anchor": "a1", "range_m": 4.5}
    first = pipe.accept(_batch(reading, gateway="g1"), None, "mqtt")
    second = pipe.accept(_batch(reading, {**reading, "range_m": 4.6}, gateway="g2"), None, "udp")
    assert (first.accepted, first.duplicates) == (1, 0)
    assert (second.accepted, second.duplicates) == (1, 1)
    assert len(sink.measurements) == 2
    assert pipe.counters()[("g2", "duplicate")] == 1


def test_dedup_window_turns_over() -> None:
    clock = FakeClock()
    dedup = Deduplicator(clock, window_s=10)
    m = Measurement(ts=NOW, tag="t1", anchor="a1")
    assert not dedup.is_duplicate(m)
    dedup.tick(NOW + 11)
    assert dedup.is_duplicate(m)  # still in the previous generation
    dedup.tick(NOW + 22)
    assert not dedup.is_duplicate(m)  # forgotten after two windows
    assert len(dedup) == 1


def test_whole_payload_reject_is_counted_and_kept(clock: FakeClock, sink: RecordingSink) -> None:
    pipe, letters = _pipeline(clock, sink)
    report = pipe.accept(b"\x00garbage", "gw-x", "udp")
    assert report.accepted == 0
    assert [(r.index, r.code) for r in report.rejects] == [(None, "invalid_json")]
    assert sink.batches == []
    (letter,) = letters.recent(5, gateway="gw-x")
    assert letter.reason.startswith("invalid_json: ")
    assert letter.decoder == "canonical"


def test_unknown_decoder_and_oversized_payload(clock: FakeClock, sink: RecordingSink) -> None:
    pipe, _ = _pipeline(clock, sink, max_payload_bytes=100)
    assert pipe.accept(b"{}", "g", "mqtt", decoder="nope").rejects[0].code == "no_decoder"
    assert pipe.accept(b" " * 101, "g", "mqtt").rejects[0].code == "payload_too_large"


def test_engine_failure_is_not_silent(clock: FakeClock) -> None:
    def broken(batch: object) -> None:
        raise RuntimeError("engine stopped")

    letters = MemoryDeadLetterStore()
    pipe = IngestPipeline(broken, Validator(None, None, clock), dead_letters=letters)
    report = pipe.accept(b'[{"ts": 1763793600, "tag": "t1", "event": "sos"}]', "g", "http")
    assert report.accepted == 0
    assert [r.code for r in report.rejects] == ["sink_error"]
    assert "engine stopped" in letters.recent(1)[0].reason


def test_report_json_for_the_api(clock: FakeClock, sink: RecordingSink) -> None:
    pipe, _ = _pipeline(clock, sink)
    report = pipe.accept(_batch({"ts": NOW, "tag": "t1", "event": "fall"}, {"x": 1}), None, "http")
    body = report.to_dict()
    assert body["accepted"] == 1
    assert body["rejected"] == 1
    assert body["rejects"] == [
        {"index": 1, "code": "unknown_field", "reason": "unknown field(s): x"}
    ]
    assert json.loads(json.dumps(body)) == body


def test_metrics_exposition(clock: FakeClock, sink: RecordingSink) -> None:
    registry = CollectorRegistry()
    pipe, _ = _pipeline(clock, sink, metrics=IngestMetrics(registry), max_gateway_labels=2)
    for gw in ("g1", "g2", "g3"):
        pipe.accept(_batch({"ts": NOW, "tag": "t1", "event": "sos"}, {"tag": "t1"}), gw, "mqtt")
    pipe.metrics.observe_tick(0.004)  # type: ignore[union-attr]
    pipe.metrics.set_queue_depth("mqtt", 7)  # type: ignore[union-attr]
    text = render(registry).decode()
    assert 'minepos_ingest_measurements_accepted_total{gateway="g1",transport="mqtt"} 1.0' in text
    assert 'minepos_ingest_rejects_total{gateway="g2",reason="malformed"} 1.0' in text
    assert 'gateway="_other"' in text  # the third gateway is over the label cap
    assert 'minepos_ingest_queue_depth{queue="mqtt"} 7.0' in text
    assert "minepos_engine_tick_seconds_count 1.0" in text
    # two pipelines on two registries do not collide
    IngestMetrics(CollectorRegistry())


def test_sqlite_dead_letters_are_bounded_and_persisted(tmp_path: Path) -> None:
    store = SqliteDeadLetterStore.in_dir(tmp_path, capacity=5)
    letters = [
        DeadLetter(NOW + i, f"g{i % 2}", "udp", "canonical", f"r{i}", "{}") for i in range(8)
    ]
    store.put(letters[:3])
    store.put(letters[3:])
    store.close()
    again = SqliteDeadLetterStore.in_dir(tmp_path, capacity=5)
    assert again.count() == 5
    assert [d.reason for d in again.recent(10)] == ["r7", "r6", "r5", "r4", "r3"]
    assert [d.reason for d in again.recent(2, gateway="g0")] == ["r6", "r4"]
    assert again.recent(1)[0] == letters[7]


def test_payload_text_is_cut_and_readable() -> None:
    assert payload_text(b"\xffok") == "\ufffdok"
    long = payload_text(b"x" * (MAX_PAYLOAD_TEXT + 10))
    assert long.startswith("x" * MAX_PAYLOAD_TEXT)
    assert long.endswith(f"[cut, {MAX_PAYLOAD_TEXT + 10} bytes in all]")


def test_milliseconds_get_a_hint(clock: FakeClock, sink: RecordingSink) -> None:
    pipe, _ = _pipeline(clock, sink)
    report = pipe.accept(
        json.dumps([{"ts": NOW * 1000, "tag": "t1", "event": "sos"}]).encode(), "g", "http"
    )
    assert report.rejects[0].code == "ts_future"
    assert "milliseconds" in report.rejects[0].reason


def test_sqlite_dead_letters_are_batched_but_never_left_behind(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SqliteDeadLetterStore(
        tmp_path / "dl.sqlite3", flush_every=3, flush_after_s=0.2, clock=clock
    )
    reader = SqliteDeadLetterStore(tmp_path / "dl.sqlite3")  # another process, say the CLI
    letter = DeadLetter(NOW, "g", "udp", "canonical", "r", "{}")
    store.put([letter])  # after a quiet spell: written at once
    assert reader.count() == 1
    store.put([letter])  # right after a write: buffered...
    store.put([letter])
    assert reader.count() == 1
    store.put([letter])  # ...until three wait
    assert reader.count() == 4
    store.put([letter])  # a last one with nothing after it: the timer writes it
    deadline = time.monotonic() + 5
    while reader.count() < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reader.count() == 5
    store.close()
    reader.close()
