"""Shift plans: every person's itinerary as timed segments along tunnels.

Each person is a generator that walks their day (lamp out, cage down, roadways, work, back up,
lamp in) and pauses whenever they reach the cage; a heap resumes people in time order, so the cage
is boarded first come, first served, with its capacity and departure grid.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np

from minepos.errors import InputError
from minepos.mine import Leg, Mine, Person, Place
from minepos.sim.config import ScenarioConfig
from minepos.sim.crews import Crew, WorkPlace

__all__ = [
    "CAGE",
    "MODE_NAMES",
    "RIDE",
    "STILL",
    "WAIT",
    "WALK",
    "WORK",
    "Plans",
    "Walker",
    "build_plans",
    "lamp_place",
    "lamp_room_shift_ends",
]

WALK, RIDE, CAGE, WORK, WAIT, STILL = range(6)
MODE_NAMES = ("walk", "vehicle", "cage", "work", "wait", "still")
Segment = tuple[float, float, int, float, float, int]  # t0, t1, tunnel, s0, s1, mode
_RETURN_MARGIN_S = 2400.0
_LAST_STOP_S = 1800.0  # roamers start no new stop this close to leaving time
_MIN_VISIT_S = 300.0
_QUARTER_S = 900.0  # the lamp room rounds an inferred shift start down to the quarter hour


@dataclass
class Walker:
    """One person's itinerary under construction: where they are now and what they did."""

    tunnel: int
    s: float
    t: float
    segs: list[Segment] = field(default_factory=list)

    def go(self, tunnel: int, s0: float, s1: float, speed: float, mode: int) -> None:
        """Move along ``tunnel`` from ``s0`` to ``s1`` at ``speed``."""
        dt = abs(s1 - s0) / speed
        if dt > 0:
            self.segs.append((self.t, self.t + dt, tunnel, s0, s1, mode))
        self.tunnel, self.s, self.t = tunnel, s1, self.t + dt

    def stay(self, dt: float, mode: int) -> None:
        """Stay where one is for ``dt`` seconds."""
        if dt > 0:
            self.segs.append((self.t, self.t + dt, self.tunnel, self.s, self.s, mode))
            self.t += dt


@dataclass
class Plans:
    """All itineraries, one segment list per person, plus lamp times and shift facts."""

    segs: list[list[Segment]]
    lamp_out: list[float]
    lamp_in: list[float]  # planned; math.inf for people who do not come back
    leave: list[float]  # when each person stops work to go up
    shift_start: float
    shift_end: float
    #: the end of each person's shift as the lamp room reckons it (see ``lamp_room_shift_ends``)
    person_shift_end: list[float] = field(default_factory=list)


class _Cage:
    """Departures every ``cycle`` seconds, each taking at most ``capacity`` people."""

    def __init__(self, t0: float, cycle: float, capacity: int, rng: np.random.Generator) -> None:
        self.t0, self.cycle, self.capacity, self.rng = t0, cycle, capacity, rng
        self.load: dict[int, int] = {}
        self.speed: dict[int, float] = {}

    def board(self, t: float) -> tuple[float, float]:
        """Departure time and speed of the first trip at or after ``t`` with room."""
        k = max(0, math.ceil((t - self.t0) / self.cycle))
        while self.load.get(k, 0) >= self.capacity:
            k += 1
        self.load[k] = self.load.get(k, 0) + 1
        if k not in self.speed:
            self.speed[k] = float(self.rng.uniform(6.0, 12.0))
        return self.t0 + k * self.cycle, self.speed[k]


def lamp_place(mine: Mine) -> Place:
    """Where lamps are issued: the lamp room, else an exit, else the highest node."""
    for kind in ("lamp_room", "exit"):
        for z in mine.zones:
            if z.kind == kind:
                s = z.spans[0]
                return Place(s.tunnel, 0.5 * (s.from_m + s.to_m))
    top = max(range(len(mine.nodes)), key=lambda n: mine.nodes[n].xyz[2])
    t, end = mine.network.incident(top)[0]
    return Place(mine.tunnels[t].id, 0.0 if end == "from" else mine.tunnels[t].length_m)


