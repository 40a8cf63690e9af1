"""DXF import: a surveyor's plan (lines and polylines on layers) becomes a mine file.

`import_dxf` reads the plan (`dxf_read`), builds the tunnel graph (`dxf_graph`), groups the
elevations into levels, names everything and checks the result with the same checks as
``minepos mine check``; `register` adds ``minepos import-dxf`` to the command line.
See docs/dxf.md for the surveyor's side.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
import yaml
from numpy.typing import NDArray

from minepos.errors import InputError
from minepos.mine.dxf_graph import TunnelGraph, build_graph
from minepos.mine.dxf_levels import assign_levels
from minepos.mine.dxf_read import (
    UNIT_FACTORS,
    LayerMap,
    PlanLines,
    parse_elevations,
    parse_layer_map,
    read_plan,
    safe_id,
)
from minepos.mine.loader import parse_mine_file
from minepos.mine.schema import ANCHOR_TECHS, TUNNEL_KINDS
from minepos.mine.validate import MIN_TUNNEL_M

__all__ = ["DxfImport", "DxfOptions", "import_dxf", "import_dxf_command", "register", "to_yaml"]

FloatArray = NDArray[np.float64]

#: a segment whose run is at most this fraction of its rise is vertical: a shaft, whatever its layer
STEEP_RUN_PER_RISE = 0.1
#: plans wider than this (metres) or smaller than that are almost surely in the wrong units
MAX_PLAN_M = 50_000.0
MIN_PLAN_M = 5.0
#: length of tunnel at a collar or portal that an exit zone covers
EXIT_ZONE_M = 5.0
_SHAFT = TUNNEL_KINDS.index("shaft")
_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


@dataclass(frozen=True)
class DxfOptions:
    """How to read a plan; the defaults suit a plan drawn in metres with 0.5 m drafting slack."""

    layers: LayerMap | None = None
    snap_m: float = 0.5
    level_gap_m: float = 15.0
    units: str = "auto"
    mine_id: str | None = None
    name: str | None = None
    timezone: str = "UTC"
    anchors_layer: str | None = None
    anchor_tech: str = "uwb"
    elevations: tuple[tuple[str, float], ...] = ()
    exits: bool = False


@dataclass
class DxfImport:
    """The mine file (a dict in CONTRACT section 1 form, already checked) and notes for the user."""

    data: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def import_dxf(path: str | Path, options: DxfOptions | None = None) -> DxfImport:
    """Turn a DXF plan into a checked mine file; raise `InputError` saying what is wrong."""
    opts = options or DxfOptions()
    if not opts.snap_m >= MIN_TUNNEL_M:
        raise InputError(f"the snap tolerance must be at least {MIN_TUNNEL_M:g} m")
    path = Path(path)
    lines = read_plan(path, opts.layers, opts.units, opts.anchors_layer, opts.elevations)
    notes = list(lines.notes)
    if len(lines.ends) == 0:
        raise InputError(
            f"{path}: no tunnels: no lines or polylines on the imported layers\n" + "\n".join(notes)
        )
    ends, style_kind, style = _styles(lines)
    graph = build_graph(ends, style, opts.snap_m) if len(ends) else None
    if graph is None or not graph.chains:
        raise InputError(
            f"{path}: no tunnels: every line is shorter than --snap "
            f"{opts.snap_m:g} m\n" + "\n".join(notes)
        )
    data = _mine_dict(path, opts, graph, style_kind, lines)
    spec = parse_mine_file(data, f"{path} (imported)")
    kinds = Counter(t.kind for t in spec.tunnels)
    notes.append(
        f"mine {spec.mine.id}: {len(spec.levels)} levels "
        f"({', '.join(lv.id for lv in spec.levels)}), "
        f"{len(spec.nodes)} nodes, {len(spec.tunnels)} tunnels ("
        + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        + f") from {len(ends)} segments"
    )
    notes += _connectivity_warning(data, opts.snap_m) + _size_warning(ends)
    if opts.exits and not data.get("zones"):
        notes.append("warning: --exits: no dead end on a surface level, so no exit zones")
    return DxfImport(data, notes)


def _size_warning(ends: FloatArray) -> list[str]:
    """Units set wrong give plans a thousand times too big or too small: say so."""
    pts = ends.reshape(-1, 3)
    extent = float(np.max(np.ptp(pts, axis=0)))
    if extent > MAX_PLAN_M:
        return [
            f"warning: the plan is {extent / 1000:,.0f} km across; are the units right "
            "(--units mm, --units cm)?"
        ]
    if extent < MIN_PLAN_M:
        return [
            f"warning: the plan is only {extent:.2f} m across; are the units right "
            "(--units m, --units km)?"
        ]
    return []


def _connectivity_warning(data: dict[str, Any], snap: float) -> list[str]:
    """A plan in several pieces usually has a gap the snap did not close: say so."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    index = {n["id"]: i for i, n in enumerate(data["nodes"])}
    a = [index[t["from"]] for t in data["tunnels"]]
    b = [index[t["to"]] for t in data["tunnels"]]
    m = len(index)
    n_parts, part = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(m, m)))
    if n_parts == 1:
        return []
    sizes = np.bincount(part)
    return [
        f"warning: the tunnels form {n_parts} separate networks (nodes in each: "
        + ", ".join(str(int(k)) for k in sorted(sizes, reverse=True)[:10])
        + f"); a gap wider than --snap {snap:g} m between lines that should meet?"
    ]


