"""Schemathesis on the app's own OpenAPI: no 500s, 401 without credentials, 403 for a wrong role."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

with warnings.catch_warnings():  # schemathesis pulls in starlette's test client
    warnings.simplefilter("ignore")
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

from minepos.api import LiveHub, ServerSettings, Services, create_app
from minepos.ingest.pipeline import IngestPipeline
from minepos.ingest.validate import Validator
from minepos.mine import Mine
from minepos.store import Store
from minepos.store.accounts import Person

from .conftest import NOW, FakeClock, FakeLive, position_row

#: calls that need no credentials (CONTRACT section 4: health; logging in is how one gets them)
OPEN = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/login")}
#: the least role each call needs; every call not listed needs a viewer
NEEDS: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/alarms/{alarm}/ack"): "dispatcher",
    ("GET", "/api/v1/users"): "admin",
    ("POST", "/api/v1/users"): "admin",
    ("GET", "/api/v1/gateways"): "admin",
    ("POST", "/api/v1/gateways"): "admin",
    ("GET", "/api/v1/audit"): "admin",
    ("POST", "/api/v1/people"): "admin",
    ("PUT", "/api/v1/people/{person}"): "admin",
    ("POST", "/api/v1/people/import"): "admin",
    ("POST", "/api/v1/mines/{mine}/ingest"): "gateway",
}
TOKENS: dict[str, str] = {}


@pytest.fixture(scope="module")
def app_schema(tmp_path_factory: pytest.TempPathFactory, demo_mine: Mine) -> Iterator[Any]:
    path: Path = tmp_path_factory.mktemp("schema")
    store = Store(f"sqlite:///{path}/minepos.sqlite3", max_delay_s=0.01)
    clock = FakeClock()
    hub = LiveHub(clock=clock)
    live = FakeLive(store, hub)
    live.rows = [position_row("t0001")]
    live.raise_sos("t0001", NOW)
    store.people.put([Person("p0001", "Aidos K.", "miner", "t0001", "4711")], ts=NOW)
    for role in ("viewer", "dispatcher", "admin"):
        TOKENS[role] = store.users.create(f"s_{role}", role, ts=NOW)[1]
    TOKENS["gateway"] = store.gateways.create("s_gw", ts=NOW)[1]
    pipeline = IngestPipeline(lambda _: None, Validator({"t0001"}, None, clock))
    services = Services(
        mine=demo_mine, store=store, live=live, hub=hub, ingest=pipeline, clock=clock
    )
    app = create_app(ServerSettings(login_attempts=1000), services)
    yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    store.close()


SETTINGS = {"deadline": None, "suppress_health_check": list(HealthCheck), "database": None}


def _key(case: Any) -> tuple[str, str]:
    return case.operation.method.upper(), case.operation.path


def _for_each_operation(schema: Any, check: Callable[[Any], None], examples: int) -> list[str]:
    """Run ``check`` on generated cases of every operation; the operations it was run on."""
    seen = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, **SETTINGS)
        def run(case: Any) -> None:
            check(case)

        run()
        seen.append(f"{operation.method.upper()} {operation.path}")
    return seen


def test_no_server_errors_and_answers_match_the_schema(app_schema: Any) -> None:
    def check(case: Any) -> None:
        role = NEEDS.get(_key(case), "viewer")
        token = TOKENS["gateway" if role == "gateway" else "admin"]
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        checks = [not_a_server_error]
        if response.status_code == 200:
            checks.append(response_schema_conformance)
        case.validate_response(response, checks=checks)

    seen = _for_each_operation(app_schema, check, examples=12)
    assert "POST /api/v1/alarms/{alarm}/ack" in seen
    assert len(seen) >= 20


def test_without_credentials_401(app_schema: Any) -> None:
    def check(case: Any) -> None:
        if _key(case) in OPEN:
            return
        response = case.call(headers={})
        assert response.status_code == 401, (_key(case), response.status_code, response.text[:200])
        bad = case.call(headers={"Authorization": "Bearer not-a-token"})
        assert bad.status_code == 401, (_key(case), bad.status_code)

    _for_each_operation(app_schema, check, examples=2)


def test_with_the_wrong_role_403(app_schema: Any) -> None:
    wrong = {"viewer": "gateway", "dispatcher": "viewer", "admin": "dispatcher", "gateway": "admin"}

    def check(case: Any) -> None:
        key = _key(case)
        if key in OPEN:
            return
        need = NEEDS.get(key, "viewer")
        response = case.call(headers={"Authorization": f"Bearer {TOKENS[wrong[need]]}"})
        assert response.status_code == 403, (key, response.status_code, response.text[:200])

    _for_each_operation(app_schema, check, examples=2)
