"""Accuracy and behaviour of the tracker on small deterministic scenarios."""

from __future__ import annotations

import numpy as np
import pytest

from minepos.engine import Estimate, Tracker, TrackerConfig
from minepos.measurement import Measurement

from .scenarios import (
    covered,
    errors,
    junction_mine,
    presence,
    ranges,
    shaft_mine,
    straight_mine,
    track,
    walk,
)

WARMUP = 5  # ticks: a tag first heard by one anchor is ambiguous for a moment


@pytest.fixture(scope="module")
def drift():  # type: ignore[no-untyped-def]
    return straight_mine()


def test_walker_in_line_of_sight_is_located_to_centimetres(drift) -> None:  # type: ignore[no-untyped-def]
    truth = walk(drift, [("d1", 30, 570, 1.3)])
    est = track(drift, ranges(drift, truth, np.random.default_rng(1)), truth)
    err = errors(drift, est, truth)[WARMUP:]
    assert np.percentile(err, 95) < 0.3
    assert np.sqrt(np.mean(err**2)) < 0.2
    assert all(e.tunnel == "d1" for e in est)
    assert 0.85 <= covered(est, truth)[WARMUP:].mean() <= 1.0


@pytest.mark.parametrize("nlos", [0.2, 0.3], ids=["nlos20", "nlos30"])
def test_nlos_ranges_do_not_pull_the_estimate(drift, nlos: float) -> None:  # type: ignore[no-untyped-def]
    truth = walk(drift, [("d1", 30, 570, 1.3)])
    ms = ranges(drift, truth, np.random.default_rng(2), nlos=nlos, miss=0.2)
    err = errors(drift, track(drift, ms, truth), truth)[WARMUP:]
    assert np.percentile(err, 95) < 0.8
    assert err.max() < 2.5


def test_gross_outliers_are_ignored(drift) -> None:  # type: ignore[no-untyped-def]
    truth = walk(drift, [("d1", 30, 400, 1.3)])
    rng = np.random.default_rng(3)
    clean = ranges(drift, truth, rng)
    wild = [
        Measurement(m.ts, m.tag, m.anchor, range_m=m.range_m + 25.0) if rng.random() < 0.1 else m
        for m in clean
    ]
    err = errors(drift, track(drift, wild, truth), truth)[WARMUP:]
    assert np.percentile(err, 95) < 0.5


def test_junction_choice_follows_the_crosscut() -> None:
    mine = junction_mine()
    truth = walk(mine, [("d_w", 200, 300, 1.3), ("xc", 0, 150, 1.3)])
    est = track(mine, ranges(mine, truth, np.random.default_rng(4), nlos=0.1), truth)
    on_xc = [
        i
        for i, (t, o) in enumerate(zip(truth.tunnel, truth.offset, strict=True))
        if t == "xc" and o > 4.0
    ]
    assert on_xc
    assert np.mean([est[i].tunnel == "xc" for i in on_xc]) >= 0.95
    assert np.percentile(errors(mine, est, truth)[WARMUP:], 95) < 0.8


def test_junction_choice_straight_on() -> None:
    mine = junction_mine()
    truth = walk(mine, [("d_w", 200, 300, 1.3), ("d_e", 0, 150, 1.3)])
    est = track(mine, ranges(mine, truth, np.random.default_rng(5), nlos=0.1), truth)
    later = [
        i
        for i, (t, o) in enumerate(zip(truth.tunnel, truth.offset, strict=True))
        if t == "d_e" and o > 4.0
    ]
    assert np.mean([est[i].tunnel == "d_e" for i in later]) >= 0.95


def test_cage_in_the_shaft_is_followed() -> None:
    mine = shaft_mine()
    truth = walk(mine, [("shaft", 10, 0, 0), ("shaft", 0, 296, 8.0), ("drift", 0, 150, 1.3)])
    est = track(mine, ranges(mine, truth, np.random.default_rng(6), nlos=0.1), truth)
    err = errors(mine, est, truth)[WARMUP:]
    assert np.percentile(err, 95) < 2.0
    assert np.mean([e.tunnel == t for e, t in zip(est, truth.tunnel, strict=True)][WARMUP:]) > 0.95


