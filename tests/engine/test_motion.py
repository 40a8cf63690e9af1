"""The zone-only motion model: dwells, steady paces, gait changes, man-riders."""

from __future__ import annotations

import numpy as np

from minepos.engine import TrackerConfig
from minepos.engine.motion import board_or_alight, zone_speed
from minepos.engine.rng import seed_state

PRM = TrackerConfig().params()
CFG = TrackerConfig()


def _draws(v: float, p_start: float, p_walk: float, p_shuffle: float, transport: int) -> np.ndarray:
    rs = seed_state(np.random.default_rng(1))
    return np.array(
        [zone_speed(PRM, v, p_start, p_walk, p_shuffle, transport, rs) for _ in range(20_000)]
    )


def test_a_stopped_particle_starts_at_the_dwell_rate_either_way_at_a_walking_pace() -> None:
    v = _draws(0.0, 0.1, 0.0, 0.0, 0)
    moving = v != 0.0
    assert abs(moving.mean() - 0.1) < 0.01
    assert abs((v[moving] > 0).mean() - 0.5) < 0.03
    pace = np.abs(v[moving])
    assert pace.min() >= CFG.zone_pace_lo
    # some ride (up to max_speed), most walk
    assert np.mean(pace <= CFG.zone_pace_hi) > 0.9
    assert pace.max() <= CFG.max_speed


def test_a_walker_keeps_its_exact_pace_between_gait_changes() -> None:
    assert set(_draws(1.3, 0.0, 0.0, 0.0, 0)) == {1.3}
    v = _draws(1.3, 0.0, 1.0, 0.0, 0)  # a change every step
    assert abs(np.mean(v == 0.0) - CFG.zone_stop) < 0.02
    assert abs(np.mean(v == -1.3) - 0.1) < 0.01
    on = v[v > 0]
    assert on.min() >= 0.8 * 1.3 - 1e-9 and on.max() <= 1.2 * 1.3 + 1e-9


def test_a_shuffle_at_work_stops_more_often_than_a_walk() -> None:
    slow = _draws(0.5, 0.0, 0.0, 1.0, 0)
    fast = _draws(1.3, 0.0, 1.0, 0.0, 0)
    assert np.mean(slow == 0.0) > 2 * np.mean(fast == 0.0)
    # a shuffle's gait changes come at their own rate: none when that rate is nil
    assert set(_draws(0.5, 0.0, 1.0, 0.0, 0)) == {0.5}


def test_on_a_transport_roadway_starts_and_changes_board_the_man_rider() -> None:
    v = _draws(0.0, 1.0, 0.0, 0.0, 1)
    assert abs(np.mean(np.abs(v) > CFG.zone_pace_hi) - CFG.zone_ride_transport) < 0.02
    rs = seed_state(np.random.default_rng(2))
    boarded = [board_or_alight(PRM, 1.2, 1, rs) for _ in range(5000)]
    assert abs(np.mean(np.array(boarded) > CFG.zone_pace_hi) - CFG.zone_ride_transport) < 0.03
    assert all(b > 0 for b in boarded)  # the same way
    alighted = [board_or_alight(PRM, -4.0, 0, rs) for _ in range(1000)]
    assert all(-CFG.zone_pace_hi <= a <= -CFG.zone_pace_lo for a in alighted)
    assert board_or_alight(PRM, 1.2, 0, rs) == 1.2  # a walker walks on
    assert board_or_alight(PRM, 0.0, 1, rs) == 0.0  # nobody boards standing still


def test_growing_a_row_shares_each_particle_weight_among_its_copies() -> None:
    # 96 -> 128 particles: a third of them get two copies; the weight on each place must stay
    # what it was (copies once kept their whole weight, skewing the cloud to the row's start)
    from minepos.engine.kernel import _resize
    from minepos.engine.tables import build_tables

    from .scenarios import straight_mine

    mine = straight_mine()
    tab = build_tables(mine, CFG)
    rng = np.random.default_rng(3)
    width = 256
    pt = np.zeros((1, width), dtype=np.int64)
    ps = np.zeros((1, width))
    pv = np.zeros((1, width))
    lw = np.full((1, width), -np.inf)
    n = 96
    ps[0, :n] = np.sort(rng.uniform(100, 300, n))  # a wide cloud: not tight, so 128 wanted
    w = rng.random(n)
    lw[0, :n] = np.log(w / w.sum())
    before = {float(s): float(np.exp(x)) for s, x in zip(ps[0, :n], lw[0, :n], strict=True)}
    spans = (np.zeros(12), np.zeros(12))
    spans[0][0], spans[1][0] = 100.0, 300.0
    rs = seed_state(rng)
    work = np.empty((4, width))
    got = _resize(tab, PRM, pt, ps, pv, lw, 0, n, 0, 1, spans[0], spans[1], rs, work, False)
    assert got == CFG.particles
    after: dict[float, float] = {}
    for s, x in zip(ps[0, :got], lw[0, :got], strict=True):
        after[float(s)] = after.get(float(s), 0.0) + float(np.exp(x))
    assert after.keys() == before.keys()
    assert max(abs(after[s] - before[s]) for s in before) < 1e-12
    # a zone-only tag grows to particles_zones, and shrinks back when it ranges again
    got = _resize(tab, PRM, pt, ps, pv, lw, 0, got, 0, 1, spans[0], spans[1], rs, work, True)
    assert got == CFG.particles_zones
    assert abs(np.exp(lw[0, :got]).sum() - 1.0) < 1e-9
    got = _resize(tab, PRM, pt, ps, pv, lw, 0, got, 0, 1, spans[0], spans[1], rs, work, False)
    assert got == CFG.particles
