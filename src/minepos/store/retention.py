"""Retention: old history is deleted on a schedule; active alarms are never deleted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete

from minepos.store.schema import (
    alarms,
    audit_log,
    dead_letters,
    headcount_history,
    lamp_events,
    positions,
    zone_transitions,
)
from minepos.store.writer import Receipt, Statement, Writer

__all__ = ["DAY_S", "Retention", "purge"]

DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each kind of record is kept, in days (positions 90 d, events and alarms 2 y)."""

    positions_days: float = 90.0
    events_days: float = 730.0
    alarms_days: float = 730.0
    audit_days: float = 730.0
    dead_letters_days: float = 30.0


def purge(writer: Writer, now: float, retention: Retention | None = None) -> Receipt:
    """Queue the deletion of everything older than its retention at time ``now``."""
    r = retention or Retention()

    def run(conn: Connection) -> None:
        for table, days in (
            (positions, r.positions_days),
            (headcount_history, r.positions_days),
            (zone_transitions, r.events_days),
            (lamp_events, r.events_days),
            (audit_log, r.audit_days),
            (dead_letters, r.dead_letters_days),
        ):
            conn.execute(delete(table).where(table.c.ts < now - days * DAY_S))
        # an alarm goes only once it is cleared and old: an active one stays whatever its age
        conn.execute(
            delete(alarms).where(
                alarms.c.cleared_at.is_not(None), alarms.c.raised_at < now - r.alarms_days * DAY_S
            )
        )

    return writer.submit(Statement(run))
