"""Throughput of the positioning engine: tag updates per second on one core, beside parsing.

    python bench/bench_engine.py                 # 1,000, 5,000 and 14,000 tags
    python bench/bench_engine.py --tags 5000 --ticks 60
    python bench/bench_engine.py --zones         # a mine of zone readers instead of UWB

Tags walk the UWB-covered tunnels of the demo mine (0-1.6 m/s, some standing) and range with
their nearest anchors (up to 4 within 100 m, 5 % missed, 10 % NLOS) once a second at their own
phase. Each tick the measurements go through `Tracker.add` and `Tracker.step`, exactly as the
live pipeline calls it. Beside it, the floor no engine can beat: parsing the same measurements
from their canonical JSON lines (orjson + the canonical decoder) without doing anything else.
Times are CPU times of this process (the machine is shared); wall-clock worst ticks are shown.
Beside the engine, the same run with its Kalman fast path switched off (particles only).

With ``--zones`` every UWB anchor of the demo mine is an RFID reader instead (range 10 m, a
tag detected with probability 0.95 close by, half at 7.5 m), so every tag is zone-only; beside
the engine, the same engine with as few particles for zone-only tags as for others
(`particles_zones` = `particles`), the cost of the larger cloud.
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
from dataclasses import replace

import numpy as np
import orjson

from minepos.engine import Tracker, TrackerConfig
from minepos.ingest.decoders.canonical import measurement_from_json
from minepos.measurement import Measurement
from minepos.mine import Mine, mine_from_dict
from minepos.mine.demo import demo_mine_dict


def zones_mine() -> Mine:
    """The demo mine with a zone reader (range 10 m) wherever it has a UWB anchor."""
    d = demo_mine_dict()
    for a in d["anchors"]:
        if a["tech"] == "uwb":
            a["tech"], a["range_m"] = "rfid", READER_RANGE_M
    return mine_from_dict(d)


READER_RANGE_M = 10.0


class Walkers:
    """N tags moving along the tunnels the demo mine covers with UWB, ranging once a second
    (or heard by the zone readers standing there instead: ``zones``)."""

    def __init__(self, mine: Mine, n: int, rng: np.random.Generator, zones: bool = False) -> None:
        self.mine, self.rng, self.zones = mine, rng, zones
        uwb = [a for a in mine.anchors if a.tech == ("rfid" if zones else "uwb")]
        self.a_ids = [a.id for a in uwb]
        self.a_xyz = np.array([a.xyz for a in uwb])
        covered = sorted(
            {
                mine.tunnel_index[a.tunnel]
                for a in uwb
                if mine.tunnels[mine.tunnel_index[a.tunnel]].kind != "shaft"
            }
        )
        self.t = rng.choice(np.array(covered), n)
        self.length = mine.geometry.lengths[self.t]
        self.s = rng.uniform(0, self.length)
        self.v = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(-1.6, 1.6, n))
        self.phase = rng.uniform(0, 1, n)
        # worn as the simulator wears tags: half a metre below the axis the anchors are
        # surveyed on, each person at their own place across the tunnel
        self.lateral = rng.normal(0.0, 0.5, n)
        self.tags = [f"w{i:05d}" for i in range(n)]

    def tick(self, t: float) -> list[Measurement]:
        """Advance one second; the measurements of that second."""
        self.s += self.v
        flip = (self.s < 0) | (self.s > self.length)
        self.v[flip] *= -1
        self.s = np.clip(self.s, 0, self.length)
        # each tag ranges at its own phase within the second: where it was at that moment
        at = np.clip(self.s - self.v * (1.0 - self.phase), 0, self.length)
        xyz = self.mine.point_at(self.t, at)
        d = self.mine.geometry.direction_at(self.t, at)
        side = np.stack([-d[:, 1], d[:, 0], np.zeros(len(d))], axis=1)
        side /= np.maximum(np.linalg.norm(side, axis=1), 1e-6)[:, None]
        xyz += side * self.lateral[:, None] + np.array([0.0, 0.0, -0.5])
        d = np.linalg.norm(xyz[:, None, :] - self.a_xyz[None, :, :], axis=2)
        if self.zones:
            return self._detections(t, d)
        near = np.argsort(d, axis=1)[:, :4]
        out: list[Measurement] = []
        rng = self.rng
        for i in range(len(self.tags)):
            ts = round(float(t - 1.0 + self.phase[i]), 3)
            for a in near[i]:
                if d[i, a] > 100.0 or rng.random() < 0.05:
                    continue
                r = float(d[i, a] + 0.05 * rng.standard_normal())
                if rng.random() < 0.1:
                    r += rng.exponential(1.0)
                out.append(Measurement(ts, self.tags[i], self.a_ids[a], range_m=round(r, 3)))
        return out

    def _detections(self, t: float, d: np.ndarray) -> list[Measurement]:
        """Zone readers within range hear each tag with a probability falling at the edge."""
        edge = np.minimum((d - 0.75 * READER_RANGE_M) / (0.08 * READER_RANGE_M), 50.0)
        p = 0.95 / (1.0 + np.exp(edge))
        heard = (d <= READER_RANGE_M) & (self.rng.random(d.shape) < p)
        return [
            Measurement(round(float(t - 1.0 + self.phase[i]), 3), self.tags[i], self.a_ids[a])
            for i, a in zip(*np.nonzero(heard), strict=True)
        ]


def parse_rate(lines: list[bytes]) -> float:
    """Measurements decoded per CPU second from canonical JSON lines."""
    t0 = time.process_time()
    for line in lines:
        measurement_from_json(orjson.loads(line))
    return len(lines) / max(time.process_time() - t0, 1e-9)


def run(
    n: int, ticks: int, seed: int, warmup: int, config: TrackerConfig, zones: bool = False
) -> dict[str, float]:
    """Run ``warmup + ticks`` engine ticks with ``n`` tags; return the figures of the last
    ``ticks``."""
    mine = zones_mine() if zones else mine_from_dict(demo_mine_dict())
    rng = np.random.default_rng(seed)
    walkers = Walkers(mine, n, rng, zones)
    tracker = Tracker(mine, config, rng=np.random.default_rng(seed))
    t0 = 1_763_800_000.0
    cpu, wall, per_tick, parse, share, rate = [], [], [], [], [], []
    for k in range(warmup + ticks):
        batch = walkers.tick(t0 + k)
        lines = [orjson.dumps(m.to_dict()) for m in batch]
        c0, w0 = time.process_time(), time.perf_counter()
        tracker.add(batch)
        est = tracker.step(t0 + k)
        c1, w1 = time.process_time(), time.perf_counter()
        # every tag appears at once in the first tick and is placed from its first ranges: a
        # live system meets tags one by one as they come through the lamp room
        if k >= warmup:
            share.append(tracker.kalman_share)
            cpu.append(c1 - c0)
            rate.append(len(est) / max(c1 - c0, 1e-9))
            wall.append(w1 - w0)
            per_tick.append(len(batch) / max(len(est), 1))
            parse.append(parse_rate(lines))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    st = tracker.store
    state_mb = sum(a.nbytes for a in (st.pt, st.ps, st.pv, st.lw)) / 1e6
    per_update = float(np.mean(per_tick))
    return {
        "tags": n,
        # tags are updated once they are tracked: all of them at once where they range, one by
        # one as zone readers first hear them
        "updates_per_s": float(np.median(rate)),
        "parse_per_s": float(np.median(parse)) / per_update,
        "measurements_per_update": per_update,
        "median_tick_ms": 1e3 * float(np.median(wall)),
        "worst_tick_ms": 1e3 * max(wall),
        "state_mb": state_mb,
        "kalman_share": float(np.mean(share)),
        "rss_mb": rss_mb,
    }


def main() -> None:
    """Print the throughput table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tags", type=int, nargs="*", default=[1000, 5000, 14000])
    ap.add_argument("--ticks", type=int, default=20, help="ticks measured")
    ap.add_argument(
        "--warmup", type=int, default=None, help="ticks before measuring (10; 120 with --zones)"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--default-gc", action="store_true", help="keep Python's default garbage-collector settings"
    )
    ap.add_argument("--zones", action="store_true", help="zone readers instead of UWB anchors")
    args = ap.parse_args()
    if args.warmup is None:  # zone readers meet the tags one by one as they walk past
        args.warmup = 120 if args.zones else 10
    Tracker(mine_from_dict(demo_mine_dict()))  # compile (or load) the kernel before timing
    if not args.default_gc:
        # What a long-running service should do (and `minepos locate` does): move start-up
        # objects out of the collector's way and collect the young generation less often.
        # Each tick creates an estimate object per tag; with the defaults, collections cost
        # as much as the engine itself at 5,000+ tags.
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
    base = TrackerConfig()
    beside = (
        replace(base, particles_zones=base.particles) if args.zones else replace(base, kalman=False)
    )
    print(
        "| tags | engine: tag updates/s (1 core) | "
        + (
            f"{base.particles} particles for zone-only tags: tag updates/s | "
            if args.zones
            else "particles only: tag updates/s | "
        )
        + "parse only: tag updates/s (floor) | engine / parse | Kalman share | "
        "measurements per update | median tick | worst tick | particle state | process RSS |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for n in args.tags:
        r = run(n, args.ticks, args.seed, args.warmup, base, args.zones)
        pf = run(n, args.ticks, args.seed, args.warmup, beside, args.zones)
        print(
            f"| {n:,} | {r['updates_per_s']:,.0f} | {pf['updates_per_s']:,.0f} | "
            f"{r['parse_per_s']:,.0f} | {r['updates_per_s'] / r['parse_per_s']:.2f} | "
            f"{r['kalman_share']:.0%} | {r['measurements_per_update']:.1f} | "
            f"{r['median_tick_ms']:.0f} ms | {r['worst_tick_ms']:.0f} ms | "
            f"{r['state_mb']:.0f} MB | {r['rss_mb']:.0f} MB |",
            flush=True,
        )


if __name__ == "__main__":
    main()
