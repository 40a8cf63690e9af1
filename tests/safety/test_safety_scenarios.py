"""Scenario tests: the simulator's incidents through engine, rules and store.

Each staged incident must give its alarm once, at the right time, for the right person and
zone, and clear when it ends; alarms of the staged kinds must all belong to an incident (no false
alarms of that kind). "The right time" is within one engine tick of the incident, plus what the
sensors themselves make unavoidable: tag-lost and anchor-offline are due their threshold after
the incident, and a battery is only known at the tag's next status report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from minepos.mine import Mine, mine_from_dict
from minepos.safety import AlarmChange, SafetyMonitor, SafetySettings
from minepos.store import Store
from minepos.store.recorder import SafetyRecorder
from minepos.store.replay import EngineTracker

pytestmark = pytest.mark.slow

TICK = 1.0
STATUS_S = 10.0  # the simulator's status report interval


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


@dataclass
class Run:
    """A finished scenario: incidents (relative times) and alarm changes."""

    mine: Mine
    start: float
    incidents: list[dict[str, Any]]
    changes: list[AlarmChange]
    monitor: SafetyMonitor

    def alarms(self, kind: str) -> list[AlarmChange]:
        return [c for c in self.changes if c.alarm.kind == kind and c.state == "raised"]

    def cleared(self, alarm: str) -> float | None:
        return next(
            (c.ts for c in self.changes if c.alarm.id == alarm and c.state == "cleared"), None
        )


def _simulate(
    people: int, minutes: float, incidents: tuple[Any, ...], seed: int, **cfg: Any
) -> Run:
    from minepos.sim import ScenarioConfig, Simulation

    mine = mine_from_dict(SCENARIO_MINE)
    config = ScenarioConfig(people=people, minutes=minutes, incidents=incidents, **cfg)
    sim = Simulation(mine, config, seed=seed)
    settings = SafetySettings(shift_h=config.shift_s / 3600) if config.shift_s else None
    tracker = EngineTracker(mine, seed=seed)
    changes: list[AlarmChange] = []
    with Store("sqlite://") as store:
        rec = SafetyRecorder(store, SafetyMonitor(mine, settings))
        for tick in sim.run():
            ms = tick.measurement_list()
            now = tick.t + config.tick_s
            changes += rec.tick(now, ms, tracker.step(now, ms)).changes
        stored = {a.id for a in store.alarms.list(limit=10_000)}
        assert stored == {c.alarm.id for c in changes}  # every change went through the store
    start = config.start_ts
    return Run(mine, start, [i.to_dict() for i in sim.incidents()], changes, rec.monitor)


@pytest.fixture(scope="module")
def run() -> Run:
    """40 people an hour into their shift, one incident of each kind but not_returned."""
    from minepos.sim import IncidentSpec

    incidents = (
        IncidentSpec("restricted_zone", 60, duration_s=120),
        IncidentSpec("sos", 120, duration_s=180),
        IncidentSpec("man_down", 200, duration_s=240),
        IncidentSpec("overcrowding", 240, zone="north", duration_s=240),
        IncidentSpec("forbidden_zone", 300, duration_s=200),
        IncidentSpec("tag_silent", 400, duration_s=150),
        IncidentSpec("low_battery", 450),
        IncidentSpec("anchor_failed", 500, anchor="u_main2_7", duration_s=200),
    )
    return _simulate(40, 15, incidents, seed=3, shift_offset_s=3600.0)


def _one(run: Run, kind: str, inc: dict[str, Any], key: str = "tag") -> AlarmChange:
    mine = [c for c in run.alarms(kind) if getattr(c.alarm, key) == inc.get(key)]
    assert len(mine) == 1, (
        f"{kind}: {len(mine)} alarms for {inc}: {[c.to_dict() for c in run.alarms(kind)]}"
    )
    return mine[0]


def _incident(run: Run, kind: str) -> dict[str, Any]:
    found = [i for i in run.incidents if i["kind"] == kind]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("kind", ["sos", "man_down"])
def test_button_and_fall_alarms_at_the_event(run: Run, kind: str) -> None:
    inc = _incident(run, kind)
    alarm = _one(run, kind, inc)
    assert alarm.alarm.person == inc["person"]
    assert inc["ts"] <= alarm.ts <= inc["ts"] + TICK
    cleared = run.cleared(alarm.alarm.id)
    assert cleared is not None
    assert inc["end_ts"] <= cleared <= inc["end_ts"] + 2 * TICK
    assert len(run.alarms(kind)) == 1


@pytest.mark.parametrize("kind", ["restricted_zone", "forbidden_zone"])
def test_zone_alarms_at_the_boundary(run: Run, kind: str) -> None:
    incs = [i for i in run.incidents if i["kind"] == kind]
    assert incs
    for inc in incs:
        alarm = _one(run, kind, inc)
        assert (alarm.alarm.person, alarm.alarm.zone) == (inc["person"], inc["zone"])
        assert abs(alarm.ts - inc["ts"]) <= TICK
        cleared = run.cleared(alarm.alarm.id)
        assert cleared is not None
        assert abs(cleared - inc["end_ts"]) <= 2 * TICK
    assert len(run.alarms(kind)) == len(incs)


def test_overcrowding(run: Run) -> None:
    inc = _incident(run, "overcrowding")
    alarm = _one(run, "overcrowding", inc, key="zone")
    assert abs(alarm.ts - inc["ts"]) <= TICK
    cleared = run.cleared(alarm.alarm.id)
    assert cleared is not None
    assert inc["end_ts"] <= cleared <= inc["end_ts"] + 10 + 2 * TICK  # 10 s quiet spell
    assert len(run.alarms("overcrowding")) == 1


def test_silent_tag_is_lost_after_the_threshold(run: Run) -> None:
    inc = _incident(run, "tag_silent")
    alarm = _one(run, "tag_lost", inc)
    due = inc["ts"] + run.mine.rules.tag_lost_s
    assert due - TICK <= alarm.ts <= due + TICK
    cleared = run.cleared(alarm.alarm.id)
    assert cleared is not None
    assert inc["end_ts"] <= cleared <= inc["end_ts"] + 2 * TICK
    assert len(run.alarms("tag_lost")) == 1
    assert run.alarms("man_down")[0].alarm.tag != inc["tag"]


def test_low_battery_at_the_next_status_report(run: Run) -> None:
    inc = _incident(run, "low_battery")
    alarm = _one(run, "low_battery", inc)
    # battery is reported to 0.1 % every 10 s; the simulator's staged drain is slow
    assert inc["ts"] <= alarm.ts <= inc["ts"] + 60 + STATUS_S
    assert len(run.alarms("low_battery")) == 1


def test_failed_anchor_is_offline_after_the_threshold(run: Run) -> None:
    inc = _incident(run, "anchor_failed")
    alarm = _one(run, "anchor_offline", inc, key="anchor")
    due = inc["ts"] + run.mine.rules.anchor_offline_s
    assert due - TICK <= alarm.ts <= due + TICK
    cleared = run.cleared(alarm.alarm.id)
    assert cleared is not None
    assert inc["end_ts"] <= cleared <= inc["end_ts"] + 2 * TICK
    assert len(run.alarms("anchor_offline")) == 1


def test_no_alarm_of_unstaged_kinds(run: Run) -> None:
    for kind in ("overtime", "card_anomaly", "not_returned"):
        assert run.alarms(kind) == []


@pytest.fixture(scope="module")
def shift() -> Run:
    """A whole (short) shift from lamp-out to lamp-in, one person not coming back."""
    from minepos.sim import IncidentSpec

    incidents = (IncidentSpec("not_returned", 1500),)
    return _simulate(24, 70, incidents, seed=5, shift_s=3600.0)


def test_lamp_room_names_exactly_who_did_not_come_back(shift: Run) -> None:
    inc = _incident(shift, "not_returned")
    shift_end = shift.start + 3600.0
    alarm = _one(shift, "not_returned", inc)
    assert shift_end <= alarm.ts <= shift_end + TICK
    assert alarm.alarm.person == inc["person"]
    missing = shift.monitor.unaccounted(shift.start + 70 * 60)
    assert [u.person for u in missing] == [inc["person"]]
    assert missing[0].last_place["tunnel"] is not None
    assert len(shift.alarms("not_returned")) == 1


def test_a_whole_shift_has_no_false_alarm(shift: Run) -> None:
    inc = _incident(shift, "not_returned")
    raised = {(c.alarm.kind, c.alarm.tag) for c in shift.changes if c.state == "raised"}
    # the one who stayed down is also, rightly, underground past the shift's length
    assert raised <= {("not_returned", inc["tag"]), ("overtime", inc["tag"])}
    assert shift.monitor.headcount.underground == 1
