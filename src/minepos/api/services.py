"""`Services`: what the API serves, built by the runtime (or a test) and passed to `create_app`.

The API never builds the engine, the rules or the store itself; it gets them here. `LiveView` is
the small face of the live picture (positions, headcount, alarms) the API reads, so the API can be
tested with a small fake and wired to `minepos.safety` by `minepos.api.runtime`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from prometheus_client import CollectorRegistry

from minepos.api.hub import LiveHub
from minepos.ingest.pipeline import IngestPipeline
from minepos.mine import Mine
from minepos.safety.alarms import Alarm
from minepos.store import Store

__all__ = ["LiveView", "Services"]


class LiveView(Protocol):
    """The live picture of one mine, as the API reads it."""

    def positions(self, now: float) -> list[dict[str, Any]]:
        """One row per tag underground (CONTRACT section 4, `PositionPublic` shape)."""

    def headcount(self, now: float) -> dict[str, Any]:
        """``{ts, underground, by_level, by_zone, unaccounted}``."""

    def active_alarms(self) -> list[Alarm]:
        """Alarms not cleared yet, oldest first."""

    def acknowledge(self, alarm: str, user: str, ts: float, comment: str) -> Alarm:
        """Acknowledge an active alarm (stored, audited, published); InputError if not active."""

    def system(self, now: float) -> dict[str, Any]:
        """Anchors online, tags reporting, ingest rates (`SystemHealth` without ws_clients)."""

    def people_changed(self) -> None:
        """The registry changed (a person or tag added or edited): reload who carries what."""


@dataclass
class Services:
    """Everything the API needs, built once per process."""

    mine: Mine
    store: Store
    live: LiveView
    hub: LiveHub = field(default_factory=LiveHub)
    ingest: IngestPipeline | None = None
    #: a second pipeline (own lock) for small urgent payloads (SOS); None: use `ingest`
    urgent_ingest: IngestPipeline | None = None
    metrics: CollectorRegistry | None = None
    clock: Callable[[], float] = time.time
