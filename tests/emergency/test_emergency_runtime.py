"""The runtime carries the emergency desk: acks from ingest, declared and served over the API."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Sequence
from pathlib import Path

from emergency_helpers import T0, estimate

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from minepos.api import ServerSettings, create_app
from minepos.api.runtime import Runtime
from minepos.engine.estimate import Estimate
from minepos.measurement import Measurement
from minepos.mine import Mine
from minepos.store import Store


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class FixedTracker:
    """Places each tag where the test says (the engine is tested elsewhere)."""

    def __init__(self, places: list[Estimate]) -> None:
        self.places = places

    def add(self, measurements: Sequence[Measurement]) -> None:
        pass

    def step(self, now: float) -> Sequence[Estimate]:
        return [
            Estimate(e.tag, now, e.tunnel, e.offset_m, e.xyz, e.interval, e.uncertainty_m, 0.0, now)
            for e in self.places
        ]


def _feed(rt: Runtime, measurements: list[Measurement]) -> None:
    payload = json.dumps({"gateway": "g1", "measurements": [m.to_dict() for m in measurements]})
    report = rt.pipeline.accept(payload.encode(), "g1", "http")
    assert report.accepted == len(measurements), report


def test_acks_reach_the_desk_through_ingest_and_the_api_serves_it(
    tmp_path: Path, mine: Mine
) -> None:
    store = Store(f"sqlite:///{tmp_path}/m.sqlite3", max_delay_s=0.01)
    clock = Clock()
    places = [
        estimate(mine, "t0001", "main320_1000", 250.0, T0),
        estimate(mine, "t0002", "main480_600", 100.0, T0),
    ]
    rt = Runtime(mine, store, tracker=FixedTracker(places), clock=clock)
    rt.load_people()
    token = store.users.create("d", "dispatcher", ts=T0)[1]
    h = {"Authorization": f"Bearer {token}"}
    api = "/api/v1/mines/demo"

    async def tick(now: float) -> None:
        clock.now = now
        await rt.tick(now)

    _feed(rt, [Measurement(T0, "t0001", motion=True), Measurement(T0, "t0002", motion=True)])
    asyncio.run(tick(T0 + 1))
    with TestClient(create_app(ServerSettings(), rt.services())) as c:
        r = c.post(
            f"{api}/emergency",
            headers=h,
            json={"kind": "explosion", "place": {"tunnel": "main320_1500", "offset_m": 5}},
        )
        assert r.status_code == 201, r.text
        assert c.post(f"{api}/emergency/evacuate", headers=h).json()["tags"] == ["t0001", "t0002"]
        _feed(rt, [Measurement(T0 + 2, "t0002", event="evac_ack")])
        asyncio.run(tick(T0 + 3))
        unacked = c.get(f"{api}/emergency/unacknowledged", headers=h).json()
        assert [u["tag"] for u in unacked] == ["t0001"]
        acc = c.get(f"{api}/emergency/accounting", headers=h).json()
        assert acc["counts"]["underground"] == 2
        assert {p["tag"]: p["acked_at"] for p in acc["people"]} == {"t0001": None, "t0002": T0 + 2}
    asyncio.run(rt.close())
    store.close()
