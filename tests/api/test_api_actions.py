"""Alarms and acknowledgement, people and roster import, tracks, login, ingest, audit."""

from __future__ import annotations

from minepos.engine.estimate import Estimate, Span
from minepos.ingest.pipeline import IngestPipeline
from minepos.ingest.validate import Validator
from minepos.measurement import Measurement
from minepos.store.history import PositionCompactor

from .conftest import NOW, Api

P = "/api/v1"


def test_ack_takes_alarm_out_of_active_list_and_is_audited(api: Api) -> None:
    alarm = api.live.raise_sos("t0001", NOW - 5)
    active = api.client.get(f"{P}/mines/demo/alarms", headers=api.auth("viewer")).json()
    assert [a["id"] for a in active] == [alarm.id]
    assert active[0]["state"] == "raised"
    assert (
        api.client.post(f"{P}/alarms/{alarm.id}/ack", headers=api.auth("viewer")).status_code == 403
    )
    r = api.client.post(
        f"{P}/alarms/{alarm.id}/ack",
        headers=api.auth("dispatcher"),
        json={"comment": "rescue team sent"},
    )
    assert r.status_code == 200
    assert r.json()["acked_by"] == "u_dispatcher"
    assert r.json()["state"] == "acknowledged"
    audit = api.client.get(f"{P}/audit", headers=api.auth("admin")).json()
    assert any(e["action"] == "alarm.ack" and e["target"] == alarm.id for e in audit)


def test_ack_of_unknown_alarm_is_404_and_bad_body_422(api: Api) -> None:
    r = api.client.post(f"{P}/alarms/nope/ack", headers=api.auth("dispatcher"))
    assert r.status_code == 404
    alarm = api.live.raise_sos("t0002", NOW)
    r = api.client.post(
        f"{P}/alarms/{alarm.id}/ack",
        headers=api.auth("dispatcher"),
        json={"comment": 5, "extra": 1},
    )
    assert r.status_code == 422
    assert {tuple(d["loc"]) for d in r.json()["detail"]} >= {("body", "comment"), ("body", "extra")}


def test_people_crud_and_search(api: Api) -> None:
    body = {"id": "p0099", "name": "Serik B.", "role": "fitter", "tag": "t0099"}
    assert (
        api.client.post(f"{P}/people", json=body, headers=api.auth("dispatcher")).status_code == 403
    )
    r = api.client.post(f"{P}/people", json=body, headers=api.auth("admin"))
    assert r.status_code == 201
    assert api.live.reloads == 1
    assert api.client.post(f"{P}/people", json=body, headers=api.auth("admin")).status_code == 409
    r = api.client.put(
        f"{P}/people/p0099", json={"personnel_number": "123"}, headers=api.auth("admin")
    )
    assert r.json()["personnel_number"] == "123"
    assert r.json()["name"] == "Serik B."
    found = api.client.get(f"{P}/people", params={"q": "serik"}, headers=api.auth("viewer")).json()
    assert [p["id"] for p in found] == ["p0099"]
    by_number = api.client.get(
        f"{P}/people", params={"q": "4711"}, headers=api.auth("viewer")
    ).json()
    assert [p["id"] for p in by_number] == ["p0001"]
    clash = {"id": "p0100", "name": "X", "role": "miner", "tag": "t0099"}
    assert api.client.post(f"{P}/people", json=clash, headers=api.auth("admin")).status_code == 409


