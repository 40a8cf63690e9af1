"""A real minepos server for browser tests: the real runtime (engine, rules, store) in a thread.

A small scripted feed plays gateways: every second it posts position fixes of 30 people walking
along the drifts of horizon -320, and one of them presses SOS. Chromium is Debian's
``/usr/bin/chromium`` driven by Playwright; the tests skip with the reason if it is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from minepos.api.runtime import Runtime
from minepos.api.server import run_server
from minepos.api.settings import ServerSettings
from minepos.mine import Mine, mine_from_dict
from minepos.mine.demo import demo_mine_dict
from minepos.store import Store
from minepos.web import STATIC_DIR

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "shift-2 dispatch"
WALKERS = 30
SOS_PERSON = "p0007"


@dataclass
class Live:
    """The running server."""

    url: str
    runtime: Runtime
    mine: Mine


def _walkers(mine: Mine) -> list[tuple[str, str, float]]:
    people = mine.people[:WALKERS]
    drifts = [t for t in mine.tunnels if t.kind == "drift" and mine.level_at(t.id, 1.0) == "h320"]
    drifts = [t for t in drifts if t.length_m > 200]
    return [(p.tag, drifts[i % len(drifts)].id, 30.0 + 11.0 * i) for i, p in enumerate(people)]


def fixes(mine: Mine, now: float, t0: float) -> list[dict[str, Any]]:
    """One position fix per walker at ``now`` (they walk at 1 m/s from ``t0``)."""
    out = []
    for tag, tunnel, start in _walkers(mine):
        length = mine.tunnels[mine.tunnel_index[tunnel]].length_m
        offset = min(start + (now - t0), length - 1.0)
        x, y, z = (float(v) for v in mine.point_at_one(tunnel, offset))
        out.append({"ts": now, "tag": tag, "xyz": [x, y, z], "motion": True, "battery_pct": 80})
    return out


async def scripted_feed(runtime: Runtime, stop: asyncio.Event) -> None:
    """Gateways posting fixes every second; SOS from one person after three seconds."""
    mine = runtime.mine
    t0 = time.time()
    sos_tag = next(p.tag for p in mine.people if p.id == SOS_PERSON)
    sent_sos = False
    while not stop.is_set():
        now = time.time()
        batch = fixes(mine, now, t0)
        if not sent_sos and now - t0 > 3:
            batch.append({"ts": now, "tag": sos_tag, "event": "sos"})
            sent_sos = True
        runtime.pipeline.accept(json.dumps({"measurements": batch}).encode(), "gw_test", "http")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    path = tmp_path_factory.mktemp("live")
    mine = mine_from_dict(demo_mine_dict())
    store = Store(f"sqlite:///{path}/minepos.sqlite3")
    store.users.create("disp", "dispatcher", ts=time.time(), password=PASSWORD)
    settings = ServerSettings(port=0, data_dir=path)
    ready = threading.Event()
    shutdown = threading.Event()
    found: dict[str, Any] = {}

    def on_ready(runtime: Runtime, port: int) -> None:
        found.update(runtime=runtime, port=port)
        ready.set()

    def serve() -> None:
        asyncio.run(
            run_server(
                settings,
                mine,
                static_dir=STATIC_DIR,
                feed=scripted_feed,
                on_ready=on_ready,
                store=store,
                shutdown=shutdown,
            )
        )

    thread = threading.Thread(target=serve, name="minepos-test-server", daemon=True)
    thread.start()
    assert ready.wait(120), "the server did not start"
    runtime = found["runtime"]
    deadline = time.monotonic() + 180  # the engine's first ticks compile its kernels
    while len(runtime.positions(time.time())) < WALKERS - 5 and time.monotonic() < deadline:
        time.sleep(0.5)
    yield Live(f"http://127.0.0.1:{found['port']}", found["runtime"], mine)
    shutdown.set()
    thread.join(30)
    assert not thread.is_alive(), "the server did not stop"


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield b
        b.close()
