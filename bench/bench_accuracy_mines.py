"""Mines for the accuracy benchmark: the demo mine, a long drift and a grid, any anchor layout.

Every generated mine has a lamp room on the surface and a cage shaft down to a horizon at -300 m,
so the simulator's people arrive by cage as they do in the demo mine. Anchors sit on the wall
(1.5 m to the side of the tunnel axis, 1.5 m up), placed by survey coordinates, as installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minepos.mine import Mine, mine_from_dict
from minepos.mine.demo import demo_mine_dict

Z = -300.0


def _base(name: str) -> dict[str, Any]:
    return {
        "mine": {"id": name, "name": name, "timezone": "UTC"},
        "levels": [
            {"id": "surface", "name": "Surface", "z": 0},
            {"id": "h300", "name": "-300", "z": Z},
        ],
        "nodes": [
            {"id": "lamp", "xyz": [-60, 0, 0]},
            {"id": "top", "xyz": [0, 0, 0]},
            {"id": "bot", "xyz": [0, 0, Z]},
        ],
        "tunnels": [
            {"id": "surface", "from": "lamp", "to": "top", "kind": "drift", "level": "surface"},
            {"id": "shaft", "from": "top", "to": "bot", "kind": "shaft", "cage": True},
        ],
        "zones": [
            {
                "id": "lamp_room",
                "name": "Lamp room",
                "kind": "lamp_room",
                "spans": [{"tunnel": "surface", "from_m": 0, "to_m": 15}],
            },
            {
                "id": "exit",
                "name": "Shaft top",
                "kind": "exit",
                "spans": [{"tunnel": "surface", "from_m": 50, "to_m": 60}],
            },
        ],
        "anchors": [],
    }


def _wall_anchors(
    a: np.ndarray,
    b: np.ndarray,
    spacing: float,
    tech: str,
    prefix: str,
    reach: float | None,
    ends: tuple[bool, bool],
) -> list[dict[str, Any]]:
    """Anchors every ``spacing`` along the straight tunnel a-b, on the wall; ``ends`` says
    whether to put one at each end (one anchor per junction, as installed)."""
    length = float(np.linalg.norm(b - a))
    u = (b - a) / length
    side = np.array([-u[1], u[0], 0.0])
    if np.linalg.norm(side) < 1e-6:  # vertical: the wall is east
        side = np.array([1.0, 0.0, 0.0])
    n = max(int(length // spacing), 1)
    out = []
    for k in range(n + 1):
        if (k == 0 and not ends[0]) or (k == n and not ends[1]):
            continue
        p = a + u * (length * k / n) + 1.5 * side / np.linalg.norm(side) + np.array([0, 0, 1.5])
        anchor: dict[str, Any] = {
            "id": f"{prefix}_{k}",
            "tech": tech,
            "at": {"xyz": p.round(3).tolist()},
        }
        if reach is not None:
            anchor["range_m"] = reach
        out.append(anchor)
    return out


def _finish(d: dict[str, Any], spacing: float, tech: str, reach: float | None) -> Mine:
    xyz = {n["id"]: np.array(n["xyz"], dtype=float) for n in d["nodes"]}
    covered: set[str] = set()
    for t in d["tunnels"]:
        if t["id"] == "surface":
            continue
        step = min(spacing, 100.0) if t["kind"] == "shaft" else spacing
        ends = (t["from"] not in covered, t["to"] not in covered)
        covered.update((t["from"], t["to"]))
        d["anchors"] += _wall_anchors(
            xyz[t["from"]], xyz[t["to"]], step, tech, f"a_{t['id']}", reach, ends
        )
    return mine_from_dict(d)


def long_drift(
    spacing: float, tech: str = "uwb", length: float = 2400.0, reach: float | None = None
) -> Mine:
    """A shaft and one straight drift of ``length`` metres."""
    d = _base("long_drift")
    d["nodes"].append({"id": "end", "xyz": [length, 0, Z]})
    d["tunnels"].append({"id": "drift", "from": "bot", "to": "end", "kind": "drift"})
    return _finish(d, spacing, tech, reach)


def grid(
    spacing: float,
    tech: str = "uwb",
    cols: int = 4,
    rows: int = 3,
    cell: float = 400.0,
    reach: float | None = None,
) -> Mine:
    """Drifts east-west every ``cell`` metres joined by crosscuts: many junctions."""
    d = _base("grid")
    for r in range(rows):
        for c in range(cols + 1):
            if (r, c) != (0, 0):
                d["nodes"].append({"id": f"g{r}_{c}", "xyz": [c * cell, r * cell, Z]})

    def node(r: int, c: int) -> str:
        return "bot" if (r, c) == (0, 0) else f"g{r}_{c}"

    for r in range(rows):
        for c in range(cols):
            d["tunnels"].append(
                {"id": f"d{r}_{c}", "from": node(r, c), "to": node(r, c + 1), "kind": "drift"}
            )
    for r in range(rows - 1):
        for c in range(cols + 1):
            d["tunnels"].append(
                {"id": f"x{r}_{c}", "from": node(r, c), "to": node(r + 1, c), "kind": "crosscut"}
            )
    return _finish(d, spacing, tech, reach)


def demo() -> Mine:
    """The demo mine as shipped (UWB every 120 m, 30 m on the face, RFID, BLE in one district)."""
    return mine_from_dict(demo_mine_dict())