def test_zone_only_interval_holds_the_truth() -> None:
    mine = straight_mine(spacing=50.0, tech="rfid", reach=10.0)
    truth = walk(mine, [("d1", 25, 400, 1.2), ("d1", 60, 400, 0), ("d1", 400, 200, 1.2)])
    ms = presence(mine, truth, np.random.default_rng(7))
    est = track(mine, ms, truth)
    first = next(i for i, e in enumerate(est) if e is not None)
    assert covered(est, truth)[first + 3 :].mean() >= 0.9
    widths = np.array([e.uncertainty_m for e in est[first + 3 :]])
    assert np.median(widths) < 60.0  # no kilometre-wide intervals: readers are 50 m apart


def test_silent_anchor_is_survived(drift) -> None:  # type: ignore[no-untyped-def]
    truth = walk(drift, [("d1", 30, 500, 1.3)])
    ms = [m for m in ranges(drift, truth, np.random.default_rng(8)) if m.anchor != "a4"]
    err = errors(drift, track(drift, ms, truth), truth)[WARMUP:]
    assert np.percentile(err, 95) < 0.5


def test_still_tag_gets_a_tight_interval(drift) -> None:  # type: ignore[no-untyped-def]
    truth = walk(drift, [("d1", 60, 250, 0)])
    ms = ranges(drift, truth, np.random.default_rng(9))
    ms.append(Measurement(ts=float(truth.ts[0]), tag="t1", motion=False))
    est = track(drift, ms, truth)
    assert np.median([e.uncertainty_m for e in est[10:]]) < 0.3
    assert np.percentile(errors(drift, est, truth)[10:], 95) < 0.15


def test_position_fixes_are_used(drift) -> None:  # type: ignore[no-untyped-def]
    truth = walk(drift, [("d1", 30, 300, 1.3)])
    rng = np.random.default_rng(10)
    ms = [
        Measurement(ts=float(t), tag="t1", xyz=tuple((p + rng.normal(0, 0.5, 3)).tolist()))
        for t, p in zip(truth.ts, truth.xyz, strict=True)
    ]
    err = errors(drift, track(drift, ms, truth), truth)[WARMUP:]
    assert np.percentile(err, 95) < 1.0


def test_same_seed_replays_exactly(drift) -> None:  # type: ignore[no-untyped-def]
    truth = walk(drift, [("d1", 30, 200, 1.3)])
    ms = ranges(drift, truth, np.random.default_rng(11), nlos=0.2)
    a = track(drift, ms, truth, seed=5)
    b = track(drift, ms, truth, seed=5)
    c = track(drift, ms, truth, seed=6)
    assert a == b
    assert [e.offset_m for e in a] != [e.offset_m for e in c]


def test_estimates_follow_the_contract(drift) -> None:  # type: ignore[no-untyped-def]
    truth = walk(drift, [("d1", 30, 120, 1.3)])
    est: list[Estimate] = track(drift, ranges(drift, truth, np.random.default_rng(12)), truth)
    for e, ts in zip(est, truth.ts, strict=True):
        assert e.ts == ts
        assert e.last_seen <= e.ts
        assert e.interval
        assert all(0.0 <= s.from_m <= s.to_m <= 600.0 for s in e.interval)
        assert e.uncertainty_m == pytest.approx(sum(s.length_m for s in e.interval))
        assert len(e.xyz) == 3
        assert e.speed_mps >= 0.0


def test_lamp_events_start_and_end_a_track(drift) -> None:  # type: ignore[no-untyped-def]
    tracker = Tracker(drift, TrackerConfig(), rng=np.random.default_rng(0))
    tracker.add([Measurement(ts=10.0, tag="t9", event="lamp_out")])
    (e,) = tracker.step(10.0)
    assert e.tag == "t9"
    assert all(s.to_m <= 25.0 for s in e.interval)  # in the lamp room (0-20 m)
    tracker.add([Measurement(ts=11.5, tag="t9", event="lamp_in")])
    assert tracker.step(12.0) == []
    assert tracker.tags == []


