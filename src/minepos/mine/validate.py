"""Cross-reference checks of a mine file whose shape pydantic has accepted.

Every problem is reported as ``path: message`` with the path in the file's own terms
(``tunnels[3].to``), so a surveyor can find it; all problems are collected, none stops the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from pydantic import ValidationError

from minepos.mine.geometry import TunnelGeometry
from minepos.mine.schema import AnchorAtOffset, AnchorAtXyz, MineFile

__all__ = ["END_TOLERANCE_M", "MAX_SNAP_M", "MIN_TUNNEL_M", "format_pydantic_errors", "problems_of"]

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
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required field is missing"
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


def problems_of(spec: MineFile) -> list[str]:
    """Every cross-reference problem of a shape-valid mine file (empty when the file is good)."""
    problems = _duplicates(spec)
    node_xyz = {n.id: np.array(n.xyz, dtype=float) for n in spec.nodes}
    levels = {lv.id for lv in spec.levels}
    lengths: dict[str, float] = {}
    for i, t in enumerate(spec.tunnels):
        for field, node in (("from", t.from_), ("to", t.to)):
            if node not in node_xyz:
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
    problems += _zone_problems(spec, lengths)
    problems += _anchor_problems(spec, lengths, node_xyz)
    problems += _level_problems(spec, node_xyz)
    return problems


def _duplicates(spec: MineFile) -> list[str]:
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
        problems += _dupes(name, "id", ids)
    problems += _dupes("people", "tag", [p.tag for p in spec.people])
    return problems


def _dupes(group: str, field: str, values: Sequence[str]) -> list[str]:
    counts = Counter(values)
    seen: set[str] = set()
    out = []
    for i, v in enumerate(values):
        if counts[v] > 1 and v in seen:
            out.append(f"{group}[{i}].{field}: duplicate {field} '{v}'")
        seen.add(v)
    return out


def _zone_problems(spec: MineFile, lengths: dict[str, float]) -> list[str]:
    problems = []
    tunnels = {t.id for t in spec.tunnels}
    for i, z in enumerate(spec.zones):
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
    spec: MineFile, lengths: dict[str, float], node_xyz: dict[str, np.ndarray]
) -> list[str]:
    problems = []
    tunnels = {t.id for t in spec.tunnels}
    by_xyz: list[tuple[int, np.ndarray]] = []
    for i, a in enumerate(spec.anchors):
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
            if t.id in lengths
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
        pts = [node_xyz[n] for n in (t.from_, t.to) if n in node_xyz] + [np.asarray(v) for v in t.via]
        for p in pts:
            used.add(int(np.argmin(np.abs(zs - p[2]))))
    return [
        f"levels[{i}]: level '{lv.id}' (z {lv.z:g}) has no tunnels"
        for i, lv in enumerate(spec.levels)
        if i not in used
    ]
