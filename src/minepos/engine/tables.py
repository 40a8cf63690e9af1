"""The mine as flat arrays for the kernel: segments, junctions, anchors, readers per tunnel.

Built once per mine inside the engine (the mine model stays free of engine concerns). Also holds
a dense sampling of the network that places new tags near the anchor that first heard them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from minepos.engine.config import TrackerConfig
from minepos.engine.likelihood import range_table
from minepos.mine import Mine

__all__ = ["TECH_BLE", "TECH_RFID", "TECH_UWB", "MineTables", "NetworkSamples", "build_tables"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

TECH_UWB, TECH_BLE, TECH_RFID = 0, 1, 2
_TECH = {"uwb": TECH_UWB, "ble": TECH_BLE, "rfid": TECH_RFID}
#: spacing of the network samples used to place new tags (m)
_SAMPLE_STEP = 0.5
#: spacing of the places tested for an anchor's line of sight (m)
_VIS_STEP = 4.0
#: along-the-tunnels distances from anchors are kept up to this far (m): beyond any UWB range
_PATH_LIMIT = 2000.0
#: an anchor this close to a node also looks down the node's other tunnels (its arms), m
_ARM_NODE_M = 30.0
#: a line of sight may pass this far from the tunnel axis (m): half a roadway's width
_LOS_HALF_WIDTH = 2.5


class MineTables(NamedTuple):
    """Arrays the kernel reads; shapes use T tunnels, S segments, N nodes, A anchors."""

    seg_a: FloatArray  # (S, 3) segment start points
    seg_dir: FloatArray  # (S, 3) unit directions
    seg_off: FloatArray  # (S,) offset of the segment start within its tunnel
    t_first: IntArray  # (T,) first segment of each tunnel
    t_last: IntArray  # (T,) last segment of each tunnel
    t_len: FloatArray  # (T,) tunnel lengths
    t_from: IntArray  # (T,) node at offset 0
    t_to: IntArray  # (T,) node at the far end
    t_shaft: IntArray  # (T,) 1 for shafts (cage motion), else 0
    t_ride: IntArray  # (T,) 1 where a transport zone lies (man-riders, belts), else 0
    inc_ptr: IntArray  # (N+1,) CSR of tunnel ends at each node
    inc_tunnel: IntArray  # tunnel of each incident end
    inc_end: IntArray  # 0: the tunnel's `from` end touches the node, 1: its `to` end
    a_xyz: FloatArray  # (A, 3) anchor positions
    a_tech: IntArray  # (A,) TECH_*
    a_range: FloatArray  # (A,) reading range of presence readers (m)
    rd_ptr: IntArray  # (T+1,) CSR of RFID readers whose range reaches each tunnel
    rd_anchor: IntArray  # reader anchor indices
    ua_ptr: IntArray  # (T+1,) CSR of UWB anchors placed on each tunnel
    ua_anchor: IntArray  # their anchor indices
    a_off: FloatArray  # (A,) each anchor's offset along its own tunnel
    a_vis_lo: FloatArray  # (A,) stretch of its own tunnel a UWB anchor sees in line of sight
    a_vis_hi: FloatArray
    a_tun: IntArray  # (A,) each anchor's tunnel
    #: CSR per UWB anchor of its "arms", the ways along the tunnels out from it: both ways
    #: along its own tunnel, and every other tunnel at a node within `_ARM_NODE_M` of it; each
    #: arm starts at offset `arm_s0` of tunnel `arm_t`, runs in direction `arm_dir` (+1/-1),
    #: and its start lies `arm_x0` metres from the anchor along the tunnels
    arm_ptr: IntArray
    arm_t: IntArray
    arm_s0: FloatArray
    arm_dir: FloatArray
    arm_x0: FloatArray
    #: (A, N) along-the-tunnels distance from each UWB anchor's place to each node (inf for
    #: other anchors and beyond `_PATH_LIMIT`): a range cannot come through the rock
    a_node_d: FloatArray
    #: CSR per anchor of the stretches of tunnel within a presence reader's range: tunnel
    #: `rc_t`, offsets `rc_lo`..`rc_hi` (where a tag it hears may stand; empty for others)
    rc_ptr: IntArray
    rc_t: IntArray
    rc_lo: FloatArray
    rc_hi: FloatArray
    r_tab: FloatArray  # the range log-likelihood tabulated over residuals (see likelihood.py)


class NetworkSamples:
    """Points every half metre along every tunnel, with a k-d tree to find those near a place."""

    def __init__(self, mine: Mine) -> None:
        lengths = mine.geometry.lengths
        counts = np.maximum(np.ceil(lengths / _SAMPLE_STEP).astype(np.int64), 1) + 1
        self.tunnel = np.repeat(np.arange(len(lengths)), counts)
        starts = np.cumsum(counts) - counts
        frac = (np.arange(int(counts.sum())) - np.repeat(starts, counts)) / np.repeat(
            counts - 1, counts
        )
        self.offset = frac * lengths[self.tunnel]
        self.xyz = mine.point_at(self.tunnel, self.offset)
        self.tree = cKDTree(self.xyz)

    def near(self, xyz: FloatArray, radius: float) -> IntArray:
        """Indices of the samples within ``radius`` of a point."""
        return np.asarray(self.tree.query_ball_point(xyz, radius), dtype=np.int64)

    def nearest(self, xyz: FloatArray, k: int) -> IntArray:
        """Indices of the ``k`` samples nearest a point."""
        _, idx = self.tree.query(xyz, k=min(k, len(self.offset)))
        out: IntArray = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        return out


def _incidence(mine: Mine) -> tuple[IntArray, IntArray, IntArray]:
    n = len(mine.nodes)
    ends: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for t in range(len(mine.tunnels)):
        ends[int(mine.network.t_from[t])].append((t, 0))
        ends[int(mine.network.t_to[t])].append((t, 1))
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(e) for e in ends])
    flat = [x for e in ends for x in e]
    tun = np.array([x[0] for x in flat], dtype=np.int64)
    end = np.array([x[1] for x in flat], dtype=np.int64)
    return ptr, tun, end


def _segment_distance(
    p: FloatArray, a: FloatArray, d: FloatArray, length: FloatArray
) -> FloatArray:
    """Distance from point ``p`` to each segment (start ``a``, unit ``d``, ``length``)."""
    along = np.clip(((p - a) * d).sum(axis=1), 0.0, length)
    foot = a + d * along[:, None]
    return np.asarray(np.linalg.norm(p - foot, axis=1))


def _readers(
    mine: Mine, a_xyz: FloatArray, a_tech: IntArray, a_range: FloatArray
) -> tuple[IntArray, IntArray]:
    g = mine.geometry
    n_t = len(mine.tunnels)
    lists: list[list[int]] = [[] for _ in range(n_t)]
    for k in np.flatnonzero(a_tech == TECH_RFID):
        dist = _segment_distance(a_xyz[k], g.seg_a, g.seg_dir, g.seg_len)
        for t in np.unique(g.seg_tunnel[dist <= a_range[k] + 1.0]):
            lists[int(t)].append(int(k))
    ptr = np.zeros(n_t + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    return ptr, np.array([k for x in lists for k in x], dtype=np.int64)


def _visibility(mine: Mine, a_tun: IntArray, a_xyz: FloatArray, reach: float) -> FloatArray:
    """Per anchor: the stretch ``[lo, hi]`` of its own tunnel, within ``reach``, that it sees.

    A place is seen while the straight line from the anchor to it stays within
    ``_LOS_HALF_WIDTH`` of the tunnel's axis (so a bend hides what lies round it).
    """
    out = np.zeros((len(a_tun), 2))
    lengths = mine.geometry.lengths
    frac = np.linspace(0.0, 1.0, 12)[1:-1]
    for k, a in enumerate(mine.anchors):
        t, off = int(a_tun[k]), a.offset_m
        out[k] = (off, off)
        for sign, col in ((-1.0, 0), (1.0, 1)):
            steps = off + sign * np.arange(_VIS_STEP, reach + _VIS_STEP, _VIS_STEP)
            steps = steps[(steps >= 0.0) & (steps <= lengths[t])]
            if len(steps) == 0:
                out[k, col] = 0.0 if sign < 0 else lengths[t]
                continue
            pts = mine.point_at(np.full(len(steps), t), steps)
            chord = a_xyz[k] + (pts[:, None, :] - a_xyz[k]) * frac[None, :, None]
            _, _, dist = mine.project(chord.reshape(-1, 3))
            seen = (dist.reshape(len(steps), -1) <= _LOS_HALF_WIDTH).all(axis=1)
            blocked = np.flatnonzero(~seen)
            last = len(steps) - 1 if len(blocked) == 0 else blocked[0] - 1
            out[k, col] = steps[last] if last >= 0 else off
            if len(blocked) == 0 and abs(steps[-1] - off) < reach:
                out[k, col] = 0.0 if sign < 0 else lengths[t]
    return out


def _node_distances(mine: Mine, a_tun: IntArray, a_off: FloatArray, uwb: IntArray) -> FloatArray:
    """Along-the-tunnels distance from each UWB anchor's place to every node (inf elsewhere)."""
    net = mine.network
    n = net.n_nodes
    out = np.full((len(a_tun), n), np.inf)
    if len(uwb) == 0 or n == 0:
        return out
    keep = net.t_from != net.t_to
    r = np.concatenate([net.t_from[keep], net.t_to[keep]])
    c = np.concatenate([net.t_to[keep], net.t_from[keep]])
    w = np.concatenate([net.lengths[keep]] * 2)
    # parallel tunnels between two nodes: the shorter one (csr_matrix would add them up)
    order = np.lexsort((w, c, r))
    first = np.ones(len(order), dtype=bool)
    first[1:] = (np.diff(r[order]) != 0) | (np.diff(c[order]) != 0)
    pick = order[first]
    graph = csr_matrix((np.maximum(w[pick], 1e-9), (r[pick], c[pick])), shape=(n, n))
    ends = np.unique(np.concatenate([net.t_from[a_tun[uwb]], net.t_to[a_tun[uwb]]]))
    d = dijkstra(graph, directed=False, indices=ends, limit=_PATH_LIMIT)
    row = {int(e): i for i, e in enumerate(ends)}
    for k in uwb:
        t = int(a_tun[k])
        via_from = a_off[k] + d[row[int(net.t_from[t])]]
        via_to = net.lengths[t] - a_off[k] + d[row[int(net.t_to[t])]]
        out[k] = np.minimum(via_from, via_to)
    return out


