"""`SafetyRecorder`: stores what the safety monitor produces, then publishes it; and restarts it.

Each tick becomes one writer task (alarm changes, zone transitions, lamp events, compacted
positions, the headcount when it changed), so a tick is stored whole or not at all. When a tick
carries alarm changes or lamp events, `tick` waits for the commit before publishing them: what
the dispatcher is told about is already on disk, and survives a SIGKILL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

from minepos.engine.estimate import Estimate, Span
from minepos.measurement import Measurement
from minepos.safety.alarms import AlarmChange
from minepos.safety.monitor import SafetyMonitor, Tick
from minepos.safety.publisher import AlarmPublisher, NullPublisher
from minepos.safety.state import Headcount
from minepos.store.history import PositionCompactor
from minepos.store.schema import headcount_history, lamp_events, positions, zone_transitions
from minepos.store.service import Store
from minepos.store.writer import Receipt, Statement

__all__ = ["SafetyRecorder"]

log = logging.getLogger(__name__)


class SafetyRecorder:
    """Runs a monitor against a store (and a publisher): the live pipeline after the engine."""

    def __init__(
        self,
        store: Store,
        monitor: SafetyMonitor,
        publisher: AlarmPublisher | None = None,
        *,
        compactor: PositionCompactor | None = None,
        headcount_every_s: float = 60.0,
        purge_every_s: float = 3600.0,
    ) -> None:
        self.store = store
        self.monitor = monitor
        self.publisher = publisher or NullPublisher()
        self.compactor = compactor or PositionCompactor()
        self.headcount_every_s = headcount_every_s
        self._last_headcount: tuple[float, tuple[int, dict[str, int], dict[str, int]]] | None = None
        self.purge_every_s = purge_every_s
        self._last_purge: float | None = None

    def tick(
        self,
        now: float,
        measurements: Iterable[Measurement] = (),
        estimates: Sequence[Estimate] = (),
    ) -> Tick:
        """One step of the monitor, stored (durably, if it matters) and published."""
        tick = self.monitor.step(now, measurements, estimates)
        receipt = self.save(tick)
        if self._last_purge is None or now - self._last_purge >= self.purge_every_s:
            self._last_purge = now
            self.store.purge(now)  # retention (Store.retention), in the writer's own time
        if tick.changes or tick.lamp_events:
            receipt.wait()
        if tick.changes:
            self.publisher.publish_changes(tick.changes)
        if tick.headcount is not None and self._headcount_due(tick.headcount, publish=True):
            self.publisher.publish_headcount(tick.headcount, self.monitor.unaccounted(now))
        return tick

    def _headcount_due(self, hc: Headcount, *, publish: bool = False) -> bool:
        last = self._last_headcount
        due = last is None or last[1] != hc.counts() or hc.ts - last[0] >= self.headcount_every_s
        if due and publish:
            self._last_headcount = (hc.ts, hc.counts())
        return due

    def _rows(self, tick: Tick) -> dict[Any, list[dict[str, Any]]]:
        tags = self.monitor.state.tags
        persons = {t: s.person for t, s in tags.items()}
        zones = {t: (min(s.zones) if s.zones else None) for t, s in tags.items()}
        rows: dict[Any, list[dict[str, Any]]] = {
            zone_transitions: [
                {
                    "ts": t.ts,
                    "tag": t.tag,
                    "person": t.person,
                    "zone": t.zone,
                    "direction": t.direction,
                }
                for t in tick.transitions
            ],
            lamp_events: [
                {"ts": e.ts, "tag": e.tag, "person": e.person, "event": e.event}
                for e in tick.lamp_events
            ],
            positions: self.compactor.rows(tick.estimates, persons, zones),
            headcount_history: [],
        }
        hc = tick.headcount
        if hc is not None and self._headcount_due(hc):
            rows[headcount_history].append(
                {
                    "ts": hc.ts,
                    "underground": hc.underground,
                    "by_level": hc.by_level,
                    "by_zone": hc.by_zone,
                }
            )
        return rows

    def save(self, tick: Tick) -> Receipt:
        """Queue the whole tick as one task."""
        rows = self._rows(tick)
        alarm_task = self.store.alarms.statement(tick.changes)

        def run(conn: Connection) -> None:
            alarm_task(conn)
            for table, batch in rows.items():
                if batch:
                    conn.execute(table.insert(), batch)

        return self.store.writer.submit(Statement(run))

    def acknowledge(self, alarm: str, user: str, ts: float, comment: str = "") -> AlarmChange:
        """Acknowledge, store (committed before this returns, audited) and publish."""
        change = self.monitor.acknowledge(alarm, user, ts, comment)
        self.store.alarms.record([change]).wait()
        self.publisher.publish_changes([change])
        return change

    def restore(self, now: float, lookback_s: float = 86400.0) -> Headcount:
        """After a restart: rebuild the monitor from the store."""
        places = [
            Estimate(
                p.tag,
                p.ts,
                p.tunnel,
                p.offset_m,
                p.xyz,
                (Span(p.tunnel, p.offset_m, p.offset_m),),
                p.uncertainty_m,
                0.0,
                p.ts,
            )
            for p in self.store.history.last_positions(now - lookback_s).values()
            if p.tunnel in self.monitor.mine.tunnel_index
        ]
        hc = self.monitor.restore(
            now, self.store.alarms.active(), self.store.events.last_lamp_events(), places
        )
        self._last_headcount = None
        return hc
