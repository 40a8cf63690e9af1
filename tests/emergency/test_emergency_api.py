"""Emergency mode over HTTP: roles, audit, the whole flow, rescue sheet, replay and report."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from emergency_helpers import T0, put

with warnings.catch_warnings():  # starlette asks for httpx2; httpx still works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from minepos.api import LiveHub, ServerSettings, Services, create_app
from minepos.api.routes.emergency import EmergencyHost, emergency_host
from minepos.measurement import Measurement
from minepos.mine import Mine
from minepos.safety import LiveState
from minepos.safety.alarms import Alarm
from minepos.safety.emergency import MemoryDownlink
from minepos.store import Store

MINE = "/api/v1/mines/demo"


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class RowsView:
    """A live view with rows set by the test (the public LiveView face only)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def positions(self, now: float) -> list[dict[str, Any]]:
        return list(self.rows)

    def headcount(self, now: float) -> dict[str, Any]:
        return {
            "ts": now,
            "underground": len(self.rows),
            "by_level": {},
            "by_zone": {},
            "unaccounted": [],
        }

    def active_alarms(self) -> list[Alarm]:
        return []

    def acknowledge(self, alarm: str, user: str, ts: float, comment: str) -> Alarm:
        raise NotImplementedError

    def system(self, now: float) -> dict[str, Any]:
        return {}

    def people_changed(self) -> None:
        pass


@dataclass
class Api:
    client: TestClient
    clock: Clock
    store: Store
    state: LiveState
    host: EmergencyHost
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def api(tmp_path: Path, mine: Mine, state: LiveState) -> Iterator[Api]:
    store = Store(f"sqlite:///{tmp_path}/m.sqlite3", max_delay_s=0.01)
    clock = Clock()
    services = Services(
        mine=mine, store=store, live=RowsView(), hub=LiveHub(clock=clock), clock=clock
    )
    app = create_app(ServerSettings(), services)
    host = emergency_host(state, store)
    host.desk.downlink = MemoryDownlink()
    app.state.emergency = host
    tokens = {r: store.users.create(f"u_{r}", r, ts=T0)[1] for r in ("viewer", "dispatcher")}
    for tag, tunnel, off in (
        ("t0001", "main320_1000", 250.0),
        ("t0002", "old_workings", 100.0),
        ("t0003", "main480_1200", 300.0),
    ):
        put(state, tag, tunnel, off, T0)
    with TestClient(app) as client:
        yield Api(client, clock, store, state, host, tokens)
    store.close()


def test_roles_reads_need_a_viewer_changes_a_dispatcher(api: Api) -> None:
    c = api.client
    assert c.get(f"{MINE}/emergency").status_code == 401
    body = {"kind": "fire", "place": {"tunnel": "main320_1000", "offset_m": 300}}
    assert c.post(f"{MINE}/emergency", json=body).status_code == 401
    assert c.post(f"{MINE}/emergency", json=body, headers=api.auth("viewer")).status_code == 403
    assert c.get(f"{MINE}/emergency", headers=api.auth("viewer")).json() == {
        "active": False,
        "emergency": None,
    }
    assert c.get("/api/v1/mines/other/emergency", headers=api.auth("viewer")).status_code == 404


