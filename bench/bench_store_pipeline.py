"""The safety pipeline after the engine at full scale: live state, rules, lamp room and store.

14,000 tags (the whole Qarmet workforce) on the demo mine, each placed every tick (1 Hz) and heard
by three anchors, a status report every 10 s; rules evaluated every tick; everything stored on
SQLite through the `SafetyRecorder`. Real time is the limit: a tick must take well under 1 s
(the engine needs the rest of the second). Reported: median and 95th percentile per tick, and
the share of it spent in the monitor (state + rules) versus queuing the tick for the store.

    python bench/bench_store_pipeline.py --tags 14000 --ticks 30
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np

from minepos.engine.estimate import Estimate, Span
from minepos.measurement import Measurement
from minepos.mine import mine_from_dict
from minepos.mine.demo import demo_mine_dict
from minepos.safety import SafetyMonitor, SafetySettings
from minepos.store import Store
from minepos.store.recorder import SafetyRecorder

T0 = 1_795_323_600.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tags", type=int, default=14_000)
    ap.add_argument("--ticks", type=int, default=30)
    args = ap.parse_args()
    mine = mine_from_dict(demo_mine_dict(600))
    rng = np.random.default_rng(1)
    under = [t for t in mine.tunnels if t.kind != "shaft" and t.id != "surface_walk"]
    pick = rng.integers(0, len(under), args.tags)
    tunnel = [under[k].id for k in pick]
    base = rng.uniform(0, 1, args.tags) * np.array([under[k].length_m for k in pick])
    anchors = {
        t.id: [a.id for a in mine.anchors if a.tunnel == t.id] or ["r_lamp_room"] for t in under
    }
    tags = [f"x{i:05d}" for i in range(args.tags)]
    lengths = np.array([under[k].length_m for k in pick])
    xyz_all = mine.point_at(np.array([mine.tunnel_index[t] for t in tunnel]), base)
    ticks = []
    for k in range(args.ticks):  # made before the clock runs
        now = T0 + k
        off = np.clip(base + 1.2 * k * (np.arange(args.tags) % 4 == 0), 0, lengths)
        ms = (
            [Measurement(now - 0.5, tags[i], event="lamp_out") for i in range(args.tags)]
            if k == 0
            else []
        )
        for i in range(args.tags):
            for a in anchors[tunnel[i]][:3]:
                ms.append(Measurement(now - 0.3, tags[i], anchor=a, range_m=10.0))
            if (i + k) % 10 == 0:
                ms.append(Measurement(now - 0.2, tags[i], motion=True, battery_pct=80.0))
        ests = [
            Estimate(
                tags[i],
                now,
                tunnel[i],
                float(off[i]),
                tuple(xyz_all[i]),  # type: ignore[arg-type]
                (Span(tunnel[i], float(off[i]) - 1, float(off[i]) + 1),),
                2.0,
                1.2,
                now,
            )
            for i in range(args.tags)
        ]
        ticks.append((now, ms, ests))
    with tempfile.TemporaryDirectory() as tmp, Store(f"sqlite:///{tmp}/p.sqlite3") as store:
        monitor = SafetyMonitor(mine, SafetySettings())
        rec = SafetyRecorder(store, monitor)
        total, in_monitor = [], []
        for now, ms, ests in ticks:
            t = time.perf_counter()
            tick = monitor.step(now, ms, ests)
            t_mon = time.perf_counter() - t
            rec.save(tick).wait()  # the durable path: wait for the commit every tick
            total.append(time.perf_counter() - t)
            in_monitor.append(t_mon)
        steady = total[1:]  # the first tick carries every lamp-out and first history row
        med = statistics.median(steady)
        p95 = sorted(steady)[int(0.95 * (len(steady) - 1))]
        mon = statistics.median(in_monitor[1:])
        per_tick = sum(len(m) for _, m, _ in ticks) / args.ticks
        print(f"{args.tags} tags, {per_tick:.0f} measurements per tick, {args.ticks} ticks")
        print(f"real time allows 1000 ms per tick; first tick {1000 * total[0]:.0f} ms")
        print(f"per tick: median {1000 * med:.0f} ms ({med:.2f} s per s), p95 {1000 * p95:.0f} ms")
        print(f"  monitor (state + rules) {1000 * mon:.0f} ms, commit {1000 * (med - mon):.0f} ms")
        print(f"underground {monitor.headcount.underground}, alarms active {len(monitor.book)}")


if __name__ == "__main__":
    main()
