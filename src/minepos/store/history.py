"""The compacted position history and the headcount history.

`PositionCompactor` keeps a position only when the person moved more than ``min_move_m`` since the
last kept one, or ``max_interval_s`` passed: a walker at 1.2 m/s gives a row every ~2.5 s, someone
standing at the face one every ``max_interval_s``. That is enough to replay a track and bounds the
history of 14,000 tags to a few thousand rows a second.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from minepos.engine.estimate import Estimate
from minepos.store.database import Database
from minepos.store.schema import headcount_history, positions
from minepos.store.writer import Receipt, Writer

__all__ = ["HeadcountPoint", "PositionCompactor", "PositionHistory", "TrackPoint"]


@dataclass(frozen=True, slots=True)
class TrackPoint:
    """One kept position of a person."""

    ts: float
    tag: str
    tunnel: str
    offset_m: float
    xyz: tuple[float, float, float]
    uncertainty_m: float
    zone: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the API."""
        return {
            "ts": self.ts,
            "tag": self.tag,
            "tunnel": self.tunnel,
            "offset_m": self.offset_m,
            "xyz": list(self.xyz),
            "uncertainty_m": self.uncertainty_m,
            "zone": self.zone,
        }


@dataclass(frozen=True, slots=True)
class HeadcountPoint:
    """The headcount at one moment."""

    ts: float
    underground: int
    by_level: dict[str, int]
    by_zone: dict[str, int]


class PositionCompactor:
    """Decides which estimates become history rows (per person, moved far enough or long enough)."""

    def __init__(self, min_move_m: float = 3.0, max_interval_s: float = 30.0) -> None:
        self.min_move_m = min_move_m
        self.max_interval_s = max_interval_s
        self._last: dict[str, tuple[float, tuple[float, float, float]]] = {}

    def keep(self, person: str, est: Estimate) -> bool:
        """True if this estimate is to be stored (and remember it as the last kept)."""
        last = self._last.get(person)
        if last is not None:
            ts, xyz = last
            if est.ts - ts < self.max_interval_s and math.dist(xyz, est.xyz) < self.min_move_m:
                return False
        self._last[person] = (est.ts, est.xyz)
        return True

    def rows(
        self,
        estimates: Iterable[Estimate],
        persons: Mapping[str, str | None],
        zones: Mapping[str, str | None] | None = None,
    ) -> list[dict[str, Any]]:
        """History rows for the estimates worth keeping; a tag with no person is kept by tag."""
        out = []
        for est in estimates:
            person = persons.get(est.tag) or est.tag
            if not self.keep(person, est):
                continue
            x, y, z = est.xyz
            out.append(
                {
                    "ts": est.ts,
                    "person": person,
                    "tag": est.tag,
                    "tunnel": est.tunnel,
                    "offset_m": est.offset_m,
                    "x": x,
                    "y": y,
                    "z": z,
                    "uncertainty_m": est.uncertainty_m,
                    "zone": zones.get(est.tag) if zones else None,
                }
            )
        return out


class PositionHistory:
    """Writes and reads the compacted history and the headcount history."""

    def __init__(self, db: Database, writer: Writer) -> None:
        self.db = db
        self.writer = writer

    def add(self, rows: list[dict[str, Any]]) -> Receipt:
        """Queue history rows (from `PositionCompactor.rows`)."""
        return self.writer.insert(positions, rows)

    def track(self, person: str, since: float, until: float) -> list[TrackPoint]:
        """A person's kept positions in ``[since, until)``, in time order."""
        p = positions
        stmt = (
            select(
                p.c.ts,
                p.c.tag,
                p.c.tunnel,
                p.c.offset_m,
                p.c.x,
                p.c.y,
                p.c.z,
                p.c.uncertainty_m,
                p.c.zone,
            )
            .where(p.c.person == person, p.c.ts >= since, p.c.ts < until)
            .order_by(p.c.ts)
        )
        with self.db.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [TrackPoint(r[0], r[1], r[2], r[3], (r[4], r[5], r[6]), r[7], r[8]) for r in rows]

    def last_positions(self, since: float) -> dict[str, TrackPoint]:
        """Each person's newest kept position after ``since`` (last known place after a restart)."""
        out: dict[str, TrackPoint] = {}
        p = positions
        stmt = select(p).where(p.c.ts >= since).order_by(p.c.ts)
        with self.db.engine.connect() as conn:
            for r in conn.execute(stmt):
                out[r.person] = TrackPoint(
                    r.ts, r.tag, r.tunnel, r.offset_m, (r.x, r.y, r.z), r.uncertainty_m, r.zone
                )
        return out

    def add_headcount(self, point: HeadcountPoint) -> Receipt:
        """Queue one headcount snapshot."""
        row = {
            "ts": point.ts,
            "underground": point.underground,
            "by_level": point.by_level,
            "by_zone": point.by_zone,
        }
        return self.writer.insert(headcount_history, [row])

    def headcount(self, since: float, until: float) -> list[HeadcountPoint]:
        """Headcount snapshots in ``[since, until)``, in time order."""
        h = headcount_history
        stmt = select(h).where(h.c.ts >= since, h.c.ts < until).order_by(h.c.ts, h.c.id)
        with self.db.engine.connect() as conn:
            return [
                HeadcountPoint(r.ts, r.underground, dict(r.by_level), dict(r.by_zone))
                for r in conn.execute(stmt).all()
            ]
