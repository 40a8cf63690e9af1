"""Emergency mode over HTTP: declare, account, block, evacuate, rescue sheet, end, replay, report.

Changes need the dispatcher role (or admin) and are written to the audit log; reads need a
viewer. The desk lives beside the safety monitor and must be used on the monitor's thread: an
`EmergencyHost` carries the desk and the way to run a call there. The runtime makes one with
`emergency_host(...)`; the routes find it on ``app.state.emergency`` or on the live view's
``emergency`` attribute, else answer 503.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from minepos.api.auth import Principal, require
from minepos.api.routes.common import ServicesDep, check_mine, json_response
from minepos.api.services import Services
from minepos.errors import InputError, MineposError
from minepos.mine import Place, Span
from minepos.safety.emergency import (
    BLOCK_CAUSES,
    DEFAULT_MESSAGE,
    EMERGENCY_KINDS,
    EmergencyDesk,
    EmergencyStateError,
    MqttDownlink,
)
from minepos.safety.emergency.report import build_report, replay, report_html, report_markdown
from minepos.safety.emergency.sheet import rescue_sheet, sheet_html, sheet_pdf
from minepos.safety.state import LiveState
from minepos.store import Store
from minepos.store.emergency import EmergencyRepository

__all__ = ["EmergencyHost", "emergency_host", "router"]

log = logging.getLogger(__name__)
T = TypeVar("T")
_HOST_LOCK = threading.Lock()

router = APIRouter(tags=["emergency"])
Viewer = Annotated[Principal, Depends(require("viewer"))]
Dispatcher = Annotated[Principal, Depends(require("dispatcher"))]
MineId = Annotated[str, Depends(check_mine)]


class EmergencyHost:
    """The desk, its repository, and how to run a call on the thread that owns the live state.

    ``sync`` (optional) refreshes the desk's live state before each call; it is how a host
    built on the public `LiveView` alone (no runtime wiring) follows the live picture.
    """

    def __init__(
        self,
        desk: EmergencyDesk,
        repo: EmergencyRepository | None = None,
        executor: Executor | None = None,
        sync: Callable[[], None] | None = None,
    ) -> None:
        self.desk = desk
        self.repo = repo
        self.executor = executor
        self.sync = sync
        self.downlink_tried = False
        self._lock = threading.Lock()

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the owner's thread (or under a lock when there is none)."""
        if self.executor is not None:
            return self.executor.submit(fn).result()
        with self._lock:
            if self.sync is not None:
                self.sync()
            return fn()


def emergency_host(
    state: LiveState, store: Store, executor: Executor | None = None
) -> EmergencyHost:
    """A desk over ``state`` recording to ``store``; downlink set when the first order goes."""
    repo = EmergencyRepository(store.db, store.writer)
    desk = EmergencyDesk(state, recorder=repo)
    _restore(desk, repo)
    return EmergencyHost(desk, repo, executor)


def _restore(desk: EmergencyDesk, repo: EmergencyRepository) -> None:
    """After a restart, an emergency still active (or the last one) is taken back."""
    record = repo.latest()
    if record is not None:
        desk.restore(record.emergency, record.orders, record.events)


def sync_from_view(state: LiveState, services: Services) -> None:
    """Bring ``state`` to the live view's positions (tags not listed are on the surface)."""
    now = services.clock()
    mine = state.mine
    seen: set[str] = set()
    for r in services.live.positions(now):
        if r.get("tunnel") not in mine.tunnel_index or r.get("offset_m") is None:
            continue
        st = state.tag(r["tag"])
        seen.add(st.tag)
        st.person = r.get("person") or st.person
        st.tunnel, st.offset_m = r["tunnel"], float(r["offset_m"])
        st.interval = tuple(Span(i["tunnel"], i["from_m"], i["to_m"]) for i in r["interval"])
        st.uncertainty_m, st.level = r.get("uncertainty_m"), r.get("level")
        st.zones = frozenset(mine.zones_at(st.tunnel, st.offset_m))
        st.placed_at = r.get("updated_at") or now
        # the row says lost or not, not when last heard: lost counts as not heard since the place
        st.last_measurement = st.placed_at if r.get("status") == "lost" else now
        st.underground = r.get("status") != "surface" and not state.on_surface(st)
    for tag, st in state.tags.items():
        if tag not in seen:
            st.underground = False


