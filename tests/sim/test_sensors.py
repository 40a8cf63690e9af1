"""Sensor models: the statistics of what they produce match their parameters."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from minepos.mine import Mine
from minepos.sim import BleModel, RfidModel, SensorConfig, Simulation, UwbModel
from minepos.sim.batch import PRESENCE, RANGE, RSSI, STATUS
from minepos.sim.plan import STILL
from minepos.sim.radio import CORNER, JUNCTION, LOS

from .conftest import Collected, collect, underground

CLEAN_UWB = UwbModel(p_nlos=0.2, p_outlier=0.0)


@pytest.fixture(scope="module")
def clean_run(demo_mine: Mine) -> Collected:
    """No wild outliers, 20 % random NLOS: the models' parts can be told apart."""
    cfg = underground(sensors=SensorConfig(uwb=CLEAN_UWB), minutes=5.0)
    return collect(Simulation(demo_mine, cfg, seed=5))


def _ranges(run: Collected) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    m = run.m.select(run.m.kind == RANGE)
    return m.value - m.true_m, m.link_class, m.nlos, m.true_m


def test_los_range_error_has_the_configured_mean_and_spread(clean_run: Collected) -> None:
    err, cls, nlos, _ = _ranges(clean_run)
    los = err[(cls == LOS) & ~nlos]
    assert len(los) > 50_000
    assert abs(los.mean()) < 0.002
    assert los.std() == pytest.approx(CLEAN_UWB.los_sigma_m, rel=0.03)


def test_nlos_share_follows_the_link_class(clean_run: Collected) -> None:
    _, cls, nlos, _ = _ranges(clean_run)
    assert nlos[cls == LOS].mean() == pytest.approx(CLEAN_UWB.p_nlos, abs=0.01)
    junction = nlos[cls == JUNCTION]
    assert len(junction) > 200
    sd = np.sqrt(CLEAN_UWB.p_nlos_junction * (1 - CLEAN_UWB.p_nlos_junction) / len(junction))
    assert junction.mean() == pytest.approx(CLEAN_UWB.p_nlos_junction, abs=4 * sd)
    assert nlos[cls == CORNER].all()


def test_nlos_bias_is_positive_gaussian_plus_exponential(clean_run: Collected) -> None:
    err, _, nlos, _ = _ranges(clean_run)
    e = err[nlos]
    m = CLEAN_UWB
    assert e.mean() == pytest.approx(m.nlos_bias_mean_m + m.nlos_bias_min_m, rel=0.04)
    assert e.std() == pytest.approx(np.hypot(m.nlos_sigma_m, m.nlos_bias_mean_m), rel=0.05)
    # exponential tail: P(e > mean + 2 * scale) ~ exp(-3) for the exponential part
    assert np.mean(e > 3 * m.nlos_bias_mean_m) == pytest.approx(np.exp(-3), abs=0.01)


def test_uncalibrated_bias_grows_with_distance(demo_mine: Mine) -> None:
    uwb = UwbModel.uncalibrated(p_nlos=0.0, p_nlos_junction=0.0, p_outlier=0.0)
    run = collect(Simulation(demo_mine, underground(sensors=SensorConfig(uwb=uwb)), seed=2))
    err, cls, _, d = _ranges(run)
    sel = cls == LOS
    b, a = np.polyfit(d[sel], err[sel], 1)
    assert b == pytest.approx(uwb.los_bias_per_m, abs=0.0005)
    assert a == pytest.approx(uwb.los_bias_m, abs=0.01)


def test_ranges_respect_range_limits_and_anchor_count(busy_run: Collected) -> None:
    m = busy_run.m.select(busy_run.m.kind == RANGE)
    uwb = UwbModel()
    assert m.true_m.max() <= uwb.max_range_m + 2.0
    corner = m.true_m[m.link_class == CORNER]
    assert corner.size == 0 or corner.max() <= uwb.corner_range_m + 2.0
    keys = m.person.astype(np.int64) * 10**7 + np.round((m.ts % 1e4) * 1e3).astype(np.int64)
    _, per_cycle = np.unique(keys, return_counts=True)
    assert per_cycle.max() <= uwb.max_anchors
    assert (m.value >= 0).all()


def test_dropouts_remove_the_configured_share(demo_mine: Mine) -> None:
    counts = []
    for p_miss in (0.0, 0.4):
        uwb = UwbModel(p_miss=p_miss)
        run = collect(Simulation(demo_mine, underground(sensors=SensorConfig(uwb=uwb)), seed=3))
        counts.append(int((run.m.kind == RANGE).sum()))
    assert counts[1] / counts[0] == pytest.approx(0.6, abs=0.01)


