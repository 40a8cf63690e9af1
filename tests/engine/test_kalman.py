"""The Kalman fast path: who it follows, when it hands a tag back, and that nothing is lost."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from minepos.engine import Tracker, TrackerConfig
from minepos.measurement import Measurement
from minepos.mine import Mine

from .scenarios import Truth, covered, errors, junction_mine, ranges, straight_mine, walk

WARMUP = 5


@pytest.fixture(scope="module")
def drift() -> Mine:
    return straight_mine()


def _run(
    mine: Mine, ms: list[Measurement], truth: Truth, **config: Any
) -> tuple[Tracker, list[Any], np.ndarray]:
    """Tick by tick: the tracker, tag t1's estimates, and whether the filter followed it."""
    tracker = Tracker(mine, TrackerConfig(**config), rng=np.random.default_rng(5))
    tracker.add(ms)
    est, kalman = [], []
    for ts in truth.ts:
        est.append({e.tag: e for e in tracker.step(float(ts))}.get("t1"))
        kalman.append(tracker.kalman_share == 1.0)
    return tracker, est, np.array(kalman)


def test_steady_walker_is_followed_by_the_filter(drift: Mine) -> None:
    truth = walk(drift, [("d1", 30, 560, 1.2)])
    ms = ranges(drift, truth, np.random.default_rng(1), nlos=0.2)
    _, est, kalman = _run(drift, ms, truth)
    assert kalman[WARMUP:].mean() > 0.8
    err = errors(drift, est, truth)[WARMUP:]
    assert np.percentile(err, 95) < 0.3
    assert covered(est, truth)[WARMUP:].mean() >= 0.9
    # the same walk on particles alone is not better
    _, est_pf, kalman_pf = _run(drift, ms, truth, kalman=False)
    assert not kalman_pf.any()
    err_pf = errors(drift, est_pf, truth)[WARMUP:]
    assert np.sqrt(np.mean(err**2)) <= 1.2 * np.sqrt(np.mean(err_pf**2))


def test_a_sudden_stop_and_turn_hand_the_tag_back_and_are_followed(drift: Mine) -> None:
    truth = walk(drift, [("d1", 100, 300, 1.4), ("d1", 40, 300, 0), ("d1", 300, 180, 1.4)])
    ms = ranges(drift, truth, np.random.default_rng(2), nlos=0.1)
    tracker, est, kalman = _run(drift, ms, truth)
    exits = tracker.kalman_exits
    assert exits["range too short"] + exits["no line-of-sight range"] >= 2  # stop, turn
    err = errors(drift, est, truth)
    stop = int(np.argmax(truth.offset >= 300))
    turn = stop + 40
    # the estimate keeps up within a few seconds of each change, and is back in the filter
    for change in (stop, turn):
        assert err[change + 4 : change + 30].max() < 0.5
        assert kalman[change + 10 : change + 30].any()
    assert covered(est, truth)[WARMUP:].mean() >= 0.9


def test_the_filter_hands_over_before_a_junction() -> None:
    mine = junction_mine()
    truth = walk(mine, [("d_w", 150, 300, 1.3), ("xc", 0, 150, 1.3)])
    tracker, est, kalman = _run(mine, ranges(mine, truth, np.random.default_rng(4)), truth)
    at_junction = [i for i, o in enumerate(truth.offset) if truth.tunnel[i] == "d_w" and o > 297]
    assert not kalman[at_junction].any()
    assert tracker.kalman_exits["near a tunnel end or reader"] >= 1
    far = [i for i, t in enumerate(truth.tunnel) if t == "xc" and truth.offset[i] > 30]
    assert all(est[i].tunnel == "xc" for i in far)
    assert kalman[far].mean() > 0.5


def test_one_wild_range_does_not_move_the_filter(drift: Mine) -> None:
    truth = walk(drift, [("d1", 60, 90, 0), ("d1", 30, 210, 0)])  # stands at 210 m
    ms = ranges(drift, truth, np.random.default_rng(6), miss=0.0)
    k = len(truth.ts) - 10
    bumped = [
        Measurement(m.ts, m.tag, m.anchor, range_m=m.range_m + 6.0)
        if m.ts == truth.ts[k] and m.anchor == "a4"  # the anchor at 240 m
        else m
        for m in ms
    ]
    _, est, kalman = _run(drift, bumped, truth)
    assert kalman[k - 5 : k + 5].all()
    assert abs(est[k].offset_m - 210.0) < 0.1


def test_a_tag_heard_by_a_reader_goes_back_to_particles(drift: Mine) -> None:
    truth = walk(drift, [("d1", 30, 300, 1.2)])
    ms = ranges(drift, truth, np.random.default_rng(7))
    ms.append(Measurement(float(truth.ts[150]), "t1", "a5", rssi_dbm=-70.0))
    tracker, est, kalman = _run(drift, ms, truth)
    assert kalman[140:150].all()
    assert not kalman[150]
    assert tracker.kalman_exits["RSSI or presence"] == 1
    assert errors(drift, est, truth)[150:160].max() < 0.5


