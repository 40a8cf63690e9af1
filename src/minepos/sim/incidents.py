"""Incidents: staging them in people's plans, and the ground-truth record of each.

Staged incidents change plans before the run (a man-down freezes a person, a zone incident sends
people on a detour) or tag behaviour (silence, battery, SOS). Zone incidents (restricted,
forbidden, overcrowding) are recorded by `ZoneMonitor` from the truth itself, so anything that
happens in a zone is recorded whether staged or not, at the truth tick it happened.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from minepos.mine import Leg, Mine, Person, Place
from minepos.sim.plan import CAGE, STILL, WAIT, WORK, Plans, Segment, Walker

__all__ = ["Incident", "TagEffects", "ZoneMonitor", "detour", "freeze", "place_at", "split", "walk"]


@dataclass
class Incident:
    """One incident as recorded in ``incidents.jsonl``."""

    kind: str
    ts: float
    person: str | None = None
    tag: str | None = None
    zone: str | None = None
    anchor: str | None = None
    end_ts: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, without unset fields."""
        out: dict[str, Any] = {"ts": round(self.ts, 3), "kind": self.kind}
        for key in ("tag", "person", "zone", "anchor"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.end_ts is not None and math.isfinite(self.end_ts):
            out["end_ts"] = round(self.end_ts, 3)
        out.update(self.detail)
        return out


@dataclass
class TagEffects:
    """Per-person tag behaviour changed by incidents: silence windows, battery, events."""

    silent_from: NDArray[np.float64]
    silent_to: NDArray[np.float64]
    battery_cross: NDArray[np.float64]  # time the battery crosses the low threshold (nan: never)
    anchor_down_from: NDArray[np.float64]
    anchor_down_to: NDArray[np.float64]
    events: list[tuple[float, int, int]] = field(default_factory=list)  # (ts, person, event code)

    @classmethod
    def none(cls, n_people: int, n_anchors: int) -> TagEffects:
        """No effects."""
        return cls(
            np.full(n_people, np.inf),
            np.full(n_people, np.inf),
            np.full(n_people, np.nan),
            np.full(n_anchors, np.inf),
            np.full(n_anchors, np.inf),
        )


def place_at(segs: list[Segment], t: float) -> tuple[int, int, float, int]:
    """Segment index, tunnel, offset and mode of an itinerary at ``t``."""
    ends = [s[1] for s in segs]
    k = min(bisect.bisect_right(ends, t), len(segs) - 1)
    t0, t1, tunnel, s0, s1, mode = segs[k]
    frac = 0.0 if t1 <= t0 or math.isinf(t1) else min(max((t - t0) / (t1 - t0), 0.0), 1.0)
    return k, tunnel, s0 + frac * (s1 - s0), mode


def split(segs: list[Segment], t: float) -> tuple[list[Segment], list[Segment], int, float]:
    """Itinerary before ``t``, after ``t`` (starting at ``t``), and the place at ``t``."""
    k, tunnel, s, _ = place_at(segs, t)
    head = list(segs[:k])
    t0, t1, _, s0, _, mode = segs[k]
    if t > t0:
        head.append((t0, t, tunnel, s0, s, mode))
    tail = [(max(t, t0), t1, tunnel, s, segs[k][4], mode), *segs[k + 1 :]]
    return head, tail, tunnel, s


def _shifted(segs: list[Segment], dt: float) -> list[Segment]:
    return [(a + dt, b + dt, tu, s0, s1, m) for a, b, tu, s0, s1, m in segs]


def freeze(plans: Plans, i: int, t: float, duration: float) -> None:
    """Person ``i`` lies still from ``t`` for ``duration`` s; the rest of their day comes later."""
    head, tail, tunnel, s = split(plans.segs[i], t)
    head.append((t, t + duration, tunnel, s, s, STILL))
    plans.segs[i] = head + _shifted(tail, duration) if math.isfinite(duration) else head
    plans.lamp_in[i] += duration


def detour(
    mine: Mine,
    plans: Plans,
    i: int,
    t: float,
    target: Place,
    dwell: float,
    speed: float = 1.2,
    gather: float = 0.0,
) -> bool:
    """Person ``i`` walks from where they are at ``t`` to ``target``, stays, and walks back.

    The stay lasts ``dwell`` seconds after ``gather`` (an absolute time: a group sent together
    waits there until the last one has arrived).
    """
    head, tail, tunnel, s = split(plans.segs[i], t)
    here = Place(mine.tunnels[tunnel].id, s)
    there = mine.route(here, target)
    back = mine.route(target, here)
    if there is None or back is None:
        return False
    w = Walker(tunnel, s, t, head)
    for leg in there.legs:
        walk(mine, w, leg, speed)
    w.stay(max(gather - w.t, 0.0) + dwell, WORK)
    for leg in back.legs:
        walk(mine, w, leg, speed)
    dt = w.t - t
    plans.segs[i] = w.segs + _shifted(tail, dt)
    plans.lamp_in[i] += dt
    return True


def walk(mine: Mine, w: Walker, leg: Leg, speed: float) -> None:
    """Walk one leg (shafts by cage at 8 m/s, without waiting for it)."""
    t = mine.tunnel_index[leg.tunnel]
    w.go(
        t,
        leg.from_m,
        leg.to_m,
        speed if mine.tunnels[t].kind != "shaft" else 8.0,
        CAGE if mine.tunnels[t].kind == "shaft" else WORK,
    )


def underground_at(plans: Plans, i: int, t: float, margin: float = 600.0) -> bool:
    """Whether person ``i`` is below, out of the cage, at ``t`` and for ``margin`` s more."""
    if not plans.segs[i] or not plans.lamp_out[i] + 120 <= t <= plans.lamp_in[i] - margin:
        return False
    return place_at(plans.segs[i], t)[3] not in (CAGE, WAIT)


class ZoneMonitor:
    """Opens and closes restricted, forbidden and overcrowding incidents from the truth."""

    def __init__(self, mine: Mine, people: list[Person]) -> None:
        self.people = people
        self.restricted = [k for k, z in enumerate(mine.zones) if z.kind == "restricted"]
        self.limited = [k for k, z in enumerate(mine.zones) if z.allowed_roles is not None]
        self.crowded = [k for k, z in enumerate(mine.zones) if z.max_occupancy is not None]
        self.zones = mine.zones
        n = len(people)
        self.allowed = np.ones((n, len(mine.zones)), dtype=bool)
        for k in self.limited:
            roles = set(mine.zones[k].allowed_roles or ())
            self.allowed[:, k] = [p.role in roles for p in people]
        self.inside = np.zeros((n, len(mine.zones)), dtype=bool)
        self.open: dict[tuple[str, int, int], Incident] = {}
        self.over = np.zeros(len(mine.zones), dtype=bool)
        self.closed: list[Incident] = []

    def update(
        self,
        t: float,
        ts: NDArray[np.float64],
        person: NDArray[np.intp],
        mask: NDArray[np.bool_],
    ) -> list[Incident]:
        """Feed one tick of truth (zone mask per row); return incidents opened now."""
        now = np.zeros_like(self.inside)
        now[person] = mask
        opened: list[Incident] = []
        ts_of = np.full(len(self.people), t)
        ts_of[person] = ts
        for kind, zones, cond in (
            ("restricted_zone", self.restricted, None),
            ("forbidden_zone", self.limited, self.allowed),
        ):
            for k in zones:
                viol = now[:, k] if cond is None else now[:, k] & ~cond[:, k]
                was = self.inside[:, k] if cond is None else self.inside[:, k] & ~cond[:, k]
                for i in np.flatnonzero(viol & ~was).tolist():
                    p = self.people[i]
                    inc = Incident(kind, float(ts_of[i]), p.id, p.tag, self.zones[k].id)
                    self.open[(kind, k, i)] = inc
                    opened.append(inc)
                for i in np.flatnonzero(was & ~viol).tolist():
                    self._close((kind, k, i), float(ts_of[i]))
        counts = now.sum(axis=0)
        for k in self.crowded:
            limit = self.zones[k].max_occupancy or 0
            if counts[k] > limit and not self.over[k]:
                inc = Incident(
                    "overcrowding",
                    t,
                    zone=self.zones[k].id,
                    detail={"count": int(counts[k]), "max_occupancy": limit},
                )
                self.open[("overcrowding", k, -1)] = inc
                opened.append(inc)
            elif counts[k] <= limit and self.over[k]:
                self._close(("overcrowding", k, -1), t)
            if counts[k] > limit:
                inc = self.open[("overcrowding", k, -1)]
                inc.detail["count"] = max(int(counts[k]), inc.detail["count"])
            self.over[k] = counts[k] > limit
        self.inside = now
        return opened

    def _close(self, key: tuple[str, int, int], t: float) -> None:
        inc = self.open.pop(key, None)
        if inc is not None:
            inc.end_ts = t
            self.closed.append(inc)

    def all(self) -> list[Incident]:
        """Every incident seen, the still-open ones without an end."""
        return [*self.closed, *self.open.values()]
