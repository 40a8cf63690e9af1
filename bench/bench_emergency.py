"""Emergency accounting and escape routes for 14,000 people (floor from issue 8: at most 1 s).

Puts N people (default 14,000, the whole Qarmet workforce) at random places underground in the
demo mine, declares a fire, blocks two stretches and times, side by side in one run (medians):

- the full accounting with both routes (nearest exit and nearest refuge) for everyone, as the
  API serves it (what the floor is about);
- the accounting without route legs (distances only; what each engine tick pays);
- the baseline: one route search per person and kind (``DistanceField.route``), the accounting's
  route step done the obvious way;
- the naive baseline: one Dijkstra per person (``Mine.nearest``), measured on a sample and scaled.

Run: ``python bench/bench_emergency.py [--people 14000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from minepos.engine.estimate import Estimate, Span
from minepos.measurement import Measurement
from minepos.mine import Mine, Place, mine_from_dict
from minepos.mine.demo import demo_mine_dict
from minepos.safety import LiveState
from minepos.safety.emergency import EmergencyDesk, EmergencySettings, MemoryDownlink

T0 = 1_763_793_600.0


def populate(mine: Mine, n: int, seed: int = 8) -> LiveState:
    """A live state with ``n`` tags at random places on the underground tunnels."""
    rng = np.random.default_rng(seed)
    state = LiveState(mine)
    under = [i for i, t in enumerate(mine.tunnels) if t.id != "surface_walk" and t.kind != "shaft"]
    t = rng.choice(under, n)
    s = rng.uniform(0.02, 0.98, n) * mine.network.lengths[t]
    xyz = mine.point_at(t, s)
    people = mine.people
    state.observe([Measurement(T0 - rng.uniform(0, 60), p.tag, motion=True) for p in people[:n]])
    ests = []
    for k in range(n):
        tid = mine.tunnels[int(t[k])].id
        u = float(rng.uniform(4, 80))
        span = Span(tid, max(0.0, float(s[k]) - u / 2), float(s[k]) + u / 2)
        x = (float(xyz[k, 0]), float(xyz[k, 1]), float(xyz[k, 2]))
        ests.append(Estimate(people[k].tag, T0, tid, float(s[k]), x, (span,), u, 0.5, T0))
    state.place(ests)
    return state


def median_s(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and CPU time of ``fn`` over ``repeat`` runs (CPU time is what a loaded
    2-core machine distorts least)."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--people", type=int, default=14_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sample", type=int, default=300, help="people for the naive baseline")
    args = ap.parse_args()
    mine = mine_from_dict(demo_mine_dict(people=args.people))
    state = populate(mine, args.people)
    desk = EmergencyDesk(state, downlink=MemoryDownlink(), settings=EmergencySettings(reuse_s=0))
    desk.declare("fire", Place("main320_1000", 300.0), "bench", T0 + 1)
    desk.block(Span("main320_500", 100, 200), "smoke", "bench", T0 + 2)
    desk.block(Span("main320_2200", 0, 50), "fire", "bench", T0 + 3)
    acc = desk.accounting(T0 + 5)
    n = acc.counts["involved"]
    print(
        f"{n} people involved, {acc.counts['no_exit_route']} without an open exit route, "
        f"{acc.counts['no_route']} without any, {len(mine.tunnels)} tunnels"
    )

    def fresh() -> object:
        desk._escape = None  # include building both distance fields, as after a new blockage
        return desk.accounting(T0 + 5)

    full = median_s(fresh, args.repeat)
    tick = median_s(lambda: desk.accounting(T0 + 5, with_routes=False), args.repeat)
    esc = desk.escape()
    t = np.array([mine.tunnel_index[r["tunnel"]] for r in acc.rows], dtype=np.intp)
    s = np.array([r["offset_m"] for r in acc.rows])
    cached = median_s(lambda: [esc.route_dicts(k, t, s) for k in ("exit", "refuge")], args.repeat)

    def per_person() -> None:
        for kind in ("exit", "refuge"):
            fld = esc.fields[kind]
            for i in range(len(t)):
                fld.route(int(t[i]), float(s[i]))

    base = median_s(per_person, max(1, args.repeat // 2))
    k = min(args.sample, n)
    blocked = desk.active().blocked()

    def naive() -> None:
        for i in range(k):
            for kind in ("exit", "refuge"):
                mine.nearest(Place(mine.tunnels[int(t[i])].id, float(s[i])), kind, blocked)

    nv = median_s(naive, 1)
    naive_s = (nv[0] * n / k, nv[1] * n / k)
    print(f"{'step (14,000 people = the floor case)':62s} {'wall':>8s} {'cpu':>8s}")
    rows = [
        ("full accounting + exit and refuge routes (fields rebuilt)", full),
        ("  of which: accounting with distances only (per tick)", tick),
        ("  of which: routes for everyone, both kinds (cached ends)", cached),
        ("baseline: route search per person and kind (DistanceField)", base),
        (f"naive: a Dijkstra per person and kind (scaled from {k})", naive_s),
    ]
    for name, (w, c) in rows:
        print(f"{name:62s} {w:7.3f}s {c:7.3f}s")
    print(
        f"floor 1 s: met by {1.0 / full[0]:.1f}x (wall), {1.0 / full[1]:.1f}x (cpu); "
        f"routes {base[1] / cached[1]:.1f}x faster than a search per person, "
        f"{naive_s[1] / cached[1]:.0f}x faster than naive (cpu)"
    )


if __name__ == "__main__":
    main()
