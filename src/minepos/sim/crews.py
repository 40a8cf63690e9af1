"""People, crews and work places: who goes where in a shift.

The roster comes from the mine; when more people are asked for, more are made up the same way
every time (ids ``s00001``...). Miners work in crews at one work place; electricians, fitters,
foremen, surveyors and rescuers go round several places in a shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from minepos.mine import Mine, Person, Place

__all__ = ["ROAMING_ROLES", "Crew", "WorkPlace", "assign_crews", "roster", "work_places"]

ROAMING_ROLES = frozenset({"electrician", "fitter", "foreman", "surveyor", "rescue"})
_EXTRA_ROLES = (
    ["miner"] * 12
    + ["electrician"] * 2
    + ["fitter"] * 2
    + ["foreman", "shotfirer", "surveyor", "rescue"]
)
_CREW_SIZE = 8
_SITE_SPACING_M = 400.0
_SITE_HALF_M = 15.0
_SITE_CAPACITY = 16
_SURFACE_KINDS = frozenset({"lamp_room", "exit"})
_NO_WORK_KINDS = frozenset({"restricted", "refuge", "lamp_room", "exit"})


@dataclass(frozen=True, slots=True)
class WorkPlace:
    """A stretch where people work: ``tunnel`` from ``lo`` to ``hi``."""

    id: str
    tunnel: str
    lo: float
    hi: float
    capacity: int
    allowed_roles: tuple[str, ...] | None = None
    #: a zone with a ``max_occupancy``: crews never fill it past ``capacity``
    limited: bool = False

    @property
    def centre(self) -> Place:
        """Middle of the stretch."""
        return Place(self.tunnel, 0.5 * (self.lo + self.hi))

    def admits(self, role: str) -> bool:
        """Whether people of ``role`` may work here."""
        return self.allowed_roles is None or role in self.allowed_roles


@dataclass(frozen=True, slots=True)
class Crew:
    """People who go down, work and come up together; roamers have several stops."""

    members: tuple[int, ...]
    stops: tuple[int, ...]  # indices into the work-place list
    rides: bool


def roster(mine: Mine, n: int | None) -> list[Person]:
    """The first ``n`` people of the mine's roster, made up deterministically past its end."""
    people = list(mine.people)
    n = len(people) if n is None else n
    taken_ids = {p.id for p in people}
    taken_tags = {p.tag for p in people}
    k = 0
    while len(people) < n:
        k += 1
        pid, tag = f"s{k:05d}", f"st{k:05d}"
        if pid in taken_ids or tag in taken_tags:
            continue
        people.append(Person(pid, f"Sim person {k}", _EXTRA_ROLES[k % len(_EXTRA_ROLES)], tag))
    return people[:n]


def _underground(mine: Mine, t: int) -> bool:
    tunnel = mine.tunnels[t]
    if tunnel.kind == "shaft":
        return False
    mid = mine.point_at(np.array([t]), np.array([tunnel.length_m / 2]))[0]
    return bool(mid[2] < max(lv.z for lv in mine.levels) - 1.0)


def _free(mine: Mine, t: int, lo: float, hi: float) -> bool:
    """Whether a stretch touches no zone with rules of its own (work, limits, roles, no-go)."""
    offs = np.linspace(lo, hi, 7)
    mask = mine.zone_mask(np.full(len(offs), t, dtype=np.intp), offs)
    inside = [bool(x) for x in np.any(mask, axis=0)]
    return not any(
        inside[k]
        and (
            z.kind in _NO_WORK_KINDS
            or z.kind == "work"
            or z.max_occupancy is not None
            or z.allowed_roles is not None
        )
        for k, z in enumerate(mine.zones)
    )


def work_places(mine: Mine) -> list[WorkPlace]:
    """Work zones (capacity below their limit) plus sites every ~400 m of underground roadway."""
    out: list[WorkPlace] = []
    blocked: set[str] = set()
    for z in mine.zones:
        if z.kind in _NO_WORK_KINDS or z.allowed_roles is not None:
            blocked.update(s.tunnel for s in z.spans)
        if z.kind != "work":
            continue
        span = max(z.spans, key=lambda s: s.length_m)
        cap = int(0.8 * z.max_occupancy) if z.max_occupancy else 30
        out.append(
            WorkPlace(
                z.id,
                span.tunnel,
                span.from_m,
                span.to_m,
                max(cap, 1),
                z.allowed_roles,
                z.max_occupancy is not None,
            )
        )
    for t, tunnel in enumerate(mine.tunnels):
        if tunnel.id in blocked or tunnel.kind == "chamber" or not _underground(mine, t):
            continue
        n = max(1, int(tunnel.length_m // _SITE_SPACING_M))
        for k in range(n):
            c = (k + 0.5) * tunnel.length_m / n
            lo, hi = max(0.0, c - _SITE_HALF_M), min(tunnel.length_m, c + _SITE_HALF_M)
            if not _free(mine, t, lo, hi):
                continue  # inside a zone with its own rules (a work zone is its own place)
            out.append(WorkPlace(f"{tunnel.id}@{round(c)}", tunnel.id, lo, hi, _SITE_CAPACITY))
    return out


def assign_crews(
    people: list[Person], places: list[WorkPlace], rider_share: float, rng: np.random.Generator
) -> list[Crew]:
    """Crews of about eight for fixed roles, one-person rounds of 2-4 stops for roaming roles."""
    if not places:
        return [Crew((i,), (), False) for i in range(len(people))]
    fixed = [i for i, p in enumerate(people) if p.role not in ROAMING_ROLES]
    roaming = [i for i, p in enumerate(people) if p.role in ROAMING_ROLES]
    open_places = [k for k, w in enumerate(places) if w.allowed_roles is None]
    load = np.zeros(len(places))
    crews: list[Crew] = []
    for lo in range(0, len(fixed), _CREW_SIZE):
        members = tuple(fixed[lo : lo + _CREW_SIZE])
        k = _pick(open_places, places, load, len(members), rng)
        load[k] += len(members)
        crews.append(Crew(members, (k,), bool(rng.random() < rider_share)))
    for i in roaming:
        allowed = [k for k, w in enumerate(places) if w.admits(people[i].role)]
        room = [k for k in allowed if not places[k].limited or load[k] + 1 <= places[k].capacity]
        n_stops = int(rng.integers(2, 5))
        stops = tuple(int(x) for x in rng.choice(room, size=min(n_stops, len(room)), replace=False))
        load[list(stops)] += 1
        crews.append(Crew((i,), stops, bool(rng.random() < rider_share)))
    return crews


def _pick(
    candidates: list[int],
    places: list[WorkPlace],
    load: NDArray[np.float64],
    size: int,
    rng: np.random.Generator,
) -> int:
    """The least loaded place with room for ``size`` more (zones keep below their limit)."""
    cand = np.array(candidates)
    cap = np.array([places[k].capacity for k in candidates], dtype=float)
    ratio = (load[cand] + size) / cap + rng.uniform(0, 0.3, len(cand))
    full = load[cand] + size > cap
    limited = np.array([places[k].limited for k in candidates])
    ratio = np.where(full & limited, np.inf, ratio)
    return int(cand[int(np.argmin(ratio))])