def test_unknown_anchor_is_skipped_and_future_measurements_wait(drift) -> None:  # type: ignore[no-untyped-def]
    tracker = Tracker(drift, rng=np.random.default_rng(0))
    tracker.add(
        [
            Measurement(ts=1.0, tag="t1", anchor="nope", range_m=3.0),
            Measurement(ts=5.0, tag="t2", anchor="a1", range_m=3.0),
        ]
    )
    assert tracker.step(2.0) == []
    assert tracker.skipped["unknown anchor"] == 1
    (e,) = tracker.step(5.0)
    assert e.tag == "t2"
    assert tracker.estimate("t2") == e


def test_silent_tag_keeps_its_last_seen_and_widens(drift) -> None:  # type: ignore[no-untyped-def]
    truth = walk(drift, [("d1", 100, 200, 1.3)])
    tracker = Tracker(drift, rng=np.random.default_rng(0))
    tracker.add(ranges(drift, truth, np.random.default_rng(13)))
    for ts in truth.ts:
        tracker.step(float(ts))
    last = float(truth.ts[-1])
    before = tracker.estimate("t1")
    assert before is not None
    after = tracker.step(last + 30.0)[0]
    assert after.last_seen == pytest.approx(last)
    assert after.uncertainty_m > before.uncertainty_m


def test_a_range_does_not_come_through_the_rock_from_another_level() -> None:
    # two drifts 40 m apart vertically, joined only by a shaft 300 m away; UWB anchors on the
    # upper drift only. A tag at 20 m on the upper drift hears the anchor at 100 m: places on
    # the lower drift 80 m from that anchor through the rock fit its range just as well.
    from .scenarios import _mine

    anchors = [
        {"id": f"u{x}", "tech": "uwb", "at": {"xyz": [float(x), 1.5, 2.0]}} for x in (100, 200)
    ]
    mine = _mine(
        [("w", (0, 0, 0)), ("e", (300, 0, 0)), ("lw", (0, 0, -40)), ("le", (300, 0, -40))],
        [("up", "w", "e", "drift"), ("low", "lw", "le", "drift"), ("sh", "le", "e", "shaft")],
        anchors,
    )
    truth = walk(mine, [("up", 60, 20, 0)])
    ms = ranges(mine, truth, np.random.default_rng(9), miss=0.0, reach=90.0)
    assert {m.anchor for m in ms} == {"u100"}
    for seed in range(4):
        est = track(mine, ms, truth, seed=seed)
        assert all(e.tunnel == "up" for e in est[3:])
        assert all(s.tunnel == "up" for e in est[3:] for s in e.interval)


def test_engine_settings_are_applied_and_checked() -> None:
    from minepos.errors import InputError

    cfg = TrackerConfig().with_settings(["switch_s=30", "particles=64", "kalman=false"])
    assert (cfg.switch_s, cfg.particles, cfg.kalman) == (30.0, 64, False)
    assert TrackerConfig().with_settings([]) == TrackerConfig()
    for bad in ("nope=1", "particles=2.5", "pos_diffusion=inf", "=3"):
        with pytest.raises(InputError, match="engine setting"):
            TrackerConfig().with_settings([bad])
    # values the kernel cannot work with (it divides by durations, shares are shares)
    for bad, why in (
        ("switch_s=0", "must be > 0"),
        ("range_sigma=-0.1", "must be > 0"),
        ("rssi_weight=0", "must be > 0"),
        ("interval_mass=1.5", "between 0 and 1"),
        ("reader_inject=1", "below 1"),
    ):
        with pytest.raises(InputError, match=why):
            TrackerConfig().with_settings([bad])
    assert TrackerConfig().with_settings(["rssi_at_1m=-47.4"]).rssi_at_1m == -47.4
