"""Fuzzing every decoder (and the pipeline) with random and mutated payloads: total, with reasons.

A few thousand payloads per decoder here; `bench/fuzz_decoders.py --payloads 1000000` is the
long run.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minepos.ingest import REASONS, IngestPipeline, MemoryDeadLetterStore, Validator
from minepos.ingest.decoders import DECODERS
from minepos.ingest.report import DecodeContext, DecodeResult
from minepos.measurement import Measurement

from .conftest import NOW, FakeClock, RecordingSink

FRAMES = Path(__file__).parent.parent / "fixtures" / "frames"
SEEDS = {
    p.parent.name + "/" + p.name: (
        p.parent.name,
        p.read_bytes(),
        json.loads(p.with_name(p.name.replace(".json", ".expect.json")).read_text())["topic"],
    )
    for p in sorted(FRAMES.glob("*/*.json"))
    if not p.name.endswith(".expect.json")
}
TOPICS = [None, "", "/", "dwm/node/+/uplink/location", "ruuvi/x", "a/b/c/d/e/f/event/up"]
TOPICS += sorted({t for _, _, t in SEEDS.values() if t})

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check(result: object) -> None:
    """What every decoder promises, whatever the input."""
    assert isinstance(result, DecodeResult)
    assert len(result.indexes) == len(result.measurements)
    for m in result.measurements:
        assert isinstance(m, Measurement)
        assert type(m.ts) is float
        assert isinstance(m.tag, str)
        assert m.tag
        for v in (m.range_m, m.rssi_dbm, m.battery_pct):
            assert v is None or (type(v) is float and math.isfinite(v))
        assert m.motion is None or type(m.motion) is bool
        assert m.xyz is None or all(type(c) is float and math.isfinite(c) for c in m.xyz)
    for r in result.rejects:
        assert r.code in REASONS
        assert r.code != "decoder_error", r.reason  # a decoder bug, caught by the base class
        assert isinstance(r.reason, str)
        assert r.reason.strip()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _replace(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return doc


@pytest.mark.parametrize("name", sorted(DECODERS))
@SETTINGS
@given(payload=st.binary(max_size=300), topic=st.sampled_from(TOPICS))
def test_random_bytes(name: str, payload: bytes, topic: str | None) -> None:
    check(DECODERS[name].decode(payload, DecodeContext(NOW, topic)))


@pytest.mark.parametrize("name", sorted(DECODERS))
@SETTINGS
@given(value=json_values, topic=st.sampled_from(TOPICS))
def test_random_json(name: str, value: Any, topic: str | None) -> None:
    check(DECODERS[name].decode(json.dumps(value).encode(), DecodeContext(NOW, topic)))


@pytest.mark.parametrize("seed", sorted(SEEDS))
@SETTINGS
@given(data=st.data(), value=json_values)
def test_structured_mutation_of_real_frames(seed: str, data: st.DataObject, value: Any) -> None:
    """Replace one node anywhere in a documented frame with a random JSON value."""
    vendor, raw, topic = SEEDS[seed]
    doc = json.loads(raw)
    path = data.draw(st.sampled_from(_paths(doc)))
    payload = json.dumps(_replace(doc, path, value)).encode()
    check(DECODERS[vendor].decode(payload, DecodeContext(NOW, topic)))


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_byte_mutation_of_real_frames(seed: str) -> None:
    """Flip, drop, insert and splice bytes of documented frames (seeded, 1500 per frame)."""
    vendor, raw, topic = SEEDS[seed]
    rng = random.Random(seed)
    for _ in range(1500):
        buf = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(4)
            pos = rng.randrange(len(buf) + 1)
            if op == 0 and pos < len(buf):
                buf[pos] ^= 1 << rng.randrange(8)
            elif op == 1:
                del buf[pos : pos + rng.randint(1, 8)]
            elif op == 2:
                buf[pos:pos] = rng.choice(
                    [b"-", b"0", b"1e309", b'"', b"{", b"]", b"null", b"\xff"]
                )
            else:
                buf = buf[:pos]
        check(DECODERS[vendor].decode(bytes(buf), DecodeContext(NOW, topic)))


@SETTINGS
@given(
    payload=st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode())),
    decoder=st.sampled_from(sorted(DECODERS)),
    topic=st.sampled_from(TOPICS),
)
def test_pipeline_accounts_for_every_item(payload: bytes, decoder: str, topic: str | None) -> None:
    sink = RecordingSink()
    pipe = IngestPipeline(
        sink, Validator({"t1"}, {"a1"}, FakeClock()), dead_letters=MemoryDeadLetterStore()
    )
    report = pipe.accept(payload, None, "fuzz", decoder=decoder, topic=topic)
    assert report.received == report.accepted + report.duplicates + report.rejected
    assert len(sink.measurements) == report.accepted
    assert all(r.code in REASONS and r.reason for r in report.rejects)
    assert json.loads(json.dumps(report.to_dict()))["rejected"] == report.rejected