def _view_host(services: Services) -> EmergencyHost:
    """A host following the public live view (no acknowledgements: no measurements here)."""
    state = LiveState(services.mine)
    names = {p.tag: p for p in services.store.people.list() if p.tag}
    for tag, p in names.items():
        st = state.tag(tag)
        st.person, st.name, st.role = p.id, p.name, p.role
    repo = EmergencyRepository(services.store.db, services.store.writer)
    desk = EmergencyDesk(state, recorder=repo)
    _restore(desk, repo)

    def sync() -> None:
        sync_from_view(state, services)
        desk.step(services.clock())  # arrivals and minute snapshots, as the runtime's tick does

    return EmergencyHost(desk, repo, sync=sync)


def get_host(request: Request, services: ServicesDep) -> EmergencyHost:
    """The emergency host: the runtime's (wired on the live view), else one over the live view."""
    host = getattr(request.app.state, "emergency", None) or getattr(
        services.live, "emergency", None
    )
    if not isinstance(host, EmergencyHost):
        with _HOST_LOCK:
            host = getattr(request.app.state, "emergency", None)
            if not isinstance(host, EmergencyHost):
                log.warning("emergency desk not wired in the runtime: following the live view")
                host = request.app.state.emergency = _view_host(services)
    mqtt = getattr(request.app.state.settings, "mqtt", None)
    if mqtt and not host.downlink_tried:
        host.downlink_tried = True  # once: a dead broker must not slow every request
        try:
            host.desk.downlink = MqttDownlink(
                mqtt, services.mine.id, client_id=f"minepos-{services.mine.id}-downlink"
            )
        except MineposError:
            log.exception("evacuation orders cannot reach the tags: no MQTT downlink")
    return host


HostDep = Annotated[EmergencyHost, Depends(get_host)]


def _run(host: EmergencyHost, fn: Callable[[], T]) -> T:
    try:
        return host.call(fn)
    except EmergencyStateError as exc:
        raise HTTPException(409, str(exc)) from exc
    except InputError as exc:
        raise HTTPException(422, str(exc)) from exc


def _audit(services: Services, who: Principal, action: str, subject: str, **details: Any) -> None:
    services.store.audit.append(services.clock(), who.name, action, subject, details).wait()


# -- request bodies ---------------------------------------------------------------------------
class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlaceIn(_In):
    """A place on the network."""

    tunnel: str = Field(min_length=1, max_length=64, description="Tunnel id")
    offset_m: float = Field(ge=0, description="Metres from the tunnel's from node")


class EmergencyDeclare(_In):
    """What happened and where."""

    kind: Literal[EMERGENCY_KINDS] = Field(description="fire, explosion, collapse, gas, flood")  # type: ignore[valid-type]
    place: PlaceIn
    note: str = Field(default="", max_length=2000)


class BlockageCreate(_In):
    """A stretch to mark impassable."""

    tunnel: str = Field(min_length=1, max_length=64)
    from_m: float = Field(ge=0)
    to_m: float = Field(ge=0)
    cause: Literal[BLOCK_CAUSES] = Field(description="fire, smoke, gas, collapse, water, cage")  # type: ignore[valid-type]
    note: str = Field(default="", max_length=2000)


class EvacuationCreate(_In):
    """Who gets the order, and its text."""

    scope: Literal["all", "zone", "person"] = "all"
    target: str | None = Field(default=None, max_length=64, description="zone id, person or tag")
    message: str = Field(default=DEFAULT_MESSAGE, min_length=1, max_length=300)


