"""A busy safety pipeline for the SIGKILL test: run as a script, killed with -9 by the test.

A deterministic little world: ``N`` tags, each out of the lamp room for ``DOWN`` s of every
``PERIOD`` s, walking a drift through a restricted zone while down. Every tick has lamp events,
positions and alarm changes; one alarm is acknowledged per tick. After each tick the script
prints, for everything the recorder reported as stored (committed), one line:
``alarm <id> <state>``, ``lamp <tag> <ts> <event>``, ``ack <id> <user>``, ``tick <k>``.
"""

from __future__ import annotations

import sys
from typing import Any

from shaft_and_drift import shaft_and_drift

from minepos.engine.estimate import Estimate, Span
from minepos.measurement import Measurement
from minepos.mine import Mine, mine_from_dict
from minepos.safety import SafetyMonitor, SafetySettings
from minepos.store import Store
from minepos.store.recorder import SafetyRecorder

T0 = 1_795_323_600.0
N, PERIOD, DOWN = 300, 150, 80

MINE: dict[str, Any] = shaft_and_drift("busy", 600, {"a1": 300}, people=range(N))


def is_down(i: int, k: int) -> bool:
    """Whether tag ``i`` is out of the lamp room (underground) at tick ``k``."""
    return (k - i % PERIOD) % PERIOD < DOWN


def offset(i: int, k: int) -> float:
    """Where tag ``i`` is on the drift at tick ``k`` while down."""
    return 50.0 + float((i * 13 + k) % 440)


def world(mine: Mine, k: int) -> tuple[float, list[Measurement], list[Estimate]]:
    """Tick ``k``: its time, the lamp events and status of it, the estimates of every tag."""
    now = T0 + k
    ms: list[Measurement] = []
    ests: list[Estimate] = []
    for i in range(N):
        tag = f"t{i}"
        phase = (k - i % PERIOD) % PERIOD
        if phase == 0:
            ms.append(Measurement(now - 0.5, tag, event="lamp_out"))
        elif phase == DOWN:
            ms.append(Measurement(now - 0.5, tag, event="lamp_in"))
        ms.append(Measurement(now - 0.2, tag, anchor="a1", range_m=1.0))
        tunnel, off = ("drift", offset(i, k)) if is_down(i, k) else ("shaft", 1.0)
        xyz = tuple(float(v) for v in mine.point_at_one(tunnel, off))
        ests.append(Estimate(tag, now, tunnel, off, xyz, (Span(tunnel, off, off),), 1.0, 1.0, now))  # type: ignore[arg-type]
    return now, ms, ests


def expected_headcount(k: int) -> tuple[int, int]:
    """(underground, in the goaf) at tick ``k``."""
    down = [i for i in range(N) if is_down(i, k)]
    return len(down), sum(1 for i in down if offset(i, k) >= 400)


def main(url: str, start: int) -> None:
    """Run ticks from ``start`` on, forever (until killed), printing what is stored."""
    mine = mine_from_dict(MINE)
    settings = SafetySettings(card_anomaly_warmup_s=1e9)
    with Store(url, max_delay_s=0.05) as store:
        rec = SafetyRecorder(store, SafetyMonitor(mine, settings))
        if start > 0:
            rec.restore(T0 + start)
        k = start
        while True:
            now, ms, ests = world(mine, k)
            tick = rec.tick(now, ms, ests)  # waits for the commit when it has alarms or lamp events
            out = [f"alarm {c.alarm.id} {c.state}" for c in tick.changes]
            out += [f"lamp {e.tag} {e.ts!r} {e.event}" for e in tick.lamp_events]
            pending = [a for a in rec.monitor.book if a.acked_at is None]
            if pending:
                ack = rec.acknowledge(pending[0].id, "dina", now, "on it")
                out.append(f"ack {ack.alarm.id} dina")
            out.append(f"tick {k}")
            sys.stdout.write("\n".join(out) + "\n")
            sys.stdout.flush()
            k += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
