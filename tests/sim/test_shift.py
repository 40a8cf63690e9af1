"""People and shifts: itineraries are continuous, speeds and cage loads are right, all come back."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from minepos.mine import Mine
from minepos.sim import ScenarioConfig, Simulation
from minepos.sim.crews import roster
from minepos.sim.plan import CAGE, RIDE, WALK, WORK

from .conftest import collect, underground


@pytest.fixture(scope="module")
def full_shift(demo_mine: Mine) -> Simulation:
    """A whole 8-hour shift of 800 people, planned (not ticked)."""
    return Simulation(demo_mine, ScenarioConfig(people=800, minutes=1.0), seed=21)


def _speed(seg: tuple[float, float, int, float, float, int]) -> float:
    t0, t1, _, s0, s1, _ = seg
    return abs(s1 - s0) / (t1 - t0)


def test_itineraries_are_continuous_in_time_and_space(full_shift: Simulation) -> None:
    mine = full_shift.mine
    net = mine.network
    for segs in full_shift.plans.segs:
        for a, b in itertools.pairwise(segs):
            assert b[0] == pytest.approx(a[1], abs=1e-6)
            if a[2] == b[2]:
                assert b[3] == pytest.approx(a[4], abs=1e-6)
            else:  # changing tunnel happens at a shared node
                end_a = net.t_from[a[2]] if a[4] < 1e-6 else net.t_to[a[2]]
                end_b = net.t_from[b[2]] if b[3] < 1e-6 else net.t_to[b[2]]
                assert end_a == end_b


def test_speeds_are_those_of_walking_riding_and_the_cage(full_shift: Simulation) -> None:
    kinds = [t.kind for t in full_shift.mine.tunnels]
    by_mode: dict[int, list[float]] = {WALK: [], RIDE: [], CAGE: [], WORK: []}
    for segs in full_shift.plans.segs:
        for seg in segs:
            if seg[5] in by_mode and seg[1] > seg[0] and seg[3] != seg[4]:
                factor = {"face": 0.7, "ramp": 0.85}.get(kinds[seg[2]], 1.0)
                by_mode[seg[5]].append(_speed(seg) / (factor if seg[5] == WALK else 1.0))
    walk, ride, cage = (np.array(by_mode[m]) for m in (WALK, RIDE, CAGE))
    assert walk.min() >= 1.0 - 1e-9
    assert walk.max() <= 1.5 + 1e-9
    assert len(ride) > 100
    assert ride.min() >= 3.0
    assert ride.max() <= 5.0
    assert cage.min() >= 6.0
    assert cage.max() <= 12.0
    assert max(by_mode[WORK]) <= 1.2 + 1e-9


def test_the_cage_never_carries_more_than_its_capacity(full_shift: Simulation) -> None:
    cfg = full_shift.config
    trips = Counter(
        (seg[2], round(seg[0], 3))
        for segs in full_shift.plans.segs
        for seg in segs
        if seg[5] == CAGE
    )
    assert max(trips.values()) <= cfg.cage_capacity
    assert max(trips.values()) >= cfg.cage_capacity // 2  # the morning rush fills trips


def test_everyone_goes_down_works_and_comes_back_at_shift_end(full_shift: Simulation) -> None:
    plans = full_shift.plans
    lamp_out, lamp_in = np.array(plans.lamp_out), np.array(plans.lamp_in)
    assert (lamp_out >= plans.shift_start).all()
    assert (lamp_out <= plans.shift_start + 2400 + 60).all()
    assert np.isfinite(lamp_in).all()
    assert (lamp_in > np.array(plans.leave)).all()
    assert np.median(lamp_in) == pytest.approx(plans.shift_end, abs=1800)
    assert (lamp_in < plans.shift_end + 3600).all()


def test_crews_spread_over_work_places_and_some_take_the_ramp(full_shift: Simulation) -> None:
    mine = full_shift.mine
    ramp = mine.tunnel_index["ramp"]
    tunnels_used = Counter(seg[2] for segs in full_shift.plans.segs for seg in segs)
    assert tunnels_used[ramp] > 0
    work_tunnels = {seg[2] for segs in full_shift.plans.segs for seg in segs if seg[5] == WORK}
    assert len(work_tunnels) >= 12
    levels = {mine.level_at(mine.tunnels[t].id, 1.0) for t in work_tunnels}
    assert {"h320", "h480"} <= levels


def test_people_beyond_the_roster_are_made_up_deterministically(demo_mine: Mine) -> None:
    people = roster(demo_mine, 650)
    assert len(people) == 650
    assert len({p.tag for p in people}) == 650
    assert [p.id for p in people[600:]] == [p.id for p in roster(demo_mine, 650)[600:]]
    assert people[:600] == list(demo_mine.people)


def test_truth_moves_continuously_and_within_the_planned_speeds(demo_mine: Mine) -> None:
    run = collect(Simulation(demo_mine, underground(minutes=4.0), seed=8))
    t = run.truth
    order = np.lexsort((t.ts, t.person))
    p, ts, xyz = t.person[order], t.ts[order], t.xyz[order]
    same = p[1:] == p[:-1]
    step = np.linalg.norm(np.diff(xyz, axis=0), axis=1)[same]
    dt = np.diff(ts)[same]
    assert np.allclose(dt, 1.0)
    assert step.max() <= 12.0 + 1e-6  # the cage is the fastest thing underground
    assert len(np.unique(t.person)) == 150


def test_same_seed_same_run_other_seed_other_run(demo_mine: Mine) -> None:
    def lines(seed: int) -> list[str]:
        sim = Simulation(demo_mine, underground(minutes=0.5, people=40), seed=seed)
        return [
            x for tick in sim.run() for x in tick.measurements.json_lines(sim.tags, sim.anchor_ids)
        ]

    a, b, c = lines(1), lines(1), lines(2)
    assert a == b
    assert a != c
    assert len(a) > 1000


def test_measurements_are_time_ordered(demo_mine: Mine) -> None:
    run = collect(Simulation(demo_mine, underground(shift_offset_s=900.0, minutes=2.0), seed=9))
    assert (np.diff(run.m.ts) >= 0).all()
    assert len(run.m) > 1000


def test_work_zones_stay_within_their_limit_without_incidents(demo_mine: Mine) -> None:
    sim = Simulation(demo_mine, ScenarioConfig(people=2000, minutes=1.0), seed=3)
    limited = [z for z in demo_mine.zones if z.max_occupancy]
    for hour in (1.5, 3.0, 4.5, 6.0):
        t = sim.plans.shift_start + hour * 3600
        counts = Counter(
            z
            for p in range(len(sim.people))
            for z in demo_mine.zones_at(
                demo_mine.tunnels[sim.trajectories.peek(p, t)[0]].id, sim.trajectories.peek(p, t)[1]
            )
        )
        for z in limited:
            assert 0 < counts[z.id] <= (z.max_occupancy or 0), (hour, z.id, counts[z.id])


def test_consecutive_shifts_hand_over_crew_by_crew(demo_mine: Mine) -> None:
    cfg = ScenarioConfig(people=400, minutes=1.0, shifts=3)
    sim = Simulation(demo_mine, cfg, seed=5)
    plans = sim.plans
    shift_s = demo_mine.rules.shift_h * 3600
    out = (np.array(plans.lamp_out) - plans.shift_start) // shift_s
    assert sorted(Counter(out.tolist())) == [0, 1, 2]
    assert min(Counter(out.tolist()).values()) > 100
    assert plans.shift_end - plans.shift_start == 3 * shift_s
    lamp_in = np.array(plans.lamp_in) - plans.shift_start
    # in the middle of each shift, that shift's crews (and only they) are below
    for k in (0, 1, 2):
        t = (k + 0.5) * shift_s
        below = (np.array(plans.lamp_out) - plans.shift_start <= t) & (lamp_in > t)
        assert set(out[below].tolist()) == {k}
        assert below.sum() == (out == k).sum()