def _styles(lines: PlanLines) -> tuple[FloatArray, list[int], NDArray[np.intp]]:
    """Drop zero-length segments, make vertical ones shafts; number each (layer, kind) pair."""
    d = lines.ends[:, 1] - lines.ends[:, 0]
    keep = np.linalg.norm(d, axis=1) > 1e-9
    ends, d = lines.ends[keep], d[keep]
    kind = lines.kind[keep].copy()
    rise = np.abs(d[:, 2])
    run = np.hypot(d[:, 0], d[:, 1])
    kind[(run <= STEEP_RUN_PER_RISE * rise) & (rise > 0)] = _SHAFT
    pairs, style = np.unique(
        np.stack([lines.layer[keep], kind], axis=1), axis=0, return_inverse=True
    )
    return ends, [int(k) for k in pairs[:, 1]], style.reshape(-1)


def _mine_dict(
    path: Path, opts: DxfOptions, graph: TunnelGraph, style_kind: list[int], lines: PlanLines
) -> dict[str, Any]:
    xyz = graph.xyz
    tunnels: list[tuple[str, list[int]]] = []
    for chain in graph.chains:
        kind = TUNNEL_KINDS[style_kind[chain.style]]
        pts = list(chain.points)
        if kind == "shaft" and xyz[pts[0], 2] < xyz[pts[-1], 2]:
            pts.reverse()  # shafts run from the top down
        tunnels.append((kind, pts))
    node_ids: dict[int, str] = {}
    for _, pts in tunnels:
        for p in (pts[0], pts[-1]):
            node_ids.setdefault(p, f"n{len(node_ids) + 1}")
    levels, tunnel_level = assign_levels(xyz, tunnels, opts.level_gap_m)
    counts: Counter[str] = Counter()
    tunnel_rows = []
    for (kind, pts), level in zip(tunnels, tunnel_level, strict=True):
        counts[kind] += 1
        row: dict[str, Any] = {
            "id": f"{kind}{counts[kind]}",
            "from": node_ids[pts[0]],
            "to": node_ids[pts[-1]],
            "kind": kind,
        }
        if len(pts) > 2:
            row["via"] = [_xyz(xyz[p]) for p in pts[1:-1]]
        if level is not None:
            row["level"] = level
        tunnel_rows.append(row)
    data: dict[str, Any] = {
        "mine": {
            "id": opts.mine_id or safe_id(path.stem, "mine"),
            "name": opts.name or path.stem or "mine",
            "timezone": opts.timezone,
        },
        "levels": levels,
        "nodes": [{"id": nid, "xyz": _xyz(xyz[p])} for p, nid in node_ids.items()],
        "tunnels": tunnel_rows,
    }
    if opts.exits:
        ids = [row["id"] for row in tunnel_rows]
        data["zones"] = _exit_zones(xyz, tunnels, ids, levels)
    if lines.anchors:
        data["anchors"] = _anchors(lines, opts.anchor_tech)
    return data


