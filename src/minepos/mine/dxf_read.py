"""Reading a surveyor's DXF plan into straight 3-D segments, each with its layer and tunnel kind.

Only modelspace is read. LINE, LWPOLYLINE, POLYLINE (2-D and 3-D), ARC and SPLINE become
segments (curves and polyline bulges are flattened to chords at most `_FLATTEN_M` off the arc);
INSERT blocks are expanded; everything else is counted and ignored. Coordinates are scaled to
metres from the drawing's ``$INSUNITS`` (or the unit the caller names).
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from minepos.errors import InputError
from minepos.mine.schema import TUNNEL_KINDS

__all__ = [
    "UNIT_FACTORS",
    "LayerMap",
    "PlanAnchor",
    "PlanLines",
    "guess_kind",
    "parse_elevations",
    "parse_layer_map",
    "read_plan",
    "safe_id",
]

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: largest distance (metres) between an arc and the chords that replace it
_FLATTEN_M = 0.1
#: nested blocks deeper than this are not expanded (a drawing that nests deeper is broken)
_MAX_BLOCK_DEPTH = 8
#: entity types that carry tunnels
_LINEAR = frozenset({"LINE", "LWPOLYLINE", "POLYLINE", "ARC", "SPLINE", "ELLIPSE"})
#: layers never imported: AutoCAD's non-plotting layer
_SKIP_LAYERS = frozenset({"defpoints"})

#: metres per drawing unit, by the names `--units` accepts
UNIT_FACTORS: dict[str, float] = {
    "m": 1.0,
    "cm": 0.01,
    "mm": 0.001,
    "km": 1000.0,
    "ft": 0.3048,
    "in": 0.0254,
    "yd": 0.9144,
}
#: $INSUNITS codes (DXF reference) that a mine plan may plausibly use
_INSUNITS = {1: "in", 2: "ft", 4: "mm", 5: "cm", 6: "m", 7: "km", 10: "yd"}

# Layer-name guesses when no map is given: the first kind whose word occurs in the name wins.
_GUESSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("shaft", ("shaft", "ствол", "winze")),
    ("ramp", ("ramp", "decline", "уклон")),
    ("incline", ("incline", "бремсберг", "ходок")),
    ("face", ("face", "longwall", "лава", "забой")),
    ("crosscut", ("crosscut", "x-cut", "xcut", "квершлаг", "сбойка")),
    ("chamber", ("chamber", "камера")),
)


def guess_kind(layer: str) -> str:
    """Tunnel kind guessed from a layer name (SHAFT/СТВОЛ -> shaft, ...; anything else: drift)."""
    name = layer.casefold()
    for kind, words in _GUESSES:
        if any(w in name for w in words):
            return kind
    return "drift"


@dataclass(frozen=True)
class LayerMap:
    """Which layers hold which tunnel kind: ``(kind, pattern)`` pairs, patterns case-insensitive."""

    rules: tuple[tuple[str, str], ...]

    def kind_of(self, layer: str) -> str | None:
        """The kind of the first rule whose pattern matches ``layer``; None when none does."""
        name = layer.casefold()
        for kind, pattern in self.rules:
            if fnmatch.fnmatchcase(name, pattern):
                return kind
        return None


def parse_layer_map(values: Iterable[str]) -> LayerMap:
    """Parse ``--layers drift=DRIFTS,shaft=SHAFTS`` (repeatable; ``*`` and ``?`` are wildcards).

    Raises ValueError naming the bad item: a missing ``=``, an unknown kind, an empty layer, or a
    layer given two different kinds.
    """
    rules: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for value in values:
        for item in (x.strip() for x in value.split(",")):
            if not item:
                continue
            kind, sep, layer = (x.strip() for x in item.partition("="))
            kind = kind.casefold()
            if not sep or not layer or not kind:
                raise ValueError(f"'{item}' is not kind=LAYER (for example drift=DRIFTS)")
            if kind not in TUNNEL_KINDS:
                raise ValueError(
                    f"'{kind}' in '{item}' is not a tunnel kind (one of {', '.join(TUNNEL_KINDS)})"
                )
            pattern = layer.casefold()
            if seen.get(pattern, kind) != kind:
                raise ValueError(f"layer '{layer}' is given two kinds: {seen[pattern]} and {kind}")
            seen[pattern] = kind
            rules.append((kind, pattern))
    if not rules:
        raise ValueError("no kind=LAYER pairs given")
    return LayerMap(tuple(rules))


@dataclass(frozen=True)
class PlanAnchor:
    """An anchor drawn on the anchors layer: its name (from a block attribute) and position."""

    name: str | None
    xyz: tuple[float, float, float]


@dataclass
class PlanLines:
    """The tunnels of a plan as straight segments.

    ``ends`` is ``(N, 2, 3)`` in metres; ``entity`` numbers the source entity of each segment (a
    polyline's segments share one number, in drawing order); ``layer``/``kind`` index
    ``layers``/`TUNNEL_KINDS` per segment.
    """

    ends: FloatArray
    entity: IntArray
    layer: IntArray
    kind: IntArray
    layers: list[str]
    anchors: list[PlanAnchor] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Collector:
    """What the walk over modelspace has gathered so far."""

    layer_map: LayerMap | None
    anchors_layer: str | None
    elevations: tuple[tuple[str, float], ...] = ()
    chains: list[tuple[FloatArray, str, str]] = field(default_factory=list)
    anchors: list[PlanAnchor] = field(default_factory=list)
    used: Counter[str] = field(default_factory=Counter)
    ignored_types: Counter[str] = field(default_factory=Counter)
    ignored_layers: Counter[str] = field(default_factory=Counter)
    layer_kinds: dict[str, str] = field(default_factory=dict)
    broken: int = 0


def read_plan(
    path: str | Path,
    layer_map: LayerMap | None = None,
    units: str = "auto",
    anchors_layer: str | None = None,
    elevations: tuple[tuple[str, float], ...] = (),
) -> PlanLines:
    """Read the tunnels (and anchors) of a DXF plan; raise `InputError` if it cannot be read.

    ``elevations`` are ``(layer pattern, z in metres)``: flat (2-D) entities on a matching layer
    are put at that z, for plans that keep each horizon on its own layer without elevations.
    """
    doc = _open(Path(path))
    scale, unit_note = _scale(doc, units)
    col = _Collector(layer_map, anchors_layer.casefold() if anchors_layer else None, elevations)
    for entity in doc.modelspace():
        _visit(col, entity, None, 0)
    lines = _assemble(col, scale)
    hidden = [name for name in lines.layers if _is_hidden(doc, name)]
    if hidden:
        lines.notes.append(
            "note: imported although switched off or frozen in the drawing: "
            + ", ".join(hidden)
            + " (leave them out of --layers if they are not tunnels)"
        )
    lines.notes.insert(0, unit_note)
    return lines


def _open(path: Path) -> Any:
    from ezdxf import recover
    from ezdxf.filemanagement import readfile
    from ezdxf.lldxf.const import DXFError

    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    try:
        return readfile(path)  # the fast reader first; most plans are well formed
    except Exception as exc:  # a third-party parser on a user's file: try to recover
        log.info("%s: strict reading failed (%s); trying to recover", path, exc)
    try:
        doc, auditor = recover.readfile(path)
    except DXFError as exc:
        raise InputError(f"{path}: not a DXF file, or damaged beyond repair ({exc})") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read the DXF file ({exc})") from exc
    except Exception as exc:  # a truncated file can fail anywhere inside the parser
        why = str(exc) or type(exc).__name__
        raise InputError(f"{path}: not a DXF file, or damaged beyond repair ({why})") from exc
    if auditor.has_errors:
        log.warning(
            "%s: %d error(s) in the DXF file were repaired on reading", path, len(auditor.errors)
        )
    return doc


def _is_hidden(doc: Any, name: str) -> bool:
    layer = doc.layers.get(name) if doc.layers.has_entry(name) else None
    return layer is not None and bool(layer.is_off() or layer.is_frozen())


def _scale(doc: Any, units: str) -> tuple[float, str]:
    if units != "auto":
        return UNIT_FACTORS[units], f"units: {units} (as given)"
    code = int(doc.header.get("$INSUNITS", 0) or 0)
    name = _INSUNITS.get(code)
    if name is None:
        why = "not set" if code == 0 else f"code {code} not supported"
        return 1.0, f"units: metres assumed ($INSUNITS {why}; use --units to say otherwise)"
    note = f"units: {name} ($INSUNITS {code})"
    if name != "m":
        note += f", scaled by {UNIT_FACTORS[name]:g} to metres"
    return UNIT_FACTORS[name], note


def _visit(col: _Collector, entity: Any, parent_layer: str | None, depth: int) -> None:
    kind = entity.dxftype()
    layer = str(entity.dxf.get("layer", "0"))
    if parent_layer is not None and layer == "0":
        layer = parent_layer  # block content on layer 0 takes the layer of its INSERT
    if col.anchors_layer is not None and layer.casefold() == col.anchors_layer:
        _take_anchor(col, entity, kind)
        return
    if kind == "INSERT":
        _expand(col, entity, layer, depth)
        return
    if kind not in _LINEAR or _is_shape(entity, kind):
        col.ignored_types[kind] += 1
        return
    tunnel_kind = _kind_of_layer(col, layer)
    if tunnel_kind is None:
        col.ignored_layers[layer] += 1
        return
    pts = _vertices(entity, kind)
    if pts is None or len(pts) < 2 or not np.isfinite(pts).all():
        col.broken += 1
        return
    z = _elevation(col, layer)
    if z is not None and np.ptp(pts[:, 2]) == 0:
        pts[:, 2] = np.nan  # set in metres once the scale is applied
    col.chains.append((pts, layer, tunnel_kind))
    col.used[kind] += 1


def _elevation(col: _Collector, layer: str) -> float | None:
    name = layer.casefold()
    return next((z for pattern, z in col.elevations if fnmatch.fnmatchcase(name, pattern)), None)


def parse_elevations(values: Iterable[str]) -> tuple[tuple[str, float], ...]:
    """Parse ``--elevations H320*=-320,H480*=-480`` into ``(pattern, z)``; ValueError if bad."""
    out: list[tuple[str, float]] = []
    for value in values:
        for item in (x.strip() for x in value.split(",")):
            if not item:
                continue
            layer, sep, z_text = (x.strip() for x in item.rpartition("="))
            try:
                z = float(z_text)
            except ValueError:
                z = float("nan")
            if not sep or not layer or not np.isfinite(z):
                raise ValueError(f"'{item}' is not LAYER=Z (for example H320=-320)")
            out.append((layer.casefold(), z))
    return tuple(out)


def _kind_of_layer(col: _Collector, layer: str) -> str | None:
    if layer not in col.layer_kinds:
        if layer.casefold() in _SKIP_LAYERS:
            kind = None
        elif col.layer_map is not None:
            kind = col.layer_map.kind_of(layer)
        else:
            kind = guess_kind(layer)
        col.layer_kinds[layer] = kind if kind is not None else ""
    return col.layer_kinds[layer] or None


def _is_shape(entity: Any, kind: str) -> bool:
    """Meshes and whole ellipses are outlines, not tunnels (elliptic arcs are: blocks scaled
    unevenly turn arcs into them)."""
    if kind == "POLYLINE":
        return bool(entity.is_polygon_mesh or entity.is_poly_face_mesh)
    if kind == "ELLIPSE":
        span = (entity.dxf.end_param - entity.dxf.start_param) % (2 * np.pi)
        return bool(span < 1e-9 or span > 2 * np.pi - 1e-9)
    return False


def _vertices(entity: Any, kind: str) -> FloatArray | None:
    """Vertices in WCS (drawing units); curves and bulges flattened."""
    from ezdxf import path as ezpath

    try:
        if kind == "LINE":
            return np.array([tuple(entity.dxf.start), tuple(entity.dxf.end)], dtype=np.float64)
        flat = ezpath.make_path(entity).flattening(_FLATTEN_M)
        return np.array([tuple(v) for v in flat], dtype=np.float64).reshape(-1, 3)
    except (ValueError, TypeError, ArithmeticError, IndexError, AttributeError) as exc:
        log.debug("cannot read %s: %s", kind, exc)
        return None


def _expand(col: _Collector, insert: Any, layer: str, depth: int) -> None:
    if depth >= _MAX_BLOCK_DEPTH:
        col.broken += 1
        return
    try:
        children = list(insert.virtual_entities())
    except (ValueError, TypeError, ArithmeticError, KeyError, AttributeError) as exc:
        log.debug("cannot expand block: %s", exc)
        col.broken += 1
        return
    for child in children:
        _visit(col, child, layer, depth + 1)


def _take_anchor(col: _Collector, entity: Any, kind: str) -> None:
    if kind == "POINT":
        col.anchors.append(PlanAnchor(None, _xyz(entity.dxf.location)))
    elif kind == "INSERT":
        name = None
        for attrib in getattr(entity, "attribs", []):
            if str(attrib.dxf.tag).casefold() in ("id", "name", "anchor", "tag"):
                name = str(attrib.dxf.text).strip() or None
        location = entity.ucs().origin if hasattr(entity, "ucs") else entity.dxf.insert
        col.anchors.append(PlanAnchor(name, _xyz(location)))
    else:
        col.ignored_types[kind] += 1


def _xyz(v: Any) -> tuple[float, float, float]:
    x, y, z = (float(c) for c in tuple(v)[:3])
    return (x, y, z)


def _assemble(col: _Collector, scale: float) -> PlanLines:
    layers = sorted({layer for _, layer, _ in col.chains})
    layer_no = {name: i for i, name in enumerate(layers)}
    pts_list = [pts for pts, _, _ in col.chains]
    counts = np.array([len(p) for p in pts_list], dtype=np.intp)
    pts = np.concatenate(pts_list) * scale if pts_list else np.zeros((0, 3))
    # entities given an elevation by layer were marked NaN in z; set them in metres now
    starts = np.cumsum(counts) - counts
    for e in np.flatnonzero(np.isnan(pts[starts, 2])) if pts_list else []:
        pts[starts[e] : starts[e] + counts[e], 2] = _elevation(col, col.chains[e][1])
    point_entity = np.repeat(np.arange(len(counts)), counts)
    inner = np.flatnonzero(point_entity[1:] == point_entity[:-1])  # a segment starts here
    entity = point_entity[inner]
    layer_of = np.array([layer_no[name] for _, name, _ in col.chains], dtype=np.intp)
    kind_of = np.array([TUNNEL_KINDS.index(k) for _, _, k in col.chains], dtype=np.intp)
    anchors = [
        PlanAnchor(a.name, (a.xyz[0] * scale, a.xyz[1] * scale, a.xyz[2] * scale))
        for a in col.anchors
    ]
    out = PlanLines(
        np.stack([pts[inner], pts[inner + 1]], axis=1) if len(inner) else np.zeros((0, 2, 3)),
        entity,
        layer_of[entity] if len(entity) else np.zeros(0, dtype=np.intp),
        kind_of[entity] if len(entity) else np.zeros(0, dtype=np.intp),
        layers,
        anchors,
    )
    out.notes += list(_notes(col))
    return out


def _notes(col: _Collector) -> Iterator[str]:
    yield "used: " + (_fmt(col.used) or "nothing")
    by_layer = Counter(layer for _, layer, _ in col.chains)
    for name, count in sorted(by_layer.items()):
        noun = "entity" if count == 1 else "entities"
        yield f"layer {name!r} -> {col.layer_kinds[name]} ({count} {noun})"
    if col.ignored_layers:
        why = "not in --layers" if col.layer_map is not None else "never imported"
        yield f"ignored layers ({why}): " + _fmt(col.ignored_layers)
    if col.ignored_types:
        yield "ignored entities: " + _fmt(col.ignored_types)
    if col.broken:
        yield f"skipped {col.broken} entities that could not be read (bad coordinates or blocks)"
    if col.layer_map is not None:
        for kind, pattern in col.layer_map.rules:
            if not any(fnmatch.fnmatchcase(name.casefold(), pattern) for name in col.layer_kinds):
                yield f"warning: no entity on a layer matching {pattern!r} ({kind})"


def _fmt(counts: Counter[str]) -> str:
    return ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))


def safe_id(text: str, fallback: str) -> str:
    """An id the mine file accepts (letters, digits, ``_.:-``, at most 64 characters)."""
    out = re.sub(r"[^A-Za-z0-9_.:\-]+", "_", text).strip("_")[:64]
    return out or fallback
