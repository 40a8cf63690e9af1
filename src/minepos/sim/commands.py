"""CLI: `minepos simulate` writes a run to a directory or publishes it live (MQTT or HTTP)."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime
from typing import Annotated

import typer

from minepos.errors import InputError
from minepos.mine import Mine, load_mine, mine_from_dict
from minepos.sim.config import INCIDENT_KINDS, EvacuationOrder, IncidentSpec, ScenarioConfig
from minepos.sim.simulation import Simulation
from minepos.sim.staging import default_incidents

__all__ = ["parse_incidents", "register", "simulate_command"]

#: live mode without --minutes runs "until stopped": a week of simulated time
_UNTIL_STOPPED_MIN = 7 * 24 * 60.0


def parse_incidents(text: str, duration_s: float) -> tuple[IncidentSpec, ...]:
    """``all``, ``none`` or ``kind[@seconds[:duration]],...`` (seconds after the run starts)."""
    text = text.strip()
    if text in ("", "none"):
        return ()
    if text == "all":
        return default_incidents(duration_s)
    out = []
    for n, item in enumerate(text.split(",")):
        kind, _, when = item.strip().partition("@")
        if kind not in INCIDENT_KINDS:
            raise InputError(
                f"--incidents: unknown kind {kind!r} (one of {', '.join(INCIDENT_KINDS)})"
            )
        at_text, _, dur_text = when.partition(":")
        try:
            at = float(at_text) if at_text else duration_s * (0.3 + 0.05 * n)
            dur = float(dur_text) if dur_text else None
        except ValueError as exc:
            raise InputError(f"--incidents: {item!r}: time and duration must be seconds") from exc
        out.append(IncidentSpec(kind, at, duration_s=dur))
    return tuple(out)


def _mine(path: str) -> Mine:
    if path == "demo":
        from minepos.mine.demo import demo_mine_dict

        return mine_from_dict(demo_mine_dict(), "demo mine")
    return load_mine(path)


def _progress(done: int, total: int) -> None:
    if done == total or done % max(1, total // 200) == 0:
        width = 30
        fill = int(width * done / max(total, 1))
        sys.stderr.write(
            f"\r[{'#' * fill}{'.' * (width - fill)}] {100 * done / max(total, 1):5.1f}%"
        )
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def simulate_command(
    mine: Annotated[str, typer.Option("--mine", help="mine file (YAML/JSON), or 'demo'")],
    people: Annotated[
        int | None, typer.Option(min=0, help="people (default: the mine's roster)")
    ] = None,
    minutes: Annotated[
        float | None,
        typer.Option(min=0.0, help="simulated minutes [--out: 60; live: until stopped]"),
    ] = None,
    out: Annotated[str | None, typer.Option(help="write the run into this directory")] = None,
    mqtt: Annotated[
        str | None, typer.Option(help="publish live to this broker, mqtt://host:port")
    ] = None,
    http: Annotated[str | None, typer.Option(help="POST live batches to this minepos URL")] = None,
    key: Annotated[str | None, typer.Option(help="gateway key for --http")] = None,
    speed: Annotated[float, typer.Option(min=0.0, help="live: simulated seconds per second")] = 1.0,
    seed: Annotated[int, typer.Option(help="random seed; same seed, same run")] = 0,
    incidents: Annotated[str, typer.Option(help="all | none | kind[@s[:dur]],...")] = "none",
    evacuate: Annotated[
        list[float] | None, typer.Option(help="evacuation order at this second")
    ] = None,
    nlos: Annotated[
        float | None, typer.Option(help="share of clear UWB links that are NLOS")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="ISO time of the first tick (live: now)")
    ] = None,
    shift_offset: Annotated[
        float, typer.Option(help="minutes into the shift the run starts")
    ] = 0.0,
    tick: Annotated[float, typer.Option(help="seconds per tick (one range round per tag)")] = 1.0,
    shifts: Annotated[int, typer.Option(min=1, help="consecutive shifts; crews take turns")] = 1,
    gz: Annotated[bool, typer.Option("--gzip", help="gzip measurements and truth")] = False,
) -> None:
    """Simulate a shift: people, their tags, the anchors' measurements and the ground truth."""
    if sum(x is not None for x in (out, mqtt, http)) != 1:
        raise InputError("give exactly one of --out DIR, --mqtt URL, --http URL")
    if http is not None and not key:
        raise InputError("--http needs --key (a gateway key from `minepos gateway add`)")
    live = out is None
    if minutes is None:
        minutes = _UNTIL_STOPPED_MIN if live else 60.0
    if not live and minutes <= 0:
        raise InputError("--minutes must be > 0 with --out (0 means 'until stopped' in live mode)")
    cfg = _config(people, minutes, incidents, evacuate, nlos, start, shift_offset, tick, live)
    cfg = replace(cfg, shifts=shifts)
    sim = Simulation(_mine(mine), cfg, seed)
    if out is not None:
        from minepos.sim.output import write_run

        progress = _progress if sys.stderr.isatty() else None
        typer.echo(write_run(sim, out, gz=gz, progress=progress).describe())
        return
    from minepos.sim.live import run_live

    typer.echo(run_live(sim, mqtt_url=mqtt, http_url=http, key=key, speed=speed).describe())


def _config(
    people: int | None,
    minutes: float,
    incidents: str,
    evacuate: list[float] | None,
    nlos: float | None,
    start: str | None,
    shift_offset: float,
    tick: float,
    live: bool,
) -> ScenarioConfig:
    cfg = ScenarioConfig(
        people=people,
        minutes=minutes if minutes > 0 else _UNTIL_STOPPED_MIN,
        shift_offset_s=shift_offset * 60.0,
        tick_s=tick,
    )
    if start is not None:
        try:
            when = datetime.fromisoformat(start)
        except ValueError as exc:
            raise InputError(f"--start: not an ISO time: {start!r}") from exc
        if when.tzinfo is None:
            raise InputError("--start: give a time zone (for example 2026-01-12T06:00:00+05:00)")
        cfg = replace(cfg, start=when)
    elif live:
        cfg = replace(cfg, start=datetime.now().astimezone())
    if nlos is not None:
        cfg = replace(cfg, sensors=replace(cfg.sensors, uwb=replace(cfg.sensors.uwb, p_nlos=nlos)))
    return replace(
        cfg,
        incidents=parse_incidents(incidents, cfg.duration_s),
        evacuations=tuple(EvacuationOrder(s) for s in evacuate or ()),
    )


def register(app: typer.Typer) -> None:
    """Attach `minepos simulate` to the main app."""
    app.command("simulate")(simulate_command)
