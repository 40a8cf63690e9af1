"""Prometheus metrics of ingest (and the engine tick time), on a registry passed in."""

from __future__ import annotations

from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["CONTENT_TYPE", "IngestMetrics", "render"]

#: the Content-Type of the exposition text served at /metrics
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

_TICK_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class IngestMetrics:
    """The ingest counters and gauges; one instance per registry (no global default registry)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.payloads = Counter(
            "minepos_ingest_payloads",
            "Payloads received, by transport and gateway",
            ["transport", "gateway"],
            registry=registry,
        )
        self.accepted = Counter(
            "minepos_ingest_measurements_accepted",
            "Measurements accepted and handed to the engine, by transport and gateway",
            ["transport", "gateway"],
            registry=registry,
        )
        self.rejected = Counter(
            "minepos_ingest_rejects",
            "Measurements (or whole payloads) refused, by gateway and reason",
            ["gateway", "reason"],
            registry=registry,
        )
        self.duplicates = Counter(
            "minepos_ingest_duplicates",
            "Measurements dropped because the same reading was already accepted",
            ["gateway"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            "minepos_ingest_queue_depth",
            "Messages waiting to be decoded, by queue",
            ["queue"],
            registry=registry,
        )
        self.engine_tick = Histogram(
            "minepos_engine_tick_seconds",
            "Time one engine tick takes",
            buckets=_TICK_BUCKETS,
            registry=registry,
        )

    def observe_tick(self, seconds: float) -> None:
        """Record one engine tick (called by the engine's wiring)."""
        self.engine_tick.observe(seconds)

    def set_queue_depth(self, queue: str, depth: int) -> None:
        """Record how many messages wait in `queue`."""
        self.queue_depth.labels(queue=queue).set(depth)


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus exposition text of `registry`, for the API's ``/metrics`` route."""
    return generate_latest(registry)
