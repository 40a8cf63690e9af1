"""Which anchors can hear a tag where, and how: link tables over 2 m cells of the network.

For every anchor and every cell within its reach along the tunnels (radio does not cross rock),
the table holds the along-tunnel distance and the link class:

- ``LOS``: the straight line anchor-cell stays inside the tunnel, same tunnel;
- ``JUNCTION``: the line stays inside the tunnels but the tag is on another tunnel (it passes a
  junction: the path is partly blocked by the corner pillars, NLOS with a set probability);
- ``CORNER``: the line leaves the tunnels (a bend or a turn): no direct path, always NLOS.

The line test samples the chord every metre and asks a k-d tree of network points whether each
sample lies within the tunnel half width. Tables are built once per mine and sensor setup.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from minepos.mine import Mine, Span

__all__ = [
    "CELL_M",
    "CORNER",
    "JUNCTION",
    "LOS",
    "LinkTable",
    "build_link_table",
    "cell_of",
    "link_table",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

CELL_M = 2.0
LOS, JUNCTION, CORNER = 0, 1, 2


@dataclass(frozen=True, slots=True)
class LinkTable:
    """Links of one technology, grouped by cell: ``ptr[c]:ptr[c+1]`` are cell ``c``'s links."""

    ptr: IntArray
    anchor: IntArray  # index into `anchors` of this table
    link_class: IntArray
    path_m: FloatArray  # along-tunnel distance from the cell centre to the anchor
    anchors: IntArray  # mine anchor indices of this technology
    anchor_xyz: FloatArray
    anchor_segment: IntArray  # geometry segment each anchor sits on

    def links(self, cells: IntArray) -> tuple[IntArray, IntArray]:
        """For tags in ``cells``: (tag row of each link, link index)."""
        lo, hi = self.ptr[cells], self.ptr[cells + 1]
        counts = hi - lo
        rows = np.repeat(np.arange(len(cells)), counts)
        starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        return rows, starts + np.arange(int(counts.sum()))


def _per_tunnel(mine: Mine) -> IntArray:
    """Cells of each tunnel (a cell never straddles two tunnels, which may be far apart)."""
    counts: IntArray = np.maximum(np.ceil(mine.geometry.lengths / CELL_M).astype(np.intp), 1)
    return counts


def cell_of(mine: Mine, tunnel: IntArray, offset: FloatArray) -> IntArray:
    """Cell index of places on the network: tunnel ``t`` owns cells ``first[t]:first[t+1]``."""
    counts = _per_tunnel(mine)
    first = np.cumsum(counts) - counts
    k = np.clip((offset / CELL_M).astype(np.intp), 0, counts[tunnel] - 1)
    out: IntArray = first[tunnel] + k
    return out


def _n_cells(mine: Mine) -> int:
    return int(_per_tunnel(mine).sum())


