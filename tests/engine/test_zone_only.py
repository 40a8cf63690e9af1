"""Tags heard by zone readers only: steady walkers, workers standing between readers, riders."""

from __future__ import annotations

import numpy as np
import pytest

from minepos.engine import Tracker, TrackerConfig
from minepos.measurement import Measurement

from .scenarios import Truth, covered, presence, reader_grid, straight_mine, track, walk


def _after_first(est: list[object], truth: Truth) -> slice:
    first = next(i for i, e in enumerate(est) if e is not None)
    return slice(first + 3, len(truth.ts))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_steady_walker_through_readers_and_a_crossroads(seed: int) -> None:
    # a brisk walker, readers 100 m apart: between them the interval must reach as far as
    # such a walker gets, on every way out of the crossroads
    mine = reader_grid()
    truth = walk(mine, [("d_w", 30, 400, 1.45), ("x_n", 0, 295, 1.45)])
    ms = presence(mine, truth, np.random.default_rng(seed), falloff=True)
    est = track(mine, ms, truth, seed=seed)
    keep = _after_first(est, truth)
    assert covered(est, truth)[keep].mean() >= 0.95
    widths = np.array([e.uncertainty_m for e in est[keep] if e is not None])
    assert np.median(widths) < 200.0


@pytest.mark.parametrize("seed", [1, 2])
def test_worker_standing_just_outside_a_reader_stays_covered(seed: int) -> None:
    # she walks past reader r200 (range 10 m), stops 12 m beyond it for six minutes, walks on
    mine = reader_grid()
    truth = walk(mine, [("d_w", 120, 212, 1.2), ("d_w", 360, 212, 0), ("d_w", 212, 290, 1.2)])
    ms = presence(mine, truth, np.random.default_rng(seed), falloff=True)
    est = track(mine, ms, truth, seed=seed)
    standing = slice(90, 90 + 360)
    assert covered(est, truth)[standing].mean() >= 0.95
    assert covered(est, truth)[_after_first(est, truth)].mean() >= 0.95


def test_rider_on_a_man_rider_is_followed_between_readers() -> None:
    # readers 200 m apart; she walks to the crossroads and boards the man-rider east (4 m/s)
    mine = reader_grid(spacing=200.0, transport=True)
    truth = walk(mine, [("d_w", 320, 400, 1.2), ("d_e", 0, 360, 4.0), ("d_e", 60, 360, 0)])
    ms = presence(mine, truth, np.random.default_rng(4), falloff=True)
    est = track(mine, ms, truth, seed=4)
    on_d_e = [i for i, t in enumerate(truth.tunnel) if t == "d_e"]
    assert covered(est, truth)[on_d_e].mean() >= 0.95


def test_riders_over_many_runs() -> None:
    # the run above is one draw: over twelve the man-rider stretch is covered 86 % of the time
    # (lowest 67 %), the rider outrunning the riding particles until the next reader hears him
    mine = reader_grid(spacing=200.0, transport=True)
    truth = walk(mine, [("d_w", 320, 400, 1.2), ("d_e", 0, 360, 4.0), ("d_e", 60, 360, 0)])
    on_d_e = [i for i, t in enumerate(truth.tunnel) if t == "d_e"]
    cov = []
    for seed in range(4, 16):
        ms = presence(mine, truth, np.random.default_rng(seed), falloff=True)
        cov.append(covered(track(mine, ms, truth, seed=seed), truth)[on_d_e].mean())
    assert np.mean(cov) >= 0.83
    assert min(cov) >= 0.6


def test_detection_far_from_the_cloud_brings_the_tag_to_the_reader() -> None:
    # issued at the lamp room, then heard by a reader 300 m away (a tag switched on late)
    mine = straight_mine(spacing=50.0, tech="rfid", reach=10.0)
    tracker = Tracker(mine, TrackerConfig(), rng=np.random.default_rng(5))
    tracker.add([Measurement(ts=1000.0, tag="t1", event="lamp_out")])
    tracker.step(1000.0)
    tracker.add([Measurement(ts=1000.5 + k, tag="t1", anchor="a6") for k in range(3)])
    for k in range(3):
        e = tracker.step(1001.0 + k)[0]
    assert e.tunnel == "d1"
    assert abs(e.offset_m - 300.0) < 12.0
    assert any(s.from_m <= 300.0 <= s.to_m for s in e.interval)


@pytest.mark.parametrize("seed", [6, 7])
def test_motionless_ble_tag_keeps_an_honest_interval(seed: int) -> None:
    # a man-down among BLE beacons 20 m apart: the shadowing of each beacon stays what it is
    # while he lies there, so ten minutes of readings must not shrink the interval onto its
    # bias (at 0.03 of a moving tag's weight a reading, seed 7 held the truth 61 % of the time)
    mine = straight_mine(length=300.0, spacing=20.0, tech="ble")
    truth = walk(mine, [("d1", 600, 150, 0)])
    rng = np.random.default_rng(seed)
    a_xyz = np.array([a.xyz for a in mine.anchors])
    bias = rng.normal(0.0, 6.0, len(a_xyz))  # dB, fixed while the tag lies still
    ms = [Measurement(ts=float(truth.ts[0]) - 0.5, tag="t1", motion=False)]
    for ts, p in zip(truth.ts, truth.xyz, strict=True):
        d = np.linalg.norm(a_xyz - p, axis=1)
        for k in np.argsort(d)[:4]:
            rssi = -59.0 - 20.0 * np.log10(max(d[k], 0.5)) + bias[k] + rng.normal(0.0, 2.0)
            ms.append(
                Measurement(
                    ts=float(ts), tag="t1", anchor=mine.anchors[k].id, rssi_dbm=round(rssi, 1)
                )
            )
    est = track(mine, ms, truth, seed=seed)
    assert covered(est, truth).mean() == 1.0
    assert np.median([e.uncertainty_m for e in est]) < 100.0