def test_bad_input_is_named(api: Api) -> None:
    h = api.auth("dispatcher")
    r = api.client.post(
        f"{MINE}/emergency",
        headers=h,
        json={"kind": "fire", "place": {"tunnel": "nope", "offset_m": 3}},
    )
    assert r.status_code == 422
    assert "unknown tunnel 'nope'" in r.json()["detail"]
    r = api.client.post(
        f"{MINE}/emergency",
        headers=h,
        json={"kind": "party", "place": {"tunnel": "main320_500", "offset_m": 3}},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == "kind"
    r = api.client.post(f"{MINE}/emergency/evacuate", headers=h, json={})
    assert r.status_code == 409
    assert "no emergency" in r.json()["detail"]


def test_the_whole_flow_is_served_and_audited(api: Api) -> None:
    c, h, v = api.client, api.auth("dispatcher"), api.auth("viewer")
    r = c.post(
        f"{MINE}/emergency",
        headers=h,
        json={
            "kind": "fire",
            "place": {"tunnel": "main320_1000", "offset_m": 300},
            "note": "smoke",
        },
    )
    assert r.status_code == 201
    em = r.json()["id"]
    assert (
        c.post(
            f"{MINE}/emergency",
            headers=h,
            json={"kind": "gas", "place": {"tunnel": "main320_1000", "offset_m": 1}},
        ).status_code
        == 409
    )
    b1 = c.post(
        f"{MINE}/emergency/blocked",
        headers=h,
        json={"tunnel": "main320_500", "from_m": 100, "to_m": 200, "cause": "smoke"},
    ).json()
    c.post(
        f"{MINE}/emergency/blocked",
        headers=h,
        json={"tunnel": "main320_2200", "from_m": 0, "to_m": 50, "cause": "fire"},
    )
    api.clock.now = T0 + 10
    order = c.post(f"{MINE}/emergency/evacuate", headers=h, json={"message": "Out now"}).json()
    assert order["tags"] == ["t0001", "t0002", "t0003"]
    assert [t for t, _ in api.host.desk.downlink.sent] == order["tags"]  # type: ignore[attr-defined]
    api.host.desk.observe([Measurement(T0 + 30, "t0003", event="evac_ack")])
    unacked = c.get(f"{MINE}/emergency/unacknowledged", headers=v).json()
    assert [u["tag"] for u in unacked] == ["t0001", "t0002"]
    acc = c.get(f"{MINE}/emergency/accounting", headers=v).json()
    assert acc["counts"]["unaccounted"] == 3
    assert acc["counts"]["no_exit_route"] == 1
    rows = {r["tag"]: r for r in acc["people"]}
    assert rows["t0001"]["exit_route"] is None
    assert rows["t0001"]["refuge_route"]["target"] == "refuge320"
    no_exit = c.get(f"{MINE}/emergency/accounting?only=no_exit&routes=false", headers=v).json()
    assert [r["tag"] for r in no_exit["people"]] == ["t0001"]
    assert (
        c.delete(f"{MINE}/emergency/blocked/{b1['id']}", headers=h).json()["cleared_by"]
        == "u_dispatcher"
    )
    state = c.get(f"{MINE}/emergency", headers=v).json()
    assert state["active"] and state["counts"]["unacknowledged"] == 2
    sheet = c.get(f"{MINE}/emergency/rescue-sheet", headers=v)
    assert sheet.headers["content-type"].startswith("text/html")
    assert "RESCUE SHEET" in sheet.text and "old_workings" in sheet.text
    pdf = c.get(f"{MINE}/emergency/rescue-sheet?format=pdf", headers=v)
    assert pdf.content.startswith(b"%PDF-")
    api.clock.now = T0 + 300
    assert c.post(f"{MINE}/emergency/end", headers=h).json()["ended_by"] == "u_dispatcher"
    assert [e["id"] for e in c.get(f"{MINE}/emergencies", headers=v).json()] == [em]
    frames = c.get(f"{MINE}/emergencies/{em}/replay", headers=v).json()["frames"]
    assert [f["minute"] for f in frames] == [0, 1, 2, 3, 4, 5]
    report = c.get(f"{MINE}/emergencies/{em}/report", headers=v).json()
    assert report["summary"]["acknowledged"] == 1
    md = c.get(f"{MINE}/emergencies/{em}/report?format=md", headers=v).text
    assert md.startswith(f"# Emergency report {em}")
    assert c.get(f"{MINE}/emergencies/nope/report", headers=v).status_code == 404
    actions = [a.action for a in api.store.audit.list()]
    for action in (
        "emergency.declare",
        "emergency.block",
        "emergency.unblock",
        "emergency.evacuate",
        "emergency.rescue_sheet",
        "emergency.end",
    ):
        assert action in actions


def test_without_runtime_wiring_the_desk_follows_the_live_view(tmp_path: Path, mine: Mine) -> None:
    store = Store(f"sqlite:///{tmp_path}/m.sqlite3", max_delay_s=0.01)
    view = RowsView()
    view.rows = [
        {
            "tag": "t0001",
            "person": "p0001",
            "tunnel": "main320_1000",
            "offset_m": 250.0,
            "level": "h320",
            "zone": None,
            "uncertainty_m": 10.0,
            "updated_at": T0,
            "status": "moving",
            "interval": [{"tunnel": "main320_1000", "from_m": 245.0, "to_m": 255.0}],
        }
    ]
    clock = Clock()
    services = Services(mine=mine, store=store, live=view, hub=LiveHub(clock=clock), clock=clock)
    token = store.users.create("d", "dispatcher", ts=T0)[1]
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(ServerSettings(), services)) as c:
        r = c.post(
            f"{MINE}/emergency",
            headers=h,
            json={"kind": "fire", "place": {"tunnel": "main320_500", "offset_m": 10}},
        )
        assert r.status_code == 201
        acc = c.get(f"{MINE}/emergency/accounting", headers=h).json()
        assert [(p["tag"], p["safety"]) for p in acc["people"]] == [("t0001", "unaccounted")]
        view.rows = []  # back on the surface
        acc = c.get(f"{MINE}/emergency/accounting", headers=h).json()
        assert [(p["tag"], p["safety"]) for p in acc["people"]] == [("t0001", "out")]
    store.close()
