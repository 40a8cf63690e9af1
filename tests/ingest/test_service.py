"""Ingest as a service: config from YAML-like data, the pipeline it builds, sources run together."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from minepos.errors import InputError
from minepos.ingest import render
from minepos.ingest.service import IngestConfig, build_pipeline, run_sources

from .conftest import RecordingSink


def test_config_defaults_and_strictness() -> None:
    config = IngestConfig.model_validate(
        {"mqtt": None, "udp": {"port": 0}, "max_future_s": 2, "dead_letter_capacity": 50}
    )
    assert config.limits().max_future_s == 2
    assert IngestConfig().mqtt is not None  # MQTT on by default, UDP off
    assert IngestConfig().udp is None
    with pytest.raises(ValidationError, match="Extra inputs"):
        IngestConfig.model_validate({"max_future": 2})
    with pytest.raises(ValidationError, match="unknown decoder"):
        IngestConfig.model_validate({"udp": {"decoder": "acme"}})


def test_udp_sources_run_until_stopped(tmp_path: Path) -> None:
    config = IngestConfig.model_validate({"mqtt": None, "udp": {"port": 0}, "max_age_s": 60})
    sink = RecordingSink()
    registry = CollectorRegistry()
    pipeline = build_pipeline(
        config,
        sink,
        known_tags={"t1"},
        known_anchors=None,
        clock=time.time,
        registry=registry,
        data_dir=tmp_path,
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config.udp.port = port  # type: ignore[union-attr]

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(run_sources(config, pipeline, stop))
        await asyncio.sleep(0.3)
        item = {"ts": time.time(), "tag": "t1", "event": "sos"}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(json.dumps([item, {**item, "tag": "t2"}]).encode(), ("127.0.0.1", port))
        for _ in range(100):
            if sink.measurements:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(scenario())
    assert [m.tag for m in sink.measurements] == ["t1"]
    assert pipeline.dead_letters is not None
    assert "unknown_tag" in pipeline.dead_letters.recent(1)[0].reason
    assert (tmp_path / "deadletters.sqlite3").exists()
    assert 'minepos_ingest_rejects_total{gateway="udp:127.0.0.1",reason="unknown_tag"} 1.0' in (
        render(registry).decode()
    )


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        config = IngestConfig.model_validate({"mqtt": None, "udp": {"port": port}})
        pipeline = build_pipeline(
            config,
            RecordingSink(),
            known_tags=None,
            known_anchors=None,
            clock=time.time,
            data_dir=tmp_path,
        )
        with pytest.raises(InputError, match=f"cannot listen for UDP ingest on 127.0.0.1:{port}"):
            asyncio.run(run_sources(config, pipeline, asyncio.Event()))