class _Context:
    """Shared state of plan building: the mine, routes already found, the cages."""

    def __init__(
        self, mine: Mine, cfg: ScenarioConfig, shift_start: float, rng: np.random.Generator
    ) -> None:
        self.mine, self.cfg, self.rng = mine, cfg, rng
        self.shift_start = shift_start
        self.routes: dict[tuple[Place, Place], tuple[Leg, ...] | None] = {}
        self.cages: dict[tuple[int, bool], _Cage] = {}
        self.transport = self._transport_tunnels()

    def _transport_tunnels(self) -> set[int]:
        out: set[int] = set()
        for z in self.mine.zones:
            if z.kind == "transport":
                out.update(self.mine.tunnel_index[s.tunnel] for s in z.spans)
        return {t for t in out if self.mine.tunnels[t].kind != "shaft"}

    def route(self, a: Place, b: Place) -> tuple[Leg, ...] | None:
        """Legs from ``a`` to ``b`` (cached)."""
        key = (a, b)
        if key not in self.routes:
            r = self.mine.route(a, b)
            self.routes[key] = None if r is None else r.legs
        return self.routes[key]

    def cage(self, tunnel: int, down: bool) -> _Cage:
        """The cage queue of a shaft in one direction."""
        key = (tunnel, down)
        if key not in self.cages:
            self.cages[key] = _Cage(
                self.shift_start, self.cfg.cage_cycle_s, self.cfg.cage_capacity, self.rng
            )
        return self.cages[key]


def _travel(
    ctx: _Context, w: Walker, legs: tuple[Leg, ...], speed: float, rides: bool
) -> Generator[float, None, None]:
    """Walk, ride or take the cage along ``legs``; pause (yield) on reaching a cage."""
    mine = ctx.mine
    cage_speed = 0.0
    for leg in legs:
        t = mine.tunnel_index[leg.tunnel]
        kind = mine.tunnels[t].kind
        if kind == "shaft":
            if cage_speed == 0.0:
                yield w.t  # let everyone who reached a cage earlier board first
                z0, z1 = mine.point_at(np.array([t, t]), np.array([leg.from_m, leg.to_m]))[:, 2]
                depart, cage_speed = ctx.cage(t, bool(z1 < z0)).board(w.t)
                w.stay(depart - w.t, WAIT)
            w.go(t, leg.from_m, leg.to_m, cage_speed, CAGE)
            continue
        cage_speed = 0.0
        if rides and t in ctx.transport and leg.length_m > 200:
            w.go(t, leg.from_m, leg.to_m, 4.0 + 0.5 * math.sin(t), RIDE)
        else:
            factor = 0.7 if kind == "face" else 0.85 if kind in ("ramp", "incline") else 1.0
            w.go(t, leg.from_m, leg.to_m, speed * factor, WALK)


def _legs_between(ctx: _Context, w: Walker, a: Place, b: Place, b_s: float) -> tuple[Leg, ...]:
    """Route from the walker (near ``a``) to offset ``b_s`` of ``b``'s tunnel, via the centres."""
    legs = ctx.route(a, b)
    if legs is None:
        raise InputError(f"no route from {a.tunnel} to {b.tunnel}: the mine's network is split")
    here = ctx.mine.tunnels[w.tunnel].id
    if not legs:
        return (Leg(here, w.s, b_s),)
    out = list(legs)
    if out[0].tunnel == here:
        out[0] = Leg(here, w.s, out[0].to_m)
    else:
        out.insert(0, Leg(here, w.s, a.offset_m))
    if out[-1].tunnel == b.tunnel:
        out[-1] = Leg(b.tunnel, out[-1].from_m, b_s)
    else:
        out.append(Leg(b.tunnel, b.offset_m, b_s))
    return tuple(out)


def _work(ctx: _Context, w: Walker, wp: WorkPlace, until: float) -> None:
    """Work at a place until ``until``: short moves, dwells and short still spells."""
    rng = ctx.rng
    t_idx = ctx.mine.tunnel_index[wp.tunnel]
    q_still = min(1.0, ctx.cfg.sensors.status.still_share * 540.0 / 55.0)
    while w.t < until:
        target = float(rng.uniform(wp.lo, wp.hi))
        w.go(t_idx, w.s, target, float(rng.uniform(0.3, 0.8)), WORK)
        w.stay(min(float(rng.uniform(60, 900)), max(until - w.t, 1.0)), WORK)
        if rng.random() < q_still and w.t < until:
            w.stay(float(rng.uniform(20, 90)), STILL)


