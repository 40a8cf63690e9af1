"""`minepos locate`: the engine over recorded measurements, one JSON line per tag per tick.

Lines are decoded with ingest's canonical decoder and checked with its validator (known anchors,
sane values); a bad line is reported on stderr with its number and reason and skipped.
"""

from __future__ import annotations

import gc
import math
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import numpy as np
import orjson
import typer

from minepos.engine.config import TrackerConfig
from minepos.engine.estimate import Estimate
from minepos.engine.tracker import Tracker
from minepos.errors import InputError
from minepos.ingest.decoders.canonical import measurement_from_json
from minepos.ingest.report import FieldError
from minepos.ingest.validate import Validator
from minepos.measurement import Measurement
from minepos.mine import Mine, load_mine

__all__ = ["estimate_json", "locate", "read_measurements", "register"]

#: most bad lines reported one by one on stderr; the rest are only counted
_MAX_REPORTED = 50


def estimate_json(e: Estimate) -> dict[str, Any]:
    """The CONTRACT section 5 object for one estimate (plus ``speed_mps`` and ``last_seen``)."""
    return {
        "ts": round(e.ts, 3),
        "tag": e.tag,
        "tunnel": e.tunnel,
        "offset_m": round(e.offset_m, 3),
        "xyz": [round(c, 3) for c in e.xyz],
        "interval": [
            {"tunnel": s.tunnel, "from_m": round(s.from_m, 3), "to_m": round(s.to_m, 3)}
            for s in e.interval
        ],
        "uncertainty_m": round(e.uncertainty_m, 3),
        "speed_mps": round(e.speed_mps, 2),
        "last_seen": round(e.last_seen, 3),
    }


def read_measurements(
    lines: Iterable[bytes | str], mine: Mine, errors: IO[str]
) -> Iterator[Measurement]:
    """Decode and validate measurement lines; report bad ones on ``errors`` and skip them."""
    validator = Validator(None, mine.anchor_index, clock=lambda: 0.0)
    bad = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            m = measurement_from_json(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            reason = f"not JSON ({exc.msg})"
        except FieldError as exc:
            reason = exc.reason
        else:
            problem = validator.check(m, now=m.ts)
            if problem is None:
                yield m
                continue
            reason = problem[1]
        bad += 1
        if bad <= _MAX_REPORTED:
            errors.write(f"line {number}: skipped: {reason}\n")
    if bad > _MAX_REPORTED:
        errors.write(f"... {bad - _MAX_REPORTED} more bad lines skipped\n")


def locate(
    measurements: Iterable[Measurement], tracker: Tracker, tick: float
) -> Iterator[list[Estimate]]:
    """Run ``tracker`` over time-ordered measurements; yield each tick's estimates.

    Ticks fall on multiples of ``tick`` seconds; a tick takes the measurements up to its time.
    While no tag is tracked, empty ticks are skipped rather than stepped through.
    """
    boundary: float | None = None
    pending: list[Measurement] = []
    for m in measurements:
        if boundary is None:
            boundary = math.ceil(m.ts / tick) * tick
        while m.ts > boundary:
            tracker.add(pending)
            pending = []
            yield tracker.step(boundary)
            boundary += tick
            if not tracker.tags and m.ts > boundary:
                boundary = math.ceil(m.ts / tick) * tick
        pending.append(m)
    if boundary is not None:
        tracker.add(pending)
        yield tracker.step(boundary)


def _open_lines(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such measurements file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc


def _locate_command(
    measurements: Annotated[Path, typer.Argument(help="Canonical measurements, one per line.")],
    mine: Annotated[Path, typer.Option("--mine", help="Mine description (YAML or JSON).")],
    tick: Annotated[float, typer.Option(help="Engine tick, seconds (0.1-10).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of the particle filter (replays exactly).")] = 0,
    particles: Annotated[int, typer.Option(help="Particles per tag.")] = 128,
    kalman: Annotated[
        bool,
        typer.Option(
            "--kalman/--particles-only",
            help="Follow unambiguous tags with the Kalman fast path (docs/engine.md).",
        ),
    ] = True,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="FIELD=VALUE",
            help="An engine setting (a TrackerConfig field, docs/engine.md), e.g. "
            "switch_s=30; repeatable.",
        ),
    ] = None,
) -> None:
    """Position every tag in recorded measurements; one JSON line per tag per engine tick."""
    if not 0.1 <= tick <= 10.0:
        raise InputError(f"--tick {tick:g}: must be between 0.1 and 10 seconds")
    if not 16 <= particles <= 4096:
        raise InputError(f"--particles {particles}: must be between 16 and 4096")
    config = TrackerConfig(particles=particles, kalman=kalman).with_settings(settings or [])
    the_mine = load_mine(mine)
    tracker = Tracker(the_mine, config, np.random.default_rng(seed))
    # one estimate object per tag per tick: keep the collector off the start-up objects
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    out = sys.stdout.buffer
    with _open_lines(measurements) as lines:
        for estimates in locate(read_measurements(lines, the_mine, sys.stderr), tracker, tick):
            for e in estimates:
                out.write(orjson.dumps(estimate_json(e)))
                out.write(b"\n")
    out.flush()


def register(app: typer.Typer) -> None:
    """Add ``locate`` to the command line."""
    app.command("locate")(_locate_command)
