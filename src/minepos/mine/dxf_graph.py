"""Turning a drawing's straight segments into a tunnel graph: junctions, snapping, chains.

The steps, all vectorised over segments except the final walk along chains:

1. *Candidate pairs*: a sweep along the drawing's longest axis (sort by the low end of each
   segment's box, `searchsorted` for the high end) lists the pairs whose boxes, grown by the snap
   tolerance, overlap; the other two axes filter them. No loop over all pairs.
2. *Contacts*: for each candidate pair, the closest points of the two segments (Ericson,
   *Real-Time Collision Detection*, 5.1.9) and the projections of each one's ends onto the other.
   Where they are within the tolerance, the segment is split there: a crossing, a T-junction or an
   overlap becomes a shared point. All is in 3-D: lines at different elevations never meet.
3. *Snapping*: every end and split point within the tolerance of another (single linkage,
   `cKDTree.query_pairs`) becomes one node at their mean position.
4. *Pieces*: each segment is cut at its points in order; a piece whose two ends fell into the same
   node (shorter than the tolerance) is dropped, and of pieces joining the same two nodes (drawn
   twice, or overlapping) only the first drawn is kept.
5. *Chains*: pieces are walked into tunnels. A tunnel ends at a node where the number of pieces
   is not two, or where the two pieces differ in style (layer and kind); the nodes in between
   become ``via`` points. A loop is cut in two so that no tunnel starts and ends at one node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = ["Chain", "TunnelGraph", "build_graph", "candidate_pairs"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: candidate pairs handled per vectorised batch (bounds memory on dense drawings)
_BATCH = 400_000


@dataclass(frozen=True)
class Chain:
    """One tunnel: point indices end to end (the inner ones are bends), its style, its origin."""

    points: tuple[int, ...]
    style: int
    first_segment: int


@dataclass(frozen=True)
class TunnelGraph:
    """Snapped points ``(M, 3)`` and the chains of points that become tunnels."""

    xyz: FloatArray
    chains: tuple[Chain, ...]


def build_graph(ends: FloatArray, style: IntArray, snap: float) -> TunnelGraph:
    """The tunnel graph of segments ``ends`` ``(N, 2, 3)`` with a style per segment ``(N,)``.

    ``snap`` is the tolerance in metres: points closer than it are one node, lines passing closer
    than it meet.
    """
    ends = np.asarray(ends, dtype=np.float64).reshape(-1, 2, 3)
    style = np.asarray(style, dtype=np.intp)
    n = len(ends)
    seg_no, params, split_xyz = _contacts(ends, snap)
    # every point: both ends of each segment, then the split points
    pts = np.concatenate([ends[:, 0], ends[:, 1], split_xyz])
    pt_seg = np.concatenate([np.arange(n), np.arange(n), seg_no])
    pt_par = np.concatenate([np.zeros(n), np.ones(n), params])
    label, xyz = _snap(pts, snap)
    piece_a, piece_b, piece_seg = _pieces(pt_seg, pt_par, label)
    piece_a, piece_b, piece_seg = _unique_pieces(piece_a, piece_b, piece_seg)
    chains = _chains(piece_a, piece_b, piece_seg, style, len(xyz))
    return TunnelGraph(xyz, tuple(chains))


def candidate_pairs(lo: FloatArray, hi: FloatArray) -> IntArray:
    """Pairs ``(K, 2)`` (i < j by sweep order) of boxes ``[lo, hi]`` ``(N, 3)`` that overlap."""
    n = len(lo)
    if n < 2:
        return np.zeros((0, 2), dtype=np.intp)
    axis = int(np.argmax(hi.max(axis=0) - lo.min(axis=0)))
    order = np.argsort(lo[:, axis], kind="stable")
    lo_s, hi_s = lo[order], hi[order]
    stop = np.searchsorted(lo_s[:, axis], hi_s[:, axis], side="right")
    count = np.maximum(stop - np.arange(n) - 1, 0)
    found: list[IntArray] = []
    start = 0
    while start < n:
        # batches of sweep rows whose pair counts add up to about _BATCH
        cum = np.cumsum(count[start:])
        end = start + max(1, int(np.searchsorted(cum, _BATCH, side="right")))
        i = np.repeat(np.arange(start, end), count[start:end])
        offs = np.arange(len(i)) - np.repeat(
            np.cumsum(count[start:end]) - count[start:end], count[start:end]
        )
        j = i + 1 + offs
        keep = np.all((lo_s[j] <= hi_s[i]) & (lo_s[i] <= hi_s[j]), axis=1)
        found.append(np.stack([order[i[keep]], order[j[keep]]], axis=1))
        start = end
    return np.concatenate(found)


def _contacts(ends: FloatArray, snap: float) -> tuple[IntArray, FloatArray, FloatArray]:
    """Split points: (segment, parameter in (0, 1), xyz) wherever another segment comes close."""
    lo = np.minimum(ends[:, 0], ends[:, 1]) - snap
    hi = np.maximum(ends[:, 0], ends[:, 1]) + snap
    pairs = candidate_pairs(lo, hi)
    segs: list[IntArray] = []
    pars: list[FloatArray] = []
    for k in range(0, len(pairs), _BATCH):
        s, p = _pair_contacts(ends, pairs[k : k + _BATCH], snap)
        inner = (p > 1e-9) & (p < 1 - 1e-9)  # contacts at a segment's own ends add nothing
        segs.append(s[inner])
        pars.append(p[inner])
    seg_no = np.concatenate(segs) if segs else np.zeros(0, dtype=np.intp)
    params = np.concatenate(pars) if pars else np.zeros(0)
    a, b = ends[seg_no, 0], ends[seg_no, 1]
    return seg_no, params, a + params[:, None] * (b - a)


def _pair_contacts(ends: FloatArray, pairs: IntArray, snap: float) -> tuple[IntArray, FloatArray]:
    i, j = pairs[:, 0], pairs[:, 1]
    p0, p1 = ends[i, 0], ends[i, 1]
    q0, q1 = ends[j, 0], ends[j, 1]
    s, t, dist = _closest(p0, p1 - p0, q0, q1 - q0)
    segs = [i, j]
    pars = [np.where(dist <= snap, s, -1.0), np.where(dist <= snap, t, -1.0)]
    # ends of one segment lying on the other: T-junctions and overlaps (also when parallel)
    for point, seg, base, d in (
        (p0, j, q0, q1 - q0),
        (p1, j, q0, q1 - q0),
        (q0, i, p0, p1 - p0),
        (q1, i, p0, p1 - p0),
    ):
        u, gap = _project(point, base, d)
        segs.append(seg)
        pars.append(np.where(gap <= snap, u, -1.0))
    return np.concatenate(segs), np.concatenate(pars)


def _project(point: FloatArray, base: FloatArray, d: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Parameter of the point of each segment ``base + u d`` nearest ``point``, and the distance."""
    dd = np.einsum("ij,ij->i", d, d)
    u = np.clip(np.einsum("ij,ij->i", point - base, d) / np.maximum(dd, 1e-300), 0.0, 1.0)
    return u, np.linalg.norm(base + u[:, None] * d - point, axis=1)


