"""The WebSocket stream: authentication, snapshot, merged positions, alarms at once."""

from __future__ import annotations

import json
import time

import pytest
from starlette.websockets import WebSocketDisconnect

from .conftest import NOW, Api, position_row

URL = "/api/v1/mines/demo/live"


def test_ws_refuses_without_token(api: Api) -> None:
    with api.client.websocket_connect(URL) as ws:
        ws.send_text(json.dumps({"token": "wrong"}))
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_text()
    assert exc.value.code == 4401


def test_ws_snapshot_then_positions_and_alarms(api: Api) -> None:
    with api.client.websocket_connect(URL) as ws:
        ws.send_text(json.dumps({"token": api.tokens["viewer"]}))
        snap = json.loads(ws.receive_text())
        assert snap["type"] == "snapshot"
        assert [r["tag"] for r in snap["positions"]] == ["t0001", "t0002"]
        assert snap["headcount"]["underground"] == 2
        hub = api.services.hub
        # three updates of one tag inside one period arrive as one row: the newest
        hub.publish_positions([position_row("t0001", offset=101.0)])
        hub.publish_positions([position_row("t0001", offset=102.0)])
        hub.publish_positions([position_row("t0001", offset=103.0), position_row("t0002")])
        msg = json.loads(ws.receive_text())
        assert msg["type"] == "positions"
        assert sorted((r["tag"], r["offset_m"]) for r in msg["rows"]) == [
            ("t0001", 103.0),
            ("t0002", 100.0),
        ]
        alarm = api.live.raise_sos("t0002", NOW)
        got = json.loads(ws.receive_text())
        assert got["type"] == "alarm"
        assert got["alarm"]["id"] == alarm.id and got["alarm"]["state"] == "raised"


def test_ws_header_auth_and_clients_counted(api: Api) -> None:
    with api.client.websocket_connect(URL, headers=api.auth("viewer")) as ws:
        assert json.loads(ws.receive_text())["type"] == "snapshot"
        assert api.services.hub.clients == 1
    deadline = time.monotonic() + 2
    while api.services.hub.clients and time.monotonic() < deadline:
        time.sleep(0.01)
    assert api.services.hub.clients == 0


class BrokenTracker:
    """An engine that fails every step."""

    def add(self, measurements: object) -> None:
        return None

    def step(self, now: float) -> list[object]:
        raise ZeroDivisionError("engine bug")


def test_rules_go_on_when_the_engine_fails(tmp_path: object, demo_mine: object) -> None:
    import asyncio

    from minepos.api.runtime import Runtime
    from minepos.store import Store

    store = Store(f"sqlite:///{tmp_path}/r.sqlite3")
    runtime = Runtime(demo_mine, store, tracker=BrokenTracker())  # type: ignore[arg-type]
    runtime.load_people()
    tag = demo_mine.people[0].tag  # type: ignore[attr-defined]
    payload = json.dumps({"measurements": [{"ts": NOW, "tag": tag, "event": "sos"}]}).encode()

    async def go() -> list[str]:
        runtime.clock = lambda: NOW + 0.5
        runtime.pipeline.clock = runtime.clock
        runtime.pipeline.accept(payload, "gw", "http")
        tick = await runtime.tick(NOW + 1.0)
        await runtime.close()
        return [c.alarm.kind for c in tick.changes]

    assert asyncio.run(go()) == ["sos"]
    assert [a.kind for a in store.alarms.active()] == ["sos"]
    store.close()
