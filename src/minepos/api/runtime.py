"""`Runtime`: ingest -> engine -> safety -> store -> API for one mine, ticking once a second.

Two single-thread executors keep the heavy parts off the event loop and each part on one thread:
the engine's tracker runs on one, the safety monitor and its recorder on the other. An SOS does
not wait for the next tick. The moment ingest accepts it, the console is told (a *provisional*
SOS alarm, ``details.provisional``, with the id the rules will give it), and the safety thread
takes it next: it raises the alarm by the rules, commits it and publishes it again, confirmed.
Waiting for the safety thread alone would cost up to one safety step (a few hundred ms with
14,000 tags), which the dispatcher should not wait for when someone presses SOS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, Protocol

import numpy as np
from prometheus_client import CollectorRegistry

from minepos.api.hub import LiveHub
from minepos.api.livestate import RateMeter, headcount_of, positions_of, system_of
from minepos.api.routes.common import alarm_public
from minepos.api.routes.emergency import emergency_host
from minepos.api.services import Services
from minepos.engine.estimate import Estimate
from minepos.errors import InputError
from minepos.ingest.dedup import Deduplicator
from minepos.ingest.metrics import IngestMetrics
from minepos.ingest.pipeline import IngestPipeline
from minepos.ingest.validate import Validator
from minepos.measurement import Measurement
from minepos.mine import Mine
from minepos.safety.alarms import Alarm, AlarmChange, alarm_id
from minepos.safety.monitor import SafetyMonitor, Tick
from minepos.safety.publisher import AlarmPublisher
from minepos.store import Store
from minepos.store.accounts import Person
from minepos.store.recorder import SafetyRecorder

__all__ = ["Runtime", "TrackerLike"]

log = logging.getLogger(__name__)

#: events that must not wait for the next tick
URGENT_EVENTS: Final = frozenset({"sos", "sos_cancel"})
#: how long an acknowledgement of a provisional SOS waits for the rules to confirm it
_CONFIRM_WAIT_S: Final = 5.0


class TrackerLike(Protocol):
    """The engine's face as the runtime uses it."""

    def add(self, measurements: Sequence[Measurement]) -> None:
        """Buffer measurements for the next step."""

    def step(self, now: float) -> Sequence[Estimate]:
        """Advance every tag to ``now``."""