def _cells(mine: Mine) -> tuple[IntArray, FloatArray, FloatArray]:
    """Tunnel, offset and xyz of every cell centre."""
    counts = _per_tunnel(mine)
    tunnel = np.repeat(np.arange(len(counts)), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    offset = np.minimum((k + 0.5) * CELL_M, mine.geometry.lengths[tunnel])
    return tunnel, offset, mine.point_at(tunnel, offset)


def _network_tree(mine: Mine) -> cKDTree:
    geo = mine.geometry
    counts = np.maximum(np.ceil(geo.seg_len).astype(np.intp), 1) + 1
    seg = np.repeat(np.arange(len(geo.seg_len)), counts)
    starts = np.cumsum(counts) - counts
    frac = (np.arange(counts.sum()) - np.repeat(starts, counts)) / np.repeat(counts - 1, counts)
    return cKDTree(geo.seg_a[seg] + (geo.seg_b[seg] - geo.seg_a[seg]) * frac[:, None])


def _chord_clear(
    tree: cKDTree, a: FloatArray, b: FloatArray, half_width: float
) -> NDArray[np.bool_]:
    """Whether each straight line a[i]-b[i] stays within ``half_width`` of the network."""
    length = np.linalg.norm(b - a, axis=1)
    n = np.maximum(np.ceil(length).astype(np.intp), 1) + 1
    pair = np.repeat(np.arange(len(a)), n)
    starts = np.cumsum(n) - n
    frac = (np.arange(n.sum()) - np.repeat(starts, n)) / np.repeat(n - 1, n)
    pts = a[pair] + (b[pair] - a[pair]) * frac[:, None]
    dist, _ = tree.query(pts, distance_upper_bound=half_width + 1.0)
    ok = dist <= half_width + 0.5  # network sampled every metre: half a metre of slack
    blocked: NDArray[np.bool_] = np.bincount(pair, weights=~ok, minlength=len(a)) > 0
    return ~blocked


def _path_to_cells(mine: Mine, anchor: int, c_tunnel: IntArray, c_off: FloatArray) -> FloatArray:
    """Along-tunnel distance from one anchor to every cell centre."""
    a = mine.anchors[anchor]
    t_a = mine.tunnel_index[a.tunnel]
    node_dist = mine.network.field([Span(a.tunnel, a.offset_m, a.offset_m)]).node_dist
    net = mine.network
    lengths = mine.geometry.lengths[c_tunnel]
    via_from = c_off + node_dist[net.t_from[c_tunnel]]
    via_to = lengths - c_off + node_dist[net.t_to[c_tunnel]]
    d = np.minimum(via_from, via_to)
    return np.where(c_tunnel == t_a, np.minimum(d, np.abs(c_off - a.offset_m)), d)


_CACHE: weakref.WeakKeyDictionary[Mine, dict[tuple[object, ...], LinkTable]] = (
    weakref.WeakKeyDictionary()
)


def link_table(mine: Mine, tech: str, reach: dict[int, float], half_width: float) -> LinkTable:
    """`build_link_table`, remembered per mine (benchmarks build many simulations of one mine)."""
    key = (tech, tuple(sorted(reach.items())), half_width)
    tables = _CACHE.setdefault(mine, {})
    if key not in tables:
        tables[key] = build_link_table(mine, tech, reach, half_width)
    return tables[key]


def build_link_table(
    mine: Mine, tech: str, reach: dict[int, float], half_width: float
) -> LinkTable:
    """Links of the anchors of ``tech``; ``reach`` gives each mine anchor index its reach in m."""
    anchors = np.array([i for i, a in enumerate(mine.anchors) if a.tech == tech], dtype=np.intp)
    c_tunnel, c_off, c_xyz = _cells(mine)
    tree = _network_tree(mine) if len(anchors) else None
    cells, links, classes, paths = [], [], [], []
    for k, ai in enumerate(anchors.tolist()):
        path = _path_to_cells(mine, ai, c_tunnel, c_off)
        near = np.flatnonzero(path <= reach[ai])
        a = mine.anchors[ai]
        a_xyz = np.broadcast_to(np.asarray(a.xyz), (len(near), 3))
        assert tree is not None
        clear = _chord_clear(tree, a_xyz, c_xyz[near], half_width)
        same = c_tunnel[near] == mine.tunnel_index[a.tunnel]
        cls = np.where(clear, np.where(same, LOS, JUNCTION), CORNER)
        cells.append(near)
        links.append(np.full(len(near), k, dtype=np.intp))
        classes.append(cls)
        paths.append(path[near])
    return _pack(mine, anchors, cells, links, classes, paths)


def _pack(
    mine: Mine,
    anchors: IntArray,
    cells: list[IntArray],
    links: list[IntArray],
    classes: list[IntArray],
    paths: list[FloatArray],
) -> LinkTable:
    def cat(parts: list[NDArray[np.generic]], dtype: type) -> NDArray[np.generic]:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    cell = cat(cells, np.intp)  # type: ignore[arg-type]
    order = np.argsort(cell, kind="stable")
    ptr = np.zeros(_n_cells(mine) + 1, dtype=np.intp)
    np.cumsum(np.bincount(cell, minlength=_n_cells(mine)), out=ptr[1:])
    xyz = np.array([mine.anchors[i].xyz for i in anchors.tolist()], dtype=np.float64).reshape(-1, 3)
    a_t = np.array(
        [mine.tunnel_index[mine.anchors[i].tunnel] for i in anchors.tolist()], dtype=np.intp
    )
    a_s = np.array([mine.anchors[i].offset_m for i in anchors.tolist()], dtype=np.float64)
    return LinkTable(
        ptr=ptr,
        anchor=cat(links, np.intp)[order],  # type: ignore[arg-type]
        link_class=cat(classes, np.intp)[order],  # type: ignore[arg-type]
        path_m=cat(paths, np.float64)[order],  # type: ignore[arg-type]
        anchors=anchors,
        anchor_xyz=xyz,
        anchor_segment=segment_of(mine, a_t, a_s),
    )


def segment_of(mine: Mine, tunnel: IntArray, offset: FloatArray) -> IntArray:
    """Geometry segment index of places (which straight piece of polyline they are on)."""
    geo = mine.geometry
    g = geo.base[tunnel] + np.clip(offset, 0.0, geo.lengths[tunnel])
    seg = np.searchsorted(geo.seg_start, g, side="right") - 1
    return np.clip(seg, geo.first_seg[tunnel], geo.last_seg[tunnel])
