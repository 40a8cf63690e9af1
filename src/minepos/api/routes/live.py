"""The WebSocket stream ``/mines/<mine>/live``: a snapshot, then positions and alarm changes.

Browsers cannot set headers on a WebSocket, so besides ``Authorization: Bearer`` the client may
send ``{"token": "..."}`` as its first message. Messages from the server are JSON objects with a
``type``: ``snapshot`` (positions, alarms, headcount), ``positions`` (rows that changed, at most
once a second per tag), ``alarm`` (one alarm change, sent the moment it happens), ``headcount``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Final

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from minepos.api.auth import Principal, get_services, resolve_token
from minepos.api.hub import Subscription, encode
from minepos.api.routes.common import alarm_public
from minepos.api.services import Services

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter()

_AUTH_TIMEOUT_S: Final = 10.0
CLOSE_UNAUTHORIZED: Final = 4401
CLOSE_NOT_FOUND: Final = 4404


async def _token(ws: WebSocket) -> str | None:
    header = ws.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    try:
        first = await asyncio.wait_for(ws.receive_text(), _AUTH_TIMEOUT_S)
        token = json.loads(first).get("token")
    except (TimeoutError, ValueError, AttributeError, WebSocketDisconnect):
        return None
    return token if isinstance(token, str) else None


async def _principal(ws: WebSocket) -> Principal | None:
    token = await _token(ws)
    if not token:
        return None
    principal = await run_in_threadpool(resolve_token, ws, token)
    if principal is None or not principal.may("viewer"):
        return None
    return principal


async def _send_loop(ws: WebSocket, sub: Subscription) -> None:
    while True:
        for text in await sub.get():
            await ws.send_text(text)


async def _receive_loop(ws: WebSocket) -> None:
    while True:
        await ws.receive_text()  # the client only pings; this notices it leaving


def _snapshot(services: Services) -> dict[str, Any]:
    """The first message; built off the event loop (the alarms are read on the safety thread)."""
    now = services.clock()
    return {
        "type": "snapshot",
        "ts": now,
        "positions": services.live.positions(now),
        "alarms": [alarm_public(a) for a in services.live.active_alarms()],
        "headcount": services.live.headcount(now),
    }


@router.websocket("/mines/{mine}/live")
async def live(ws: WebSocket, mine: str) -> None:
    """Stream the live picture of a mine to one client."""
    services = get_services(ws)
    await ws.accept()
    if mine != services.mine.id:
        await ws.close(CLOSE_NOT_FOUND, f"no mine {mine!r:.40}")
        return
    if await _principal(ws) is None:
        await ws.close(CLOSE_UNAUTHORIZED, "unknown or missing token")
        return
    sub = services.hub.subscribe()
    try:
        snapshot = await run_in_threadpool(_snapshot, services)
        await ws.send_text(encode(snapshot))
        tasks = [asyncio.create_task(_send_loop(ws, sub)), asyncio.create_task(_receive_loop(ws))]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            t.exception()  # a client leaving ends a loop with WebSocketDisconnect: expected
        for t in pending:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        services.hub.unsubscribe(sub)