def _exit_zones(
    xyz: FloatArray,
    tunnels: list[tuple[str, list[int]]],
    ids: list[str],
    levels: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Exit zones on the last ``EXIT_ZONE_M`` of every dead end on the surface level."""
    if levels[0]["id"] != "surface":
        return []
    level_z = np.array([lv["z"] for lv in levels])
    ends = Counter(p for _, pts in tunnels for p in (pts[0], pts[-1]))
    zones = []
    for (kind, pts), tid in zip(tunnels, ids, strict=True):
        length = float(np.linalg.norm(np.diff(xyz[pts], axis=0), axis=1).sum())
        span = min(EXIT_ZONE_M, length)
        for p, lo in ((pts[0], 0.0), (pts[-1], length - span)):
            if ends[p] == 1 and int(np.argmin(np.abs(level_z - xyz[p, 2]))) == 0:
                what = "collar" if kind == "shaft" else "portal"
                zones.append(
                    {
                        "id": f"exit_{tid}" + ("" if lo == 0.0 else "_end"),
                        "name": f"{tid} {what}",
                        "kind": "exit",
                        "spans": [
                            {"tunnel": tid, "from_m": round(lo, 3), "to_m": round(lo + span, 3)}
                        ],
                    }
                )
    return zones


def _anchors(lines: PlanLines, tech: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for k, anchor in enumerate(lines.anchors, start=1):
        aid = safe_id(anchor.name, f"a{k}") if anchor.name else f"a{k}"
        while aid in seen:
            aid = f"{aid}_{k}"
        seen.add(aid)
        out.append({"id": aid, "tech": tech, "at": {"xyz": list(map(_round, anchor.xyz))}})
    return out


def _xyz(p: FloatArray) -> list[float]:
    return [_round(float(c)) for c in p]


def _round(v: float) -> float:
    r = round(v, 3)
    return r + 0.0  # no "-0.0" in the file


def to_yaml(data: dict[str, Any]) -> str:
    """The mine file as YAML with one item per line, the way CONTRACT section 1 shows it."""
    out = []
    for key, value in data.items():
        if isinstance(value, list):
            out.append(f"{key}:")
            out += [f"  - {_flow(item)}" for item in value]
        else:
            out.append(f"{key}: {_flow(value)}")
    return "\n".join(out) + "\n"


def _flow(value: Any) -> str:
    text = yaml.safe_dump(
        value, default_flow_style=True, width=1 << 30, allow_unicode=True, sort_keys=False
    )
    return text.strip().removesuffix("...").strip()


# -- command line ----------------------------------------------------------------------------


def import_dxf_command(
    plan: Annotated[
        Path,
        typer.Argument(help="the DXF plan, - for stdin", show_default=False, metavar="PLAN.dxf"),
    ],
    layers: Annotated[
        list[str] | None,
        typer.Option(
            "--layers",
            metavar="KIND=LAYER,...",
            help="kind=LAYER,... (e.g. drift=DRIFTS,shaft=SHAFTS); "
            "layers not named are ignored; * and ? are wildcards; repeatable",
        ),
    ] = None,
    snap: Annotated[
        float,
        typer.Option(
            "--snap",
            min=0.01,
            max=100.0,
            help="metres: nearer ends are one node, lines passing nearer meet",
        ),
    ] = 0.5,
    level_gap: Annotated[
        float,
        typer.Option(
            "--level-gap", min=0.1, help="metres: elevations closer than this are one level"
        ),
    ] = 15.0,
    units: Annotated[
        str, typer.Option(help="drawing units: auto ($INSUNITS) or " + "|".join(UNIT_FACTORS))
    ] = "auto",
    mine_id: Annotated[
        str | None, typer.Option("--id", help="mine id (default: file name)")
    ] = None,
    name: Annotated[str | None, typer.Option(help="mine name (default: file name)")] = None,
    timezone: Annotated[str, typer.Option(help="the mine's time zone")] = "UTC",
    anchors_layer: Annotated[
        str | None,
        typer.Option("--anchors-layer", help="layer whose POINTs and blocks are anchors"),
    ] = None,
    anchor_tech: Annotated[str, typer.Option(help="tech of those anchors: uwb|ble|rfid")] = "uwb",
    elevations: Annotated[
        list[str] | None,
        typer.Option(
            "--elevations",
            metavar="LAYER=Z,...",
            help="LAYER=Z,... puts flat entities of those layers at elevation Z (metres); "
            "for plans that keep each horizon on its own layer; repeatable",
        ),
    ] = None,
    exits: Annotated[
        bool,
        typer.Option(
            "--exits",
            help="mark dead ends on the surface level (shaft collars, portals) as exit zones",
        ),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="yaml or json")] = "yaml",
) -> None:
    """Turn a DXF mine plan into a mine file on standard output (notes go to standard error)."""
    opts = DxfOptions(
        _layer_option(layers),
        snap,
        level_gap,
        _choice(units, "--units", ("auto", *UNIT_FACTORS)),
        _id_option(mine_id),
        name,
        _timezone_option(timezone),
        anchors_layer,
        _choice(anchor_tech, "--anchor-tech", ANCHOR_TECHS),
        _elevations_option(elevations),
        exits,
    )
    if fmt not in ("yaml", "json"):
        raise typer.BadParameter("must be yaml or json", param_hint="--format")
    result = _import_stdin(opts) if str(plan) == "-" else import_dxf(plan, opts)
    for note in result.notes:
        typer.echo(note, err=True)
    if fmt == "json":
        typer.echo(json.dumps(result.data, indent=1))
    else:
        typer.echo(to_yaml(result.data), nl=False)


def _import_stdin(opts: DxfOptions) -> DxfImport:
    """``-``: the plan comes on standard input (ezdxf reads files, so it goes through one)."""
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / "stdin.dxf"
        plan.write_bytes(sys.stdin.buffer.read())
        try:
            result = import_dxf(plan, opts)
        except InputError as exc:
            raise InputError(str(exc).replace(str(plan), "<stdin>")) from exc
    result.notes = [n.replace(str(plan), "<stdin>") for n in result.notes]
    if opts.mine_id is None:
        result.data["mine"]["id"] = "mine"
    if opts.name is None:
        result.data["mine"]["name"] = "mine"
    return result


def _layer_option(values: list[str] | None) -> LayerMap | None:
    if not values:
        return None
    try:
        return parse_layer_map(values)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--layers") from exc


def _elevations_option(values: list[str] | None) -> tuple[tuple[str, float], ...]:
    try:
        return parse_elevations(values or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--elevations") from exc


def _timezone_option(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise typer.BadParameter(f"unknown time zone '{value}'", param_hint="--timezone") from exc
    return value


def _choice(value: str, option: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"'{value}' is not one of {', '.join(allowed)}", param_hint=option)
    return value


def _id_option(value: str | None) -> str | None:
    if value is not None and not _ID.match(value):
        raise typer.BadParameter("letters, digits and _ . : - only, at most 64", param_hint="--id")
    return value


def register(app: typer.Typer) -> None:
    """Attach ``import-dxf`` to the main app."""
    app.command("import-dxf")(import_dxf_command)