# -- the live emergency -----------------------------------------------------------------------
@router.get("/mines/{mine}/emergency")
def get_emergency(services: ServicesDep, _: Viewer, mine: MineId, host: HostDep) -> Any:
    """The active emergency (or the last one) with its counts; ``active: false`` if none."""

    def state() -> dict[str, Any]:
        desk = host.desk
        em = desk.current or desk.last
        if em is None:
            return {"active": False, "emergency": None}
        acc = desk.accounting(services.clock(), with_routes=False)
        return {
            "active": em.active,
            "emergency": em.to_dict(),
            "counts": acc.counts,
            "orders": [o.to_dict() | {"tags": len(o.tags)} for o in desk.orders],
        }

    return _run(host, state)


@router.post("/mines/{mine}/emergency", status_code=201)
def declare(
    services: ServicesDep, who: Dispatcher, mine: MineId, host: HostDep, body: EmergencyDeclare
) -> Any:
    """Declare an emergency: the live state is snapshotted and the console turns red."""
    place = Place(body.place.tunnel, body.place.offset_m)
    em = _run(
        host, lambda: host.desk.declare(body.kind, place, who.name, services.clock(), body.note)
    )
    _audit(
        services,
        who,
        "emergency.declare",
        em.id,
        kind=em.kind,
        tunnel=place.tunnel,
        offset_m=place.offset_m,
        note=body.note,
    )
    return em.to_dict()


@router.get("/mines/{mine}/emergency/accounting")
def get_accounting(
    services: ServicesDep,
    _: Viewer,
    mine: MineId,
    host: HostDep,
    routes: Annotated[bool, Query(description="include route legs")] = True,
    only: Annotated[
        Literal["all", "unaccounted", "no_exit"], Query(description="which people")
    ] = "all",
) -> Response:
    """Everyone involved: last place (95 % interval), age, flags, safety, routes, ack."""
    acc = _run(host, lambda: host.desk.accounting(services.clock(), with_routes=routes))
    people = {"all": acc.rows, "unaccounted": acc.unaccounted(), "no_exit": acc.no_exit()}[only]
    return json_response({"ts": acc.ts, "counts": acc.counts, "people": people})


@router.post("/mines/{mine}/emergency/blocked", status_code=201)
def block(
    services: ServicesDep, who: Dispatcher, mine: MineId, host: HostDep, body: BlockageCreate
) -> Any:
    """Mark a stretch blocked; every route avoids it from now on."""
    span = Span(body.tunnel, body.from_m, body.to_m)
    b = _run(host, lambda: host.desk.block(span, body.cause, who.name, services.clock(), body.note))
    _audit(services, who, "emergency.block", b.id, **b.to_dict())
    return b.to_dict()


@router.delete("/mines/{mine}/emergency/blocked/{blockage}")
def unblock(
    services: ServicesDep, who: Dispatcher, mine: MineId, host: HostDep, blockage: str
) -> Any:
    """The stretch is passable again."""
    b = _run(host, lambda: host.desk.unblock(blockage, who.name, services.clock()))
    _audit(services, who, "emergency.unblock", b.id, tunnel=b.span.tunnel)
    return b.to_dict()


@router.post("/mines/{mine}/emergency/evacuate", status_code=201)
def evacuate(
    services: ServicesDep,
    who: Dispatcher,
    mine: MineId,
    host: HostDep,
    body: EvacuationCreate | None = None,
) -> Any:
    """Send the evacuation order to every tag underground, a zone's tags or one person's tag."""
    b = body or EvacuationCreate()
    order = _run(
        host, lambda: host.desk.evacuate(who.name, services.clock(), b.scope, b.target, b.message)
    )
    _audit(
        services,
        who,
        "emergency.evacuate",
        order.id,
        scope=b.scope,
        target=b.target,
        tags=len(order.tags),
        message=b.message,
    )
    return order.to_dict()


