"""Fixtures of the simulator tests: small runs on the demo mine, collected into columns."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pytest

from minepos.mine import Mine
from minepos.sim import MeasurementBatch, ScenarioConfig, Simulation, TruthBatch


@dataclass
class Collected:
    """A whole run: every measurement and truth row, concatenated."""

    sim: Simulation
    m: MeasurementBatch
    truth: TruthBatch


def collect(sim: Simulation) -> Collected:
    """Run ``sim`` and keep everything (small runs only)."""
    ms, ts = [], []
    for tick in sim.run():
        ms.append(tick.measurements)
        ts.append(tick.truth)
    m = MeasurementBatch.concat(ms)
    truth = TruthBatch(
        **{f.name: np.concatenate([getattr(t, f.name) for t in ts]) for f in fields(TruthBatch)}
    )
    return Collected(sim, m, truth)


def underground(**changes: object) -> ScenarioConfig:
    """People already at work (one hour into the shift), a few minutes long."""
    base: dict[str, object] = {"people": 150, "minutes": 3.0, "shift_offset_s": 3600.0}
    base.update(changes)
    return ScenarioConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def busy_run(demo_mine: Mine) -> Collected:
    """150 people at work for five minutes, default sensors."""
    return collect(Simulation(demo_mine, underground(minutes=5.0), seed=11))
