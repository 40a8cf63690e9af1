"""`minepos demo`: the demo mine with simulated shifts fed in real time, plus a demo login.

The simulator's gateways post their batches into the same ingest pipeline a real gateway's
HTTP or MQTT traffic goes through, so the demo exercises the whole system, not a shortcut.
Incidents (SOS, man down, a restricted zone, a silent tag, a low battery, ...) come now and then.
Three shifts a day take turns, day after day, so people are underground whenever one looks.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from minepos.api.runtime import Runtime
from minepos.api.server import Feed

if TYPE_CHECKING:
    from minepos.sim.config import IncidentSpec, ScenarioConfig
    from minepos.sim.live import Gateways
    from minepos.sim.simulation import Simulation
from minepos.errors import InputError
from minepos.mine import Mine
from minepos.safety.emergency.simlink import SimulatedTagsDownlink
from minepos.store import Store

__all__ = ["day_config", "demo_feed", "demo_login", "incident_schedule", "last_lamp_in"]

log = logging.getLogger(__name__)

DEMO_USER: Final = "admin"
_SHIFTS: Final = 3  # shifts a day, taking turns
_TAIL_S: Final = 3600.0  # a day's run goes on this long past its last shift, while people come up
_KINDS: Final = ("sos", "man_down", "restricted_zone", "low_battery", "tag_silent", "sos")


def incident_schedule(
    minutes: float, every_s: float = 240.0, first_s: float = 45.0
) -> tuple[IncidentSpec, ...]:
    """Incidents every few minutes through the run, cycling through the common kinds."""
    from minepos.sim.config import IncidentSpec

    out: list[IncidentSpec] = []
    at, k = first_s, 0
    while at < minutes * 60.0 - 600.0:
        kind = _KINDS[k % len(_KINDS)]
        out.append(IncidentSpec(kind, at, duration_s=600.0))
        at += every_s
        k += 1
    return tuple(out)


def demo_feed(people: int = 300, minutes: float | None = None, seed: int = 1) -> Feed:
    """A feed that runs the simulator in real time through the runtime's ingest pipeline.

    ``people`` work each shift; three shifts a day take turns (the first an hour in when the
    demo starts), and day follows day, so the mine never goes quiet. ``minutes`` ends the feed
    after that long (None: runs until stopped).
    """

    async def feed(runtime: Runtime, stop: asyncio.Event) -> None:
        try:
            await _feed(runtime, stop)
        except Exception:  # the server keeps running; the log says why the feed stopped
            log.exception("the simulated shift stopped")

    async def _feed(runtime: Runtime, stop: asyncio.Event) -> None:
        from minepos.sim.live import Gateways

        loop = asyncio.get_running_loop()
        start = datetime.fromtimestamp(float(int(time.time())), UTC)
        end = math.inf if minutes is None else start.timestamp() + minutes * 60.0
        gateways: Gateways | None = None
        link: SimulatedTagsDownlink | None = None
        day = 0
        while not stop.is_set() and start.timestamp() < end:
            config = day_config(runtime.mine, people, start, first=day == 0)
            sim = await loop.run_in_executor(None, _simulation, runtime.mine, config, seed + day)
            gateways = gateways or Gateways(runtime.mine, config.anchors_per_gateway)
            # the tags are simulated: a dispatcher's evacuation order goes to them; they answer
            if link is None:
                link = SimulatedTagsDownlink.attach(runtime.emergency.desk, sim)
                runtime.emergency.downlink_tried = True
            link.target = sim
            # the day ends when its last shift is up: the next one never meets it below
            until = min(end, last_lamp_in(sim) + config.tick_s)
            await _play(runtime, sim, gateways, stop, until)
            start = datetime.fromtimestamp(float(math.ceil(until)), UTC)
            day += 1

    return feed


def day_config(mine: Mine, people: int, start: datetime, first: bool) -> ScenarioConfig:
    """A day of three shifts from ``start``; the first day begins an hour into its first shift.

    The run goes on for up to an hour after the last shift's end, while its people come up.
    """
    from minepos.sim.config import ScenarioConfig

    offset = 3600.0 if first else 0.0
    shift_s = mine.rules.shift_h * 3600.0
    minutes = (_SHIFTS * shift_s - offset) / 60.0
    # each incident takes someone for the rest of the day: a small crew gets fewer
    every = incident_schedule(minutes, every_s=max(240.0, minutes * 60.0 / people))
    # at a handover one shift is walking out and the next not yet down: nobody to stage on
    ends = [k * shift_s - offset for k in range(_SHIFTS + 1)]
    quiet = [i for i in every if all(not e - 2700.0 <= i.at_s <= e + 600.0 for e in ends)]
    return ScenarioConfig(
        people=people * _SHIFTS,
        minutes=minutes + _TAIL_S / 60.0,
        start=start,
        shift_offset_s=offset,
        shifts=_SHIFTS,
        incidents=tuple(quiet),
    )


def last_lamp_in(sim: Simulation) -> float:
    """When the last person of the run hands in the lamp (the run's end if nobody does)."""
    done = [t for t in sim.plans.lamp_in if math.isfinite(t)]
    end = sim.config.start_ts + sim.config.duration_s
    return min(max(done, default=end), end)


async def _play(
    runtime: Runtime, sim: Simulation, gateways: Gateways, stop: asyncio.Event, end: float
) -> None:
    """Post the simulation's ticks to the ingest pipeline in real time until ``end``."""
    from minepos.sim.live import gateway_batches

    loop = asyncio.get_running_loop()
    ticks = sim.run()
    tick_s = sim.config.tick_s
    while not stop.is_set():
        tick = await loop.run_in_executor(None, next, ticks, None)
        if tick is None or tick.t >= end:
            return
        wait = tick.t + tick_s - time.time()
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
            if stop.is_set():
                return
        for gateway, lines in gateway_batches(tick, gateways).items():
            payload = ('{"measurements":[' + ",".join(lines) + "]}").encode()
            runtime.pipeline.accept(payload, gateway, "sim")


def _simulation(mine: Mine, config: ScenarioConfig, seed: int) -> Simulation:
    """The shift; incidents the simulator cannot stage (nobody underground then) are dropped."""
    from minepos.sim.simulation import Simulation

    tries = [config.incidents, config.incidents[:6], ()]
    for n, incidents in enumerate(tries):
        try:
            return Simulation(mine, dataclasses.replace(config, incidents=incidents), seed)
        except InputError as exc:
            if n == len(tries) - 1:
                raise
            log.warning("demo incidents: %s; staging fewer", exc)
    raise AssertionError("unreachable")


def demo_login(store: Store, data_dir: Path) -> tuple[str, str]:
    """The demo admin's name and a fresh password, set on every start (kept nowhere but here)."""
    password = secrets.token_urlsafe(9)
    if store.users.get(DEMO_USER) is None:
        store.users.create(DEMO_USER, "admin", ts=time.time(), password=password, actor="demo")
    else:
        store.users.set_password(DEMO_USER, password, time.time(), actor="demo")
    # earlier versions kept the password in a file; a stale one would only mislead
    (data_dir / "demo-login.txt").unlink(missing_ok=True)
    return DEMO_USER, password


def demo_mine() -> Mine:
    """The built-in demo mine."""
    from minepos.mine import mine_from_dict
    from minepos.mine.demo import demo_mine_dict

    return mine_from_dict(demo_mine_dict(), "demo mine")
