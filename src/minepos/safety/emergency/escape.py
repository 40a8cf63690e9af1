"""Escape routes: the shortest open way from every person to the nearest exit and refuge chamber.

Two distance fields (one to the exit zones, one to the refuge zones) are built once per set of
blocked stretches; each answers the distance for thousands of places in one vectorised call.
Shafts count as closed unless the mine file says a cage runs in them (``cage: true``): nobody
climbs a 320 m shaft, and a shaft with an unknown or no cage is no way out. A dispatcher who
learns that a cage is out of service blocks the shaft with cause ``cage``.

Routes (the legs to walk) are built per person without a graph search each: a person on a tunnel
with no target and no blocked stretch on it leaves by one of its two ends, and from an end node
the route is the same for everyone, so it is built once per tunnel end and cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from minepos.mine import Leg, Mine, Route, Span
from minepos.mine.network import DistanceField

__all__ = ["ESCAPE_KINDS", "EscapeFields", "closed_shafts", "route_dict"]

#: The zone kinds people are routed to.
ESCAPE_KINDS = ("exit", "refuge")

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def closed_shafts(mine: Mine) -> NDArray[np.bool_]:
    """Per tunnel: True for a shaft without a running cage (not an escape way)."""
    return np.array([t.kind == "shaft" and t.cage is not True for t in mine.tunnels], dtype=bool)


def route_dict(route: Route | None) -> dict[str, Any] | None:
    """JSON form of a route (None stays None: no open route)."""
    if route is None:
        return None
    return {
        "target": route.target,
        "length_m": round(route.length_m, 1),
        "legs": [
            {"tunnel": leg.tunnel, "from_m": round(leg.from_m, 1), "to_m": round(leg.to_m, 1)}
            for leg in route.legs
        ],
    }


def _leg_dict(leg: Leg) -> dict[str, Any]:
    return {"tunnel": leg.tunnel, "from_m": round(leg.from_m, 1), "to_m": round(leg.to_m, 1)}


@dataclass
class _RouteCache:
    """Per kind: which tunnels need a search per person, and routes from nodes, cached."""

    fld: DistanceField
    simple: NDArray[np.bool_]  # open end to end, no target on it
    has_target: NDArray[np.bool_]
    nodes: dict[int, tuple[str | None, list[dict[str, Any]]] | None] = field(default_factory=dict)


class EscapeFields:
    """Distance fields to exits and refuges for one set of blocked stretches."""

    def __init__(self, mine: Mine, blocked: Sequence[Span] = ()) -> None:
        self.mine = mine
        self.blocked = tuple(blocked)
        self.closed = closed_shafts(mine)
        self.fields = {k: mine.field_to(k, self.blocked, self.closed) for k in ESCAPE_KINDS}
        self._caches = {k: self._cache(f) for k, f in self.fields.items()}

    def _cache(self, fld: DistanceField) -> _RouteCache:
        has_target = np.zeros(len(self.mine.tunnels), dtype=bool)
        for span in fld.targets:
            has_target[self.mine.tunnel_index[span.tunnel]] = True
        simple = ~self.closed & ~has_target
        for span in self.blocked:
            simple[self.mine.tunnel_index[span.tunnel]] = False
        return _RouteCache(fld, simple, has_target)

    def distances(self, kind: str, tunnel: IntArray, offset: FloatArray) -> FloatArray:
        """Along-the-tunnels distance to the nearest open zone of ``kind`` (inf: none open)."""
        return self.fields[kind].distances(tunnel, offset)

    def routes(self, kind: str, tunnel: IntArray, offset: FloatArray) -> list[Route | None]:
        """The shortest open route for each place (None where none is open)."""
        fld = self.fields[kind]
        return [fld.route(int(t), float(s)) for t, s in zip(tunnel, offset, strict=True)]

    def _ends(self, t: IntArray, s: FloatArray) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Whether each place can walk to its tunnel's from end and to its to end."""
        can_from = ~self.closed[t]
        can_to = can_from.copy()
        length = self.mine.network.lengths[t]
        for b in self.blocked:
            on = t == self.mine.tunnel_index[b.tunnel]
            can_from &= ~(on & (b.from_m < s) & (b.to_m > 0))
            can_to &= ~(on & (b.to_m > s) & (b.from_m < length))
        return can_from, can_to

    def route_dicts(
        self, kind: str, tunnel: IntArray, offset: FloatArray
    ) -> list[dict[str, Any] | None]:
        """`route_dict` of the shortest open route for each place, for thousands at once.

        A place on a tunnel without a target leaves by one of the tunnel's ends (chosen
        vectorised, as `DistanceField.distances` does); the rest of its route is the route
        from that end node, built once per node. Places on tunnels holding a target are
        searched one by one.
        """
        cache = self._caches[kind]
        net = self.mine.network
        t = np.asarray(tunnel, dtype=np.intp)
        s = np.asarray(offset, dtype=np.float64)
        length = net.lengths[t]
        can_from, can_to = self._ends(t, s)
        via_from = np.where(can_from, s + cache.fld.node_dist[net.t_from[t]], np.inf)
        via_to = np.where(can_to, length - s + cache.fld.node_dist[net.t_to[t]], np.inf)
        to_end = via_to < via_from
        node = np.where(to_end, net.t_to[t], net.t_from[t]).tolist()
        best = np.minimum(via_from, via_to).tolist()
        end_at = np.where(to_end, length, 0.0).tolist()
        search = cache.has_target[t].tolist()
        names = [self.mine.tunnels[i].id for i in t.tolist()]
        out: list[dict[str, Any] | None] = []
        for i, (ti, si) in enumerate(zip(t.tolist(), s.tolist(), strict=True)):
            tail = None if search[i] or best[i] == np.inf else self._node_route(cache, node[i])
            if tail is None:
                out.append(
                    None
                    if best[i] == np.inf and not search[i]
                    else route_dict(cache.fld.route(ti, si))
                )
                continue
            first = {"tunnel": names[i], "from_m": round(si, 1), "to_m": round(end_at[i], 1)}
            legs = [first, *tail[1]] if si != end_at[i] else list(tail[1])
            out.append({"target": tail[0], "length_m": round(best[i], 1), "legs": legs})
        return out

    def _node_route(
        self, cache: _RouteCache, node: int
    ) -> tuple[str | None, list[dict[str, Any]]] | None:
        """Target and legs of the route from ``node``, probed from a simple tunnel ending there.

        On a simple tunnel the route from its end is the route from the node (the other end is
        never nearer); None where no simple tunnel ends at the node (then search per person).
        """
        if node in cache.nodes:
            return cache.nodes[node]
        found = None
        net = self.mine.network
        for t, end in net.incident(node):
            if cache.simple[t]:
                r = cache.fld.route(t, 0.0 if end == "from" else float(net.lengths[t]))
                if r is not None:
                    found = (r.target, [_leg_dict(leg) for leg in r.legs])
                break
        cache.nodes[node] = found
        return found
