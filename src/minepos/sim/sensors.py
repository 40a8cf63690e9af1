"""Sensor models: what UWB anchors, BLE readers and RFID readers report for tags at known places.

All three work on every transmitting tag of a tick at once. Error models and their fitted
parameters are documented in `minepos.sim.config` and docs/simulator.md.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from minepos.mine import Mine
from minepos.sim.batch import PRESENCE, RANGE, RSSI, MeasurementBatch
from minepos.sim.config import SensorConfig
from minepos.sim.radio import CELL_M, CORNER, JUNCTION, LOS, LinkTable, link_table

__all__ = ["SensorSuite"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


class SensorSuite:
    """The mine's anchors as radio receivers: link tables plus the error models."""

    def __init__(self, mine: Mine, cfg: SensorConfig, rng: np.random.Generator) -> None:
        self.mine, self.cfg = mine, cfg
        hw = cfg.tunnel_half_width_m
        uwb_reach = max(cfg.uwb.max_range_m, cfg.uwb.corner_range_m)
        self.uwb = link_table(mine, "uwb", dict.fromkeys(range(len(mine.anchors)), uwb_reach), hw)
        self.ble = link_table(
            mine, "ble", dict.fromkeys(range(len(mine.anchors)), cfg.ble.max_range_m), hw
        )
        self.rfid_range = np.array([a.range_m or cfg.rfid.default_range_m for a in mine.anchors])
        self.rfid = link_table(mine, "rfid", dict(enumerate(self.rfid_range.tolist())), hw)
        self.anchor_bias = rng.normal(0.0, cfg.uwb.anchor_bias_sigma_m, len(self.uwb.anchors))
        self.ble_shadow = _shadow_field(
            self.ble, cfg.ble.shadow_sigma_db, cfg.ble.shadow_decorrelation_m, rng
        )

    def observe(
        self,
        ts: FloatArray,
        person: IntArray,
        cells: IntArray,
        xyz: FloatArray,
        anchor_up: BoolArray,
        rng: np.random.Generator,
    ) -> list[MeasurementBatch]:
        """Everything the anchors hear from tags at ``xyz`` (rows: tags) in one tick."""
        return [
            self._uwb(ts, person, cells, xyz, anchor_up, rng),
            self._ble(ts, person, cells, xyz, anchor_up, rng),
            self._rfid(ts, person, cells, xyz, anchor_up, rng),
        ]

    def _uwb(
        self,
        ts: FloatArray,
        person: IntArray,
        cells: IntArray,
        xyz: FloatArray,
        anchor_up: BoolArray,
        rng: np.random.Generator,
    ) -> MeasurementBatch:
        m, tab = self.cfg.uwb, self.uwb
        rows, li = tab.links(cells)
        cls, path, a = tab.link_class[li], tab.path_m[li], tab.anchor[li]
        ok = (path <= m.max_range_m) & ((cls != CORNER) | (path <= m.corner_range_m))
        ok &= anchor_up[tab.anchors[a]]
        rows, cls, a = rows[ok], cls[ok], a[ok]
        d = np.linalg.norm(xyz[rows] - tab.anchor_xyz[a], axis=1)
        keep = _nearest_k(rows, d, m.max_anchors)
        keep &= rng.random(len(rows)) >= m.p_miss
        rows, cls, a, d = rows[keep], cls[keep], a[keep], d[keep]
        u = rng.random(len(rows))
        nlos = (
            (cls == CORNER)
            | ((cls == JUNCTION) & (u < m.p_nlos_junction))
            | ((cls == LOS) & (u < m.p_nlos))
        )
        n = len(rows)
        err = m.los_bias_m + m.los_bias_per_m * d + self.anchor_bias[a]
        los_noise = rng.normal(0.0, m.los_sigma_m, n)
        nlos_noise = (
            rng.normal(0.0, m.nlos_sigma_m, n)
            + m.nlos_bias_min_m
            + rng.exponential(m.nlos_bias_mean_m, n)
        )
        err = err + np.where(nlos, nlos_noise, los_noise)
        wild = rng.random(n) < m.p_outlier
        err = err + np.where(wild, rng.uniform(0.0, m.outlier_max_m, n), 0.0)
        return MeasurementBatch.make(
            ts[rows],
            RANGE,
            person[rows],
            anchor=tab.anchors[a],
            value=np.maximum(d + err, 0.0),
            true_m=d,
            nlos=nlos | wild,
            link_class=cls,
        )

    def _ble(
        self,
        ts: FloatArray,
        person: IntArray,
        cells: IntArray,
        xyz: FloatArray,
        anchor_up: BoolArray,
        rng: np.random.Generator,
    ) -> MeasurementBatch:
        m, tab = self.cfg.ble, self.ble
        rows, li = tab.links(cells)
        ok = (tab.path_m[li] <= m.max_range_m) & anchor_up[tab.anchors[tab.anchor[li]]]
        rows, li = rows[ok], li[ok]
        a, cls = tab.anchor[li], tab.link_class[li]
        d = np.linalg.norm(xyz[rows] - tab.anchor_xyz[a], axis=1)
        rssi = (
            m.rssi_1m_dbm
            - 10.0 * m.path_loss_exponent * np.log10(np.maximum(d, 1.0))
            - m.corner_loss_db * (cls == CORNER)
            + self.ble_shadow[li]
            + rng.normal(0.0, m.fast_sigma_db, len(rows))
        )
        keep = (rssi >= m.sensitivity_dbm) & (rng.random(len(rows)) >= m.p_miss)
        rows, a, cls = rows[keep], a[keep], cls[keep]
        return MeasurementBatch.make(
            ts[rows],
            RSSI,
            person[rows],
            anchor=tab.anchors[a],
            value=rssi[keep],
            true_m=d[keep],
            nlos=cls == CORNER,
            link_class=cls,
        )

    def _rfid(
        self,
        ts: FloatArray,
        person: IntArray,
        cells: IntArray,
        xyz: FloatArray,
        anchor_up: BoolArray,
        rng: np.random.Generator,
    ) -> MeasurementBatch:
        tab = self.rfid
        rows, li = tab.links(cells)
        mine_a = tab.anchors[tab.anchor[li]]
        d = np.linalg.norm(xyz[rows] - tab.anchor_xyz[tab.anchor[li]], axis=1)
        p = self.cfg.rfid.p_detect(d, self.rfid_range[mine_a])
        keep = (rng.random(len(rows)) < p) & anchor_up[mine_a]
        rows = rows[keep]
        return MeasurementBatch.make(
            ts[rows],
            PRESENCE,
            person[rows],
            anchor=mine_a[keep],
            true_m=d[keep],
            link_class=tab.link_class[li][keep],
        )


