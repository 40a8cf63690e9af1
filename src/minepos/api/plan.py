"""The mine's geometry in the shape the console draws: levels per tunnel, zone and anchor."""

from __future__ import annotations

from typing import Any

import numpy as np

from minepos.mine import Mine

__all__ = ["mine_plan"]

_SAMPLE_M = 25.0


def _tunnel_levels(mine: Mine, index: int) -> list[str]:
    """Levels a tunnel touches (a shaft touches every level it passes)."""
    length = mine.tunnels[index].length_m
    offsets = np.linspace(0.0, length, max(2, int(length / _SAMPLE_M) + 2))
    idx = mine.level_index_at(np.full(len(offsets), index, dtype=np.intp), offsets)
    return [mine.levels[i].id for i in sorted(set(int(i) for i in idx))]


def mine_plan(mine: Mine) -> dict[str, Any]:
    """`MinePlan`: mine, levels, tunnels (polylines), zones, anchors and the xy bounds."""
    tunnels = []
    levels_of: dict[str, list[str]] = {}
    for i, t in enumerate(mine.tunnels):
        levels_of[t.id] = _tunnel_levels(mine, i)
        tunnels.append(
            {
                "id": t.id,
                "kind": t.kind,
                "from_node": t.from_node,
                "to_node": t.to_node,
                "length_m": round(t.length_m, 3),
                "points": [list(p) for p in t.points],
                "levels": levels_of[t.id],
            }
        )
    zones = []
    for z in mine.zones:
        levels = sorted({mine.level_at(s.tunnel, (s.from_m + s.to_m) / 2) for s in z.spans})
        zones.append(
            {
                "id": z.id,
                "name": z.name,
                "kind": z.kind,
                "spans": [
                    {"tunnel": s.tunnel, "from_m": s.from_m, "to_m": s.to_m} for s in z.spans
                ],
                "max_occupancy": z.max_occupancy,
                "allowed_roles": None if z.allowed_roles is None else list(z.allowed_roles),
                "levels": levels,
            }
        )
    anchors = [
        {
            "id": a.id,
            "tech": a.tech,
            "tunnel": a.tunnel,
            "offset_m": round(a.offset_m, 3),
            "xyz": list(a.xyz),
            "level": mine.level_at(a.tunnel, a.offset_m),
        }
        for a in mine.anchors
    ]
    pts = np.array([p for t in mine.tunnels for p in t.points], dtype=np.float64)
    bounds = [
        float(pts[:, 0].min()),
        float(pts[:, 1].min()),
        float(pts[:, 0].max()),
        float(pts[:, 1].max()),
    ]
    return {
        "mine": {"id": mine.id, "name": mine.name, "timezone": mine.timezone},
        "levels": [{"id": lv.id, "name": lv.name, "z": lv.z} for lv in mine.levels],
        "tunnels": tunnels,
        "zones": zones,
        "anchors": anchors,
        "bounds": bounds,
    }