def _closest(
    p: FloatArray, d1: FloatArray, q: FloatArray, d2: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Closest points of segments ``p + s d1`` and ``q + t d2``: ``s``, ``t`` and the distance."""
    r = p - q
    a = np.einsum("ij,ij->i", d1, d1)
    e = np.einsum("ij,ij->i", d2, d2)
    f = np.einsum("ij,ij->i", d2, r)
    c = np.einsum("ij,ij->i", d1, r)
    b = np.einsum("ij,ij->i", d1, d2)
    denom = a * e - b * b
    parallel = denom <= 1e-12 * a * e
    s = np.where(parallel, 0.0, np.clip((b * f - c * e) / np.where(parallel, 1.0, denom), 0, 1))
    t = (b * s + f) / e
    low, high = t < 0, t > 1
    s = np.where(low, np.clip(-c / a, 0, 1), np.where(high, np.clip((b - c) / a, 0, 1), s))
    t = np.clip(t, 0, 1)
    gap = np.linalg.norm(p + s[:, None] * d1 - q - t[:, None] * d2, axis=1)
    return s, t, gap


def _snap(pts: FloatArray, snap: float) -> tuple[IntArray, FloatArray]:
    """Label each point with its cluster (points within ``snap``, chained); cluster means.

    Cluster means closer than ``snap`` are merged again (a few rounds), so no two nodes of the
    result are within the tolerance and no piece between two clusters collapses to nothing.
    """
    # exact duplicates (shared polyline vertices) first: the tree then sees each place once
    uniq, inverse = np.unique(np.round(pts, 9), axis=0, return_inverse=True)
    label = _numbered(_components(uniq, snap)[inverse.reshape(-1)])
    xyz = _means(pts, label)
    for _ in range(8):
        comp = _components(xyz, snap)
        if comp.max(initial=-1) + 1 == len(xyz):
            break
        label = _numbered(comp[label])
        xyz = _means(pts, label)
    return label, xyz


def _components(xyz: FloatArray, snap: float) -> IntArray:
    """Connected components of the points under "closer than ``snap``"."""
    pairs = cKDTree(xyz).query_pairs(snap, output_type="ndarray")
    m = len(xyz)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
    return np.asarray(connected_components(graph, directed=False)[1], dtype=np.intp)


def _numbered(label: IntArray) -> IntArray:
    """Labels renumbered 0.. in order of first occurrence, so numbering follows the drawing."""
    _, first, inverse = np.unique(label, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.intp)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


def _means(pts: FloatArray, label: IntArray) -> FloatArray:
    n = int(label.max(initial=-1)) + 1
    sums = np.zeros((n, 3))
    np.add.at(sums, label, pts)
    return sums / np.bincount(label, minlength=n)[:, None]


def _pieces(
    pt_seg: IntArray, pt_par: FloatArray, label: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Consecutive points along each segment: the pieces between them, as (node, node, segment)."""
    order = np.lexsort((pt_par, pt_seg))
    seg, lab = pt_seg[order], label[order]
    same = seg[1:] == seg[:-1]
    a, b, s = lab[:-1][same], lab[1:][same], seg[:-1][same]
    keep = a != b
    return a[keep], b[keep], s[keep]


def _unique_pieces(a: IntArray, b: IntArray, seg: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """One piece per pair of nodes: the first drawn wins."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((seg, hi, lo))
    first = np.ones(len(order), dtype=bool)
    first[1:] = (lo[order][1:] != lo[order][:-1]) | (hi[order][1:] != hi[order][:-1])
    keep = np.sort(order[first])
    return a[keep], b[keep], seg[keep]


def _chains(a: IntArray, b: IntArray, seg: IntArray, style: IntArray, n_points: int) -> list[Chain]:
    """Walk pieces into chains between junctions, ends and changes of style."""
    adj: list[list[int]] = [[] for _ in range(n_points)]
    for k, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        adj[x].append(k)
        adj[y].append(k)
    piece_style = style[seg].tolist()
    ends_a, ends_b, segs = a.tolist(), b.tolist(), seg.tolist()

    def is_stop(node: int) -> bool:
        inc = adj[node]
        return len(inc) != 2 or piece_style[inc[0]] != piece_style[inc[1]]

    used = [False] * len(segs)
    chains: list[Chain] = []
    for k in range(len(segs)):  # pieces in drawing order, so tunnels are numbered that way
        if used[k]:
            continue
        back = _walk(k, ends_a[k], adj, ends_a, ends_b, used, is_stop)
        fwd = _walk(k, ends_b[k], adj, ends_a, ends_b, used, is_stop)
        used[k] = True
        nodes = [*reversed(back[0]), ends_a[k], ends_b[k], *fwd[0]]
        first = min([segs[k], *(segs[p] for p in back[1] + fwd[1])])
        chains += _split_loop(nodes, piece_style[k], first)
    return chains


def _walk(
    start: int,
    node: int,
    adj: list[list[int]],
    ends_a: list[int],
    ends_b: list[int],
    used: list[bool],
    is_stop: Callable[[int], bool],
) -> tuple[list[int], list[int]]:
    """From piece ``start`` through ``node`` onwards until a stop: nodes passed, pieces taken."""
    nodes: list[int] = []
    pieces: list[int] = []
    prev = start
    while not is_stop(node):
        nxt = adj[node][0] if adj[node][0] != prev else adj[node][1]
        if used[nxt] or nxt == start:
            break  # a closed loop: back where the walk began
        used[nxt] = True
        pieces.append(nxt)
        node = ends_b[nxt] if ends_a[nxt] == node else ends_a[nxt]
        nodes.append(node)
        prev = nxt
    return nodes, pieces


def _split_loop(nodes: list[int], style: int, first: int) -> list[Chain]:
    """A chain that comes back to its start is cut at its middle point into two tunnels."""
    if nodes[0] != nodes[-1]:
        return [Chain(tuple(nodes), style, first)]
    mid = len(nodes) // 2
    return [Chain(tuple(nodes[: mid + 1]), style, first), Chain(tuple(nodes[mid:]), style, first)]