def test_delete_person_is_admin_only_audited_and_404_when_unknown(api: Api) -> None:
    body = {"id": "p0099", "name": "Serik B.", "role": "fitter", "tag": "t0099"}
    assert api.client.post(f"{P}/people", json=body, headers=api.auth("admin")).status_code == 201
    reloads = api.live.reloads
    assert api.client.delete(f"{P}/people/p0099", headers=api.auth("dispatcher")).status_code == 403
    assert api.client.delete(f"{P}/people/p0099").status_code == 401
    r = api.client.delete(f"{P}/people/p0099", headers=api.auth("admin"))
    assert r.status_code == 204
    assert api.live.reloads == reloads + 1
    assert api.client.get(f"{P}/people/p0099", headers=api.auth("viewer")).status_code == 404
    again = api.client.delete(f"{P}/people/p0099", headers=api.auth("admin"))
    assert again.status_code == 404 and "p0099" in again.json()["detail"]
    audit = api.client.get(f"{P}/audit", headers=api.auth("admin")).json()
    assert [(e["user"], e["target"]) for e in audit if e["action"] == "people.delete"] == [
        ("u_admin", "p0099")
    ]
    # the tag may be issued to someone else now
    other = {"id": "p0100", "name": "X", "role": "miner", "tag": "t0099"}
    assert api.client.post(f"{P}/people", json=other, headers=api.auth("admin")).status_code == 201