def _fixes(truth: Truth, rng: np.random.Generator, sigma: float = 0.3) -> list[Measurement]:
    """A gateway's position fixes of tag t1, 0.5 m below the axis, once a second."""
    return [
        Measurement(
            float(ts),
            "t1",
            xyz=(
                float(p[0] + sigma * rng.standard_normal()),
                float(p[1] + sigma * rng.standard_normal()),
                float(p[2] - 0.5 + sigma * rng.standard_normal()),
            ),
        )
        for ts, p in zip(truth.ts, truth.xyz, strict=True)
    ]


def test_position_fixes_are_followed_and_a_far_one_hands_back(drift: Mine) -> None:
    truth = walk(drift, [("d1", 50, 400, 1.2)])
    ms = _fixes(truth, np.random.default_rng(8))
    k = 200
    x, y, z = ms[k].xyz or (0.0, 0.0, 0.0)
    ms[k] = Measurement(ms[k].ts, "t1", xyz=(x, y + 40.0, z))  # 40 m off the drift
    tracker, est, kalman = _run(drift, ms, truth)
    assert kalman[20:k].mean() > 0.9
    assert not kalman[k]
    assert tracker.kalman_exits["position fix off its place"] == 1
    err = errors(drift, est, truth)[20:]
    assert np.percentile(err, 95) < 1.5
    assert covered(est, truth)[20:].mean() >= 0.9


def test_mirror_image_across_an_anchor_keeps_the_range_on_a_bent_tunnel() -> None:
    from minepos.engine.kalman import range_geometry
    from minepos.engine.kernel import _mirror
    from minepos.engine.rng import seed_state
    from minepos.engine.tables import build_tables
    from minepos.mine import mine_from_dict

    # a drift that bends by 17 degrees at 200 m; the anchor stands at 150 m
    mine = mine_from_dict(
        {
            "mine": {"id": "t", "name": "test", "timezone": "UTC"},
            "levels": [{"id": "l0", "name": "L0", "z": 0}],
            "nodes": [{"id": "w", "xyz": [0, 0, 0]}, {"id": "e", "xyz": [391.3, 58.5, 0]}],
            "tunnels": [{"id": "d", "from": "w", "to": "e", "kind": "drift", "via": [[200, 0, 0]]}],
            "anchors": [{"id": "a", "tech": "uwb", "at": {"xyz": [150.0, 1.5, 2.0]}}],
        }
    )
    config = TrackerConfig(mirror_share=1.0)
    tab = build_tables(mine, config)
    prm = config.params()
    s = np.tile([250.0, 300.0, 120.0, 60.0], 10)[None, :]
    before = s.copy()
    pt = np.zeros_like(s, dtype=np.int64)
    want = [range_geometry(tab, prm, 0, float(x), 0)[0] for x in s[0]]
    _mirror(tab, prm, pt, s, np.ones_like(s), 0, 0, seed_state(np.random.default_rng(1)))
    got = [range_geometry(tab, prm, 0, float(x), 0)[0] for x in s[0]]
    assert np.allclose(got, want, atol=0.01)
    assert ((s[0] < 150.0) != (before[0] < 150.0)).all()  # every one to the other side


def test_mirror_moves_reach_the_other_branches_of_a_junction_beside_the_anchor() -> None:
    from minepos.engine.kalman import range_geometry
    from minepos.engine.kernel import _mirror
    from minepos.engine.rng import seed_state
    from minepos.engine.tables import build_tables

    mine = junction_mine()  # T junction at 300 m with an anchor at the node (m300)
    config = TrackerConfig(mirror_share=1.0)
    tab = build_tables(mine, config)
    prm = config.params()
    a = mine.anchor_index["m300"]
    d_w = mine.tunnel_index["d_w"]
    s = np.full((1, 60), 280.0)
    pt = np.full_like(s, d_w, dtype=np.int64)
    want = range_geometry(tab, prm, d_w, 280.0, a)[0]
    _mirror(tab, prm, pt, s, np.ones_like(s), 0, a, seed_state(np.random.default_rng(2)))
    reached = [mine.tunnels[int(t)].id for t in pt[0]]
    assert set(reached) == {"d_w", "d_e", "xc"}  # d_w: across the node, 20 m the other way
    assert reached.count("d_w") < 30
    got = [
        range_geometry(tab, prm, int(t), float(x), a)[0] for t, x in zip(pt[0], s[0], strict=True)
    ]
    assert np.allclose(got, want, atol=0.01)
