"""`minepos demo`: the demo mine with a simulated shift fed in real time, plus a demo login.

The simulator's gateways post their batches into the same ingest pipeline a real gateway's
HTTP or MQTT traffic goes through, so the demo exercises the whole system, not a shortcut.
Incidents (SOS, man down, a restricted zone, a silent tag, a low battery, ...) come now and then.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from minepos.api.runtime import Runtime
from minepos.api.server import Feed

if TYPE_CHECKING:
    from minepos.sim.config import IncidentSpec, ScenarioConfig
    from minepos.sim.simulation import Simulation
from minepos.errors import InputError
from minepos.mine import Mine
from minepos.safety.emergency.simlink import SimulatedTagsDownlink
from minepos.store import Store

__all__ = ["demo_feed", "demo_login", "incident_schedule"]

log = logging.getLogger(__name__)

DEMO_USER: Final = "admin"
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


def demo_feed(people: int = 300, minutes: float = 360.0, seed: int = 1) -> Feed:
    """A feed that runs the simulator in real time through the runtime's ingest pipeline."""

    async def feed(runtime: Runtime, stop: asyncio.Event) -> None:
        try:
            await _feed(runtime, stop)
        except Exception:  # the server keeps running; the log says why the feed stopped
            log.exception("the simulated shift stopped")

    async def _feed(runtime: Runtime, stop: asyncio.Event) -> None:
        from minepos.sim.config import ScenarioConfig
        from minepos.sim.live import Gateways, gateway_batches

        loop = asyncio.get_running_loop()
        start = datetime.fromtimestamp(float(int(time.time())), UTC)
        config = ScenarioConfig(
            people=people,
            minutes=minutes,
            start=start,
            shift_offset_s=3600.0,
            incidents=incident_schedule(minutes),
        )
        sim = await loop.run_in_executor(None, _simulation, runtime.mine, config, seed)
        # the tags are simulated: a dispatcher's evacuation order goes to them, and they answer
        SimulatedTagsDownlink.attach(runtime.emergency.desk, sim)
        runtime.emergency.downlink_tried = True
        gateways = Gateways(runtime.mine, config.anchors_per_gateway)
        ticks = sim.run()
        while not stop.is_set():
            tick = await loop.run_in_executor(None, next, ticks, None)
            if tick is None:
                log.warning("the simulated shift is over")
                return
            wait = tick.t + config.tick_s - time.time()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
                if stop.is_set():
                    return
            for gateway, lines in gateway_batches(tick, gateways).items():
                payload = ('{"measurements":[' + ",".join(lines) + "]}").encode()
                runtime.pipeline.accept(payload, gateway, "sim")

    return feed


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
