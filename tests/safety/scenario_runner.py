"""Runs one simulator scenario through engine, rules and store; prints the outcome as JSON.

Used by the scenario tests in a child process, so that a crash anywhere below (the engine's
compiled kernels) fails a test instead of killing the test run. Usage::

    python scenario_runner.py '{"people": 40, "minutes": 15, "seed": 3, "incidents": [...],
                                "config": {"shift_offset_s": 3600}}'
"""

from __future__ import annotations

import json
import sys
from typing import Any

from minepos.mine import mine_from_dict
from minepos.safety import AlarmChange, SafetyMonitor, SafetySettings
from minepos.store import Store
from minepos.store.recorder import SafetyRecorder
from minepos.store.replay import EngineTracker

ROLES = ["miner"] * 5 + ["electrician", "fitter", "foreman"]


def _anchors(tunnels: dict[str, float]) -> list[dict[str, Any]]:
    out = [
        {"id": f"u_{t}_{k}", "tech": "uwb", "at": {"tunnel": t, "offset_m": (k + 0.5) * 50.0}}
        for t, length in tunnels.items()
        for k in range(int(length // 50))
    ]
    out += [
        {"id": "r_lamp", "tech": "rfid", "at": {"tunnel": "walk", "offset_m": 10}, "range_m": 10},
        {"id": "r_top", "tech": "rfid", "at": {"tunnel": "shaft", "offset_m": 2}, "range_m": 10},
        {
            "id": "r_bottom",
            "tech": "rfid",
            "at": {"tunnel": "shaft", "offset_m": 198},
            "range_m": 10,
        },
    ]
    return out


#: a compact mine: everything within a few minutes' walk, so every incident happens in minutes
SCENARIO_MINE: dict[str, Any] = {
    "mine": {"id": "compact", "name": "Compact scenario mine", "timezone": "UTC"},
    "levels": [
        {"id": "surface", "name": "Surface", "z": 0},
        {"id": "h200", "name": "-200", "z": -200},
    ],
    "nodes": [
        {"id": "lamp", "xyz": [-30, 0, 0]},
        {"id": "top", "xyz": [0, 0, 0]},
        {"id": "bottom", "xyz": [0, 0, -200]},
        {"id": "j1", "xyz": [300, 0, -200]},
        {"id": "east", "xyz": [800, 0, -200]},
        {"id": "north", "xyz": [300, 400, -200]},
        {"id": "sub_end", "xyz": [300, -60, -200]},
        {"id": "west", "xyz": [-300, 0, -200]},
    ],
    "tunnels": [
        {"id": "walk", "from": "lamp", "to": "top", "kind": "drift", "level": "surface"},
        {"id": "shaft", "from": "top", "to": "bottom", "kind": "shaft", "cage": True},
        {"id": "main1", "from": "bottom", "to": "j1", "kind": "drift"},
        {"id": "main2", "from": "j1", "to": "east", "kind": "drift"},
        {"id": "xc", "from": "j1", "to": "north", "kind": "crosscut"},
        {"id": "sub", "from": "j1", "to": "sub_end", "kind": "chamber"},
        {"id": "old", "from": "bottom", "to": "west", "kind": "drift"},
    ],
    "zones": [
        {
            "id": "lamp_room",
            "name": "Lamp room",
            "kind": "lamp_room",
            "spans": [{"tunnel": "walk", "from_m": 0, "to_m": 20}],
        },
        {
            "id": "exit",
            "name": "Shaft top",
            "kind": "exit",
            "spans": [{"tunnel": "walk", "from_m": 20, "to_m": 30}],
        },
        {
            "id": "face_e",
            "name": "East face",
            "kind": "work",
            "max_occupancy": 12,
            "spans": [{"tunnel": "main2", "from_m": 300, "to_m": 500}],
        },
        {
            "id": "north",
            "name": "North district",
            "kind": "work",
            "max_occupancy": 8,
            "spans": [{"tunnel": "xc", "from_m": 250, "to_m": 400}],
        },
        {
            "id": "goaf",
            "name": "Old goaf",
            "kind": "restricted",
            "spans": [{"tunnel": "old", "from_m": 150, "to_m": 300}],
        },
        {
            "id": "substation",
            "name": "Substation",
            "kind": "work",
            "allowed_roles": ["electrician"],
            "spans": [{"tunnel": "sub", "from_m": 0, "to_m": 60}],
        },
    ],
    "anchors": _anchors({"main1": 300, "main2": 500, "xc": 400, "sub": 60, "old": 300}),
    "people": [
        {
            "id": f"p{i:03d}",
            "name": f"Person {i}",
            "role": ROLES[i % len(ROLES)],
            "tag": f"t{i:03d}",
        }
        for i in range(40)
    ],
}


def run_scenario(
    people: int, minutes: float, incidents: list[dict[str, Any]], seed: int, config: dict[str, Any]
) -> dict[str, Any]:
    """Simulate, track, judge and store; return incidents, alarm changes and the end state."""
    from minepos.sim import IncidentSpec, ScenarioConfig, Simulation

    mine = mine_from_dict(SCENARIO_MINE)
    specs = tuple(IncidentSpec(**i) for i in incidents)
    cfg = ScenarioConfig(people=people, minutes=minutes, incidents=specs, **config)
    sim = Simulation(mine, cfg, seed=seed)
    settings = SafetySettings(shift_h=cfg.shift_s / 3600) if cfg.shift_s else None
    tracker = EngineTracker(mine, seed=seed)
    changes: list[AlarmChange] = []
    with Store("sqlite://") as store:
        rec = SafetyRecorder(store, SafetyMonitor(mine, settings))
        for tick in sim.run():
            ms = tick.measurement_list()
            now = tick.t + cfg.tick_s
            changes += rec.tick(now, ms, tracker.step(now, ms)).changes
        stored = sorted(a.id for a in store.alarms.list(limit=100_000))
    end = cfg.start_ts + cfg.duration_s
    return {
        "start": cfg.start_ts,
        "incidents": [i.to_dict() for i in sim.incidents()],
        "changes": [c.to_dict() for c in changes],
        "stored": stored,
        "unaccounted": [u.to_dict() for u in rec.monitor.unaccounted(end)],
        "underground": rec.monitor.headcount.underground,
        "tag_lost_s": mine.rules.tag_lost_s,
        "anchor_offline_s": mine.rules.anchor_offline_s,
    }


if __name__ == "__main__":
    args = json.loads(sys.argv[1])
    sys.stdout.write(json.dumps(run_scenario(**args)) + "\n")
