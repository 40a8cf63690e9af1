"""Accounting: everyone underground, where each was last seen, how sure that is, who is safe.

A person is *involved* in an emergency when they were underground at the declaration or have
been underground since. Each involved person is, at any moment, in one of three states:

- ``out``: reached an exit (or the surface) since the declaration;
- ``refuge``: inside a refuge chamber now;
- ``unaccounted``: anywhere else underground, the people the rescue team must find.

The place of an unaccounted person is flagged **stale** when the tag has not been heard for
``stale_after_s`` (default 30 s: a walking miner covers 35 m in that time, more than the
positioning error) and **uncertain** when the 95 % interval is longer than ``uncertain_above_m``
(default 50 m: more than the spacing of two anchors) or there is no place at all. Both
thresholds are `EmergencySettings` fields.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from minepos.mine import Mine
from minepos.safety.emergency.escape import EscapeFields
from minepos.safety.state import LiveState, TagState

__all__ = ["Accounting", "EmergencySettings", "SafetyProgress", "account"]

Safety = Literal["out", "refuge", "unaccounted"]


class EmergencySettings(BaseModel):
    """Thresholds of the emergency accounting (each with a safe default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stale_after_s: float = Field(
        default=30.0, gt=0, description="A place older than this is flagged stale."
    )
    uncertain_above_m: float = Field(
        default=50.0, gt=0, description="A 95 % interval longer than this is flagged uncertain."
    )
    snapshot_every_s: float = Field(
        default=60.0, gt=0, description="How often the accounting is stored for the replay."
    )
    reuse_s: float = Field(
        default=1.0,
        ge=0,
        description="An accounting this fresh is served again to other consoles (0: never).",
    )


@dataclass
class SafetyProgress:
    """Who is involved and when each reached an exit or a refuge chamber since the declaration."""

    since: float
    involved: dict[str, float] = field(default_factory=dict)  # tag -> first seen underground
    reached_exit: dict[str, float] = field(default_factory=dict)
    reached_refuge: dict[str, float] = field(default_factory=dict)

    def update(
        self, state: LiveState, exits: frozenset[str], refuges: frozenset[str], now: float
    ) -> list[tuple[str, str, float]]:
        """Note who is newly underground, out or in a refuge; return ``(tag, what, ts)`` news."""
        news: list[tuple[str, str, float]] = []
        for st in state.tags.values():
            if st.underground and st.tag not in self.involved:
                self.involved[st.tag] = now
            if st.tag not in self.involved:
                continue
            at = st.placed_at if st.placed_at is not None and st.placed_at >= self.since else now
            if (not st.underground or st.zones & exits) and st.tag not in self.reached_exit:
                self.reached_exit[st.tag] = at
                news.append((st.tag, "reached_exit", at))
            if st.zones & refuges and st.tag not in self.reached_refuge:
                self.reached_refuge[st.tag] = at
                news.append((st.tag, "reached_refuge", at))
        return news

    def safety(self, st: TagState, exits: frozenset[str], refuges: frozenset[str]) -> Safety:
        """The person's state now."""
        if not st.underground or st.zones & exits:
            return "out"
        if st.zones & refuges:
            return "refuge"
        return "unaccounted"


@dataclass(frozen=True, slots=True)
class Accounting:
    """The accounting at ``ts``: one row per involved person and the counts."""

    ts: float
    rows: list[dict[str, Any]]
    counts: dict[str, Any]

    def unaccounted(self) -> list[dict[str, Any]]:
        """Rows of the people still unaccounted for, least recently seen first."""
        rows = [r for r in self.rows if r["safety"] == "unaccounted"]
        return sorted(rows, key=lambda r: -(r["age_s"] if r["age_s"] is not None else 1e18))

    def no_exit(self) -> list[dict[str, Any]]:
        """Rows of the people underground with no open route to any exit."""
        return [
            r
            for r in self.rows
            if r["safety"] != "out" and r["exit_m"] is None and r["tunnel"] is not None
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"ts": self.ts, "counts": self.counts, "people": self.rows}


def _zone_ids(mine: Mine, kind: str) -> frozenset[str]:
    return frozenset(z.id for z in mine.zones if z.kind == kind)


def _rounded(x: NDArray[np.float64]) -> list[float | None]:
    """Rounded to 0.1, with None where not finite (JSON has no inf or NaN)."""
    r = np.round(x, 1).tolist()
    ok = np.isfinite(x).tolist()
    return [v if f else None for v, f in zip(r, ok, strict=True)]


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic collector while building ~14,000 rows of fresh dicts and lists.

    The rows hold no cycles, yet their allocation triggers full collections over the whole
    live state again and again: measured, this halves the accounting time (BENCHMARKS.md).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def account(
    state: LiveState,
    progress: SafetyProgress,
    escape: EscapeFields,
    now: float,
    settings: EmergencySettings | None = None,
    *,
    tag_lost_s: float = 60.0,
    acks: Mapping[str, float] | None = None,
    sent: Mapping[str, str] | None = None,
    with_routes: bool = True,
) -> Accounting:
    """The accounting of every involved person at ``now`` (vectorised over people)."""
    with _no_gc():
        return _account(
            state,
            progress,
            escape,
            now,
            settings or EmergencySettings(),
            tag_lost_s,
            acks or {},
            sent or {},
            with_routes,
        )


def _account(
    state: LiveState,
    progress: SafetyProgress,
    escape: EscapeFields,
    now: float,
    cfg: EmergencySettings,
    tag_lost_s: float,
    acks: Mapping[str, float],
    sent: Mapping[str, str],
    with_routes: bool,
) -> Accounting:
    tags = [state.tags[t] for t in progress.involved if t in state.tags]
    cols = _columns(state.mine, tags, escape, now, cfg, with_routes)
    exits, refuges = _zone_ids(state.mine, "exit"), _zone_ids(state.mine, "refuge")
    rows: list[dict[str, Any]] = []
    for i, st in enumerate(tags):
        rows.append(
            {
                "tag": st.tag,
                "person": st.person,
                "name": st.name,
                "role": st.role,
                "safety": progress.safety(st, exits, refuges),
                "status": st.status(now, tag_lost_s),
                "tunnel": st.tunnel,
                "offset_m": None if st.offset_m is None else round(st.offset_m, 1),
                "xyz": st.xyz,
                "level": st.level,
                "zones": sorted(st.zones),
                "interval": [
                    {"tunnel": s.tunnel, "from_m": round(s.from_m, 1), "to_m": round(s.to_m, 1)}
                    for s in st.interval
                ],
                "uncertainty_m": cols["unc"][i],
                "last_seen": st.last_measurement,
                "age_s": cols["age"][i],
                "stale": cols["stale"][i],
                "uncertain": cols["uncertain"][i],
                "reached_exit_at": progress.reached_exit.get(st.tag),
                "reached_refuge_at": progress.reached_refuge.get(st.tag),
                "exit_m": cols["exit"][i],
                "refuge_m": cols["refuge"][i],
                "exit_route": cols["exit_route"][i],
                "refuge_route": cols["refuge_route"][i],
                "order": sent.get(st.tag),
                "acked_at": acks.get(st.tag),
            }
        )
    return Accounting(now, rows, _counts(rows))


def _columns(
    mine: Mine,
    tags: list[TagState],
    escape: EscapeFields,
    now: float,
    cfg: EmergencySettings,
    with_routes: bool,
) -> dict[str, list[Any]]:
    """The per-person numbers, computed for everyone at once, as lists ready for the rows."""
    tix = [mine.tunnel_index.get(st.tunnel or "", -1) for st in tags]
    idx = np.array(tix, dtype=np.intp).reshape(-1)
    placed = idx >= 0
    idx[~placed] = 0
    off = np.array([st.offset_m or 0.0 for st in tags], dtype=np.float64)
    heard = np.array(
        [np.nan if st.last_measurement is None else st.last_measurement for st in tags]
    )
    age = now - heard
    unc = np.array([np.inf if st.uncertainty_m is None else st.uncertainty_m for st in tags])
    out: dict[str, list[Any]] = {
        "age": _rounded(age),
        "unc": _rounded(unc),
        "stale": (~(age <= cfg.stale_after_s)).tolist(),  # never heard counts as stale
        "uncertain": (~placed | ~(unc <= cfg.uncertain_above_m)).tolist(),
    }
    for k in ("exit", "refuge"):
        out[k] = _rounded(np.where(placed, escape.distances(k, idx, off), np.inf))
        routes = escape.route_dicts(k, idx, off) if with_routes and tags else [None] * len(tags)
        out[f"{k}_route"] = [r if p else None for r, p in zip(routes, placed.tolist(), strict=True)]
    return out


def _counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals, and per level and zone among the people still underground."""
    by_safety = {"out": 0, "refuge": 0, "unaccounted": 0}
    by_level: dict[str, int] = {}
    by_zone: dict[str, int] = {}
    stale = uncertain = no_exit = no_route = unacked = 0
    for r in rows:
        by_safety[r["safety"]] += 1
        if r["safety"] == "out":
            continue
        level = r["level"] or "unknown"
        by_level[level] = by_level.get(level, 0) + 1
        for z in r["zones"]:
            by_zone[z] = by_zone.get(z, 0) + 1
        stale += r["stale"]
        uncertain += r["uncertain"]
        placed = r["tunnel"] is not None  # an unknown place is flagged uncertain, not cut off
        no_exit += placed and r["exit_m"] is None
        no_route += placed and r["exit_m"] is None and r["refuge_m"] is None
        unacked += r["order"] is not None and r["acked_at"] is None
    return {
        "involved": len(rows),
        "underground": by_safety["refuge"] + by_safety["unaccounted"],
        **by_safety,
        "by_level": by_level,
        "by_zone": by_zone,
        "stale": stale,
        "uncertain": uncertain,
        "no_exit_route": no_exit,
        "no_route": no_route,
        "unacknowledged": unacked,
    }
