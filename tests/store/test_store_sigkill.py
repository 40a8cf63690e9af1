"""SIGKILL mid-run loses nothing reported as stored; after restart the headcount is right."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from busy_pipeline import MINE, T0, expected_headcount, world

from minepos.mine import mine_from_dict
from minepos.safety import SafetyMonitor, SafetySettings
from minepos.store import Store
from minepos.store.recorder import SafetyRecorder

SCRIPT = Path(__file__).with_name("busy_pipeline.py")


def _run_and_kill(url: str, min_ticks: int) -> list[str]:
    """Start the busy pipeline, let it write, SIGKILL it mid-run; return what it reported."""
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), url],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    ticks = 0
    while ticks < min_ticks and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        ticks += line.startswith("tick ")
    proc.send_signal(signal.SIGKILL)  # mid-run: the next tick is being written right now
    rest, _ = proc.communicate(timeout=30)
    lines += [x.strip() for x in rest.splitlines() if x.strip()]
    assert proc.returncode == -signal.SIGKILL
    assert ticks >= min_ticks, f"the pipeline wrote only {ticks} ticks"
    return lines


@pytest.mark.slow
def test_sigkill_loses_nothing_reported_and_headcount_is_right_after_one_tick(
    db_url: str,
) -> None:
    lines = _run_and_kill(db_url, min_ticks=120)
    alarms = {}
    lamps = set()
    acks = {}
    for line in lines:
        kind, *rest = line.split(" ")
        if kind == "alarm":
            alarms.setdefault(rest[0], set()).add(rest[1])
        elif kind == "lamp":
            lamps.add((rest[0], float(rest[1]), rest[2]))
        elif kind == "ack":
            acks[rest[0]] = rest[1]
    assert lamps, "the run reported no lamp events"
    assert any("cleared" in s for s in alarms.values()), "the run cleared no alarm"
    assert acks, "the run acknowledged nothing"
    with Store(db_url) as store:
        stored_lamps = {(e.tag, e.ts, e.event) for e in store.events.lamp_events()}
        assert lamps <= stored_lamps
        for alarm, states in alarms.items():
            row = store.alarms.get(alarm)
            assert row is not None, f"alarm {alarm} reported stored is missing"
            if "cleared" in states:
                assert row.cleared_at is not None
        for alarm, user in acks.items():
            row = store.alarms.get(alarm)
            assert row is not None
            assert row.acked_by == user
        last = max(ts for _, ts, _ in stored_lamps)
        k = round(last + 0.5 - T0) + 1  # the first tick not stored: the gateway sends it again
        mine = mine_from_dict(MINE)
        rec = SafetyRecorder(store, SafetyMonitor(mine, SafetySettings(card_anomaly_warmup_s=1e9)))
        restored = rec.restore(T0 + k)
        down_before, _ = expected_headcount(k - 1)
        assert restored.underground == down_before  # right at once, from the store alone
        now, ms, ests = world(mine, k)
        tick = rec.tick(now, ms, ests)
        assert tick.headcount is not None
        underground, in_goaf = expected_headcount(k)
        assert tick.headcount.underground == underground
        assert tick.headcount.by_zone.get("goaf", 0) == in_goaf
        assert tick.headcount.by_level == {"h100": underground}
