"""Fit the simulator's UWB and BLE error models on the real measurements in /work/shared/data.

Prints the fitted numbers; the defaults in `minepos.sim.config` carry them (docs/simulator.md).

    python bench/calibrate_sensors.py [--data /work/shared/data]

UWB line of sight (Hanyang outdoor DWM1001, 2-60 m): bias(d) = a + b*d by least squares over
LOS rows; the random error is the pooled std within each (height, distance) group.
UWB NLOS (Kolakowski EVK1000 flat, LOS/NLOS/NDP labels): the excess of NDP NLOS ranges over the
LOS mean error of the same set; per-geometry mean excess -> exponential mean (MLE); pooled
within-geometry std -> the NLOS spread.
BLE (Kolakowski, robot standing at 4,104 points, 6 readers): RSSI = P0 - 10 n log10(d) by least
squares; shadowing = std of per-point mean residuals; fast fading = pooled within-point std;
decorrelation distance = the distance where the residual correlation of point pairs falls to 1/e.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
from collections import defaultdict
from pathlib import Path

import numpy as np


def _rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
        return list(csv.DictReader(f))


def _pooled_std(groups: dict[object, list[float]]) -> float:
    ss, dof = 0.0, 0
    for vals in groups.values():
        v = np.asarray(vals)
        if len(v) > 1:
            ss += float(((v - v.mean()) ** 2).sum())
            dof += len(v) - 1
    return float(np.sqrt(ss / max(dof, 1)))


def fit_uwb_los(data: Path) -> dict[str, float]:
    """Distance-dependent bias and random error of LOS ranges (Hanyang)."""
    d, err = [], []
    groups: dict[object, list[float]] = defaultdict(list)
    for r in _rows(data / "uwb-outdoor-los-nlos-hanyang" / "static_ranging.csv.gz"):
        if r["condition"] != "LOS":
            continue
        try:
            dist, true = float(r["Distance"]), float(r["true_distance_m"])
        except ValueError:
            continue
        d.append(true)
        err.append(dist - true)
        groups[(r["anchor_height_cm"], r["horizontal_distance_m"])].append(dist - true)
    dd, ee = np.asarray(d), np.asarray(err)
    b, a = np.polyfit(dd, ee, 1)
    resid = ee - (a + b * dd)
    return {
        "samples": float(len(ee)),
        "los_bias_m (a)": float(a),
        "los_bias_per_m (b)": float(b),
        "raw_mean_error_m": float(ee.mean()),
        "raw_std_m": float(ee.std()),
        "std_after_trend_m": float(resid.std()),
        "los_sigma_m (pooled within group)": _pooled_std(groups),
    }


def fit_uwb_nlos(data: Path) -> dict[str, float]:
    """Excess bias of no-direct-path NLOS ranges over LOS ranges (Kolakowski)."""
    by_label: dict[str, list[float]] = defaultdict(list)
    geom: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in _rows(data / "uwb-ranging-apartment-kolakowski" / "ranging.csv"):
        e = float(r["dist_m"]) - float(r["true_distance_2d_m"])
        by_label[r["label"]].append(e)
        geom[r["label"]][r["file_id"]].append(e)
    los_mean = float(np.mean(by_label["LOS"]))
    out: dict[str, float] = {
        "los_mean_error_m": los_mean,
        "los_sigma_within_geometry_m": _pooled_std(geom["LOS"]),
    }  # type: ignore[arg-type]
    for label in ("NLOS", "NDP NLOS"):
        excess = np.asarray(by_label[label]) - los_mean
        per_geom = np.array([np.mean(v) - los_mean for v in geom[label].values()])
        key = label.replace(" ", "_").lower()
        out[f"{key}_excess_mean_m"] = float(excess.mean())
        out[f"{key}_excess_median_m"] = float(np.median(excess))
        out[f"{key}_excess_p95_m"] = float(np.percentile(excess, 95))
        out[f"{key}_exp_mean_m (per-geometry excess, >= 0)"] = float(
            np.clip(per_geom, 0, None).mean()
        )
        out[f"{key}_sigma_within_geometry_m"] = _pooled_std(geom[label])  # type: ignore[arg-type]
    return out


def _ble_points(data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibration rows grouped into standing points: xy (P,2), rssi (N,6), point id (N,)."""
    rows = _rows(data / "ble-rss-apartment-kolakowski" / "calibration_fingerprints.csv")
    xy = np.array([[float(r["x"]), float(r["y"])] for r in rows])
    rssi = np.array(
        [[float(r[f"rssi_{k}"]) if r[f"rssi_{k}"] else np.nan for k in range(1, 7)] for r in rows]
    )
    new = np.r_[True, np.linalg.norm(np.diff(xy, axis=0), axis=1) > 0.05]
    point = np.cumsum(new) - 1
    centres = np.array([xy[point == p].mean(axis=0) for p in range(point.max() + 1)])
    return centres, rssi, point


