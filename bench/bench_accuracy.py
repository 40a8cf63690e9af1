"""Accuracy of the positioning engine beside two baselines and the posterior Cramér–Rao bound.

    python bench/bench_accuracy.py            # quick: a few minutes on 2 cores
    python bench/bench_accuracy.py --full     # more mines, spacings, NLOS rates, longer shifts

Each scenario (mine x anchor spacing x NLOS rate x technology) is simulated by `minepos.sim`
and run through the engine, the nearest-anchor baseline, per-fix least squares and the PCRB,
side by side. Prints one table per scenario and writes docs/engine_errors.png,
docs/engine_track.png and docs/engine_track_zones.png (the error distributions, and one
person's estimate against the truth among UWB anchors and among zone readers).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_accuracy_eval import METHODS, Runner, Scores, summary, truth_q
from bench_accuracy_mines import demo, grid, long_drift
from minepos.engine import TrackerConfig
from minepos.mine import Mine
from minepos.sim import ScenarioConfig, SensorConfig
from minepos.sim.config import UwbModel

DOCS = Path(__file__).resolve().parent.parent / "docs"


@dataclass
class Scenario:
    """One row group of the report."""

    name: str
    mine: Any  # a callable building the Mine
    people: int
    uwb: UwbModel
    tech: str = "uwb"
    floor: str = ""


def scenarios(full: bool) -> list[Scenario]:
    """The quick set, or the full sweep."""
    nlos20 = UwbModel(p_nlos=0.2)
    out = [
        Scenario(
            "long drift, UWB 120 m, 20 % NLOS",
            lambda: long_drift(120.0),
            120,
            nlos20,
            floor="p95 <= 1.0 m, right >= 99 %, coverage 0.90-0.99",
        ),
        Scenario(
            "long drift, UWB 120 m, line of sight",
            lambda: long_drift(120.0),
            120,
            UwbModel(p_nlos=0.0, p_nlos_junction=0.0, p_outlier=0.0),
            floor="RMSE <= 1.5 x PCRB",
        ),
        Scenario(
            "grid, UWB 120 m, 20 % NLOS",
            lambda: grid(120.0),
            150,
            nlos20,
            floor="p95 <= 1.0 m, right >= 99 %, coverage 0.90-0.99",
        ),
        Scenario("demo mine as built (UWB 120 m, RFID, BLE)", demo, 200, UwbModel()),
        Scenario(
            "long drift, RFID zones every 100 m",
            lambda: long_drift(100.0, "rfid"),
            120,
            UwbModel(),
            tech="rfid",
            floor="coverage >= 0.95",
        ),
    ]
    if full:
        out += [
            Scenario("long drift, UWB 60 m, 20 % NLOS", lambda: long_drift(60.0), 120, nlos20),
            Scenario("grid, UWB 200 m, 20 % NLOS", lambda: grid(200.0), 150, nlos20),
            Scenario(
                "grid, UWB 120 m, 30 % NLOS, 30 % missing",
                lambda: grid(120.0),
                150,
                UwbModel(p_nlos=0.3, p_miss=0.3),
            ),
            Scenario(
                "long drift, BLE 50 m", lambda: long_drift(50.0, "ble"), 120, UwbModel(), tech="ble"
            ),
            Scenario(
                "grid, RFID zones every 200 m",
                lambda: grid(200.0, "rfid"),
                150,
                UwbModel(),
                tech="rfid",
                floor="coverage >= 0.95",
            ),
        ]
    return out


def run(
    sc: Scenario, minutes: float, seed: int, follow: int | None, engine: TrackerConfig | None = None
) -> tuple[Mine, Scores, float]:
    """Simulate and score one scenario; returns the mine, the scores and q of the truth."""
    mine = sc.mine()
    cfg = ScenarioConfig(
        people=sc.people, minutes=minutes, shift_offset_s=2700.0, sensors=SensorConfig(uwb=sc.uwb)
    )
    q = truth_q(mine, replace(cfg, minutes=2.0), seed)
    return mine, Runner(mine, cfg, seed, q, engine, follow=follow).run(), q


def table(sc: Scenario, res: dict[str, dict[str, float]], scores: Scores, q: float) -> str:
    """A markdown table of one scenario."""
    lines = [
        f"\n### {sc.name}\n",
        f"{int(res['engine']['n']):,} tag-ticks; truth acceleration density "
        f"q = {q:.3f} m²/s³; "
        f"engine {scores.updates / max(scores.engine_s, 1e-9):,.0f} tag updates/s (incl. "
        "parsing objects)" + (f"; floor: {sc.floor}" if sc.floor else ""),
        "",
        "| method | p50 m | p95 m | p99 m | RMSE m | right tunnel | 95 % coverage | "
        "median interval m |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in METHODS:
        r = res.get(name)
        if r is None:
            continue
        lines.append(
            f"| {name} | {r['p50']:.2f} | {r['p95']:.2f} | {r['p99']:.2f} | {r['rmse']:.2f} "
            f"| {100 * r['right']:.2f} % | {r['cov']:.3f} | {r['width']:.2f} |"
        )
    b = res.get("PCRB")
    if b is not None and sc.tech != "rfid":
        lines.append(
            f"| PCRB (limit) | {b['p50']:.3f} | {b['p95']:.3f} | — | {b['rmse']:.3f} | — | — | — |"
        )
        lines.append(
            f"\nengine RMSE / PCRB = {res['engine']['rmse'] / max(b['rmse'], 1e-9):.2f}; "
            f"engine median error / PCRB median = {res['engine']['p50'] / max(b['p50'], 1e-9):.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    """Run the scenarios, print the tables, draw the plots."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="the full sweep (longer)")
    ap.add_argument("--minutes", type=float, default=None, help="simulated minutes per scenario")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default=None, help="run only these scenarios (0-based, comma list)")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override an engine setting (TrackerConfig field), for tuning",
    )
    args = ap.parse_args()
    minutes = args.minutes or (20.0 if args.full else 8.0)
    plots: dict[str, Any] = {}
    engine = TrackerConfig().with_settings(args.set)
    for i, sc in enumerate(scenarios(args.full)):
        if args.only is not None and str(i) not in args.only.split(","):
            continue
        t0 = time.perf_counter()
        mine, scores, q = run(sc, minutes, args.seed, 40 if i in (3, 9) else None, engine)
        res = summary(scores)
        print(table(sc, res, scores, q))
        print(f"({time.perf_counter() - t0:.0f} s)", flush=True)
        if i == 0:
            plots["errors"] = scores
        if i == 3:
            plots["track"] = (mine, scores)
        if i == 9:
            plots["zones"] = (mine, scores)
    if not args.no_plots and plots:
        from bench_accuracy_plots import plot_errors, plot_track

        if "errors" in plots:
            plot_errors(plots["errors"], DOCS / "engine_errors.png")
        if "track" in plots:
            plot_track(*plots["track"], DOCS / "engine_track.png")
        if "zones" in plots:
            plot_track(
                *plots["zones"],
                DOCS / "engine_track_zones.png",
                "Zone readers 200 m apart (grey): truth (black), estimate and 99 % interval (blue)",
            )


if __name__ == "__main__":
    main()
