"""Health, authentication and roles, the mine plan, positions and headcount."""

from __future__ import annotations

import pytest

from .conftest import Api

P = "/api/v1"


def test_health_needs_no_credentials(api: Api) -> None:
    r = api.client.get(f"{P}/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["mine"] == "demo"


@pytest.mark.parametrize(
    "path", ["/mines", "/mines/demo/plan", "/mines/demo/positions", "/mines/demo/alarms", "/people"]
)
def test_reads_need_a_token(api: Api, path: str) -> None:
    assert api.client.get(P + path).status_code == 401
    bad = api.client.get(P + path, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == "Bearer"
    assert api.client.get(P + path, headers=api.auth("viewer")).status_code == 200


def test_gateway_key_is_not_a_user_token(api: Api) -> None:
    assert api.client.get(f"{P}/mines", headers=api.auth("gateway")).status_code == 403


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("dispatcher", 403), ("admin", 200)])
def test_user_list_is_for_admins(api: Api, role: str, status: int) -> None:
    assert api.client.get(f"{P}/users", headers=api.auth(role)).status_code == status


def test_plan_has_every_tunnel_with_levels(api: Api) -> None:
    plan = api.client.get(f"{P}/mines/demo/plan", headers=api.auth("viewer")).json()
    mine = api.services.mine
    assert len(plan["tunnels"]) == len(mine.tunnels)
    assert len(plan["anchors"]) == len(mine.anchors)
    assert {lv["id"] for lv in plan["levels"]} == {"surface", "h320", "h480"}
    shaft = next(t for t in plan["tunnels"] if t["kind"] == "shaft")
    assert len(shaft["levels"]) >= 2  # a shaft is drawn on every level it reaches
    x0, y0, x1, y1 = plan["bounds"]
    assert x0 < x1 and y0 < y1


def test_unknown_mine_is_404(api: Api) -> None:
    r = api.client.get(f"{P}/mines/nope/positions", headers=api.auth("viewer"))
    assert r.status_code == 404
    assert "nope" in r.json()["detail"]


def test_positions_and_headcount(api: Api) -> None:
    rows = api.client.get(f"{P}/mines/demo/positions", headers=api.auth("viewer")).json()
    assert [r["tag"] for r in rows] == ["t0001", "t0002"]
    assert set(rows[0]) >= {
        "tag",
        "person",
        "tunnel",
        "offset_m",
        "xyz",
        "level",
        "zone",
        "interval",
        "uncertainty_m",
        "speed_mps",
        "updated_at",
        "status",
    }
    hc = api.client.get(f"{P}/mines/demo/headcount", headers=api.auth("viewer")).json()
    assert hc["underground"] == 2
    assert hc["by_level"] == {"h320": 2}


def test_system_health_counts_ws_clients(api: Api) -> None:
    r = api.client.get(f"{P}/mines/demo/system", headers=api.auth("viewer")).json()
    assert r["anchors_online"] == 2
    assert r["ws_clients"] == 0


def test_openapi_is_served(api: Api) -> None:
    spec = api.client.get(f"{P}/openapi.json").json()
    assert f"{P}/mines/{{mine}}/positions" in spec["paths"]
    assert f"{P}/alarms/{{alarm}}/ack" in spec["paths"]
