"""Levels of an imported plan: the elevations where the near-flat workings lie, grouped.

Each near-flat piece of a non-shaft, non-ramp tunnel is a sample of its mid elevation weighted by
its length; shaft ends (collars and landings) are samples of almost no weight, so a shaft collar
far from any working still makes a level (the surface). Samples sorted by elevation are split
where two neighbours are more than ``gap`` apart; each group is a level at its weighted median.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["FLAT_GRADE", "assign_levels", "level_names"]

FloatArray = NDArray[np.float64]

#: pieces steeper than this (rise over run) are not level workings (haulage drifts keep under 5 %)
FLAT_GRADE = 0.15
#: tunnel kinds that join levels rather than lie on one
_JOINING = frozenset({"shaft", "ramp", "incline"})
_TINY = 1e-6


def assign_levels(
    xyz: FloatArray, tunnels: Sequence[tuple[str, Sequence[int]]], gap: float
) -> tuple[list[dict[str, Any]], list[str | None]]:
    """Levels (mine-file rows, top first) and, per tunnel, a level id where elevation misleads.

    ``tunnels`` are ``(kind, point indices into xyz)``. Every level returned has tunnels: a level
    that no tunnel would be counted on is left out.
    """
    z, w, owner = _samples(xyz, tunnels)
    order = np.argsort(-z, kind="stable")
    z, w, owner = z[order], w[order], owner[order]
    group = np.concatenate([[0], np.cumsum(np.diff(-z) > gap)]).astype(np.intp)
    n = int(group[-1]) + 1
    level_z = np.array([_weighted_median(z[group == g], w[group == g]) for g in range(n)])
    only_shafts = [bool(np.all(w[group == g] <= _TINY)) for g in range(n)]
    nearest = _nearest_levels(xyz, tunnels, level_z)
    # a tunnel is pinned to its group's level when its own points would be counted elsewhere
    own: list[set[int]] = [set() for _ in tunnels]
    for t, g in np.unique(np.stack([owner, group], axis=1), axis=0).tolist():
        if t >= 0 and tunnels[t][0] not in _JOINING:
            own[t].add(g)
    pinned = [
        next(iter(g)) if len(g) == 1 and near != g else None
        for g, near in zip(own, nearest, strict=True)
    ]
    used: set[int] = set()
    for pin, near in zip(pinned, nearest, strict=True):
        used |= {pin} if pin is not None else near
    keep = sorted(used)
    ids = level_names(level_z[keep], [only_shafts[g] for g in keep], gap)
    levels = [
        {"id": i, "name": name, "z": round(float(level_z[g]), 2) + 0.0}
        for g, (i, name) in zip(keep, ids, strict=True)
    ]
    id_of = {g: ids[k][0] for k, g in enumerate(keep)}
    return levels, [None if pin is None else id_of[pin] for pin in pinned]


def _nearest_levels(
    xyz: FloatArray, tunnels: Sequence[tuple[str, Sequence[int]]], level_z: FloatArray
) -> list[set[int]]:
    """Per tunnel, the levels nearest in height to its points (what `mine check` counts)."""
    point_level = np.argmin(np.abs(xyz[:, 2, None] - level_z[None, :]), axis=1).tolist()
    return [{point_level[p] for p in pts} for _, pts in tunnels]


def _samples(
    xyz: FloatArray, tunnels: Sequence[tuple[str, Sequence[int]]]
) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
    """Elevation samples, their weights, and the tunnel each comes from."""
    kinds = [kind for kind, _ in tunnels]
    counts = np.array([len(pts) for _, pts in tunnels], dtype=np.intp)
    idx = np.concatenate([np.asarray(pts, dtype=np.intp) for _, pts in tunnels])
    owner = np.repeat(np.arange(len(tunnels)), counts)
    # near-flat pieces of level workings: consecutive points of one tunnel
    lying = np.array([k not in _JOINING for k in kinds], dtype=bool)
    a = np.flatnonzero((owner[1:] == owner[:-1]) & lying[owner[:-1]])
    d = xyz[idx[a + 1]] - xyz[idx[a]]
    flat = np.abs(d[:, 2]) <= FLAT_GRADE * np.hypot(d[:, 0], d[:, 1])
    a, d = a[flat], d[flat]
    z = (xyz[idx[a], 2] + xyz[idx[a + 1], 2]) / 2
    w = np.linalg.norm(d, axis=1)
    # shaft collars and landings, of almost no weight
    shafts = np.array([k == "shaft" for k in kinds], dtype=bool)
    first = np.cumsum(counts) - counts
    ends = np.concatenate([first[shafts], (first + counts - 1)[shafts]])
    z = np.concatenate([z, xyz[idx[ends], 2]])
    w = np.concatenate([w, np.full(len(ends), _TINY)])
    own = np.concatenate([owner[a], owner[ends]])
    if len(z) == 0:  # only ramps (or steep drifts): every point stands for itself
        return xyz[idx, 2], np.ones(len(idx)), np.full(len(idx), -1, dtype=np.intp)
    return z, w, own


def _weighted_median(z: FloatArray, w: FloatArray) -> float:
    order = np.argsort(z)
    cum = np.cumsum(w[order])
    return float(z[order][int(np.searchsorted(cum, cum[-1] / 2))])


def level_names(zs: FloatArray, only_shafts: list[bool], gap: float) -> list[tuple[str, str]]:
    """``(id, name)`` per level, top first: ``surface`` for the top one at about 0 m or made of
    shaft collars only, else ``h<z>`` / ``Horizon <z>`` with z rounded to the metre."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for k, z in enumerate(zs):
        top = k == 0 and len(zs) > 1 and (abs(z) <= gap or only_shafts[k])
        if top:
            lid, name = "surface", "Surface"
        else:
            lid, name = f"h{round(float(z)):d}", f"Horizon {round(float(z)):d}"
        base, n = lid, 2
        while lid in seen:
            lid, n = f"{base}_{n}", n + 1
        seen.add(lid)
        out.append((lid, name))
    return out