def fit_ble(data: Path) -> dict[str, float]:
    """Log-distance path loss, shadowing and fast fading of BLE RSSI (Kolakowski)."""
    anchors = np.array(
        [
            [float(r["x"]), float(r["y"]), float(r["z"])]
            for r in _rows(data / "ble-rss-apartment-kolakowski" / "anchors.csv")
        ]
    )
    centres, rssi, point = _ble_points(data)
    tag = np.c_[centres, np.full(len(centres), 1.3)]  # tag carried at 1.3 m (README)
    dist = np.linalg.norm(tag[:, None, :] - anchors[None, :, :], axis=2)  # (P, 6)
    d_rows = dist[point]
    ok = ~np.isnan(rssi)
    x = -10.0 * np.log10(d_rows[ok])
    a_mat = np.c_[np.ones(ok.sum()), x]
    (p0, n), *_ = np.linalg.lstsq(a_mat, rssi[ok], rcond=None)
    resid = np.full(rssi.shape, np.nan)
    resid[ok] = rssi[ok] - (p0 + n * x)
    n_pts = point.max() + 1
    mean_res = np.full((n_pts, 6), np.nan)
    within: dict[object, list[float]] = defaultdict(list)
    for p in range(n_pts):
        block = resid[point == p]
        for k in range(6):
            v = block[:, k][~np.isnan(block[:, k])]
            if len(v):
                mean_res[p, k] = v.mean()
                within[(p, k)] = list(v)
    shadow = float(np.nanstd(mean_res))
    return {
        "rows": float(len(rssi)),
        "points": float(n_pts),
        "rssi_1m_dbm (P0)": float(p0),
        "path_loss_exponent (n)": float(n),
        "shadow_sigma_db": shadow,
        "fast_sigma_db": _pooled_std(within),
        "shadow_decorrelation_m": _decorrelation(centres, mean_res),
    }


def _decorrelation(centres: np.ndarray, mean_res: np.ndarray) -> float:
    """Separation where the correlation of per-point shadowing falls below 1/e."""
    sep = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
    iu = np.triu_indices(len(centres), k=1)
    edges = np.arange(0.0, 6.01, 0.25)
    for lo, hi in itertools.pairwise(edges):
        sel = (sep[iu] >= lo) & (sep[iu] < hi)
        corr = []
        for k in range(mean_res.shape[1]):
            a, b = mean_res[iu[0][sel], k], mean_res[iu[1][sel], k]
            good = ~np.isnan(a) & ~np.isnan(b)
            if good.sum() > 30:
                corr.append(np.corrcoef(a[good], b[good])[0, 1])
        if corr and float(np.mean(corr)) < np.exp(-1):
            return float(0.5 * (lo + hi))
    return float(edges[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    args = ap.parse_args()
    for title, fit in (
        ("UWB LOS (Hanyang)", fit_uwb_los),
        ("UWB NLOS (Kolakowski)", fit_uwb_nlos),
        ("BLE (Kolakowski)", fit_ble),
    ):
        print(f"== {title}")
        for k, v in fit(args.data).items():
            print(f"  {k:55s} {v:10.4f}")


if __name__ == "__main__":
    main()
