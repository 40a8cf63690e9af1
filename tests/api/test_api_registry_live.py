"""People changed through the API reach the running system: ingest, positions and the rules."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Sequence
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from minepos.api import ServerSettings, create_app
from minepos.api.runtime import Runtime
from minepos.engine.estimate import Estimate, Span
from minepos.measurement import Measurement
from minepos.mine import Mine
from minepos.store import Store

T0 = 1_763_793_600.0
P = "/api/v1"


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class SubstationTracker:
    """Places every tag it has heard of at the -320 substation (allowed to electricians only)."""

    def __init__(self, mine: Mine) -> None:
        self.tags: set[str] = set()
        self.xyz = tuple(float(v) for v in mine.point_at_one("substation320", 5.0))

    def add(self, measurements: Sequence[Measurement]) -> None:
        self.tags.update(m.tag for m in measurements)

    def step(self, now: float) -> Sequence[Estimate]:
        span = (Span("substation320", 3.0, 7.0),)
        return [
            Estimate(t, now, "substation320", 5.0, self.xyz, span, 4.0, 0.0, now)  # type: ignore[arg-type]
            for t in sorted(self.tags)
        ]


def test_a_person_added_through_the_api_is_known_to_ingest_positions_and_rules(
    tmp_path: Path, demo_mine: Mine
) -> None:
    store = Store(f"sqlite:///{tmp_path}/m.sqlite3", max_delay_s=0.01)
    clock = Clock()
    rt = Runtime(demo_mine, store, tracker=SubstationTracker(demo_mine), clock=clock)
    rt.load_people()
    admin = {"Authorization": f"Bearer {store.users.create('a', 'admin', ts=T0)[1]}"}
    gateway = {"Authorization": f"Bearer {store.gateways.create('g1', ts=T0)[1]}"}
    ingest = f"{P}/mines/demo/ingest"

    def post(ts: float) -> dict[str, int]:
        batch = {"gateway": "g1", "measurements": [{"ts": ts, "tag": "t0900", "motion": True}]}
        r = c.post(ingest, json=batch, headers=gateway)
        return dict(r.json()) if r.status_code == 200 else {"accepted": 0}

    def tick(now: float) -> None:
        clock.now = now
        asyncio.run(rt.tick(now))

    def alarms() -> list[str]:
        rows = c.get(f"{P}/mines/demo/alarms", params={"state": "active"}, headers=admin).json()
        return [a["kind"] for a in rows if a["tag"] == "t0900"]

    with TestClient(create_app(ServerSettings(), rt.services())) as c:
        assert post(T0)["accepted"] == 0  # nobody carries t0900 yet
        body = {"id": "p0900", "name": "Nurlan T.", "role": "miner", "tag": "t0900"}
        assert c.post(f"{P}/people", json=body, headers=admin).status_code == 201
        for s in range(1, 8):
            assert post(T0 + s)["accepted"] == 1
            tick(T0 + s + 0.5)
        rows = c.get(f"{P}/mines/demo/positions", headers=admin).json()
        assert [r["person"] for r in rows if r["tag"] == "t0900"] == ["p0900"]
        assert "forbidden_zone" in alarms()  # a miner in the substation

        change = {"role": "electrician"}
        assert c.put(f"{P}/people/p0900", json=change, headers=admin).status_code == 200
        assert rt.monitor.state.tags["t0900"].role == "electrician"
        post(T0 + 8)
        tick(T0 + 8.5)
        assert "forbidden_zone" not in alarms()

        assert c.delete(f"{P}/people/p0900", headers=admin).status_code == 204
        assert rt.monitor.state.tags["t0900"].person is None
        assert post(T0 + 9)["accepted"] == 0  # the tag is no longer issued
    asyncio.run(rt.close())
    store.close()
