"""``minepos replay``: engine, rules and store over recorded measurements on a simulated clock.

Measurements are read in time order and cut into engine ticks of ``tick_s``; the clock jumps
from tick to tick (empty ticks included, so time-based rules such as tag-lost fire on time),
as fast as the machine allows. Every alarm change is stored and written out as one JSON line
(CONTRACT section 6). The tracker is whatever `Tracker` the caller gives: `EngineTracker` (the
engine's particle filter, what ``minepos replay`` uses) or `NearestAnchorTracker`, a crude
stand-in that places a tag at the anchor that heard it best (for tests of the rules alone).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Protocol

import orjson

from minepos.engine.estimate import Estimate, Span
from minepos.errors import InputError
from minepos.ingest.decoders.canonical import measurement_from_json
from minepos.ingest.report import FieldError
from minepos.measurement import Measurement
from minepos.mine import Mine
from minepos.safety.alarms import AlarmChange
from minepos.store.recorder import SafetyRecorder

__all__ = [
    "EngineTracker",
    "NearestAnchorTracker",
    "ReplayResult",
    "Tracker",
    "read_measurements",
    "replay",
]

log = logging.getLogger(__name__)


class Tracker(Protocol):
    """What replay needs of a tracker: measurements in, this tick's estimates out."""

    def step(self, now: float, measurements: Sequence[Measurement]) -> Sequence[Estimate]:
        """Advance to ``now`` with what was heard since the last step."""
        ...


class EngineTracker:
    """The engine's graph particle filter (`minepos.engine.tracker.Tracker`), seeded."""

    def __init__(self, mine: Mine, seed: int = 0) -> None:
        import numpy as np

        from minepos.engine.tracker import Tracker as GraphTracker

        self._tracker = GraphTracker(mine, rng=np.random.default_rng(seed))

    def step(self, now: float, measurements: Sequence[Measurement]) -> Sequence[Estimate]:
        """Buffer the tick's measurements and advance every tag to ``now``."""
        self._tracker.add(measurements)
        return self._tracker.step(now)


class NearestAnchorTracker:
    """Stand-in tracker: a tag is at the anchor with the shortest range / strongest signal.

    Good to a few tens of metres; used only when no engine tracker is given.
    """

    def __init__(self, mine: Mine) -> None:
        self.mine = mine
        self._anchors = {a.id: a for a in mine.anchors}

    def step(self, now: float, measurements: Sequence[Measurement]) -> Sequence[Estimate]:
        """One estimate per tag heard by an anchor (or fixed by a gateway) in this tick."""
        best: dict[str, tuple[float, str, float]] = {}
        for m in measurements:
            if m.xyz is not None:
                place = self.mine.project_one(m.xyz)
                best[m.tag] = (-math.inf, place.tunnel, place.offset_m)
                continue
            a = self._anchors.get(m.anchor or "")
            if a is None:
                continue
            score = m.range_m if m.range_m is not None else -(m.rssi_dbm or 0.0) / 10.0
            if m.tag not in best or score < best[m.tag][0]:
                best[m.tag] = (score, a.tunnel, a.offset_m)
        out = []
        for tag, (_, tunnel, offset) in best.items():
            xyz = tuple(float(v) for v in self.mine.point_at_one(tunnel, offset))
            span = (Span(tunnel, max(0.0, offset - 15.0), offset + 15.0),)
            out.append(Estimate(tag, now, tunnel, offset, xyz, span, 30.0, 0.0, now))  # type: ignore[arg-type]
        return out


@dataclass(slots=True)
class ReplayResult:
    """What a replay did."""

    measurements: int = 0
    ticks: int = 0
    skipped: list[str] = field(default_factory=list)
    changes: list[AlarmChange] = field(default_factory=list)


def read_measurements(lines: Iterable[str | bytes], skipped: list[str]) -> Iterator[Measurement]:
    """Canonical measurements, one per line; bad lines are skipped and listed with the reason."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield measurement_from_json(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            skipped.append(f"line {n}: not JSON ({exc})")
        except FieldError as exc:
            skipped.append(f"line {n}: {exc.reason}")


def replay(
    recorder: SafetyRecorder,
    tracker: Tracker,
    measurements: Iterable[Measurement],
    *,
    tick_s: float = 1.0,
    out: IO[str] | None = None,
    on_change: Callable[[AlarmChange], None] | None = None,
) -> ReplayResult:
    """Run the pipeline over ``measurements`` (in time order); write alarm changes to ``out``."""
    if not tick_s > 0:
        raise InputError(f"tick: must be > 0 s, got {tick_s}")
    result = ReplayResult()
    batch: list[Measurement] = []
    tick_end: float | None = None

    def run_tick(now: float) -> None:
        estimates = tracker.step(now, batch)
        tick = recorder.tick(now, batch, estimates)
        result.ticks += 1
        for change in tick.changes:
            result.changes.append(change)
            if out is not None:
                out.write(change.to_json() + "\n")
            if on_change is not None:
                on_change(change)
        batch.clear()

    for m in measurements:
        result.measurements += 1
        if tick_end is None:
            tick_end = (math.floor(m.ts / tick_s) + 1) * tick_s
        if m.ts < tick_end - tick_s:
            log.debug("measurement at %s out of order; taken into the current tick", m.ts)
        while m.ts >= tick_end:
            run_tick(tick_end)
            tick_end += tick_s
        batch.append(m)
    if tick_end is not None:
        run_tick(tick_end)
    recorder.store.flush()
    return result