def test_roster_import_creates_and_updates(api: Api) -> None:
    csv = "id,name,role,tag\np0001,Aidos K.,foreman,t0001\np0200,Dana N.,miner,t0200\n"
    r = api.client.post(
        f"{P}/people/import",
        content=csv.encode(),
        headers={**api.auth("admin"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"imported": 2, "created": 1, "updated": 1}
    assert (
        api.client.get(f"{P}/people/p0001", headers=api.auth("viewer")).json()["role"] == "foreman"
    )


def test_roster_with_bad_lines_is_refused_whole(api: Api) -> None:
    csv = "id,name,role,tag\np0300,,miner,t0300\np 301,Ok,miner,t0301\n"
    r = api.client.post(
        f"{P}/people/import",
        content=csv.encode(),
        headers={**api.auth("admin"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 422
    assert "line 2: name" in r.json()["detail"]
    assert "line 3: id" in r.json()["detail"]
    assert api.client.get(f"{P}/people/p0300", headers=api.auth("viewer")).status_code == 404


def test_track_returns_window_in_order(api: Api) -> None:
    store = api.services.store
    ests = [
        Estimate(
            "t0001",
            NOW - 60 + 10 * i,
            "h320_main",
            10.0 * i,
            (10.0 * i, 0, -320),
            (Span("h320_main", 10.0 * i - 2, 10.0 * i + 2),),
            4.0,
            1.0,
            NOW,
        )
        for i in range(6)
    ]
    store.history.add(PositionCompactor().rows(ests, {"t0001": "p0001"})).wait()
    r = api.client.get(
        f"{P}/people/p0001/track", params={"from": NOW - 45, "to": NOW}, headers=api.auth("viewer")
    )
    assert r.status_code == 200
    pts = r.json()["points"]
    assert [p["offset_m"] for p in pts] == [20.0, 30.0, 40.0, 50.0]
    iso = api.client.get(
        f"{P}/people/p0001/track",
        params={"from": "2025-11-22T06:00:00Z"},
        headers=api.auth("viewer"),
    )
    assert iso.status_code == 200
    bad = api.client.get(
        f"{P}/people/p0001/track", params={"from": "yesterday"}, headers=api.auth("viewer")
    )
    assert bad.status_code == 422
    assert "from" in bad.json()["detail"]


def test_login_gives_a_session_and_is_rate_limited(api: Api) -> None:
    r = api.client.post(f"{P}/auth/login", json={"name": "u_viewer", "password": "correct horse"})
    assert r.status_code == 200
    token = r.json()["token"]
    me = api.client.get(f"{P}/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"name": "u_viewer", "role": "viewer", "created_at": NOW}
    for _ in range(3):
        bad = api.client.post(f"{P}/auth/login", json={"name": "u_admin", "password": "guess"})
        assert bad.status_code == 401
    blocked = api.client.post(
        f"{P}/auth/login", json={"name": "u_admin", "password": "correct horse"}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    other = api.client.post(
        f"{P}/auth/login", json={"name": "u_dispatcher", "password": "correct horse"}
    )
    assert other.status_code == 200  # the limit is per user name and address
    out = api.client.post(f"{P}/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204
    assert (
        api.client.get(f"{P}/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    actions = [e["action"] for e in api.client.get(f"{P}/audit", headers=api.auth("admin")).json()]
    assert "auth.login_failed" in actions and "auth.logout" in actions


def test_users_and_gateways_are_made_by_admins(api: Api) -> None:
    r = api.client.post(
        f"{P}/users", json={"name": "olga", "role": "dispatcher"}, headers=api.auth("admin")
    )
    assert r.status_code == 201
    token = r.json()["token"]
    assert (
        api.client.get(f"{P}/mines", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    bad = api.client.post(
        f"{P}/users", json={"name": "x", "role": "king"}, headers=api.auth("admin")
    )
    assert bad.status_code == 422
    gw = api.client.post(f"{P}/gateways", json={"name": "gw2"}, headers=api.auth("admin"))
    assert gw.status_code == 201 and len(gw.json()["key"]) > 20


def test_admin_resets_a_password_and_the_old_sessions_end(api: Api) -> None:
    login = {"name": "u_viewer", "password": "correct horse"}
    session = api.client.post(f"{P}/auth/login", json=login).json()["token"]
    new = {"password": "battery staple"}
    url = f"{P}/users/u_viewer/password"
    assert api.client.put(url, json=new, headers=api.auth("dispatcher")).status_code == 403
    assert (
        api.client.put(url, json={"password": "short"}, headers=api.auth("admin")).status_code
        == 422
    )
    missing = api.client.put(f"{P}/users/nobody/password", json=new, headers=api.auth("admin"))
    assert missing.status_code == 404
    assert api.client.put(url, json=new, headers=api.auth("admin")).status_code == 204
    assert api.client.post(f"{P}/auth/login", json=login).status_code == 401
    fresh = api.client.post(f"{P}/auth/login", json={**login, "password": "battery staple"})
    assert fresh.status_code == 200
    old = api.client.get(f"{P}/auth/me", headers={"Authorization": f"Bearer {session}"})
    assert old.status_code == 401
    assert api.client.get(f"{P}/auth/me", headers=api.auth("viewer")).status_code == 200
    audit = api.client.get(f"{P}/audit", headers=api.auth("admin")).json()
    assert [(e["user"], e["target"]) for e in audit if e["action"] == "user.passwd"] == [
        ("u_admin", "u_viewer")
    ]


def test_ingest_takes_a_batch_from_a_gateway(api: Api) -> None:
    got: list[Measurement] = []
    api.services.ingest = IngestPipeline(
        got.extend,
        Validator({"t0001"}, {"a_h320_main_0"}, api.clock),
        dead_letters=api.services.store.dead_letters,
    )
    batch = {
        "measurements": [
            {"ts": NOW, "tag": "t0001", "event": "sos"},
            {"ts": NOW, "tag": "t9999", "event": "sos"},
        ]
    }
    assert (
        api.client.post(f"{P}/mines/demo/ingest", json=batch, headers=api.auth("admin")).status_code
        == 403
    )
    r = api.client.post(f"{P}/mines/demo/ingest", json=batch, headers=api.auth("gateway"))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    assert r.json()["rejects"][0]["code"] == "unknown_tag"
    assert [m.tag for m in got] == ["t0001"]
    junk = api.client.post(f"{P}/mines/demo/ingest", content=b"{nope", headers=api.auth("gateway"))
    assert junk.status_code == 422
    # what was refused is kept in the store, where `minepos ingest errors --db` reads it too
    api.services.store.flush()
    url = f"{P}/dead-letters"
    assert api.client.get(url, headers=api.auth("dispatcher")).status_code == 403
    letters = api.client.get(url, headers=api.auth("admin")).json()
    assert len(letters) == 2 and letters[0]["payload"] == "{nope"
    assert "unknown_tag" in letters[1]["reason"] and "t9999" in letters[1]["payload"]


def test_roster_that_is_not_csv_is_a_clear_422(api: Api) -> None:
    r = api.client.post(
        f"{P}/people/import",
        content=b'id,name,role,tag\n"p1,\rx',
        headers={**api.auth("admin"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 422
    assert r.json()["detail"].startswith("roster:")