@router.get("/mines/{mine}/emergency/unacknowledged")
def unacknowledged(_: Viewer, mine: MineId, host: HostDep) -> Any:
    """Who was sent an order and has not acknowledged it."""
    return _run(host, host.desk.unacknowledged)


@router.post("/mines/{mine}/emergency/end")
def end(services: ServicesDep, who: Dispatcher, mine: MineId, host: HostDep) -> Any:
    """End the emergency; its record stays for the replay and the report."""
    em = _run(host, lambda: host.desk.end(who.name, services.clock()))
    _audit(services, who, "emergency.end", em.id)
    return em.to_dict()


@router.get("/mines/{mine}/emergency/rescue-sheet", response_model=None)
def get_rescue_sheet(
    services: ServicesDep,
    who: Viewer,
    mine: MineId,
    host: HostDep,
    format: Annotated[Literal["html", "pdf", "json"], Query()] = "html",
    level: Annotated[str | None, Query(max_length=64, description="only this level")] = None,
    zone: Annotated[str | None, Query(max_length=64, description="only this zone")] = None,
) -> Response:
    """Every unaccounted person with last place and time and their routes, to print and carry."""

    def make() -> dict[str, Any]:
        em = host.desk.current or host.desk.last
        if em is None:
            raise EmergencyStateError("no emergency is declared")
        acc = host.desk.accounting(services.clock())
        return rescue_sheet(em, acc, services.mine.name, level=level, zone=zone)

    sheet = _run(host, make)
    _audit(services, who, "emergency.rescue_sheet", format, people=len(sheet["people"]))
    if format == "json":
        return json_response(sheet)
    if format == "pdf":
        return Response(
            sheet_pdf(sheet),
            media_type="application/pdf",
            headers={"Content-Disposition": 'inline; filename="rescue-sheet.pdf"'},
        )
    return HTMLResponse(sheet_html(sheet))


# -- after the event --------------------------------------------------------------------------
def _record(host: EmergencyHost, emergency: str) -> Any:
    if host.repo is None:
        raise HTTPException(503, "this server keeps no emergency record")
    host.repo.writer.flush(10)
    record = host.repo.get(emergency)
    if record is None:
        raise HTTPException(404, f"no emergency {emergency!r:.80}")
    return record


@router.get("/mines/{mine}/emergencies")
def list_emergencies(_: Viewer, mine: MineId, host: HostDep) -> Any:
    """Past and present emergencies, newest first."""
    if host.repo is None:
        return []
    return [e.to_dict() for e in host.repo.recent()]


@router.get("/mines/{mine}/emergencies/{emergency}/replay")
def get_replay(
    _: Viewer,
    mine: MineId,
    host: HostDep,
    emergency: str,
    every_s: Annotated[float, Query(ge=10, le=3600)] = 60.0,
) -> Response:
    """What the dispatcher saw, one frame per ``every_s`` from the declaration."""
    record = _record(host, emergency)
    assert host.repo is not None
    frames = replay(
        record.emergency, record.orders, host.repo.snapshots(emergency), every_s=every_s
    )
    return json_response({"emergency": record.emergency.to_dict(), "frames": frames})


@router.get("/mines/{mine}/emergencies/{emergency}/report", response_model=None)
def get_report(
    _: Viewer,
    mine: MineId,
    host: HostDep,
    emergency: str,
    format: Annotated[Literal["json", "md", "html"], Query()] = "json",
) -> Response:
    """The emergency report: timeline, who was where, when each person reached safety."""
    record = _record(host, emergency)
    assert host.repo is not None
    report = build_report(
        record.emergency, record.orders, record.events, host.repo.snapshots(emergency)
    )
    if format == "md":
        return PlainTextResponse(report_markdown(report), media_type="text/markdown")
    if format == "html":
        return HTMLResponse(report_html(report))
    return json_response(report)