def _arms(
    mine: Mine, a_tun: IntArray, a_off: FloatArray, uwb: IntArray
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, FloatArray]:
    """Each UWB anchor's arms (see `MineTables.arm_ptr`)."""
    net = mine.network
    rows: list[list[tuple[int, float, float, float]]] = [[] for _ in range(len(a_tun))]
    for k in uwb:
        t, off, length = int(a_tun[k]), float(a_off[k]), float(net.lengths[int(a_tun[k])])
        rows[k] += [(t, off, 1.0, 0.0), (t, off, -1.0, 0.0)]
        for node, gap in ((int(net.t_from[t]), off), (int(net.t_to[t]), length - off)):
            if gap > _ARM_NODE_M:
                continue
            for t2, end in net.incident(node):
                if t2 == t:
                    continue
                start = 0.0 if end == "from" else float(net.lengths[t2])
                rows[k].append((t2, start, 1.0 if end == "from" else -1.0, gap))
    ptr = np.zeros(len(a_tun) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    flat = [x for r in rows for x in r]
    arr = np.array(flat, dtype=np.float64).reshape(-1, 4)
    return ptr, arr[:, 0].astype(np.int64), arr[:, 1].copy(), arr[:, 2].copy(), arr[:, 3].copy()


def _transport(mine: Mine) -> IntArray:
    """1 for each tunnel a transport zone (man-rider, belt) lies on, else 0."""
    out = np.zeros(len(mine.tunnels), dtype=np.int64)
    for z in mine.zones:
        if z.kind == "transport":
            out[[mine.tunnel_index[s.tunnel] for s in z.spans]] = 1
    return out


def _reader_cover(
    samples: NetworkSamples, a_xyz: FloatArray, a_tech: IntArray, a_range: FloatArray
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Each presence reader's stretches of tunnel within its range (see `MineTables.rc_ptr`)."""
    rows: list[list[tuple[int, float, float]]] = [[] for _ in range(len(a_xyz))]
    for k in np.flatnonzero(a_tech == TECH_RFID):
        near = samples.near(a_xyz[k], float(a_range[k]))
        if len(near) == 0:
            near = samples.nearest(a_xyz[k], 1)
        t, off = samples.tunnel[near], samples.offset[near]
        for u in np.unique(t):
            rows[k].append((int(u), float(off[t == u].min()), float(off[t == u].max())))
    ptr = np.zeros(len(a_xyz) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    arr = np.array([x for r in rows for x in r], dtype=np.float64).reshape(-1, 3)
    return ptr, arr[:, 0].astype(np.int64), arr[:, 1].copy(), arr[:, 2].copy()


def build_tables(
    mine: Mine, config: TrackerConfig, samples: NetworkSamples | None = None
) -> MineTables:
    """Flatten ``mine`` into the arrays the kernel needs."""
    g = mine.geometry
    seg_off = g.seg_start - g.base[g.seg_tunnel]
    ptr, tun, end = _incidence(mine)
    a_xyz = np.array([a.xyz for a in mine.anchors], dtype=np.float64).reshape(-1, 3)
    a_tech = np.array([_TECH[a.tech] for a in mine.anchors], dtype=np.int64)
    a_range = np.array(
        [a.range_m if a.range_m is not None else config.presence_range for a in mine.anchors],
        dtype=np.float64,
    )
    rd_ptr, rd_anchor = _readers(mine, a_xyz, a_tech, a_range)
    a_tun = np.array([mine.tunnel_index[a.tunnel] for a in mine.anchors], dtype=np.int64)
    uwb = np.flatnonzero(a_tech == TECH_UWB)
    a_off = np.array([a.offset_m for a in mine.anchors], dtype=np.float64)
    # by tunnel, then offset: the kernel stops scanning a tunnel's anchors past its reach
    uwb = uwb[np.lexsort((a_off[uwb], a_tun[uwb]))]
    ua_ptr = np.zeros(len(mine.tunnels) + 1, dtype=np.int64)
    ua_ptr[1:] = np.cumsum(np.bincount(a_tun[uwb], minlength=len(mine.tunnels)))
    vis = _visibility(mine, a_tun, a_xyz, config.uwb_expect_m)
    arm_ptr, arm_t, arm_s0, arm_dir, arm_x0 = _arms(mine, a_tun, a_off, uwb)
    rc_ptr, rc_t, rc_lo, rc_hi = _reader_cover(
        samples or NetworkSamples(mine), a_xyz, a_tech, a_range
    )
    return MineTables(
        seg_a=np.ascontiguousarray(g.seg_a),
        seg_dir=np.ascontiguousarray(g.seg_dir),
        seg_off=np.ascontiguousarray(seg_off),
        t_first=g.first_seg.astype(np.int64),
        t_last=g.last_seg.astype(np.int64),
        t_len=g.lengths.astype(np.float64),
        t_from=mine.network.t_from.astype(np.int64),
        t_to=mine.network.t_to.astype(np.int64),
        t_shaft=np.array([t.kind == "shaft" for t in mine.tunnels], dtype=np.int64),
        t_ride=_transport(mine),
        inc_ptr=ptr,
        inc_tunnel=tun,
        inc_end=end,
        a_xyz=a_xyz,
        a_tech=a_tech,
        a_range=a_range,
        rd_ptr=rd_ptr,
        rd_anchor=rd_anchor,
        ua_ptr=ua_ptr,
        ua_anchor=uwb.astype(np.int64),
        a_off=a_off,
        a_vis_lo=vis[:, 0].copy(),
        a_vis_hi=vis[:, 1].copy(),
        a_tun=a_tun,
        arm_ptr=arm_ptr,
        arm_t=arm_t,
        arm_s0=arm_s0,
        arm_dir=arm_dir,
        arm_x0=arm_x0,
        a_node_d=_node_distances(mine, a_tun, a_off, uwb),
        rc_ptr=rc_ptr,
        rc_t=rc_t,
        rc_lo=rc_lo,
        rc_hi=rc_hi,
        r_tab=range_table(config.params()),
    )