class Runtime:
    """The live system of one mine; `services()` is what `create_app` serves."""

    def __init__(
        self,
        mine: Mine,
        store: Store,
        *,
        tick_s: float = 1.0,
        tracker: TrackerLike | None = None,
        publisher: AlarmPublisher | None = None,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        self.mine, self.store, self.tick_s, self.clock = mine, store, tick_s, clock
        if tracker is None:
            from minepos.engine.tracker import Tracker

            tracker = Tracker(mine, rng=np.random.default_rng(seed))
        self.tracker = tracker
        self.monitor = SafetyMonitor(mine)
        self.recorder = SafetyRecorder(store, self.monitor, publisher)
        self.hub = LiveHub(period_s=tick_s, clock=clock, auto_flush=False)
        self.registry = CollectorRegistry()
        self.metrics = IngestMetrics(self.registry)
        self.known_tags: set[str] = set()
        validator = Validator(self.known_tags, {a.id for a in mine.anchors}, clock)
        #: one de-duplicator for both lanes: a reading posted through both is taken once
        self.dedup = Deduplicator(clock)
        self.pipeline = self._lane(validator)
        #: the same stages with their own lock, for small payloads carrying an SOS: they must
        #: not queue behind the big position batches other gateways are posting
        self.urgent_pipeline = self._lane(validator)
        self._buffer: list[Measurement] = []
        self._lock = threading.Lock()
        self._engine = ThreadPoolExecutor(1, thread_name_prefix="minepos-engine")
        self._safety = ThreadPoolExecutor(1, thread_name_prefix="minepos-safety")
        # emergency mode reads the monitor's live state, so it runs on the safety thread
        self.emergency = emergency_host(self.monitor.state, store, self._safety)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rows: dict[str, dict[str, Any]] = {}
        self._headcount: dict[str, Any] = {
            "ts": clock(),
            "underground": 0,
            "by_level": {},
            "by_zone": {},
            "unaccounted": [],
        }
        self._system: dict[str, Any] = {}
        self._accepted = RateMeter()
        self._rejected = RateMeter()
        self._tick_ms: float | None = None
        self._rates = (0.0, 0.0)
        self.ticks = 0
        self._tasks: set[asyncio.Future[None]] = set()
        self._sos_tags: set[str] = set()  # tags with an SOS alarm raised by the rules
        self._provisional: dict[str, str] = {}  # tag -> id of an SOS shown, not yet confirmed
        self._person_of: dict[str, str] = {}

    # -- wiring ---------------------------------------------------------------------------------
    def services(self) -> Services:
        """The API's view of this runtime."""
        return Services(
            mine=self.mine,
            store=self.store,
            live=self,
            hub=self.hub,
            ingest=self.pipeline,
            urgent_ingest=self.urgent_pipeline,
            metrics=self.registry,
            clock=self.clock,
        )

    def _lane(self, validator: Validator) -> IngestPipeline:
        return IngestPipeline(
            self._sink,
            validator,
            dedup=self.dedup,
            metrics=self.metrics,
            dead_letters=self.store.dead_letters,
        )

    def load_people(self) -> None:
        """Put the mine file's people into the registry (if new) and learn every tag."""
        known = {p.id for p in self.store.people.list()}
        new = [Person(p.id, p.name, p.role, p.tag) for p in self.mine.people if p.id not in known]
        if new:
            self.store.people.put(new, ts=self.clock(), actor="mine file")
        self.people_changed()

    def _sink(self, measurements: Sequence[Measurement]) -> None:
        with self._lock:
            self._buffer.extend(measurements)
        urgent = [m for m in measurements if m.event in URGENT_EVENTS]
        if urgent and self._loop is not None:
            for m in urgent:
                if m.event == "sos":
                    self._loop.call_soon_threadsafe(self._provisional_sos, m)
            self._loop.call_soon_threadsafe(self._spawn_urgent, urgent)

    def _provisional_sos(self, m: Measurement) -> None:
        """Tell the console now; the rules confirm (same id) once the alarm is committed."""
        if m.tag in self._sos_tags or m.tag in self._provisional:
            return
        alarm_id_ = alarm_id("sos", m.tag, m.ts)
        self._provisional[m.tag] = alarm_id_
        row = self._rows.get(m.tag) or {}
        self.hub.publish_alarm(
            {
                "id": alarm_id_,
                "kind": "sos",
                "state": "raised",
                "tag": m.tag,
                "person": self._person_of.get(m.tag),
                "zone": row.get("zone"),
                "anchor": None,
                "raised_at": m.ts,
                "acked_by": None,
                "acked_at": None,
                "ack_comment": None,
                "cleared_at": None,
                "details": {"subject": m.tag, "provisional": True},
            }
        )

    def _spawn_urgent(self, urgent: list[Measurement]) -> None:
        task = asyncio.ensure_future(self._urgent(urgent))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the loop -------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Restore from the store, then tick on every ``tick_s`` boundary until ``stop`` is set."""
        self._loop = asyncio.get_running_loop()
        await self._on(self._safety, self._restore)
        stop = stop or asyncio.Event()
        while not stop.is_set():
            now = self.clock()
            nxt = (math.floor(now / self.tick_s) + 1) * self.tick_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, nxt - now))
            if stop.is_set():
                break
            try:
                await self.tick(nxt)
            except Exception:  # one bad tick must not stop the mine's monitoring
                log.exception("tick at %.3f failed", nxt)

    async def tick(self, now: float) -> Tick:
        """One engine + safety step at ``now``; publishes what changed."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        t0 = time.perf_counter()
        try:
            estimates = await self._on(self._engine, self._engine_step, now, batch)
        except Exception:  # the rules (SOS, tag lost, lamp room) must go on without places
            log.exception("engine step at %.3f failed; safety runs without new places", now)
            estimates = ()
        tick, rows, headcount, system = await self._on(
            self._safety, self._safety_step, now, batch, estimates
        )
        self._tick_ms = (time.perf_counter() - t0) * 1000.0
        self.metrics.observe_tick(self._tick_ms / 1000.0)
        assert isinstance(tick, Tick)
        self._publish(tick.changes)
        self._rows = rows
        self._headcount = headcount
        self._system = system
        self._measure_rates(now)
        self.ticks += 1
        return tick

    async def _urgent(self, measurements: list[Measurement]) -> None:
        try:
            tick = await self._on(self._safety, self.recorder.tick, self.clock(), measurements, ())
        except Exception:
            log.exception("urgent step failed")
            return
        self._publish(tick.changes)

    async def _on(self, pool: ThreadPoolExecutor, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    def _engine_step(self, now: float, batch: list[Measurement]) -> Sequence[Estimate]:
        self.tracker.add(batch)
        return self.tracker.step(now)

    def _safety_step(
        self, now: float, batch: list[Measurement], estimates: Sequence[Estimate]
    ) -> tuple[Tick, dict[str, dict[str, Any]], dict[str, Any], dict[str, Any]]:
        tick = self.recorder.tick(now, batch, estimates)
        self.emergency.desk.observe(batch)  # evac_ack events
        self.emergency.desk.step(now)  # who reached safety; minute snapshots
        rows = {
            t: r for t, r in positions_of(self.monitor, now).items() if r["status"] != "surface"
        }
        headcount = headcount_of(self.monitor, now)
        # diff and encode here, not on the event loop: it must stay free for an SOS
        changed = [r for tag, r in rows.items() if self._rows.get(tag) != r]
        changed += [_gone(r) for tag, r in self._rows.items() if tag not in rows]
        self.hub.publish_positions(changed)
        self.hub.publish_headcount(headcount)
        self.hub.flush()
        return tick, rows, headcount, system_of(self.monitor, now)

    def _restore(self) -> None:
        hc = self.recorder.restore(self.clock())
        log.info(
            "restored: %d underground, %d active alarms", hc.underground, len(self.monitor.book)
        )

    def _publish(self, changes: Sequence[AlarmChange]) -> None:
        for change in changes:
            alarm = change.alarm
            if alarm.kind == "sos" and alarm.tag is not None:
                self._confirm_sos(change)
            self.hub.publish_alarm(alarm_public(alarm))

    def _confirm_sos(self, change: AlarmChange) -> None:
        tag = change.alarm.tag
        assert tag is not None
        if change.state == "cleared":
            self._sos_tags.discard(tag)
        else:
            self._sos_tags.add(tag)
        early = self._provisional.pop(tag, None)
        if early is not None and early != change.alarm.id:
            # the rules dated it differently (a clock ahead): withdraw the provisional one
            self.hub.publish_alarm(
                {
                    "id": early,
                    "kind": "sos",
                    "state": "cleared",
                    "tag": tag,
                    "person": None,
                    "zone": None,
                    "anchor": None,
                    "raised_at": change.ts,
                    "acked_by": None,
                    "acked_at": None,
                    "ack_comment": None,
                    "cleared_at": change.ts,
                    "details": {"subject": tag, "superseded_by": change.alarm.id},
                }
            )

    async def close(self) -> None:
        """Finish the running steps and release the threads."""
        self._engine.shutdown(wait=True, cancel_futures=True)
        self._safety.shutdown(wait=True, cancel_futures=True)

    # -- LiveView ---------------------------------------------------------------------------------
    def positions(self, now: float) -> list[dict[str, Any]]:
        """Rows of every tag underground after the last tick."""
        return list(self._rows.values())

    def headcount(self, now: float) -> dict[str, Any]:
        """The headcount after the last tick."""
        return self._headcount

    def active_alarms(self) -> list[Alarm]:
        """Active alarms (read on the safety thread), oldest first."""
        alarms: list[Alarm] = self._safety.submit(
            lambda: [a.snapshot() for a in self.monitor.book]
        ).result()
        return sorted(alarms, key=lambda a: a.raised_at)

    def acknowledge(self, alarm: str, user: str, ts: float, comment: str) -> Alarm:
        """Acknowledge on the safety thread: stored, audited, then published.

        A provisional SOS is acknowledged once the rules have raised it (within a safety step).
        """
        deadline = time.monotonic() + _CONFIRM_WAIT_S
        while True:
            try:
                change = self._safety.submit(
                    self.recorder.acknowledge, alarm, user, ts, comment
                ).result()
                break
            except InputError:
                if alarm not in self._provisional.values() or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._publish, [change])
        return change.alarm

    def _measure_rates(self, now: float) -> None:
        accepted = rejected = 0
        counts = list(self.pipeline.counters().items())
        counts += self.urgent_pipeline.counters().items()
        for (_, outcome), n in counts:
            if outcome == "accepted":
                accepted += n
            elif outcome != "duplicate":
                rejected += n
        self._rates = (self._accepted.add(now, accepted), self._rejected.add(now, rejected))

    def system(self, now: float) -> dict[str, Any]:
        """Health after the last tick, with ingest rates over the last minute."""
        base = self._system or {
            "ts": now,
            "anchors_total": len(self.mine.anchors),
            "anchors_online": 0,
            "tags_total": 0,
            "tags_reporting": 0,
            "offline_anchors": [],
        }
        return {
            **base,
            "ingest_per_s": round(self._rates[0], 1),
            "rejected_per_s": round(self._rates[1], 2),
            "engine_tick_ms": self._tick_ms,
        }

    def people_changed(self) -> None:
        """The registry changed: the live state and the validator's known tags follow it.

        The live state is set on the safety thread (the rules read it there); the known tags
        change in place without ever being empty (the validator holds the set by reference
        and checks tags from other threads).
        """
        people = self.store.people.list()
        tags = {p.tag for p in people if p.tag}
        with contextlib.suppress(RuntimeError):  # closed: nothing is running to tell
            self._safety.submit(self.monitor.state.set_people, people).result()
        self._person_of = {p.tag: p.id for p in people if p.tag}
        self.known_tags.update(tags)
        self.known_tags.intersection_update(tags)


def _gone(row: dict[str, Any]) -> dict[str, Any]:
    """The last row of a tag that left: the console greys it out and drops it."""
    return {**row, "status": "surface"}
