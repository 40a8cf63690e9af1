"""`EventRepository`: zone transitions and lamp room events."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from minepos.safety.events import LampEvent, ZoneTransition
from minepos.store.database import Database
from minepos.store.schema import lamp_events, zone_transitions
from minepos.store.writer import Receipt, Writer

__all__ = ["EventRepository"]


class EventRepository:
    """Append-only zone transitions and lamp events, with the reads restart and reports need."""

    def __init__(self, db: Database, writer: Writer) -> None:
        self.db = db
        self.writer = writer

    def add_transitions(self, transitions: Sequence[ZoneTransition]) -> Receipt:
        """Queue zone transitions."""
        rows = [
            {"ts": t.ts, "tag": t.tag, "person": t.person, "zone": t.zone, "direction": t.direction}
            for t in transitions
        ]
        return self.writer.insert(zone_transitions, rows)

    def add_lamp_events(self, events: Sequence[LampEvent]) -> Receipt:
        """Queue lamp events; wait on the receipt before telling the lamp room it is recorded."""
        rows = [{"ts": e.ts, "tag": e.tag, "person": e.person, "event": e.event} for e in events]
        return self.writer.insert(lamp_events, rows)

    def transitions(
        self, *, person: str | None = None, since: float | None = None, until: float | None = None
    ) -> list[ZoneTransition]:
        """Zone transitions in time order, optionally for one person and window."""
        t = zone_transitions
        stmt = select(t).order_by(t.c.ts, t.c.id)
        if person is not None:
            stmt = stmt.where(t.c.person == person)
        if since is not None:
            stmt = stmt.where(t.c.ts >= since)
        if until is not None:
            stmt = stmt.where(t.c.ts < until)
        with self.db.engine.connect() as conn:
            return [
                ZoneTransition(r.ts, r.tag, r.person, r.zone, r.direction)
                for r in conn.execute(stmt).all()
            ]

    def lamp_events(
        self, *, since: float | None = None, until: float | None = None
    ) -> list[LampEvent]:
        """Lamp events in time order within a window."""
        t = lamp_events
        stmt = select(t).order_by(t.c.ts, t.c.id)
        if since is not None:
            stmt = stmt.where(t.c.ts >= since)
        if until is not None:
            stmt = stmt.where(t.c.ts < until)
        with self.db.engine.connect() as conn:
            return [LampEvent(r.ts, r.tag, r.person, r.event) for r in conn.execute(stmt).all()]

    def last_lamp_events(self) -> list[LampEvent]:
        """The newest lamp event of every tag: who is out (underground) after a restart."""
        t = lamp_events
        newest = select(t.c.tag, func.max(t.c.id).label("id")).group_by(t.c.tag).subquery("newest")
        stmt = select(t).join(newest, t.c.id == newest.c.id).order_by(t.c.tag)
        with self.db.engine.connect() as conn:
            return [LampEvent(r.ts, r.tag, r.person, r.event) for r in conn.execute(stmt).all()]
