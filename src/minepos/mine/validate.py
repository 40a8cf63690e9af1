"""Cross-reference checks of a mine file whose shape pydantic has accepted.

Every problem is reported as ``path: message`` with the path in the file's own terms
(``tunnels[3].to``), so a surveyor can find it; all problems are collected, none stops the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
from pydantic import ValidationError

from minepos.mine.geometry import TunnelGeometry
from minepos.mine.schema import (
    AnchorAtOffset,
    AnchorAtXyz,
    AnchorSpec,
    LevelSpec,
    MineFile,
    MineInfo,
    NodeSpec,
    PersonSpec,
    TunnelSpec,
    ZoneSpec,
)

__all__ = [
    "END_TOLERANCE_M",
    "MAX_SNAP_M",
    "MIN_TUNNEL_M",
    "Context",
    "format_pydantic_errors",
    "partial_spec",
    "problems_of",
]

#: tunnels shorter than this are survey mistakes (two nodes on top of each other)
MIN_TUNNEL_M = 0.01
#: an anchor given by xyz further than this from every tunnel is almost surely mistyped
MAX_SNAP_M = 50.0
#: offsets up to this far past a tunnel's end are survey rounding and taken as the end
END_TOLERANCE_M = 1.0


def format_pydantic_errors(exc: ValidationError) -> list[str]:
    """Turn pydantic's errors into ``path: message`` lines in the file's own terms."""
    lines = []
    for err in exc.errors():
        path = _path(err["loc"])
        msg = err["msg"]
        kind, ctx = err["type"], err.get("ctx") or {}
        if kind == "extra_forbidden":
            msg = "unknown field"
        elif kind == "missing":
            msg = "required field is missing"
        elif kind == "literal_error":
            msg = f"{err['input']!r} is not one of {ctx.get('expected', '')}"
        elif kind == "too_short":
            msg = f"needs at least {ctx.get('min_length', 1)} item(s)"
        lines.append(f"{path}: {msg}" if path else msg)
    return lines


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("AnchorAtOffset", "AnchorAtXyz", "tuple[float, float, float]"):
            continue  # union branch names mean nothing to a surveyor
        else:
            out += ("." if out else "") + ("from" if part == "from_" else str(part))
    return out


T = TypeVar("T")
_SECTIONS: dict[str, type[Any]] = {
    "levels": LevelSpec,
    "nodes": NodeSpec,
    "tunnels": TunnelSpec,
    "zones": ZoneSpec,
    "anchors": AnchorSpec,
    "people": PersonSpec,
}


class Context:
    """Where each checked item stood in the file, and ids of items that failed their own checks.

    When some items are malformed, the rest is still cross-checked; references to a malformed
    item's id are not reported again as unknown.
    """

    def __init__(
        self, index: dict[str, list[int]] | None = None, broken: dict[str, set[str]] | None = None
    ) -> None:
        self.index = index or {}
        self.broken = broken or {}
        self.partial = bool(broken and any(broken.values())) or index is not None

    def items(self, section: str, items: Sequence[T]) -> Iterator[tuple[int, T]]:
        """Items with their index in the original file."""
        idx = self.index.get(section)
        return zip(idx, items, strict=True) if idx is not None else enumerate(items)

    def known(self, section: str, ids: Iterable[str]) -> set[str]:
        """Ids that count as defined (good items plus malformed items that had an id)."""
        return set(ids) | self.broken.get(section, set())


def partial_spec(data: dict[str, Any]) -> tuple[MineFile, Context]:
    """The items of a file that are well-formed on their own, to cross-check the rest."""
    kept: dict[str, list[Any]] = {k: [] for k in _SECTIONS}
    index: dict[str, list[int]] = {k: [] for k in _SECTIONS}
    broken: dict[str, set[str]] = {k: set() for k in _SECTIONS}
    for key, model in _SECTIONS.items():
        items = data.get(key)
        for i, item in enumerate(items if isinstance(items, list) else []):
            try:
                kept[key].append(model.model_validate(item))
                index[key].append(i)
            except ValidationError:
                if isinstance(item, dict) and isinstance(item.get("id"), str | int):
                    broken[key].add(str(item["id"]))
    try:
        info = MineInfo.model_validate(data.get("mine"))
    except ValidationError:
        info = MineInfo(id="unknown", name="unknown")
    fields: dict[str, Any] = {k: tuple(v) for k, v in kept.items()}
    spec = MineFile.model_construct(mine=info, **fields)
    return spec, Context(index, broken)


def problems_of(spec: MineFile, ctx: Context | None = None) -> list[str]:
    """Every cross-reference problem of a shape-valid mine file (empty when the file is good)."""
    ctx = ctx or Context()
    problems = _duplicates(spec, ctx)
    node_xyz = {n.id: np.array(n.xyz, dtype=float) for n in spec.nodes}
    levels = ctx.known("levels", (lv.id for lv in spec.levels))
    known_nodes = ctx.known("nodes", node_xyz)
    lengths: dict[str, float] = {}
    for i, t in ctx.items("tunnels", spec.tunnels):
        for field, node in (("from", t.from_), ("to", t.to)):
            if node not in known_nodes:
                problems.append(f"tunnels[{i}].{field}: unknown node '{node}'")
        if t.level is not None and t.level not in levels:
            problems.append(f"tunnels[{i}].level: unknown level '{t.level}'")
        if t.from_ in node_xyz and t.to in node_xyz:
            pts = np.vstack([node_xyz[t.from_], *map(np.asarray, t.via), node_xyz[t.to]])
            length = float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())
            if length < MIN_TUNNEL_M:
                problems.append(f"tunnels[{i}]: zero-length tunnel '{t.id}'")
            else:
                lengths[t.id] = length
    problems += _zone_problems(spec, lengths, ctx)
    problems += _anchor_problems(spec, lengths, node_xyz, ctx)
    if not ctx.partial:  # with malformed tunnels or nodes, an empty level may be a consequence
        problems += _level_problems(spec, node_xyz)
    return problems


def _duplicates(spec: MineFile, ctx: Context) -> list[str]:
    problems = []
    groups: Iterable[tuple[str, Sequence[str]]] = (
        ("levels", [x.id for x in spec.levels]),
        ("nodes", [x.id for x in spec.nodes]),
        ("tunnels", [x.id for x in spec.tunnels]),
        ("zones", [x.id for x in spec.zones]),
        ("anchors", [x.id for x in spec.anchors]),
        ("people", [x.id for x in spec.people]),
    )
    for name, ids in groups:
        problems += _dupes(name, "id", ids, ctx)
    problems += _dupes("people", "tag", [p.tag for p in spec.people], ctx)
    return problems


def _dupes(group: str, field: str, values: Sequence[str], ctx: Context) -> list[str]:
    counts = Counter(values)
    seen: set[str] = set()
    out = []
    for i, v in ctx.items(group, values):
        if counts[v] > 1 and v in seen:
            out.append(f"{group}[{i}].{field}: duplicate {field} '{v}'")
        seen.add(v)
    return out


def _zone_problems(spec: MineFile, lengths: dict[str, float], ctx: Context) -> list[str]:
    problems = []
    tunnels = ctx.known("tunnels", (t.id for t in spec.tunnels))
    for i, z in ctx.items("zones", spec.zones):
        for j, span in enumerate(z.spans):
            where = f"zones[{i}].spans[{j}]"
            if span.tunnel not in tunnels:
                problems.append(f"{where}.tunnel: unknown tunnel '{span.tunnel}'")
                continue
            if span.from_m > span.to_m:
                problems.append(f"{where}: from_m {span.from_m:g} is after to_m {span.to_m:g}")
            length = lengths.get(span.tunnel)
            if length is not None and span.to_m > length + END_TOLERANCE_M:
                problems.append(
                    f"{where}.to_m: {span.to_m:g} m is past the end of tunnel "
                    f"'{span.tunnel}' ({length:.2f} m long)"
                )
    return problems


def _anchor_problems(
    spec: MineFile, lengths: dict[str, float], node_xyz: dict[str, np.ndarray], ctx: Context
) -> list[str]:
    problems = []
    tunnels = ctx.known("tunnels", (t.id for t in spec.tunnels))
    by_xyz: list[tuple[int, np.ndarray]] = []
    for i, a in ctx.items("anchors", spec.anchors):
        if isinstance(a.at, AnchorAtOffset):
            if a.at.tunnel not in tunnels:
                problems.append(f"anchors[{i}].at.tunnel: unknown tunnel '{a.at.tunnel}'")
                continue
            length = lengths.get(a.at.tunnel)
            if length is not None and not 0 <= a.at.offset_m <= length + END_TOLERANCE_M:
                problems.append(
                    f"anchors[{i}].at.offset_m: {a.at.offset_m:g} m is off tunnel "
                    f"'{a.at.tunnel}' (0 to {length:.2f} m)"
                )
        elif isinstance(a.at, AnchorAtXyz):
            by_xyz.append((i, np.array(a.at.xyz, dtype=float)))
    if by_xyz and lengths:
        polylines = [
            np.vstack([node_xyz[t.from_], *map(np.asarray, t.via), node_xyz[t.to]])
            for t in spec.tunnels
            if t.id in lengths and t.from_ in node_xyz and t.to in node_xyz
        ]
        _, _, dist = TunnelGeometry(polylines).project(np.array([p for _, p in by_xyz]))
        for (i, _), d in zip(by_xyz, dist, strict=True):
            if d > MAX_SNAP_M:
                problems.append(
                    f"anchors[{i}].at.xyz: {d:.0f} m from the nearest tunnel "
                    f"(at most {MAX_SNAP_M:g} m)"
                )
    return problems


def _level_problems(spec: MineFile, node_xyz: dict[str, np.ndarray]) -> list[str]:
    """A level that no tunnel touches is almost always a typo in its z or a missing tunnel."""
    zs = np.array([lv.z for lv in spec.levels])
    used: set[int] = set()
    ids = [lv.id for lv in spec.levels]
    for t in spec.tunnels:
        if t.level is not None:
            if t.level in ids:
                used.add(ids.index(t.level))
            continue
        pts = [node_xyz[n] for n in (t.from_, t.to) if n in node_xyz]
        for p in [*pts, *map(np.asarray, t.via)]:
            used.add(int(np.argmin(np.abs(zs - p[2]))))
    return [
        f"levels[{i}]: level '{lv.id}' (z {lv.z:g}) has no tunnels"
        for i, lv in enumerate(spec.levels)
        if i not in used
    ]