def _life(
    ctx: _Context,
    crew: Crew,
    places: list[WorkPlace],
    lamp: Place,
    w: Walker,
    leave: float,
    speed: float,
) -> Generator[float, None, None]:
    """One person's whole shift; yields before each cage boarding."""
    rng = ctx.rng
    here = lamp
    if crew.stops:
        span_each = (leave - w.t) / len(crew.stops)
        t_start = w.t
        for n, k in enumerate(crew.stops):
            if n and w.t > leave - _LAST_STOP_S:
                break  # no time left for another place: head for the shaft
            wp = places[k]
            dest = float(rng.uniform(wp.lo, wp.hi))
            legs = _legs_between(ctx, w, here, wp.centre, dest)
            yield from _travel(ctx, w, legs, speed, crew.rides)
            last = n == len(crew.stops) - 1
            until = leave if last else max(t_start + (n + 1) * span_each, w.t + _MIN_VISIT_S)
            _work(ctx, w, wp, min(until, leave))
            here = wp.centre
    else:
        w.stay(max(leave - w.t, 0.0), WORK)
    yield from _travel(ctx, w, _legs_between(ctx, w, here, lamp, lamp.offset_m), speed, crew.rides)


def build_plans(
    mine: Mine,
    people: list[Person],
    crews: list[Crew],
    places: list[WorkPlace],
    cfg: ScenarioConfig,
    rng: np.random.Generator,
) -> Plans:
    """Every person's itinerary for the shift (or shifts) around the run.

    With ``cfg.shifts`` > 1 crews take turns: crew ``k`` works shift ``k % shifts``, each shift
    starting ``shift_s`` after the one before, so one shift comes up while the next goes down.
    """
    shift_start = cfg.start_ts - cfg.shift_offset_s
    shift_s = cfg.shift_s if cfg.shift_s is not None else mine.rules.shift_h * 3600.0
    ctx = _Context(mine, cfg, shift_start, rng)
    lamp = lamp_place(mine)
    lamp_t = mine.tunnel_index[lamp.tunnel]
    window = min(cfg.lamp_out_window_s, 0.25 * shift_s)
    margin = min(_RETURN_MARGIN_S, 0.2 * shift_s)
    n = len(people)
    lamp_out, leave = [0.0] * n, [0.0] * n
    turn = [0] * n
    walkers: list[Walker] = [Walker(lamp_t, lamp.offset_m, 0.0) for _ in range(n)]
    gens: list[Generator[float, None, None]] = [iter(()) for _ in range(n)]  # type: ignore[misc]
    heap: list[tuple[float, int]] = []
    for k, crew in enumerate(crews):
        own_start = shift_start + (k % cfg.shifts) * shift_s
        t_crew = own_start + float(rng.uniform(0, window))
        t_leave = own_start + shift_s - margin + float(rng.uniform(-0.25, 0.25)) * margin
        for i in crew.members:
            turn[i] = k % cfg.shifts
            lamp_out[i] = t_crew + float(rng.uniform(0, 60))
            leave[i] = t_leave
            walkers[i].t = lamp_out[i]
            gens[i] = _life(
                ctx, crew, places, lamp, walkers[i], t_leave, float(rng.uniform(1.0, 1.5))
            )
            heap.append((lamp_out[i], i))
    heapq.heapify(heap)
    while heap:
        _, i = heapq.heappop(heap)
        t_next = next(gens[i], None)
        if t_next is not None:
            heapq.heappush(heap, (t_next, i))
    lamp_in = [w.t for w in walkers]
    return Plans(
        [w.segs for w in walkers],
        lamp_out,
        lamp_in,
        leave,
        shift_start,
        shift_start + cfg.shifts * shift_s,
        lamp_room_shift_ends(lamp_out, turn, shift_s),
    )


def lamp_room_shift_ends(lamp_out: list[float], turn: list[int], shift_s: float) -> list[float]:
    """Each person's shift end as the lamp room infers it from the lamp-out bursts.

    The lamp room (``minepos.safety.lamproom.ShiftSchedule`` without configured starts) starts a
    shift at the first lamp-out of a burst rounded down to the quarter hour and ends it
    ``shift_s`` later; every lamp-out of a turn falls in its first half (the lamp-out window is at
    most a quarter shift). Configured shift starts at the simulator's shift starts (on the quarter
    hour) give the same ends whenever the first lamp-out comes within a quarter hour of the start.
    """
    first: dict[int, float] = {}
    for t, k in zip(lamp_out, turn, strict=True):
        first[k] = min(first.get(k, math.inf), t)
    start = {k: t - t % _QUARTER_S for k, t in first.items()}
    return [start[k] + shift_s for k in turn]
