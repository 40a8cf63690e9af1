"""Benchmark: how fast the simulator generates a shift, against real time and raw JSON encoding.

    python bench/bench_sim.py                       # 2,000 people, a whole 8-hour shift
    python bench/bench_sim.py --people 600 --hours 1

One pass over the run; the time spent generating (plans, motion, sensor models, truth) and the
time spent writing JSON lines (measurements and truth, to /dev/null or gzip) are clocked
separately, so the figures are:

- generation: measurements/s and simulated seconds per wall second (x real time);
- with output: the same including the canonical JSON lines, as `minepos simulate --out` does;
- peer: encoding the same measurements one object at a time with `json.dumps`, `orjson.dumps`
  and `Measurement.to_json` (the raw serialisation rate the writer competes with);
- physical: the rate a real mine of that size produces (measurements per real second).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import time
from typing import IO

import orjson

from minepos.mine import mine_from_dict
from minepos.mine.demo import demo_mine_dict
from minepos.sim import MeasurementBatch, ScenarioConfig, Simulation


def _peer(sample: MeasurementBatch, sim: Simulation) -> dict[str, float]:
    """Objects per second for plain encoders on a sample of measurements."""
    objs = sample.to_measurements(sim.tags, sim.anchor_ids)
    dicts = [m.to_dict() for m in objs]
    out: dict[str, float] = {}
    for name, fn in (
        ("json.dumps(dict)", lambda: [json.dumps(d) for d in dicts]),
        ("orjson.dumps(dict)", lambda: [orjson.dumps(d) for d in dicts]),
        ("Measurement.to_json()", lambda: [m.to_json() for m in objs]),
        ("MeasurementBatch.json_lines (ours)", lambda: sample.json_lines(sim.tags, sim.anchor_ids)),
    ):
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - t0)
        out[name] = len(dicts) / statistics.median(runs)
    return out


def run(people: int, hours: float, seed: int, sink: IO[str], offset_h: float = 0.0) -> None:
    mine = mine_from_dict(demo_mine_dict())
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    cfg = ScenarioConfig(people=people, minutes=hours * 60, shift_offset_s=offset_h * 3600)
    sim = Simulation(mine, cfg, seed=seed)
    setup = time.perf_counter() - t0
    gen = fmt = gen_cpu = fmt_cpu = 0.0
    n_meas = n_truth = 0
    sample: MeasurementBatch | None = None
    ticks = sim.run()
    report_every = max(1, sim.n_ticks // 20)
    for k in range(sim.n_ticks):
        t1, c1 = time.perf_counter(), time.process_time()
        tick = next(ticks)
        t2, c2 = time.perf_counter(), time.process_time()
        lines = tick.measurements.json_lines(sim.tags, sim.anchor_ids)
        truth = tick.truth.json_lines(mine, sim.people)
        sink.write("\n".join(lines))
        sink.write("\n".join(truth))
        t3, c3 = time.perf_counter(), time.process_time()
        gen, gen_cpu = gen + t2 - t1, gen_cpu + c2 - c1
        fmt, fmt_cpu = fmt + t3 - t2, fmt_cpu + c3 - c2
        n_meas += len(lines)
        n_truth += len(truth)
        if sample is None or len(tick.measurements) > len(sample):
            sample = tick.measurements
        if (k + 1) % report_every == 0:
            print(
                f"  {100 * (k + 1) / sim.n_ticks:5.1f}%  {n_meas:,} measurements  "
                f"gen {gen:.0f} s  json {fmt:.0f} s",
                flush=True,
            )
    sim_s = cfg.duration_s
    cpu = time.process_time() - cpu0
    assert sample is not None
    print(f"\n== simulator: demo mine, {people} people, {hours:g} h, seed {seed}")
    print(f"setup (roster, plans, link tables): {setup:.1f} s")
    print(f"measurements {n_meas:,}, truth rows {n_truth:,}, incidents {len(sim.incidents())}")
    print("(wall clock on a shared machine | this process's CPU time)")
    for name, w, c in (
        ("generation only", gen, gen_cpu),
        ("with JSON output", gen + fmt, gen_cpu + fmt_cpu),
    ):
        print(
            f"{name:17s} wall {w:7.1f} s {n_meas / w:10,.0f} meas/s {sim_s / w:6.1f} x real time"
            f" | CPU {c:7.1f} s {n_meas / c:10,.0f} meas/s {sim_s / c:6.1f} x real time"
        )
    print(f"CPU time of the whole run, setup included: {cpu:.0f} s")
    print(f"physical: the real mine produces {n_meas / sim_s:,.0f} measurements per real second")
    print(f"peer, encoding a tick of {len(sample):,} measurements (objects/s, median of 3):")
    for name, rate in _peer(sample, sim).items():
        print(f"  {name:38s} {rate:12,.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--offset-h", type=float, default=0.0, help="start this far into the shift")
    ap.add_argument("--gzip", metavar="FILE", help="write gzip here instead of /dev/null")
    args = ap.parse_args()
    if args.gzip:
        with gzip.open(args.gzip, "wt", compresslevel=1) as sink:
            run(args.people, args.hours, args.seed, sink, args.offset_h)
    else:
        with open(os.devnull, "w") as sink:
            run(args.people, args.hours, args.seed, sink, args.offset_h)


if __name__ == "__main__":
    main()
