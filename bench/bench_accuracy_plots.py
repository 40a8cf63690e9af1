"""Plots of the accuracy benchmark: error distributions, and one person's track over time."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from minepos.mine import Mine

COLORS = {
    "engine": "tab:blue",
    "particles only": "tab:cyan",
    "nearest anchor": "tab:red",
    "least squares": "tab:orange",
}


def plot_errors(scores: Any, path: Path) -> None:
    """Empirical CDFs of the 3-D error of each method, with the PCRB's RMSE marked."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for name, color in COLORS.items():
        e = np.sort(np.asarray(scores.err.get(name, [])))
        if len(e):
            ax.plot(np.maximum(e, 1e-3), np.arange(1, len(e) + 1) / len(e), color=color, label=name)
    if scores.bound:
        rmse = float(np.sqrt(np.mean(np.square(scores.bound))))
        ax.axvline(rmse, color="k", ls="--", lw=1, label=f"PCRB RMSE {rmse:.3f} m")
    ax.axvline(1.0, color="grey", ls=":", lw=1, label="floor: p95 <= 1 m")
    ax.axhline(0.95, color="grey", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("3-D error, m (log scale)")
    ax.set_ylabel("share of tag-ticks")
    ax.set_title("Long drift, UWB every 120 m, 20 % NLOS: error distribution")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_track(
    mine: Mine,
    scores: Any,
    path: Path,
    title: str = "One person in the demo mine: truth (black), estimate and 95 % interval (blue)",
) -> None:
    """One person: the true and estimated along-tunnel offset and the 95 % interval over time;
    zone readers on the person's tunnel are grey ticks at the left."""
    if not scores.track:
        return

    def walked(rows: list[Any]) -> float:  # metres walked, counting tunnel changes as 50 m
        return sum(abs(b[2] - a[2]) if a[1] == b[1] else 50.0 for a, b in pairwise(rows))

    rows = max(scores.track.values(), key=walked)  # the person who moves most
    t0 = rows[0][0]
    fig, (ax, ax2) = plt.subplots(
        2, 1, figsize=(8.5, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    for at, tt, st, e in rows:
        x = at - t0
        same = mine.tunnel_index[e.tunnel] == tt
        ax.plot(x, st, ".", color="k", ms=2)
        if same:
            ax.plot(x, e.offset_m, ".", color="tab:blue", ms=2)
        for sp in e.interval:
            if mine.tunnel_index[sp.tunnel] == tt:
                ax.vlines(x, sp.from_m, sp.to_m, color="tab:blue", alpha=0.25, lw=1.5)
        err = float(
            np.linalg.norm(np.array(e.xyz) - mine.point_at(np.array([tt]), np.array([st]))[0])
        )
        ax2.plot(x, err, ".", color="tab:blue", ms=2)
        ax2.plot(x, e.uncertainty_m / 2, ".", color="tab:green", ms=1.5)
    readers = {(a.tunnel, a.offset_m) for a in mine.anchors if a.tech == "rfid"}
    for tunnel, offset in readers:
        if any(mine.tunnel_index[tunnel] == r[1] for r in rows):
            ax.plot(-8, offset, ">", color="grey", ms=4)
    ax.set_ylabel("offset along the current tunnel, m")
    ax.set_title(title)
    ax2.set_ylabel("m")
    ax2.set_yscale("log")
    ax2.set_xlabel("seconds")
    ax2.legend(["error", "interval half-length"], fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
