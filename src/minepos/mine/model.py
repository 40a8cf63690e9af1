"""The mine model: levels, nodes, tunnels (graph + geometry), zones and anchors, ready to query.

A `Mine` is built once from a validated `MineFile` and is read-only afterwards. Tunnels, zones,
levels and anchors are addressed by id in the public API and by integer index in the vectorised
one (``tunnel_index[id]``), which is what the engine uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from minepos.mine.geometry import TunnelGeometry
from minepos.mine.network import DistanceField, TunnelNetwork
from minepos.mine.places import Place, Route, Span
from minepos.mine.schema import AnchorAtOffset, MineFile, RulesSpec

__all__ = ["Anchor", "Level", "Mine", "Node", "Person", "Tunnel", "Zone"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Level:
    """A horizon."""

    id: str
    name: str
    z: float


@dataclass(frozen=True, slots=True)
class Node:
    """A junction, an end or a shaft landing."""

    id: str
    xyz: tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Tunnel:
    """A tunnel with its geometry; offsets run from ``from_node`` (0) to ``to_node`` (length)."""

    id: str
    kind: str
    from_node: str
    to_node: str
    length_m: float
    points: tuple[tuple[float, float, float], ...]
    cage: bool | None = None


@dataclass(frozen=True, slots=True)
class Zone:
    """A named set of tunnel stretches."""

    id: str
    name: str
    kind: str
    spans: tuple[Span, ...]
    max_occupancy: int | None = None
    allowed_roles: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Anchor:
    """A reader or anchor: where it sits on the network and where it is in space."""

    id: str
    tech: str
    tunnel: str
    offset_m: float
    xyz: tuple[float, float, float]
    range_m: float | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A person and the tag they carry."""

    id: str
    name: str
    role: str
    tag: str


