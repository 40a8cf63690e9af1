"""The monitor's ticks stored whole; a restarted monitor rebuilt from the store."""

from __future__ import annotations

from typing import Any

from shaft_and_drift import shaft_and_drift

from minepos.engine.estimate import Estimate, Span
from minepos.measurement import Measurement
from minepos.mine import Mine, mine_from_dict
from minepos.safety import SafetyMonitor
from minepos.store import Store
from minepos.store.recorder import SafetyRecorder

T0 = 1_795_323_600.0  # 2026-11-22 05:00 UTC

MINE: dict[str, Any] = shaft_and_drift("tiny", 500, {"a1": 450}, people=(1, 2))


def _est(mine: Mine, tag: str, ts: float, offset: float) -> Estimate:
    xyz = tuple(float(v) for v in mine.point_at_one("drift", offset))
    return Estimate(tag, ts, "drift", offset, xyz, (Span("drift", offset, offset),), 1.0, 0.0, ts)  # type: ignore[arg-type]


def _run(rec: SafetyRecorder, mine: Mine, start: float, seconds: int) -> float:
    now = start
    for i in range(seconds):
        now = start + i
        off1 = min(300.0 + 2 * i, 460.0)  # t1 walks into the goaf at offset 400
        ms = [Measurement(now, t, anchor="a1", range_m=10.0) for t in ("t1", "t2")]
        rec.tick(now, ms, [_est(mine, "t1", now, off1), _est(mine, "t2", now, 100.0)])
    return now


def test_ticks_are_stored_and_a_restart_rebuilds_the_state(db_url: str) -> None:
    mine = mine_from_dict(MINE)
    with Store(db_url, max_delay_s=0.01) as store:
        rec = SafetyRecorder(store, SafetyMonitor(mine))
        rec.tick(
            T0, [Measurement(T0, "t1", event="lamp_out"), Measurement(T0, "t2", event="lamp_out")]
        )
        now = _run(rec, mine, T0 + 1, 90)
        before = rec.monitor.headcount
        active = [a.id for a in rec.monitor.book]
        ack = rec.acknowledge(active[0], "dina", now, "seen")
        store.flush()
        assert [a.id for a in store.alarms.active()] == active
        assert store.alarms.get(ack.alarm.id).acked_by == "dina"  # type: ignore[union-attr]
        assert [e.event for e in store.events.lamp_events()] == ["lamp_out", "lamp_out"]
        assert [(t.zone, t.direction) for t in store.events.transitions(person="p1")] == [
            ("goaf", "enter")
        ]
        track = store.history.track("p1", T0, now + 1)
        assert 40 <= len(track) <= 43  # 2 m/s for 80 s: kept every 4 m, then standing
        assert store.history.headcount(T0, now + 1)[-1].underground == 2
    with Store(db_url, max_delay_s=0.01) as store:
        rec = SafetyRecorder(store, SafetyMonitor(mine))
        hc = rec.restore(now + 30)
        assert hc.counts() == before.counts()
        assert [a.id for a in rec.monitor.book] == active
        assert rec.monitor.lamp.is_out("t1")
        tick = rec.tick(now + 31)
        assert tick.changes == []


def test_the_recorder_applies_retention(db_url: str) -> None:
    mine = mine_from_dict(MINE)
    with Store(db_url, max_delay_s=0.01) as store:
        rec = SafetyRecorder(store, SafetyMonitor(mine))
        _run(rec, mine, T0 + 1, 5)
        store.flush()
        assert store.history.track("p1", T0, T0 + 10)
        later = T0 + 91 * 86400.0  # past the 90 days of positions
        rec.tick(later)
        store.flush()
        assert store.history.track("p1", T0, T0 + 10) == []
