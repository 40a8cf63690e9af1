"""DXF import speed: a messy grid plan of thousands of lines, stage by stage, against two floors.

The plan: ``n`` x ``n`` drifts 50 m apart on two levels, every drift drawn as ``n`` LINEs whose
ends are jittered by up to 0.3 m (so snapping does real work), every tenth line drawn twice, and
a shaft between the levels. Figures are medians of ``--runs`` runs.

Compared side by side in one run:

- *floor*: reading the file with ezdxf alone (nothing can be faster than reading it);
- the import's own stages: reading entities into segments, building the graph, naming and
  checking the mine file;
- *peer*: the candidate-pair search done by brute force (every pair's boxes compared, numpy,
  chunked) against the sweep the importer uses.

    python bench/bench_dxf.py --sizes 10 30 60 --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import ezdxf
import numpy as np

from minepos.mine.dxf import import_dxf
from minepos.mine.dxf_graph import build_graph, candidate_pairs
from minepos.mine.dxf_read import read_plan


def messy_grid(path: Path, n: int, seed: int = 7) -> int:
    """Write the plan; return the number of LINEs in it."""
    rng = np.random.default_rng(seed)
    doc = ezdxf.new()
    msp = doc.modelspace()
    count = 0
    for z in (-300.0, -500.0):
        for k in range(n):
            y = k * 50.0 + 3
            for piece in range(n):
                x0, x1 = piece * 50.0, (piece + 1) * 50.0
                for a, b, layer in (((x0, y), (x1, y), "DRIFTS"), ((y, x0), (y, x1), "XCUTS")):
                    ja, jb = rng.uniform(-0.3, 0.3, 2), rng.uniform(-0.3, 0.3, 2)
                    start = (a[0] + ja[0], a[1] + ja[1], z)
                    end = (b[0] + jb[0], b[1] + jb[1], z)
                    copies = 2 if count % 10 == 0 else 1
                    for _ in range(copies):
                        msp.add_line(start, end, dxfattribs={"layer": layer})
                        count += 1
    msp.add_line((3, 3, -300), (3, 3, -500), dxfattribs={"layer": "SHAFTS"})
    doc.saveas(path)
    return count + 1


def brute_pairs(lo: np.ndarray, hi: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Every pair of boxes compared (the peer of the sweep)."""
    out = []
    for s in range(0, len(lo), chunk):
        a_lo, a_hi = lo[s : s + chunk, None], hi[s : s + chunk, None]
        hit = np.all((a_lo <= hi[None]) & (lo[None] <= a_hi), axis=2)
        i, j = np.nonzero(hit)
        i = i + s
        keep = i < j
        out.append(np.stack([i[keep], j[keep]], axis=1))
    return np.concatenate(out)


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(n: int, runs: int, tmp: Path) -> dict[str, float]:
    plan = tmp / f"grid{n}.dxf"
    lines = messy_grid(plan, n)
    segs = read_plan(plan)
    lo = np.minimum(segs.ends[:, 0], segs.ends[:, 1]) - 0.5
    hi = np.maximum(segs.ends[:, 0], segs.ends[:, 1]) + 0.5
    row = {
        "lines": float(lines),
        "ezdxf read (floor)": median_time(lambda: ezdxf.readfile(plan), runs),
        "read entities": median_time(lambda: read_plan(plan), runs),
        "build graph": median_time(lambda: build_graph(segs.ends, segs.layer, 0.5), runs),
        "full import": median_time(lambda: import_dxf(plan), runs),
        "pairs: sweep": median_time(lambda: candidate_pairs(lo, hi), runs),
    }
    if lines <= 20_000:
        row["pairs: brute force"] = median_time(lambda: brute_pairs(lo, hi), runs)
        assert len(brute_pairs(lo, hi)) == len(candidate_pairs(lo, hi))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 30, 60])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [bench(n, args.runs, Path(tmp)) for n in args.sizes]
    keys = [k for k in rows[0] if k != "lines"]
    print("| lines | " + " | ".join(keys) + " | import / floor | brute / sweep |")
    print("| --- " * (len(keys) + 3) + "|")
    for r in rows:
        cells = [f"{r[k]:.3f} s" if k in r else "-" for k in keys]
        ratio = r["full import"] / r["ezdxf read (floor)"]
        peer = r.get("pairs: brute force", float("nan")) / r["pairs: sweep"]
        print(f"| {int(r['lines']):,} | " + " | ".join(cells) + f" | {ratio:.2f} | {peer:.0f}x |")


if __name__ == "__main__":
    main()
