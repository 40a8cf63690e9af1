"""The demo's simulated days: three shifts take turns, so the mine is never empty for long."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

import numpy as np

from minepos.api.demo import day_config, last_lamp_in
from minepos.mine import Mine
from minepos.sim import Simulation


def _below(sim: Simulation, t: float) -> int:
    p = sim.plans
    return sum(bool(p.segs[i]) and p.lamp_out[i] <= t < p.lamp_in[i] for i in range(len(p.segs)))


def test_people_are_underground_through_two_days(demo_mine: Mine) -> None:
    start = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)
    shift_s = demo_mine.rules.shift_h * 3600.0
    first = day_config(demo_mine, 30, start, first=True)
    assert first.shifts == 3 and first.people == 90
    t0 = time.perf_counter()
    sim = Simulation(demo_mine, first, seed=1)
    assert time.perf_counter() - t0 < 10.0  # the demo's feed starts quickly
    assert (
        first.start_ts + 3 * shift_s - 3600.0 <= last_lamp_in(sim) <= first.start_ts + 3 * shift_s
    )
    assert {i.kind for i in sim.incidents()} >= {"sos", "man_down"}  # staged, none dropped
    # the next day starts when the last of this one is up, as the demo's feed chains them
    day2 = datetime.fromtimestamp(float(math.ceil(last_lamp_in(sim) + 1.0)), UTC)
    second = day_config(demo_mine, 30, day2, first=False)
    nxt = Simulation(demo_mine, second, seed=2)
    assert second.shift_offset_s == 0.0
    for s, a, b in (
        (sim, first.start_ts, day2.timestamp()),
        (nxt, day2.timestamp(), last_lamp_in(nxt)),
    ):
        ts = np.arange(a, b, 300.0)
        counts = np.array([_below(s, float(t)) for t in ts])
        assert counts.max() <= 45  # turns: about 30 at a time, not all 90
        assert np.median(counts) >= 25
        # handovers (one shift walks out, the next lamps out): short and few
        assert (counts < 10).sum() <= 3 * 9, counts.tolist()
    last_of_day1 = {int(i) for i in np.flatnonzero(np.isfinite(sim.plans.lamp_in))}
    assert all(sim.plans.lamp_in[i] < day2.timestamp() for i in last_of_day1)
