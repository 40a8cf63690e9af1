"""UdpSource: one datagram, one batch; bad datagrams rejected with a reason; sender allow-list."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
from pydantic import ValidationError

from minepos.ingest import IngestPipeline, MemoryDeadLetterStore, Validator
from minepos.ingest.transports import UdpSource, UdpSourceConfig

from .conftest import RecordingSink


def _send_all(port: int, datagrams: list[bytes]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for d in datagrams:
            s.sendto(d, ("127.0.0.1", port))


async def _run(config: UdpSourceConfig, datagrams: list[bytes], expect: int) -> UdpSource:
    pipeline = IngestPipeline(
        RecordingSink(), Validator({"t1"}, {"a1"}, time.time), dead_letters=MemoryDeadLetterStore()
    )
    source = UdpSource(config, pipeline)
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(stop))
    await asyncio.wait_for(source.ready.wait(), 5)
    assert source.port is not None
    await asyncio.to_thread(_send_all, source.port, datagrams)
    deadline = time.monotonic() + 5
    while source.datagrams < expect and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    stop.set()
    await task
    return source


def test_datagrams_reach_the_pipeline() -> None:
    now = time.time()
    good = {
        "gateway": "udp-gw",
        "measurements": [
            {"ts": now, "tag": "t1", "anchor": "a1", "rssi_dbm": -60},
            {"ts": now, "tag": "t1", "anchor": "zz", "rssi_dbm": -60},
        ],
    }
    plain = [{"ts": now, "tag": "t1", "event": "evac_ack"}]
    datagrams = [json.dumps(good).encode(), json.dumps(plain).encode(), b"\x00\x01"]
    source = asyncio.run(_run(UdpSourceConfig(port=0), datagrams, 3))
    counts = source.pipeline.counters()
    assert counts[("udp-gw", "accepted")] == 1
    assert counts[("udp-gw", "unknown_anchor")] == 1
    assert counts[("udp:127.0.0.1", "accepted")] == 1  # no gateway in the payload: the sender
    assert counts[("udp:127.0.0.1", "invalid_json")] == 1
    sink = source.pipeline.sink
    assert isinstance(sink, RecordingSink)
    assert [m.event for m in sink.measurements] == [None, "evac_ack"]


def test_allow_list_refuses_other_senders() -> None:
    now = time.time()
    datagram = json.dumps([{"ts": now, "tag": "t1", "event": "sos"}]).encode()
    source = asyncio.run(
        _run(UdpSourceConfig(port=0, allowed_sources=["10.0.0.0/8"]), [datagram], 1)
    )
    assert source.refused_sources == 1
    assert source.pipeline.counters() == {}


def test_config_is_strict() -> None:
    with pytest.raises(ValidationError, match="unknown decoder"):
        UdpSourceConfig(decoder="acme")
    with pytest.raises(ValidationError, match="Extra inputs"):
        UdpSourceConfig(prot=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        UdpSourceConfig(allowed_sources=["not-a-network"])
