"""CLI commands of the store and the safety pipeline: ``minepos replay``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from minepos.errors import InputError

if TYPE_CHECKING:
    from minepos.mine import Mine
    from minepos.safety.state import PersonLike
    from minepos.store.replay import Tracker

__all__ = ["register"]

#: replay keeps its alarms apart from the live database unless told otherwise
REPLAY_DB = "sqlite://"


def replay_command(
    measurements: Annotated[
        str, typer.Argument(help="canonical measurements, one JSON per line; - for stdin")
    ],
    mine: Annotated[str, typer.Option("--mine", help="mine file (YAML or JSON)")],
    db: Annotated[
        str | None,
        typer.Option("--db", help="store the run here (default: in memory, nothing kept)"),
    ] = None,
    tick: Annotated[float, typer.Option("--tick", help="engine tick, seconds")] = 1.0,
    roster: Annotated[
        str | None,
        typer.Option(
            "--roster",
            help="people CSV (id,name,role,tag) beside the mine file's; default: roster.csv "
            "next to the measurements, if there is one",
        ),
    ] = None,
) -> None:
    """Run engine, rules and store over a recording; print one JSON line per alarm change."""
    from minepos.mine import load_mine, load_roster

    the_mine = load_mine(mine)
    if measurements != "-" and not Path(measurements).is_file():
        raise InputError(f"measurements file {measurements!r} not found")
    beside = Path(measurements).with_name("roster.csv") if measurements != "-" else None
    if roster is None and beside is not None and beside.is_file():
        roster = str(beside)
        typer.echo(f"people from {roster}", err=True)
    people = load_roster(roster) if roster is not None else []
    _run(the_mine, people, measurements, db or REPLAY_DB, tick)


def _run(mine: Mine, people: Sequence[PersonLike], source: str, db: str, tick: float) -> None:
    """Replay ``source`` (path or ``-``) into ``db``: changes to stdout, a summary to stderr."""
    from minepos.safety import SafetyMonitor
    from minepos.store.recorder import SafetyRecorder
    from minepos.store.replay import read_measurements, replay
    from minepos.store.service import Store

    tracker = make_tracker(mine)
    skipped: list[str] = []
    with Store(db) as store, ExitStack() as stack:
        recorder = SafetyRecorder(store, SafetyMonitor(mine, people=people))
        fh = sys.stdin.buffer if source == "-" else stack.enter_context(open(source, "rb"))
        result = replay(
            recorder, tracker, read_measurements(fh, skipped), tick_s=tick, out=sys.stdout
        )
    if skipped:
        typer.echo(f"skipped {len(skipped)} bad line(s); first: {skipped[0]}", err=True)
    typer.echo(
        f"replayed {result.measurements} measurements in {result.ticks} ticks: "
        f"{len(result.changes)} alarm changes",
        err=True,
    )


def make_tracker(mine: Mine) -> Tracker:
    """The engine's tracker, seeded so that the same recording replays the same."""
    from minepos.store.replay import EngineTracker

    return EngineTracker(mine, seed=0)


def register(app: typer.Typer) -> None:
    """Attach ``replay`` to the main app."""
    app.command("replay")(replay_command)
