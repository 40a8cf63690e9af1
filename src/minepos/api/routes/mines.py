"""The mine's layout for drawing, and the live picture: positions, headcount, alarms, health."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from minepos.api.auth import Principal, require
from minepos.api.routes.common import (
    ServicesDep,
    alarm_public,
    check_mine,
    json_response,
    parse_time,
)
from minepos.api.schemas import (
    AlarmAck,
    AlarmPublic,
    AnchorPublic,
    HeadcountPublic,
    LevelPublic,
    MinePlan,
    MinePublic,
    PositionPublic,
    SystemHealth,
    TunnelPublic,
    ZonePublic,
)
from minepos.errors import InputError

__all__ = ["router"]

router = APIRouter()
Viewer = Annotated[Principal, Depends(require("viewer"))]
Dispatcher = Annotated[Principal, Depends(require("dispatcher"))]
MineId = Annotated[str, Depends(check_mine)]


def _plan(request: Request) -> dict[str, Any]:
    plan: dict[str, Any] = request.app.state.plan
    return plan


@router.get("/mines", response_model=list[MinePublic], tags=["mine"])
def list_mines(services: ServicesDep, _: Viewer) -> Any:
    """The mines this server runs (one per server)."""
    m = services.mine
    return [{"id": m.id, "name": m.name, "timezone": m.timezone}]


@router.get("/mines/{mine}/plan", response_model=MinePlan, tags=["mine"])
def get_plan(request: Request, _: Viewer, mine: MineId) -> Any:
    """Everything needed to draw the mine: levels, tunnel polylines, zones, anchors, bounds."""
    return json_response(_plan(request))


@router.get("/mines/{mine}/levels", response_model=list[LevelPublic], tags=["mine"])
def get_levels(request: Request, _: Viewer, mine: MineId) -> Any:
    """The mine's levels (horizons)."""
    return _plan(request)["levels"]


@router.get("/mines/{mine}/tunnels", response_model=list[TunnelPublic], tags=["mine"])
def get_tunnels(request: Request, _: Viewer, mine: MineId) -> Any:
    """Tunnels with their polylines and the levels they touch."""
    return json_response(_plan(request)["tunnels"])


@router.get("/mines/{mine}/zones", response_model=list[ZonePublic], tags=["mine"])
def get_zones(request: Request, _: Viewer, mine: MineId) -> Any:
    """Zones: named stretches of tunnel with their rules."""
    return _plan(request)["zones"]


@router.get("/mines/{mine}/anchors", response_model=list[AnchorPublic], tags=["mine"])
def get_anchors(request: Request, _: Viewer, mine: MineId) -> Any:
    """Anchors and readers with their place on the network."""
    return json_response(_plan(request)["anchors"])


@router.get("/mines/{mine}/positions", response_model=list[PositionPublic], tags=["live"])
def get_positions(services: ServicesDep, _: Viewer, mine: MineId) -> Response:
    """One row per tag underground, now."""
    return json_response(services.live.positions(services.clock()))


@router.get("/mines/{mine}/headcount", response_model=HeadcountPublic, tags=["live"])
def get_headcount(services: ServicesDep, _: Viewer, mine: MineId) -> Any:
    """People underground: total, per level, per zone, and who is unaccounted for."""
    return services.live.headcount(services.clock())


@router.get("/mines/{mine}/alarms", response_model=list[AlarmPublic], tags=["alarms"])
def get_alarms(
    services: ServicesDep,
    _: Viewer,
    mine: MineId,
    state: Annotated[
        Literal["active", "all"], Query(description="active, or all in the window")
    ] = "active",
    since: Annotated[str | None, Query(alias="from", description="window start (all)")] = None,
    until: Annotated[str | None, Query(alias="to", description="window end (all)")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> Any:
    """Active alarms (oldest first), or every alarm raised in a window (newest first)."""
    if state == "active":
        return [alarm_public(a) for a in services.live.active_alarms()][:limit]
    now = services.clock()
    lo = parse_time(since, "from", now - 86400.0)
    hi = parse_time(until, "to", now + 1.0)
    return [alarm_public(a) for a in services.store.alarms.list(since=lo, until=hi, limit=limit)]


@router.post("/alarms/{alarm}/ack", response_model=AlarmPublic, tags=["alarms"])
def ack_alarm(
    services: ServicesDep, who: Dispatcher, alarm: str, body: AlarmAck | None = None
) -> Any:
    """Acknowledge an active alarm; who and when are recorded and audited."""
    comment = body.comment if body is not None else ""
    try:
        acked = services.live.acknowledge(alarm, who.name, services.clock(), comment)
    except InputError:
        stored = services.store.alarms.get(alarm)
        if stored is None:
            raise HTTPException(404, f"no alarm {alarm!r:.80}") from None
        raise HTTPException(409, f"alarm {alarm!r:.80} is cleared already") from None
    return alarm_public(acked)


@router.get("/mines/{mine}/system", response_model=SystemHealth, tags=["live"])
def get_system(services: ServicesDep, _: Viewer, mine: MineId) -> Any:
    """System health: anchors online, tags reporting, ingest rates, engine tick."""
    return {**services.live.system(services.clock()), "ws_clients": services.hub.clients}
