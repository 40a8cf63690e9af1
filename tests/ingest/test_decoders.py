"""Decoders against frames written from each vendor's documented structure (fixtures/frames)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minepos.errors import InputError
from minepos.ingest.decoders import DECODERS, get_decoder
from minepos.ingest.decoders.ruuvi import battery_pct_from_advertisement
from minepos.ingest.report import DecodeContext

FRAMES = Path(__file__).parent.parent / "fixtures" / "frames"
CASES = sorted(FRAMES.glob("*/*.expect.json"))


def _decode(vendor: str, payload: bytes, topic: str | None = None, at: float = 1763793600.0):
    return DECODERS[vendor].decode(payload, DecodeContext(received_at=at, topic=topic))


@pytest.mark.parametrize("expect_path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_decoder_reads_documented_frame(expect_path: Path) -> None:
    vendor = expect_path.parent.name
    expect = json.loads(expect_path.read_text())
    payload = expect_path.with_name(expect_path.name.replace(".expect", "")).read_bytes()
    result = _decode(vendor, payload, expect["topic"], expect["received_at"])
    got = [m.to_dict() for m in result.measurements]
    assert got == expect["measurements"]
    assert [[r.index, r.code] for r in result.rejects] == expect["rejects"]
    assert all(r.reason for r in result.rejects)


def test_every_registered_decoder_has_frames() -> None:
    assert {p.parent.name for p in CASES} >= set(DECODERS)
    assert len(DECODERS) >= 4


def test_unknown_decoder_name_lists_known_ones() -> None:
    with pytest.raises(InputError, match="known: canonical"):
        get_decoder("nope")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b'{"ts": NaN, "tag": "t1", "event": "sos"}', "invalid_json"),
        (b"[" * 5000, "invalid_json"),
        (b"42", "malformed"),
        (b'{"gateway": "g", "measurements": {}}', "malformed"),
        (b'{"gateway": "g", "measurements": [], "extra": 1}', "unknown_field"),
        (b'{"gateway": 7, "measurements": []}', "malformed"),
    ],
    ids=["empty", "not-utf8", "nan", "deep", "number", "not-array", "batch-field", "gateway-type"],
)
def test_canonical_refuses_whole_payload(payload: bytes, code: str) -> None:
    result = _decode("canonical", payload)
    assert result.measurements == []
    assert [(r.index, r.code) for r in result.rejects] == [(None, code)]


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"ts": True, "tag": "t1", "event": "sos"}, "bad_ts"),
        ({"ts": "2025-11-22T06:40:00", "tag": "t1", "event": "sos"}, "bad_ts"),
        ({"tag": "t1", "event": "sos"}, "malformed"),
        ({"ts": 1.0, "tag": "", "event": "sos"}, "malformed"),
        ({"ts": 1.0, "tag": "t\n1", "event": "sos"}, "malformed"),
        ({"ts": 1.0, "tag": "x" * 65, "event": "sos"}, "malformed"),
        ({"ts": 1.0, "tag": "t1", "anchor": "a1", "range_m": "12"}, "malformed"),
        ({"ts": 1.0, "tag": "t1", "anchor": "a1", "range_m": True}, "malformed"),
        ({"ts": 1.0, "tag": "t1", "motion": 1}, "malformed"),
        ({"ts": 1.0, "tag": "t1", "xyz": [1, 2]}, "malformed"),
        ({"ts": 1.0, "tag": "t1", "event": 3}, "malformed"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_canonical_refuses_one_item_keeps_the_rest(item: dict[str, object], code: str) -> None:
    good = {"ts": 1.0, "tag": "t2", "anchor": "a1", "range_m": 3}
    payload = json.dumps([good, item]).encode()
    result = _decode("canonical", payload)
    assert [m.tag for m in result.measurements] == ["t2"]
    assert result.measurements[0].range_m == 3.0
    assert isinstance(result.measurements[0].range_m, float)
    assert [(r.index, r.code) for r in result.rejects] == [(1, code)]


def test_canonical_single_object_and_gateway_from_batch() -> None:
    one = _decode("canonical", b'{"ts": 5, "tag": "t1", "anchor": "a1"}')
    assert one.measurements[0].is_presence
    assert one.measurements[0].ts == 5.0
    batch = _decode("canonical", b'{"gateway": "gw-7", "measurements": []}')
    assert batch.gateway == "gw-7"
    assert batch.measurements == []
    assert batch.rejects == []


def test_dwm1001_refuses_non_numeric_position() -> None:
    payload = b'{"position": {"x": "NaN", "y": 1, "z": 2, "quality": 50}}'
    result = _decode("dwm1001", payload, "dwm/node/abcd/uplink/location")
    assert [(r.index, r.code) for r in result.rejects] == [(0, "malformed")]
    assert "position.x" in result.rejects[0].reason


def test_ruuvi_mqtt_needs_a_topic_with_the_tag_mac() -> None:
    payload = b'{"gw_mac": "C8:25:2D:8E:9C:2C", "rssi": -60, "ts": 1763793600, "data": ""}'
    assert _decode("ruuvi", payload, None).rejects[0].code == "wrong_topic"
    ok = _decode("ruuvi", payload, "ruuvi/C8:25:2D:8E:9C:2C/aa-bb-cc-dd-ee-ff")
    assert ok.measurements[0].tag == "AA:BB:CC:DD:EE:FF"
    assert ok.measurements[0].ts == 1763793600.0


@pytest.mark.parametrize(
    ("hex_data", "pct"),
    [
        ("0201061BFF99040513C85714C7CC00240008041CAB76F41C3CC6A5B9E0AD06", 97.1),
        ("0201061BFF990405000000000000000000000000" + "0000" + "00000000000000000000", 0.0),
        ("0201061BFF990405000000000000000000000000" + "FFE0" + "00000000000000000000", None),
        ("0201061BFF990403000000000000000000000000" + "0000" + "00000000000000000000", None),
        ("02010603030309", None),
        ("zz", None),
        ("1B", None),
    ],
    ids=["df5", "empty-cell", "not-available", "df3", "no-ruuvi", "not-hex", "truncated"],
)
def test_ruuvi_battery_from_raw_v2(hex_data: str, pct: float | None) -> None:
    assert battery_pct_from_advertisement(hex_data) == pct


def test_chirpstack_refuses_other_events_and_empty_uplinks() -> None:
    up = b'{"deviceInfo": {"devEui": "0101010101010142"}, "rxInfo": []}'
    topic = "application/x/device/0101010101010142/event/"
    assert _decode("chirpstack", up, topic + "status").rejects[0].code == "wrong_topic"
    assert _decode("chirpstack", up, topic + "up").rejects[0].code == "empty"


def test_ruuvi_mqtt_without_gw_mac_takes_the_gateway_from_the_topic() -> None:
    payload = b'{"rssi": -60, "ts": 1763793600, "data": ""}'
    ok = _decode("ruuvi", payload, "ruuvi/c8:25:2d:8e:9c:2c/AA:BB:CC:DD:EE:FF")
    assert ok.measurements[0].anchor == "C8:25:2D:8E:9C:2C"
