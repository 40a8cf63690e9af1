"""The simulation: a shift of people in a mine, tick by tick, as measurements plus ground truth.

Usage::

    sim = Simulation(mine, ScenarioConfig(people=200, minutes=30), seed=1)
    for tick in sim.run():
        tick.measurements        # MeasurementBatch (columns), time-ordered
        tick.measurement_list()  # list[minepos.measurement.Measurement]
        tick.truth               # TruthBatch: one row per tag with a lamp out
    sim.incidents()              # every incident with its time (complete after the run)

``sim.order_evacuation(ts, tags)`` gives an evacuation order while ``run()`` is iterating (from any
thread): from the next tick the tags answer and their people walk out as with configured orders.
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from minepos.errors import InputError
from minepos.measurement import Measurement
from minepos.mine import Mine, Span
from minepos.sim.batch import EVENT, STATUS, MeasurementBatch
from minepos.sim.config import EvacuationOrder, ScenarioConfig
from minepos.sim.crews import assign_crews, roster, work_places
from minepos.sim.evacuation import LiveOrders, in_zone, stage_evacuation
from minepos.sim.incidents import Incident, ZoneMonitor
from minepos.sim.motion import Trajectories
from minepos.sim.plan import MODE_NAMES, build_plans
from minepos.sim.radio import cell_of
from minepos.sim.sensors import SensorSuite
from minepos.sim.staging import Stager
from minepos.sim.truth import TruthBatch

__all__ = ["Simulation", "Tick", "simulate"]

log = logging.getLogger(__name__)
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Tick:
    """One time step: what the anchors and tags reported, where everyone really was."""

    t: float
    measurements: MeasurementBatch
    truth: TruthBatch
    incidents: list[Incident]
    sim: Simulation

    def measurement_list(self) -> list[Measurement]:
        """The measurements as canonical `Measurement` objects, time-ordered."""
        return self.measurements.to_measurements(self.sim.tags, self.sim.anchor_ids)


class Simulation:
    """People, plans, sensors and incidents of one scenario; `run` yields the ticks."""

    def __init__(self, mine: Mine, config: ScenarioConfig | None = None, seed: int = 0) -> None:
        self.mine = mine
        self.config = cfg = config or ScenarioConfig()
        self.seed = seed
        rng = np.random.default_rng(seed)
        self.people = roster(mine, cfg.people)
        self.tags = [p.tag for p in self.people]
        self.anchor_ids = [a.id for a in mine.anchors]
        self.places = work_places(mine)
        crews = assign_crews(self.people, self.places, cfg.rider_share, rng)
        self.plans = build_plans(mine, self.people, crews, self.places, cfg, rng)
        stager = Stager(mine, self.people, self.plans, cfg, rng)
        stager.stage_all()
        self.effects = stager.effects
        self._staged = stager.incidents
        self.trajectories = Trajectories.from_plans(self.plans)
        self.sensors = SensorSuite(mine, cfg.sensors, rng)
        n = len(self.people)
        self.phase = rng.uniform(0.0, cfg.tick_s, n)
        self.lateral = rng.normal(0.0, cfg.sensors.tag_lateral_sigma_m, n)
        lo, hi = cfg.sensors.status.battery_start_pct
        self.battery0 = rng.uniform(lo, hi, n)
        self.monitor = ZoneMonitor(mine, self.people)
        self._rng = rng
        self._live = LiveOrders(cfg.start_ts)
        self._live_rng = np.random.default_rng([seed, 2])
        self._live_events: list[tuple[float, int, int]] = []  # a heap of acks of live orders

    # -- public --------------------------------------------------------------------------------
    @property
    def n_ticks(self) -> int:
        """Number of ticks of the run."""
        return int(np.ceil(self.config.duration_s / self.config.tick_s - 1e-9))

    def incidents(self) -> list[Incident]:
        """Staged incidents plus the zone incidents seen so far, by time."""
        return sorted([*self._staged, *self.monitor.all()], key=lambda x: x.ts)

    def truth_at(self, person: int, t: float) -> tuple[str, float, tuple[float, float, float]]:
        """Tunnel id, offset and tag xyz of person ``person`` (index) at any time ``t``."""
        tunnel, offset, _ = self.trajectories.peek(person, t)
        xyz = self._tag_xyz(np.array([person]), np.array([tunnel]), np.array([offset]))[0]
        return self.mine.tunnels[tunnel].id, offset, (float(xyz[0]), float(xyz[1]), float(xyz[2]))

    def order_evacuation(
        self,
        ts: float,
        tags: Iterable[str] | None = None,
        *,
        zone: str | None = None,
        avoid: tuple[Span, ...] = (),
        never_share: float = 0.03,
        ack_median_s: float = 25.0,
        ack_sigma: float = 0.8,
    ) -> None:
        """An evacuation order given at unix time ``ts`` while the run goes (any thread).

        ``tags`` None: everyone underground (in ``zone``, if given). It takes effect at the
        next tick (at ``ts`` or that tick, whichever is later): acknowledgements come after a
        lognormal delay, except from ``never_share`` of the people; those who answer walk to
        the nearest exit or refuge avoiding the ``avoid`` stretches, and wait there.
        """
        if zone is not None and zone not in self.mine.zone_index:
            raise InputError(f"evacuation: unknown zone {zone!r}")
        order = EvacuationOrder(
            0.0,
            ack_median_s=ack_median_s,
            ack_sigma=ack_sigma,
            never_share=never_share,
            avoid=tuple(avoid),
        )
        self._live.add(ts, tags, zone, order)

    def run(self) -> Iterator[Tick]:
        """Yield every tick of the run, in time order (each run starts from the beginning)."""
        cfg = self.config
        rng = np.random.default_rng([self.seed, 1])
        self.trajectories.reset()
        self.monitor = ZoneMonitor(self.mine, self.people)
        n = len(self.people)
        was_moving = np.zeros(n, dtype=bool)
        was_active = np.zeros(n, dtype=bool)
        ev = self.effects.events
        ev_ts = np.array([e[0] for e in ev])
        ev_k = int(np.searchsorted(ev_ts, cfg.start_ts, side="left"))
        status_every = max(1, round(cfg.sensors.status.interval_s / cfg.tick_s))
        status_slot = (self.phase * 997).astype(np.intp) % status_every
        for k in range(self.n_ticks):
            t = cfg.start_ts + k * cfg.tick_s
            self._stage_live_orders(t)
            tq = t + self.phase
            idx = np.flatnonzero(self.trajectories.active(tq))
            pos = self.trajectories.at(idx, tq[idx])
            xyz = self._tag_xyz(idx, pos.tunnel, pos.offset)
            talking = ~(
                (tq[idx] >= self.effects.silent_from[idx]) & (tq[idx] < self.effects.silent_to[idx])
            )
            up = ~((t >= self.effects.anchor_down_from) & (t < self.effects.anchor_down_to))
            ti = idx[talking]
            cells = cell_of(self.mine, pos.tunnel[talking], pos.offset[talking])
            parts = self.sensors.observe(tq[ti], ti, cells, xyz[talking], up, rng)
            moving = pos.moving
            due = (
                ((k % status_every) == status_slot[idx])
                | (moving != was_moving[idx])
                | ~was_active[idx]
                | self._battery_crossed(idx, tq[idx])
            )
            due &= talking
            parts.append(self._status(tq[idx[due]], idx[due], moving[due]))
            hi = int(np.searchsorted(ev_ts, t + cfg.tick_s, side="left"))
            parts.append(self._events([*ev[ev_k:hi], *self._due_live(t + cfg.tick_s)], t))
            ev_k = hi
            was_moving[idx] = moving
            was_active[:] = False
            was_active[idx] = True
            truth = TruthBatch.build(self.mine, tq[idx], pos, xyz)
            opened = self.monitor.update(t, truth.ts, idx, truth.zones)
            yield Tick(t, MeasurementBatch.concat(parts), truth, opened, self)

    # -- pieces ----------------------------------------------------------------------------------
    def _stage_live_orders(self, t: float) -> None:
        """Stage the orders given since the last tick; itineraries change, so re-flatten them."""
        orders = self._live.take()
        if not orders:
            return
        for ts, zone, given in orders:
            at = max(ts, t)
            order = given
            if zone is not None:
                order = dataclasses.replace(
                    given, tags=in_zone(self.mine, self.plans, self.people, zone, at)
                )
            acks: list[tuple[float, int, int]] = []
            self._staged += stage_evacuation(
                self.mine, self.people, self.plans, order, at, self._live_rng, acks
            )
            for e in acks:
                heapq.heappush(self._live_events, e)
            log.info("evacuation order at %.0f: %d acknowledging", at, len(acks))
        self.trajectories = Trajectories.from_plans(self.plans)
        moved = np.flatnonzero(self.trajectories.has_segments)
        self.trajectories.at(moved, np.full(len(moved), t - self.config.tick_s))  # cursors on

    def _due_live(self, until: float) -> list[tuple[float, int, int]]:
        out = []
        while self._live_events and self._live_events[0][0] < until:
            out.append(heapq.heappop(self._live_events))
        return out

    def _tag_xyz(self, idx: IntArray, tunnel: IntArray, offset: FloatArray) -> FloatArray:
        """Tag positions: the tunnel axis, a sideways offset per person and a height offset."""
        axis = self.mine.point_at(tunnel, offset)
        d = self.mine.geometry.direction_at(tunnel, offset)
        side = np.stack([-d[:, 1], d[:, 0], np.zeros(len(d))], axis=1)
        norm = np.linalg.norm(side, axis=1)
        side = np.where(
            norm[:, None] > 1e-6, side / np.maximum(norm, 1e-6)[:, None], [1.0, 0.0, 0.0]
        )
        out = axis + side * self.lateral[idx, None]
        out[:, 2] += self.config.sensors.tag_vertical_m
        return out

    def battery(self, idx: IntArray, ts: FloatArray) -> FloatArray:
        """Battery level of tags at ``ts`` (a staged low battery crosses its threshold then)."""
        st = self.config.sensors.status
        out_t = self.trajectories.lamp_out[idx]
        level = self.battery0[idx] - st.battery_drain_pct_h * (ts - out_t) / 3600.0
        cross = self.effects.battery_cross[idx]
        low = self.mine.rules.low_battery_pct
        staged = ~np.isnan(cross)
        slope = (low + 8.0 - low) / np.maximum(cross - out_t, 60.0)
        forced = low + 8.0 - slope * (ts - out_t)
        return np.clip(np.where(staged, forced, level), 0.0, 100.0)

    def _battery_crossed(self, idx: IntArray, tq: FloatArray) -> NDArray[np.bool_]:
        """Tags whose battery fell under ``rules.low_battery_pct`` within the last tick.

        Real tags send a status report on that threshold, not only on their timer.
        """
        low = self.mine.rules.low_battery_pct
        before = self.battery(idx, tq - self.config.tick_s)
        return (before >= low) & (self.battery(idx, tq) < low)

    def _status(self, ts: FloatArray, idx: IntArray, moving: NDArray[np.bool_]) -> MeasurementBatch:
        # the gauge reads in tenths, rounding down: a level under the threshold reads under it
        level = np.floor(self.battery(idx, ts) * 10.0) / 10.0
        return MeasurementBatch.make(ts, STATUS, idx, motion=moving, battery=level)

    def _events(self, events: list[tuple[float, int, int]], t: float) -> MeasurementBatch:
        if not events:
            return MeasurementBatch.empty()
        ts = np.array([e[0] for e in events])
        person = np.array([e[1] for e in events], dtype=np.intp)
        code = np.array([e[2] for e in events], dtype=np.intp)
        lamp = code <= 1  # lamp events come from the lamp room, not the tag's radio
        # a lamp-in planned before an evacuation order sent the person to wait at an exit
        lamp_in = np.asarray(self.plans.lamp_in)[person]
        gone = (code == 1) & ~np.isfinite(lamp_in)
        quiet = (ts >= self.effects.silent_from[person]) & (ts < self.effects.silent_to[person])
        keep = (lamp | ~quiet) & ~gone
        return MeasurementBatch.make(ts[keep], EVENT, person[keep], event=code[keep])

    def mode_name(self, mode: int) -> str:
        """Name of a motion mode code."""
        return MODE_NAMES[mode]


def simulate(mine: Mine, config: ScenarioConfig | None = None, seed: int = 0) -> Iterator[Tick]:
    """Shorthand for ``Simulation(mine, config, seed).run()``."""
    return Simulation(mine, config, seed).run()
