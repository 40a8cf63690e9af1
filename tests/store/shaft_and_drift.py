"""The small mine of the store tests: a shaft down to one drift, a restricted goaf at its end."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

T0 = 1_795_323_600.0  # 2026-11-22 05:00 UTC


def shaft_and_drift(
    mine_id: str, drift_m: float, anchors_m: dict[str, float], people: Iterable[int]
) -> dict[str, Any]:
    """Mine file data: shaft 100 m, drift ``drift_m`` long with the goaf on its last part (from
    400 m), UWB anchors at the given drift offsets, person ``p<i>`` carrying tag ``t<i>``."""
    return {
        "mine": {"id": mine_id, "name": mine_id.title(), "timezone": "UTC"},
        "levels": [
            {"id": "surface", "name": "Surface", "z": 0},
            {"id": "h100", "name": "-100", "z": -100},
        ],
        "nodes": [
            {"id": "top", "xyz": [0, 0, 0]},
            {"id": "bottom", "xyz": [0, 0, -100]},
            {"id": "east", "xyz": [drift_m, 0, -100]},
        ],
        "tunnels": [
            {"id": "shaft", "from": "top", "to": "bottom", "kind": "shaft"},
            {"id": "drift", "from": "bottom", "to": "east", "kind": "drift"},
        ],
        "zones": [
            {
                "id": "goaf",
                "name": "Goaf",
                "kind": "restricted",
                "spans": [{"tunnel": "drift", "from_m": 400, "to_m": drift_m}],
            },
        ],
        "anchors": [
            {"id": a, "tech": "uwb", "at": {"tunnel": "drift", "offset_m": m}}
            for a, m in anchors_m.items()
        ],
        "people": [
            {"id": f"p{i}", "name": f"P {i}", "role": "miner", "tag": f"t{i}"} for i in people
        ],
    }
