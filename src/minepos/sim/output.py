"""Writing a run to a directory as it goes: measurements, truth, incidents, roster, scenario."""

from __future__ import annotations

import csv
import gzip
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from minepos.errors import InputError
from minepos.sim.coverage import Coverage
from minepos.sim.simulation import Simulation

__all__ = ["RunSummary", "write_run"]


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run wrote and how fast."""

    measurements: int
    truth_rows: int
    incidents: int
    sim_s: float
    wall_s: float
    out: str
    incident_kinds: tuple[tuple[str, int], ...] = ()
    coverage: str = ""

    @property
    def measurements_per_s(self) -> float:
        """Measurements generated (and written) per wall-clock second."""
        return self.measurements / max(self.wall_s, 1e-9)

    @property
    def speedup(self) -> float:
        """Simulated time over wall-clock time."""
        return self.sim_s / max(self.wall_s, 1e-9)

    def describe(self) -> str:
        """One line for a person."""
        return (
            f"{self.measurements:,} measurements, {self.truth_rows:,} truth rows, "
            f"{self.incidents} incidents in {self.wall_s:.1f} s "
            f"({self.measurements_per_s:,.0f} measurements/s, {self.speedup:,.0f}x real time) "
            f"-> {self.out}"
            + (
                "\nincidents: " + ", ".join(f"{k} {n}" for k, n in self.incident_kinds)
                if self.incident_kinds
                else ""
            )
            + (f"\n{self.coverage}" if self.coverage else "")
        )


def _open(path: Path, gz: bool) -> IO[str]:
    if gz:
        return gzip.open(path.with_name(path.name + ".gz"), "wt", encoding="utf-8", compresslevel=3)
    return path.open("w", encoding="utf-8")


def write_run(
    sim: Simulation,
    out_dir: str | Path,
    *,
    gz: bool = False,
    truth: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Run ``sim`` and stream its outputs into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create the directory ({exc.strerror})") from exc
    _write_roster(sim, out / "roster.csv")
    (out / "scenario.json").write_text(
        json.dumps(_scenario(sim), indent=1) + "\n", encoding="utf-8"
    )
    t0 = time.perf_counter()
    n_meas = n_truth = 0
    total = sim.n_ticks
    coverage = Coverage(sim.mine, len(sim.people))
    with _open(out / "measurements.jsonl", gz) as fm, _open(out / "truth.jsonl", gz) as ft:
        for k, tick in enumerate(sim.run()):
            lines = tick.measurements.json_lines(sim.tags, sim.anchor_ids)
            if lines:
                fm.write("\n".join(lines))
                fm.write("\n")
            n_meas += len(lines)
            if truth and len(tick.truth):
                ft.write("\n".join(tick.truth.json_lines(sim.mine, sim.people)))
                ft.write("\n")
            n_truth += len(tick.truth)
            coverage.add(tick)
            if progress is not None:
                progress(k + 1, total)
    incidents = sim.incidents()
    with (out / "incidents.jsonl").open("w", encoding="utf-8") as fi:
        for inc in incidents:
            fi.write(json.dumps(inc.to_dict(), separators=(",", ":")) + "\n")
    kinds = tuple(sorted(Counter(i.kind for i in incidents).items()))
    (out / "coverage.json").write_text(json.dumps(coverage.to_dict(), indent=1) + "\n", "utf-8")
    return RunSummary(
        n_meas,
        n_truth,
        len(incidents),
        sim.config.duration_s,
        time.perf_counter() - t0,
        str(out),
        kinds,
        coverage.describe(),
    )


def _write_roster(sim: Simulation, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "role", "tag"])
        for p in sim.people:
            w.writerow([p.id, p.name, p.role, p.tag])


def _scenario(sim: Simulation) -> dict[str, Any]:
    return {
        "mine": sim.mine.id,
        "seed": sim.seed,
        "people": len(sim.people),
        "shift_start": sim.plans.shift_start,
        "shift_end": sim.plans.shift_end,
        "config": sim.config.to_dict(),
    }