def test_a_range_is_the_truth_distance_plus_the_modelled_error(busy_run: Collected) -> None:
    sim, truth = busy_run.sim, busy_run.truth
    m = busy_run.m.select(busy_run.m.kind == RANGE)
    where = {
        (p, t): k
        for k, (p, t) in enumerate(zip(truth.person.tolist(), truth.ts.tolist(), strict=True))
    }
    rows = np.array([where[(p, t)] for p, t in zip(m.person.tolist(), m.ts.tolist(), strict=True)])
    anchor_xyz = np.array([a.xyz for a in sim.mine.anchors])[m.anchor]
    d = np.linalg.norm(truth.xyz[rows] - anchor_xyz, axis=1)
    np.testing.assert_allclose(m.true_m, d, atol=1e-9)
    k = len(truth.ts) // 2
    tunnel, offset, xyz = sim.truth_at(int(truth.person[k]), float(truth.ts[k]))
    assert tunnel == sim.mine.tunnels[truth.tunnel[k]].id
    assert offset == pytest.approx(truth.offset[k])
    np.testing.assert_allclose(xyz, truth.xyz[k], atol=1e-9)
    los = ~m.nlos
    assert np.abs(m.value[los] - d[los]).max() < 6 * UwbModel().los_sigma_m


def test_ble_rssi_follows_log_distance_path_loss(demo_mine: Mine) -> None:
    ble = BleModel(shadow_sigma_db=0.0, p_miss=0.0)
    cfg = underground(people=300, sensors=SensorConfig(ble=ble))
    run = collect(Simulation(demo_mine, cfg, seed=4))
    m = run.m.select((run.m.kind == RSSI) & (run.m.link_class != CORNER) & (run.m.true_m < 25))
    assert len(m) > 3000
    x = -10 * np.log10(np.maximum(m.true_m, 1.0))
    n, p0 = np.polyfit(x, m.value, 1)
    assert n == pytest.approx(ble.path_loss_exponent, abs=0.1)
    assert p0 == pytest.approx(ble.rssi_1m_dbm, abs=1.0)
    assert (m.value - (p0 + n * x)).std() == pytest.approx(ble.fast_sigma_db, rel=0.05)
    assert run.m.value[run.m.kind == RSSI].min() >= ble.sensitivity_dbm


def test_ble_shadowing_field_has_its_spread_and_correlation(busy_run: Collected) -> None:
    sensors = busy_run.sim.sensors
    ble = BleModel()
    tab = sensors.ble
    shadow = sensors.ble_shadow
    assert shadow.std() == pytest.approx(ble.shadow_sigma_db, rel=0.08)
    cell = np.repeat(np.arange(len(tab.ptr) - 1), np.diff(tab.ptr))
    order = np.lexsort((cell, tab.anchor))
    nxt = (np.diff(cell[order]) == 1) & (np.diff(tab.anchor[order]) == 0)
    a, b = shadow[order][:-1][nxt], shadow[order][1:][nxt]
    rho = np.exp(-2.0 / ble.shadow_decorrelation_m)
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(rho, abs=0.06)


def test_rfid_detection_falls_with_distance_and_stops_at_the_range(demo_mine: Mine) -> None:
    rfid = RfidModel()
    run = collect(Simulation(demo_mine, underground(shift_offset_s=0.0, minutes=12.0), seed=6))
    lamp = demo_mine.anchor_index["r_lamp_room"]
    truth = run.truth
    d = np.linalg.norm(truth.xyz - np.array(demo_mine.anchors[lamp].xyz), axis=1)
    m = run.m.select((run.m.kind == PRESENCE) & (run.m.anchor == lamp))
    assert m.true_m.max() <= 10.0
    near = d < 5.0
    heard = {(p, t) for p, t in zip(m.person.tolist(), m.ts.tolist(), strict=True)}
    near_heard = [
        (p, t) in heard
        for p, t in zip(truth.person[near].tolist(), truth.ts[near].tolist(), strict=True)
    ]
    assert len(near_heard) > 100
    expected = rfid.p_detect(d[near], 10.0).mean()
    sd = np.sqrt(expected * (1 - expected) / len(near_heard))
    assert np.mean(near_heard) == pytest.approx(expected, abs=max(4 * sd, 0.01))
    p = rfid.p_detect(np.array([0.0, 7.5, 9.9, 10.1]), 10.0)
    assert p[0] > p[1] > p[2] > p[3] == 0.0
    assert p[1] == pytest.approx(rfid.p_detect_near / 2)


def test_status_reports_carry_the_true_motion_flag_and_a_draining_battery(
    busy_run: Collected,
) -> None:
    m = busy_run.m.select(busy_run.m.kind == STATUS)
    truth = busy_run.truth
    mode = {
        (p, t): k
        for p, t, k in zip(
            truth.person.tolist(), truth.ts.tolist(), truth.mode.tolist(), strict=True
        )
    }
    flags = [mode[(p, t)] != STILL for p, t in zip(m.person.tolist(), m.ts.tolist(), strict=True)]
    np.testing.assert_array_equal(m.motion, flags)
    per_tag = np.bincount(m.person)
    people = np.unique(truth.person)
    assert np.median(per_tag[people]) >= 30  # every 10 s for 5 minutes, plus changes
    first, last = {}, {}
    for p, b in zip(m.person.tolist(), m.battery.tolist(), strict=True):
        first.setdefault(p, b)
        last[p] = b
    assert all(last[p] <= first[p] for p in first)


def test_sensor_parameters_are_checked() -> None:
    from minepos.errors import InputError

    with pytest.raises(InputError, match=r"uwb\.p_nlos"):
        UwbModel(p_nlos=1.5)
    with pytest.raises(InputError, match=r"ble\.path_loss_exponent"):
        BleModel(path_loss_exponent=0)
    with pytest.raises(InputError, match="max_anchors"):
        replace(UwbModel(), max_anchors=0)
