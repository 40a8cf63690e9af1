"""A small mine and a driver that steps the safety monitor on a fake clock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from minepos.engine.estimate import Estimate, Span
from minepos.measurement import Measurement
from minepos.mine import Mine
from minepos.safety import AlarmChange, SafetyMonitor, Tick

#: 05:00 UTC; shifts start at 06:00, 14:00 and 22:00 (mine time zone UTC)
T0 = datetime(2026, 11, 22, 5, 0, tzinfo=UTC).timestamp()

SMALL_MINE = {
    "mine": {"id": "small", "name": "Small test mine", "timezone": "UTC"},
    "levels": [
        {"id": "surface", "name": "Surface", "z": 0},
        {"id": "h100", "name": "-100", "z": -100},
    ],
    "nodes": [
        {"id": "lamp", "xyz": [-20, 0, 0]},
        {"id": "top", "xyz": [0, 0, 0]},
        {"id": "bottom", "xyz": [0, 0, -100]},
        {"id": "east", "xyz": [1000, 0, -100]},
        {"id": "west", "xyz": [-300, 0, -100]},
    ],
    "tunnels": [
        {"id": "walk", "from": "lamp", "to": "top", "kind": "drift", "level": "surface"},
        {"id": "shaft", "from": "top", "to": "bottom", "kind": "shaft"},
        {"id": "drift", "from": "bottom", "to": "east", "kind": "drift"},
        {"id": "old", "from": "bottom", "to": "west", "kind": "drift"},
    ],
    "zones": [
        {
            "id": "lamp_room",
            "name": "Lamp room",
            "kind": "lamp_room",
            "spans": [{"tunnel": "walk", "from_m": 0, "to_m": 10}],
        },
        {
            "id": "face",
            "name": "Face",
            "kind": "work",
            "max_occupancy": 2,
            "spans": [{"tunnel": "drift", "from_m": 800, "to_m": 1000}],
        },
        {
            "id": "goaf",
            "name": "Goaf",
            "kind": "restricted",
            "spans": [{"tunnel": "old", "from_m": 200, "to_m": 300}],
        },
        {
            "id": "sub",
            "name": "Substation",
            "kind": "work",
            "allowed_roles": ["electrician"],
            "spans": [{"tunnel": "drift", "from_m": 300, "to_m": 320}],
        },
    ],
    "anchors": [
        {"id": "a1", "tech": "uwb", "at": {"tunnel": "drift", "offset_m": 100}},
        {"id": "a2", "tech": "uwb", "at": {"tunnel": "drift", "offset_m": 500}},
        {"id": "a3", "tech": "uwb", "at": {"tunnel": "drift", "offset_m": 900}},
        {"id": "r1", "tech": "rfid", "at": {"tunnel": "walk", "offset_m": 5}, "range_m": 10},
    ],
    "people": [
        {"id": "p1", "name": "Aidos K.", "role": "miner", "tag": "t1"},
        {"id": "p2", "name": "Nurlan S.", "role": "electrician", "tag": "t2"},
        {"id": "p3", "name": "Olga B.", "role": "miner", "tag": "t3"},
    ],
    "rules": {
        "man_down_s": 60,
        "tag_lost_s": 30,
        "shift_h": 8,
        "anchor_offline_s": 60,
        "low_battery_pct": 20,
    },
}


def est(mine: Mine, tag: str, ts: float, tunnel: str, offset: float) -> Estimate:
    """An exact estimate at a place."""
    xyz = tuple(float(v) for v in mine.point_at_one(tunnel, offset))
    return Estimate(
        tag, ts, tunnel, offset, xyz, (Span(tunnel, offset - 1, offset + 1),), 2.0, 0.0, ts
    )  # type: ignore[arg-type]


@dataclass
class Driver:
    """Steps a monitor; ``where[tag]`` is placed every tick and heard by the nearest anchor."""

    mine: Mine
    monitor: SafetyMonitor
    now: float = T0
    where: dict[str, tuple[str, float]] = field(default_factory=dict)
    silent: set[str] = field(default_factory=set)
    dead: set[str] = field(default_factory=set)
    changes: list[AlarmChange] = field(default_factory=list)

    def step(self, extra: Iterable[Measurement] = (), dt: float = 1.0) -> Tick:
        self.now += dt
        ms = list(extra)
        ests: list[Estimate] = []
        for tag, (tunnel, off) in self.where.items():
            if tag in self.silent:
                continue
            anchor = min(
                (a for a in self.mine.anchors if a.tunnel == tunnel and a.id not in self.dead),
                key=lambda a: abs(a.offset_m - off),
                default=None,
            )
            ms.append(
                Measurement(
                    self.now,
                    tag,
                    anchor=anchor.id if anchor else None,
                    range_m=abs(anchor.offset_m - off) if anchor else None,
                    motion=None if anchor else True,
                )
            )
            ests.append(est(self.mine, tag, self.now, tunnel, off))
        tick = self.monitor.step(self.now, ms, ests)
        self.changes.extend(tick.changes)
        return tick

    def run(self, seconds: int, extra: Sequence[Measurement] = ()) -> None:
        for i in range(seconds):
            self.step(extra if i == 0 else ())

    def lamp(self, tag: str, event: str) -> Tick:
        return self.step([Measurement(self.now + 0.5, tag, event=event)])

    def of(self, kind: str) -> list[tuple[str, str | None, str | None]]:
        return [(c.state, c.alarm.tag, c.alarm.zone) for c in self.changes if c.alarm.kind == kind]
