"""The tunnel graph: along-the-tunnels distances, shortest routes, nearest exit or refuge.

Nodes are the mine's nodes; every tunnel is an edge weighted by its length. A place on a tunnel
reaches the graph through the tunnel's two end nodes, unless a blocked stretch lies between.
Queries run Dijkstra (`scipy.sparse.csgraph`) from a virtual source node joined to the start
place, or to every target stretch at once, so "nearest exit" for thousands of people is one
graph search plus a vectorised look-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from minepos.mine.places import Leg, Route, Span

__all__ = ["DistanceField", "TunnelNetwork"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
_NO_PRED = -9999


class TunnelNetwork:
    """Graph queries over the tunnels of one mine.

    Parameters
    ----------
    tunnel_ids, tunnel_from, tunnel_to, lengths
        Per tunnel: its id, its end node indices and its length in metres.
    n_nodes
        Number of nodes.
    """

    def __init__(
        self,
        tunnel_ids: Sequence[str],
        tunnel_from: IntArray,
        tunnel_to: IntArray,
        lengths: FloatArray,
        n_nodes: int,
    ) -> None:
        self.tunnel_ids = list(tunnel_ids)
        self.index = {t: i for i, t in enumerate(self.tunnel_ids)}
        self.t_from = np.asarray(tunnel_from, dtype=np.intp)
        self.t_to = np.asarray(tunnel_to, dtype=np.intp)
        self.lengths = np.asarray(lengths, dtype=np.float64)
        self.n_nodes = n_nodes
        self._incident: list[list[tuple[int, str]]] = [[] for _ in range(n_nodes)]
        for t in range(len(self.tunnel_ids)):
            self._incident[self.t_from[t]].append((t, "from"))
            self._incident[self.t_to[t]].append((t, "to"))

    # -- structure -------------------------------------------------------------------------
    def incident(self, node: int) -> list[tuple[int, str]]:
        """Tunnels meeting at ``node``, each with the end (``"from"``/``"to"``) touching it."""
        return list(self._incident[node])

    def degree(self) -> IntArray:
        """Number of tunnel ends at each node."""
        return np.array([len(x) for x in self._incident], dtype=np.intp)

    # -- queries ---------------------------------------------------------------------------
    def distance(self, a: tuple[int, float], b: tuple[int, float]) -> float:
        """Along-the-tunnels distance between two places ``(tunnel index, offset)``."""
        route = self.route(a, b)
        return float("inf") if route is None else route.length_m

    def route(
        self,
        a: tuple[int, float],
        b: tuple[int, float],
        blocked: Sequence[Span] = (),
        closed: NDArray[np.bool_] | None = None,
    ) -> Route | None:
        """Shortest route from place ``a`` to place ``b``, or None where none is open."""
        target = Span(self.tunnel_ids[b[0]], b[1], b[1])
        field = self.field([target], blocked, closed)
        return field.route(a[0], a[1])

    def field(
        self,
        targets: Sequence[Span],
        blocked: Sequence[Span] = (),
        closed: NDArray[np.bool_] | None = None,
        names: Sequence[str] | None = None,
    ) -> DistanceField:
        """Distance from every node to the nearest of ``targets``, avoiding ``blocked`` stretches.

        ``closed`` marks whole tunnels that may not be used (for example shafts without a cage).
        ``names`` labels each target (a zone id) so routes can say where they lead.
        """
        cut = _cut_tunnels(self, blocked, closed)
        n = self.n_nodes
        usable = np.flatnonzero(~cut & (self.t_from != self.t_to))
        rows = [self.t_from[usable], self.t_to[usable]]
        cols = [self.t_to[usable], self.t_from[usable]]
        vals = [self.lengths[usable], self.lengths[usable]]
        src_node: list[int] = []
        src_cost: list[float] = []
        src_target: list[int] = []
        for k, span in enumerate(targets):
            t = self.index[span.tunnel]
            if _open(blocked, closed, self, t, 0.0, span.from_m):
                src_node.append(int(self.t_from[t]))
                src_cost.append(span.from_m)
                src_target.append(k)
            if _open(blocked, closed, self, t, span.to_m, float(self.lengths[t])):
                src_node.append(int(self.t_to[t]))
                src_cost.append(float(self.lengths[t]) - span.to_m)
                src_target.append(k)
        # One virtual node per entry edge keeps which target each node's best path ends in.
        m = len(src_node)
        virt = n + np.arange(m)
        rows += [virt, np.full(m, n + m)]
        cols += [np.asarray(src_node, dtype=np.intp), virt]
        vals += [np.asarray(src_cost) + 1e-9, np.full(m, 1e-9)]
        r, c, v = _min_edges(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals))
        graph = csr_matrix((v, (r, c)), shape=(n + m + 1, n + m + 1))
        dist, pred = dijkstra(graph, directed=True, indices=n + m, return_predecessors=True)
        # Dijkstra ran outward from the targets; reversing edges is unnecessary (symmetric).
        return DistanceField(
            self,
            targets,
            list(names) if names else None,
            list(blocked),
            closed,
            np.maximum(dist[:n] - 2e-9, 0.0),
            pred,
            np.asarray(src_target, dtype=np.intp),
            n,
        )


def _min_edges(r: IntArray, c: IntArray, v: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
    """Keep the shortest of parallel edges (a sparse matrix would add them up)."""
    order = np.lexsort((v, c, r))
    r, c, v = r[order], c[order], v[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return r[first], c[first], v[first]


def _cut_tunnels(
    net: TunnelNetwork, blocked: Sequence[Span], closed: NDArray[np.bool_] | None
) -> NDArray[np.bool_]:
    cut = (
        np.zeros(len(net.tunnel_ids), dtype=bool)
        if closed is None
        else np.array(closed, dtype=bool)
    )
    for span in blocked:
        cut[net.index[span.tunnel]] = True
    return cut


def _open(
    blocked: Sequence[Span],
    closed: NDArray[np.bool_] | None,
    net: TunnelNetwork,
    t: int,
    lo: float,
    hi: float,
) -> bool:
    """Whether the stretch [lo, hi] of tunnel ``t`` can be walked."""
    if closed is not None and closed[t]:
        return False
    lo, hi = min(lo, hi), max(lo, hi)
    name = net.tunnel_ids[t]
    return not any(b.tunnel == name and b.from_m < hi and b.to_m > lo for b in blocked)


@dataclass
class DistanceField:
    """Distances to the nearest target from every node, and routes there from any place."""

    net: TunnelNetwork
    targets: Sequence[Span]
    names: list[str] | None
    blocked: list[Span]
    closed: NDArray[np.bool_] | None
    node_dist: FloatArray
    pred: NDArray[np.int32]
    src_target: IntArray
    n_nodes: int

    def distances(self, tunnel: IntArray, offset: FloatArray) -> FloatArray:
        """Distance to the nearest target for many places at once (inf where none is open).

        Vectorised over places; loops only over the (few) targets and blocked stretches.
        """
        t = np.asarray(tunnel, dtype=np.intp)
        s = np.asarray(offset, dtype=np.float64)
        length = self.net.lengths[t]
        can_from = np.ones(len(t), dtype=bool)
        can_to = np.ones(len(t), dtype=bool)
        if self.closed is not None:
            can_from &= ~self.closed[t]
            can_to &= ~self.closed[t]
        for b in self.blocked:
            on = t == self.net.index[b.tunnel]
            can_from &= ~(on & (b.from_m < s) & (b.to_m > 0))
            can_to &= ~(on & (b.from_m < length) & (b.to_m > s))
        via_from = np.where(can_from, s + self.node_dist[self.net.t_from[t]], np.inf)
        via_to = np.where(can_to, length - s + self.node_dist[self.net.t_to[t]], np.inf)
        best = np.minimum(via_from, via_to)
        for span in self.targets:
            on = t == self.net.index[span.tunnel]
            if not on.any():
                continue
            end = np.clip(s, span.from_m, span.to_m)
            lo, hi = np.minimum(s, end), np.maximum(s, end)
            ok = on.copy()
            if self.closed is not None:
                ok &= ~self.closed[t]
            for b in self.blocked:
                if b.tunnel == span.tunnel:
                    ok &= ~((b.from_m < hi) & (b.to_m > lo))
            best = np.where(ok, np.minimum(best, np.abs(s - end)), best)
        return best

    def route(self, tunnel: int, offset: float) -> Route | None:
        """Shortest open route from a place to the nearest target, or None."""
        length, how = self._best(tunnel, offset)
        if not np.isfinite(length):
            return None
        name = self.net.tunnel_ids[tunnel]
        if how[0] == "direct":
            k = int(how[1])
            span = self.targets[k]
            end = min(max(offset, span.from_m), span.to_m)
            return Route(length, (Leg(name, offset, end),), self._label(k))
        node = int(how[1])
        legs = [Leg(name, offset, 0.0 if how[0] == "from" else float(self.net.lengths[tunnel]))]
        more, k = self._walk(node)
        return Route(length, tuple(x for x in (*legs, *more) if x.length_m > 0), self._label(k))

    def _label(self, k: int) -> str | None:
        return self.names[k] if self.names else None

    def _best(self, t: int, s: float) -> tuple[float, tuple[str, int]]:
        best: tuple[float, tuple[str, int]] = (float("inf"), ("none", -1))
        name = self.net.tunnel_ids[t]
        for k, span in enumerate(self.targets):
            if span.tunnel == name:
                end = min(max(s, span.from_m), span.to_m)
                d = abs(s - end)
                if d < best[0] and _open(self.blocked, self.closed, self.net, t, s, end):
                    best = (d, ("direct", k))
        length = float(self.net.lengths[t])
        ends = (("from", self.net.t_from[t], s, 0.0), ("to", self.net.t_to[t], length - s, length))
        for end_name, node, d_end, end_at in ends:
            total = d_end + float(self.node_dist[node])
            if total < best[0] and _open(self.blocked, self.closed, self.net, t, s, end_at):
                best = (total, (end_name, int(node)))
        return best

    def _walk(self, node: int) -> tuple[list[Leg], int]:
        """Legs from ``node`` along the predecessor chain to a target; and that target's index."""
        legs: list[Leg] = []
        lengths = self.net.lengths
        while True:
            nxt = int(self.pred[node])
            if nxt >= self.n_nodes or nxt == _NO_PRED or nxt < 0:
                k = int(self.src_target[nxt - self.n_nodes]) if nxt >= self.n_nodes else -1
                span = self.targets[k]
                t = self.net.index[span.tunnel]
                at = span.from_m if self.net.t_from[t] == node else span.to_m
                start = 0.0 if self.net.t_from[t] == node else float(lengths[t])
                legs.append(Leg(span.tunnel, start, at))
                return legs, k
            t = self._edge(node, nxt)
            forward = self.net.t_from[t] == node
            legs.append(
                Leg(
                    self.net.tunnel_ids[t],
                    0.0 if forward else float(lengths[t]),
                    float(lengths[t]) if forward else 0.0,
                )
            )
            node = nxt

    def _edge(self, u: int, v: int) -> int:
        """The shortest open tunnel joining nodes u and v."""
        best, best_len = -1, float("inf")
        for t, _end in self.net.incident(u):
            other = self.net.t_to[t] if self.net.t_from[t] == u else self.net.t_from[t]
            if (
                other == v
                and self.net.lengths[t] < best_len
                and _open(self.blocked, self.closed, self.net, t, 0.0, float(self.net.lengths[t]))
            ):
                best, best_len = t, float(self.net.lengths[t])
        return best
