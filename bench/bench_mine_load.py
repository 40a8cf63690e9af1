"""How fast a large mine file loads: 50 km of tunnels and 2,000 anchors (floor: under 1 s).

Prints, side by side in one run, the median time to parse the text alone (the floor no loader can
beat), to validate it, and to build the queryable model, for JSON and YAML; and the median time of
the model's vectorised queries on it.
Run: `python bench/bench_mine_load.py [--km 50] [--anchors 2000]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import yaml

from minepos.mine import Mine, load_mine_text, parse_mine_file
from minepos.mine.loader import _parse_text


def big_mine(km: float, anchors: int, seed: int = 1) -> dict[str, Any]:
    """A grid of drifts and crosscuts on three levels joined by shafts, bends in every drift."""
    rng = np.random.default_rng(seed)
    nodes: list[dict[str, Any]] = []
    tunnels: list[dict[str, Any]] = []
    levels = [0.0, -300.0, -450.0, -600.0]
    spacing = 150.0
    per_level = km * 1000 / 3
    side = round(np.sqrt(per_level / (2 * spacing))) + 1
    for li, z in enumerate(levels[1:], start=1):
        for i in range(side):
            for j in range(side):
                nodes.append({"id": f"n{li}_{i}_{j}", "xyz": [i * spacing, j * spacing, z]})
        for i in range(side):
            for j in range(side):
                for di, dj, kind in ((1, 0, "drift"), (0, 1, "crosscut")):
                    if i + di < side and j + dj < side:
                        via = [
                            [
                                (i + di * f) * spacing + rng.normal(0, 2),
                                (j + dj * f) * spacing + rng.normal(0, 2),
                                z,
                            ]
                            for f in (0.2, 0.4, 0.6, 0.8)
                        ]
                        tunnels.append(
                            {
                                "id": f"t{li}_{i}_{j}_{kind[0]}",
                                "from": f"n{li}_{i}_{j}",
                                "to": f"n{li}_{i + di}_{j + dj}",
                                "kind": kind,
                                "via": via,
                            }
                        )
    nodes.append({"id": "top", "xyz": [0, 0, 0]})
    nodes.append({"id": "top_end", "xyz": [-200, 0, 0]})
    tunnels.append({"id": "yard", "from": "top_end", "to": "top", "kind": "drift"})
    tunnels.append({"id": "shaft_1", "from": "top", "to": "n1_0_0", "kind": "shaft"})
    for li in (2, 3):
        tunnels.append(
            {"id": f"shaft_{li}", "from": f"n{li - 1}_0_0", "to": f"n{li}_0_0", "kind": "shaft"}
        )
    drifts = [t for t in tunnels if t["kind"] != "shaft" and t["id"] != "yard"]
    anchor_list = []
    for k in range(anchors):
        t = drifts[k % len(drifts)]
        if k % 4 == 3:  # a quarter placed by survey coordinates, snapped to the nearest tunnel
            a = next(n for n in nodes if n["id"] == t["from"])["xyz"]
            xyz = [
                a[0] + rng.uniform(20, 130) * (t["id"].endswith("d")),
                a[1] + rng.uniform(20, 130) * (t["id"].endswith("c")),
                a[2] + 2,
            ]
            anchor_list.append({"id": f"a{k}", "tech": "ble", "at": {"xyz": xyz}})
        else:
            anchor_list.append(
                {
                    "id": f"a{k}",
                    "tech": "uwb",
                    "at": {"tunnel": t["id"], "offset_m": float(rng.uniform(1, 140))},
                }
            )
    return {
        "mine": {"id": "big", "name": "Big synthetic mine"},
        "levels": [{"id": f"l{i}", "name": f"L{z:g}", "z": z} for i, z in enumerate(levels)],
        "nodes": nodes,
        "tunnels": tunnels,
        "zones": [
            {
                "id": "exit",
                "name": "Exit",
                "kind": "exit",
                "spans": [{"tunnel": "yard", "from_m": 0, "to_m": 20}],
            }
        ],
        "anchors": anchor_list,
    }


def median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--km", type=float, default=50.0)
    ap.add_argument("--anchors", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    data = big_mine(args.km, args.anchors)
    texts = {"json": json.dumps(data), "yaml": yaml.safe_dump(data, default_flow_style=None)}
    mine: Mine = load_mine_text(texts["json"])
    print(
        f"mine: {mine.total_length_m / 1000:.1f} km of tunnels, {len(mine.tunnels)} tunnels, "
        f"{len(mine.nodes)} nodes, {len(mine.anchors)} anchors"
    )
    print(
        f"{'format':6} {'size MB':>8} {'parse only s':>13} {'validate s':>11} {'full load s':>12}"
    )
    for fmt, text in texts.items():
        parse = median_s(lambda text=text, fmt=fmt: _parse_text(text, fmt), args.repeat)
        parsed = _parse_text(text, fmt)
        validate = median_s(lambda parsed=parsed: parse_mine_file(parsed), args.repeat)
        full = median_s(lambda text=text: load_mine_text(text), args.repeat)
        print(f"{fmt:6} {len(text) / 1e6:8.2f} {parse:13.3f} {validate:11.3f} {full:12.3f}")
    rng = np.random.default_rng(0)
    n = 14_000
    t = rng.integers(0, len(mine.tunnels), n)
    off = rng.uniform(0, 1, n) * mine.geometry.lengths[t]
    xyz = mine.point_at(t, off) + rng.normal(0, 2, (n, 3))
    q = {
        "point_at x14000": median_s(lambda: mine.point_at(t, off), args.repeat),
        "project x14000": median_s(lambda: mine.project(xyz), args.repeat),
        "zone_mask x14000": median_s(lambda: mine.zone_mask(t, off), args.repeat),
        "level_index_at x14000": median_s(lambda: mine.level_index_at(t, off), args.repeat),
        "field_to(exit)": median_s(lambda: mine.field_to("exit"), args.repeat),
    }
    for name, s in q.items():
        print(f"{name:24} {s * 1000:9.2f} ms")


if __name__ == "__main__":
    main()
