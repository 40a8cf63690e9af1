"""API fixtures: the demo mine, a real SQLite store in a temp folder, and a small live picture.

`FakeLive` is a hand-written stand-in for the runtime's live state (positions and alarms set by
the test), so the API is tested on its own; the runtime tests use the real pipeline.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():  # starlette >= 1.0 asks for httpx2; httpx still works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from minepos.api import LiveHub, ServerSettings, Services, create_app
from minepos.api.routes.common import alarm_public
from minepos.mine import Mine, mine_from_dict
from minepos.mine.demo import demo_mine_dict
from minepos.safety.alarms import Alarm, AlarmBook
from minepos.store import Store
from minepos.store.accounts import Person

NOW = 1_763_793_600.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeLive:
    """Positions and alarms set by the test; acks are stored and published as the runtime does."""

    def __init__(self, store: Store, hub: LiveHub) -> None:
        self.store, self.hub = store, hub
        self.rows: list[dict[str, Any]] = []
        self.book = AlarmBook()
        self.reloads = 0

    def positions(self, now: float) -> list[dict[str, Any]]:
        return list(self.rows)

    def headcount(self, now: float) -> dict[str, Any]:
        by_level: dict[str, int] = {}
        for r in self.rows:
            by_level[r["level"]] = by_level.get(r["level"], 0) + 1
        return {
            "ts": now,
            "underground": len(self.rows),
            "by_level": by_level,
            "by_zone": {},
            "unaccounted": [],
        }

    def active_alarms(self) -> list[Alarm]:
        return sorted(self.book, key=lambda a: a.raised_at)

    def raise_sos(self, tag: str, ts: float) -> Alarm:
        change = self.book.raise_(("sos", tag), ts, tag=tag, person=f"p{tag[1:]}")
        assert change is not None
        self.store.alarms.record([change]).wait()
        self.hub.publish_alarm(alarm_public(change.alarm))
        return change.alarm

    def acknowledge(self, alarm: str, user: str, ts: float, comment: str) -> Alarm:
        change = self.book.acknowledge(alarm, user, ts, comment)
        self.store.alarms.record([change]).wait()
        self.hub.publish_alarm(alarm_public(change.alarm))
        return change.alarm

    def system(self, now: float) -> dict[str, Any]:
        return {
            "ts": now,
            "anchors_total": 3,
            "anchors_online": 2,
            "tags_total": 2,
            "tags_reporting": 1,
            "ingest_per_s": 10.0,
            "rejected_per_s": 0.0,
            "engine_tick_ms": 5.0,
            "offline_anchors": ["a1"],
        }

    def people_changed(self) -> None:
        self.reloads += 1


@dataclass
class Api:
    """A running test app and what it is made of."""

    client: TestClient
    services: Services
    live: FakeLive
    clock: FakeClock
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture(scope="session")
def demo_mine() -> Mine:
    return mine_from_dict(demo_mine_dict())


def position_row(tag: str, tunnel: str = "h320_main", offset: float = 100.0) -> dict[str, Any]:
    """A position row in the contract's shape."""
    return {
        "tag": tag,
        "person": f"p{tag[1:]}",
        "tunnel": tunnel,
        "offset_m": offset,
        "xyz": [offset, 0.0, -320.0],
        "level": "h320",
        "zone": None,
        "interval": [{"tunnel": tunnel, "from_m": offset - 5, "to_m": offset + 5}],
        "uncertainty_m": 10.0,
        "speed_mps": 1.1,
        "updated_at": NOW,
        "status": "moving",
    }


@pytest.fixture
def api(tmp_path: Path, demo_mine: Mine) -> Iterator[Api]:
    store = Store(f"sqlite:///{tmp_path}/minepos.sqlite3", max_delay_s=0.01)
    clock = FakeClock()
    hub = LiveHub(period_s=0.05, clock=clock)
    live = FakeLive(store, hub)
    live.rows = [position_row("t0001"), position_row("t0002", offset=250.0)]
    store.people.put(
        [
            Person("p0001", "Aidos K.", "miner", "t0001", "4711"),
            Person("p0002", "Olga S.", "electrician", "t0002", None),
        ],
        ts=NOW,
    )
    # argon2 is slow on purpose: only the users the login tests need get a password
    tokens = {
        role: store.users.create(
            f"u_{role}", role, ts=NOW, password="correct horse" if role != "admin" else None
        )[1]
        for role in ("viewer", "dispatcher", "admin")
    }
    tokens["gateway"] = store.gateways.create("gw1", ts=NOW)[1]
    services = Services(mine=demo_mine, store=store, live=live, hub=hub, clock=clock)
    app = create_app(ServerSettings(login_attempts=3), services)
    with TestClient(app) as client:
        yield Api(client, services, live, clock, tokens)
    store.close()