class Mine:
    """A loaded mine: everything the rest of minepos asks of the mine's layout."""

    def __init__(self, spec: MineFile) -> None:
        self.spec = spec
        self.id, self.name, self.timezone = spec.mine.id, spec.mine.name, spec.mine.timezone
        self.rules: RulesSpec = spec.rules
        self.levels = [Level(lv.id, lv.name, lv.z) for lv in spec.levels]
        self.nodes = [Node(n.id, n.xyz) for n in spec.nodes]
        self.node_index = {n.id: i for i, n in enumerate(self.nodes)}
        polylines = [self._polyline(t.from_, t.via, t.to) for t in spec.tunnels]
        self.geometry = TunnelGeometry(polylines)
        self.tunnels = [
            Tunnel(
                t.id,
                t.kind,
                t.from_,
                t.to,
                float(self.geometry.lengths[i]),
                tuple((float(p[0]), float(p[1]), float(p[2])) for p in polylines[i]),
                t.cage,
            )
            for i, t in enumerate(spec.tunnels)
        ]
        self.tunnel_index = {t.id: i for i, t in enumerate(self.tunnels)}
        self.network = TunnelNetwork(
            [t.id for t in self.tunnels],
            np.array([self.node_index[t.from_node] for t in self.tunnels], dtype=np.intp),
            np.array([self.node_index[t.to_node] for t in self.tunnels], dtype=np.intp),
            self.geometry.lengths,
            len(self.nodes),
        )
        self.zones = [
            Zone(
                z.id,
                z.name,
                z.kind,
                tuple(self._clipped(s.tunnel, s.from_m, s.to_m) for s in z.spans),
                z.max_occupancy,
                z.allowed_roles,
            )
            for z in spec.zones
        ]
        self.zone_index = {z.id: i for i, z in enumerate(self.zones)}
        self._init_spans()
        self._init_levels(spec)
        self.anchors = self._place_anchors(spec)
        self.anchor_index = {a.id: i for i, a in enumerate(self.anchors)}
        self.people = [Person(p.id, p.name, p.role, p.tag) for p in spec.people]

    def _polyline(self, a: str, via: tuple[tuple[float, float, float], ...], b: str) -> FloatArray:
        ends = [self.nodes[self.node_index[a]].xyz, *via, self.nodes[self.node_index[b]].xyz]
        return np.asarray(ends, dtype=np.float64)

    def _clipped(self, tunnel: str, from_m: float, to_m: float) -> Span:
        """A span with survey rounding past the tunnel's end taken back to the end."""
        length = float(self.geometry.lengths[self.tunnel_index[tunnel]])
        return Span(tunnel, min(from_m, length), min(to_m, length))

    def _init_spans(self) -> None:
        spans = [
            (self.tunnel_index[s.tunnel], s.from_m, s.to_m, k)
            for k, z in enumerate(self.zones)
            for s in z.spans
        ]
        arr = np.array(spans, dtype=np.float64).reshape(-1, 4)
        self._span_tunnel = arr[:, 0].astype(np.intp)
        self._span_lo, self._span_hi = arr[:, 1], arr[:, 2]
        self._span_zone = arr[:, 3].astype(np.intp)

    def _init_levels(self, spec: MineFile) -> None:
        self._level_z = np.array([lv.z for lv in self.levels])
        ids = [lv.id for lv in self.levels]
        # -1: the level follows the point's elevation (shafts, ramps); else fixed by the file
        self._tunnel_level = np.array(
            [ids.index(t.level) if t.level is not None else -1 for t in spec.tunnels], dtype=np.intp
        )

    def _place_anchors(self, spec: MineFile) -> list[Anchor]:
        out: list[Anchor] = []
        by_xyz = [a for a in spec.anchors if not isinstance(a.at, AnchorAtOffset)]
        if by_xyz:
            xyz = np.array([a.at.xyz for a in by_xyz])  # type: ignore[union-attr]
            t_idx, offs, _ = self.geometry.project(xyz)
            snapped = {
                a.id: (int(t), float(o)) for a, t, o in zip(by_xyz, t_idx, offs, strict=True)
            }
        for a in spec.anchors:
            if isinstance(a.at, AnchorAtOffset):
                t = self.tunnel_index[a.at.tunnel]
                off = min(max(a.at.offset_m, 0.0), self.tunnels[t].length_m)
                xyz3 = tuple(map(float, self.point_at_one(a.at.tunnel, off)))
            else:
                t, off = snapped[a.id]
                xyz3 = tuple(map(float, a.at.xyz))
            out.append(Anchor(a.id, a.tech, self.tunnels[t].id, off, xyz3, a.range_m))  # type: ignore[arg-type]
        return out

    # -- geometry ----------------------------------------------------------------------------
    @property
    def total_length_m(self) -> float:
        """Sum of all tunnel lengths."""
        return float(self.geometry.lengths.sum())

    def point_at(self, tunnel: IntArray, offset: FloatArray) -> FloatArray:
        """xyz ``(N, 3)`` of places given as tunnel indices and offsets ``(N,)``."""
        return self.geometry.point_at(tunnel, offset)

    def point_at_one(self, tunnel: str, offset_m: float) -> FloatArray:
        """xyz of one place."""
        pts = self.geometry.point_at(np.array([self.tunnel_index[tunnel]]), np.array([offset_m]))
        return np.asarray(pts[0], dtype=np.float64)

    def project(self, xyz: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
        """Nearest (tunnel index, offset, distance) for each point of ``xyz`` ``(N, 3)``."""
        return self.geometry.project(xyz)

    def project_one(self, xyz: tuple[float, float, float]) -> Place:
        """Nearest place of the network to one point."""
        t, o, _ = self.geometry.project(np.array([xyz], dtype=np.float64))
        return Place(self.tunnels[int(t[0])].id, float(o[0]))

    # -- zones and levels --------------------------------------------------------------------
    def zone_mask(self, tunnel: IntArray, offset: FloatArray) -> BoolArray:
        """``(N, n_zones)``: whether each place lies in each zone (zones may overlap)."""
        tunnel = np.asarray(tunnel, dtype=np.intp)
        offset = np.asarray(offset, dtype=np.float64)
        inside = (
            (tunnel[:, None] == self._span_tunnel[None, :])
            & (offset[:, None] >= self._span_lo[None, :])
            & (offset[:, None] <= self._span_hi[None, :])
        )
        out = np.zeros((len(tunnel), len(self.zones)), dtype=bool)
        rows, cols = np.nonzero(inside)
        out[rows, self._span_zone[cols]] = True
        return out

    def zones_at(self, tunnel: str, offset_m: float) -> list[str]:
        """Ids of the zones containing one place."""
        mask = self.zone_mask(np.array([self.tunnel_index[tunnel]]), np.array([offset_m]))[0]
        return [self.zones[k].id for k in np.flatnonzero(mask)]

    def level_index_at(self, tunnel: IntArray, offset: FloatArray) -> IntArray:
        """Level index of each place: the tunnel's own level, else the level nearest in height."""
        tunnel = np.asarray(tunnel, dtype=np.intp)
        z = self.point_at(tunnel, offset)[:, 2]
        nearest = np.argmin(np.abs(z[:, None] - self._level_z[None, :]), axis=1)
        fixed = self._tunnel_level[tunnel]
        return np.where(fixed >= 0, fixed, nearest)

    def level_at(self, tunnel: str, offset_m: float) -> str:
        """Id of the level of one place."""
        idx = self.level_index_at(np.array([self.tunnel_index[tunnel]]), np.array([offset_m]))
        return self.levels[int(idx[0])].id

    # -- graph -------------------------------------------------------------------------------
    def junction(self, node: str) -> list[tuple[str, str]]:
        """Tunnels meeting at a node, with the end (``"from"``/``"to"``) that touches it."""
        return [
            (self.tunnels[t].id, end) for t, end in self.network.incident(self.node_index[node])
        ]

    def distance(self, a: Place, b: Place) -> float:
        """Along-the-tunnels distance between two places (inf where they are not connected)."""
        return self.network.distance(
            (self.tunnel_index[a.tunnel], a.offset_m), (self.tunnel_index[b.tunnel], b.offset_m)
        )

    def route(self, a: Place, b: Place, blocked: tuple[Span, ...] = ()) -> Route | None:
        """Shortest open route between two places, avoiding ``blocked`` stretches."""
        return self.network.route(
            (self.tunnel_index[a.tunnel], a.offset_m),
            (self.tunnel_index[b.tunnel], b.offset_m),
            blocked,
        )

    def field_to(
        self, kind: str, blocked: tuple[Span, ...] = (), closed: BoolArray | None = None
    ) -> DistanceField:
        """Distance field to the nearest zone of ``kind`` (``exit``, ``refuge``, ...)."""
        zones = [z for z in self.zones if z.kind == kind]
        spans = [s for z in zones for s in z.spans]
        names = [z.id for z in zones for _ in z.spans]
        return self.network.field(spans, blocked, closed, names)

    def nearest(self, place: Place, kind: str, blocked: tuple[Span, ...] = ()) -> Route | None:
        """Shortest open route from a place to the nearest zone of ``kind``, or None."""
        return self.field_to(kind, blocked).route(self.tunnel_index[place.tunnel], place.offset_m)
