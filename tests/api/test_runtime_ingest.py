"""The runtime's two ingest lanes (SOS and normal) share one de-duplicator and dead letters."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

from minepos.api.runtime import Runtime
from minepos.mine import Mine
from minepos.store import Store

T0 = 1_763_793_600.0


class NoTracker:
    """The engine is not under test here."""

    def add(self, measurements: object) -> None:
        return None

    def step(self, now: float) -> list[object]:
        return []


def _runtime(tmp_path: Path, mine: Mine) -> tuple[Runtime, Store]:
    store = Store(f"sqlite:///{tmp_path}/m.sqlite3", max_delay_s=0.01)
    rt = Runtime(mine, store, tracker=NoTracker(), clock=lambda: T0 + 0.5)  # type: ignore[arg-type]
    rt.load_people()
    return rt, store


def test_a_reading_through_both_lanes_is_taken_once(tmp_path: Path, demo_mine: Mine) -> None:
    rt, store = _runtime(tmp_path, demo_mine)
    tag = demo_mine.people[0].tag
    payload = json.dumps([{"ts": T0, "tag": tag, "event": "sos"}]).encode()
    first = rt.urgent_pipeline.accept(payload, "g1", "http")
    second = rt.pipeline.accept(payload, "g2", "mqtt")
    assert (first.accepted, first.duplicates) == (1, 0)
    assert (second.accepted, second.duplicates) == (0, 1)
    assert [m.tag for m in rt._buffer] == [tag]
    asyncio.run(rt.close())
    store.close()


def test_lanes_racing_on_many_readings_take_each_once(tmp_path: Path, demo_mine: Mine) -> None:
    rt, store = _runtime(tmp_path, demo_mine)
    tag = demo_mine.people[0].tag
    payloads = [
        json.dumps([{"ts": T0 - i * 0.001, "tag": tag, "motion": True}]).encode()
        for i in range(2000)
    ]

    def push(lane: object) -> None:
        for p in payloads:
            lane.accept(p, "g", "udp")  # type: ignore[attr-defined]

    threads = [
        threading.Thread(target=push, args=(lane,)) for lane in (rt.pipeline, rt.urgent_pipeline)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(rt._buffer) == len(payloads)
    asyncio.run(rt.close())
    store.close()


def test_dead_letters_of_both_lanes_go_to_the_store(tmp_path: Path, demo_mine: Mine) -> None:
    rt, store = _runtime(tmp_path, demo_mine)
    rt.pipeline.accept(b"not json", "g1", "mqtt")
    rt.urgent_pipeline.accept(b'[{"ts": 1, "tag": "nobody"}]', "g2", "http")
    store.flush()
    assert sorted(d.gateway for d in store.dead_letters.recent(10)) == ["g1", "g2"]
    asyncio.run(rt.close())
    store.close()