def _nearest_k(rows: IntArray, d: FloatArray, k: int) -> BoolArray:
    """Mask of the ``k`` nearest links of each row (only rows with more than ``k`` are sorted)."""
    keep = np.ones(len(rows), dtype=bool)
    if len(rows) == 0:
        return keep
    crowded = np.bincount(rows)[rows] > k
    sel = np.flatnonzero(crowded)
    if len(sel) == 0:
        return keep
    order = sel[np.lexsort((d[sel], rows[sel]))]
    sorted_rows = rows[order]
    first = np.r_[True, sorted_rows[1:] != sorted_rows[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    keep[order] = (np.arange(len(order)) - start) < k
    return keep


def _shadow_field(
    tab: LinkTable, sigma: float, corr_m: float, rng: np.random.Generator
) -> FloatArray:
    """Shadowing of every link: AR(1) along the cells of each anchor, std ``sigma``.

    Correlation between cells ``k`` apart is ``rho**k`` with ``rho = exp(-CELL_M / corr_m)``
    (Gudmundson's exponential model), so a standing tag keeps its shadowing.
    """
    n = len(tab.anchor)
    out = np.zeros(n)
    if n == 0 or sigma == 0:
        return out
    rho = float(np.exp(-CELL_M / corr_m))
    cell = np.repeat(np.arange(len(tab.ptr) - 1), np.diff(tab.ptr))
    order = np.lexsort((cell, tab.anchor))
    groups = np.split(order, np.flatnonzero(np.diff(tab.anchor[order])) + 1)
    for idx in groups:
        e = rng.normal(0.0, 1.0, len(idx))
        e[1:] *= np.sqrt(1.0 - rho * rho)
        out[idx] = sigma * lfilter([1.0], [1.0, -rho], e)
    return out
