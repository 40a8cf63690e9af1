"""Ingest as one service: its configuration, the pipeline built from it, its sources run together.

This is what `minepos serve` wires: `IngestConfig` (pydantic, extra="forbid"), `build_pipeline`
and `run_sources`. Known tags and anchors come from the caller (the mine file and the tag
registry), so ingest does not depend on how they are stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from pathlib import Path

from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict, Field

from minepos.ingest.deadletters import DEFAULT_DATA_DIR, DeadLetterSink, SqliteDeadLetterStore
from minepos.ingest.dedup import Deduplicator
from minepos.ingest.metrics import IngestMetrics
from minepos.ingest.pipeline import MAX_PAYLOAD_BYTES, IngestPipeline, Sink
from minepos.ingest.transports import MqttSource, MqttSourceConfig, UdpSource, UdpSourceConfig
from minepos.ingest.validate import ValidationLimits, Validator

__all__ = ["IngestConfig", "build_pipeline", "run_sources"]


class IngestConfig(BaseModel):
    """Everything ingest needs to know; the defaults suit one mine on one server."""

    model_config = ConfigDict(extra="forbid")

    mqtt: MqttSourceConfig | None = Field(
        default_factory=MqttSourceConfig, description="MQTT source; null: no MQTT"
    )
    udp: UdpSourceConfig | None = Field(default=None, description="UDP source; null: no UDP")
    max_future_s: float = Field(
        default=5.0, ge=0, description="how far ahead of the server clock a ts may be"
    )
    max_age_s: float = Field(default=300.0, gt=0, description="how old a measurement may be")
    max_range_m: float = Field(default=2000.0, gt=0, description="longest believable range")
    dedup_window_s: float = Field(
        default=10.0, gt=0, description="a repeated reading within this is a duplicate"
    )
    max_payload_bytes: int = Field(
        default=MAX_PAYLOAD_BYTES, gt=0, description="larger payloads are refused"
    )
    dead_letter_capacity: int = Field(
        default=10_000, gt=0, description="dead letters kept (the oldest are dropped)"
    )

    def limits(self) -> ValidationLimits:
        """The validator's limits."""
        return ValidationLimits(
            max_range_m=self.max_range_m,
            max_future_s=self.max_future_s,
            max_age_s=self.max_age_s,
        )


def build_pipeline(
    config: IngestConfig,
    sink: Sink,
    *,
    known_tags: Collection[str] | None,
    known_anchors: Collection[str] | None,
    clock: Callable[[], float],
    registry: CollectorRegistry | None = None,
    dead_letters: DeadLetterSink | None = None,
    data_dir: Path = DEFAULT_DATA_DIR,
) -> IngestPipeline:
    """The pipeline for `config`; dead letters go to `dead_letters` or to SQLite in `data_dir`."""
    validator = Validator(known_tags, known_anchors, clock, config.limits())
    return IngestPipeline(
        sink,
        validator,
        dedup=Deduplicator(clock, window_s=config.dedup_window_s),
        dead_letters=dead_letters
        if dead_letters is not None
        else SqliteDeadLetterStore.in_dir(data_dir, config.dead_letter_capacity),
        metrics=None if registry is None else IngestMetrics(registry),
        max_payload_bytes=config.max_payload_bytes,
    )


async def run_sources(config: IngestConfig, pipeline: IngestPipeline, stop: asyncio.Event) -> None:
    """Run the configured MQTT and UDP sources until `stop` is set; if one fails, stop all."""
    tasks = []
    if config.mqtt is not None:
        tasks.append(asyncio.create_task(MqttSource(config.mqtt, pipeline).run(stop)))
    if config.udp is not None:
        tasks.append(asyncio.create_task(UdpSource(config.udp, pipeline).run(stop)))
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
