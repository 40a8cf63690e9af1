"""In `minepos demo` an evacuation order reaches the simulated tags, and their acks come back.

The demo server runs in-process (the same `run_server` and `demo_feed` the command uses) with a
small crew; a dispatcher declares an emergency and sends the order over the HTTP API, then sees
acknowledgements arrive and the unacknowledged list shrink.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import pytest

from minepos.api.demo import demo_feed, demo_mine
from minepos.api.runtime import Runtime
from minepos.api.server import run_server
from minepos.api.settings import ServerSettings
from minepos.safety.emergency.simlink import SimulatedTagsDownlink
from minepos.store import Store

pytestmark = pytest.mark.slow


def _wait(what: str, check: object, timeout_s: float) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()  # type: ignore[operator]
        if got:
            return got
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_dispatchers_evacuation_order_is_acknowledged_in_the_demo(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/m.sqlite3", max_delay_s=0.01)
    token = store.users.create("d", "dispatcher", ts=time.time())[1]
    settings = ServerSettings(port=0, data_dir=tmp_path)
    shutdown = threading.Event()
    ready: dict[str, object] = {}

    def on_ready(runtime: Runtime, port: int) -> None:
        ready.update(runtime=runtime, port=port)

    feed = demo_feed(people=40, minutes=30.0)
    server = threading.Thread(
        target=lambda: asyncio.run(
            run_server(
                settings,
                demo_mine(),
                static_dir=None,
                feed=feed,
                on_ready=on_ready,
                store=store,
                shutdown=shutdown,
            )
        )
    )
    server.start()
    try:
        _wait("the server", lambda: "port" in ready, 60)
        runtime = ready["runtime"]
        assert isinstance(runtime, Runtime)
        api = f"http://127.0.0.1:{ready['port']}/api/v1/mines/{runtime.mine.id}"
        h = {"Authorization": f"Bearer {token}"}
        _wait(
            "the simulation wired to the desk",
            lambda: isinstance(runtime.emergency.desk.downlink, SimulatedTagsDownlink),
            60,
        )
        state = runtime.monitor.state
        _wait(
            "people underground", lambda: sum(t.underground for t in state.tags.values()) >= 30, 60
        )
        place = {"tunnel": "main320_1500", "offset_m": 250.0}
        r = httpx.post(f"{api}/emergency", headers=h, json={"kind": "fire", "place": place})
        assert r.status_code == 201, r.text
        r = httpx.post(f"{api}/emergency/evacuate", headers=h, timeout=30)
        assert r.status_code == 201, r.text
        ordered = set(r.json()["tags"])
        assert len(ordered) >= 30

        def unacked() -> set[str]:
            got = httpx.get(f"{api}/emergency/unacknowledged", headers=h, timeout=30)
            assert got.status_code == 200, got.text
            return {u["tag"] for u in got.json()}

        assert len(unacked()) >= len(ordered) - 2  # nobody answers in the first instant
        _wait("acknowledgements", lambda: len(unacked()) <= len(ordered) - 5, 90)
        acc = httpx.get(f"{api}/emergency/accounting", headers=h, timeout=30).json()
        acked = {p["tag"] for p in acc["people"] if p["acked_at"] is not None}
        assert len(acked) >= 5
        assert acked <= ordered
        assert acked.isdisjoint(unacked())
    finally:
        shutdown.set()
        server.join(60)
    assert not server.is_alive()
