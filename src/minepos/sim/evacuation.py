"""Evacuation orders: acknowledgements from the tags and people walking to an exit or refuge.

Each person underground who is sent the order acknowledges after a lognormal delay, or never
(a configurable share). With ``move``, those who acknowledge walk from where they are, along the
shortest open route avoiding the blocked stretches, to the nearest exit or refuge and wait there;
each arrival is recorded as an ``evacuated`` incident, the order itself as ``evacuation``.

Orders are configured ahead (``ScenarioConfig.evacuations``) or given while the run goes
(`LiveOrders`, behind ``Simulation.order_evacuation``): a dispatcher's order reaches the
simulated tags, which answer and walk out the same way.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Iterable

import numpy as np

from minepos.mine import Mine, Person, Place
from minepos.mine.network import DistanceField
from minepos.sim.config import EvacuationOrder
from minepos.sim.incidents import Incident, place_at, split, walk
from minepos.sim.plan import WAIT, Plans, Walker

__all__ = ["LiveOrders", "in_zone", "stage_evacuation"]

EVAC_ACK = 5  # index of "evac_ack" in minepos.sim.batch.EVENT_NAMES


def _field(mine: Mine, order: EvacuationOrder) -> DistanceField:
    zones = [z for z in mine.zones if z.kind in order.to]
    spans = [s for z in zones for s in z.spans]
    names = [z.id for z in zones for _ in z.spans]
    return mine.network.field(spans, order.avoid, None, names)


def _go(
    mine: Mine, plans: Plans, i: int, t: float, field: DistanceField, speed: float
) -> tuple[float, str | None]:
    """Send person ``i`` from where they are at ``t`` to the field's nearest target; wait there."""
    head, _, tunnel, s = split(plans.segs[i], t)
    route = field.route(tunnel, s)
    w = Walker(tunnel, s, t, head)
    if route is not None:
        for leg in route.legs:
            walk(mine, w, leg, speed)
        _step_in(mine, w, route.target, speed)
    arrived = w.t
    w.stay(math.inf, WAIT)
    plans.segs[i] = w.segs
    plans.lamp_in[i] = math.inf
    return (arrived, route.target) if route is not None else (math.inf, None)


def _step_in(mine: Mine, w: Walker, zone_id: str | None, speed: float) -> None:
    """From the edge of the target zone (a route ends at its boundary) to the middle of it."""
    if zone_id is None:
        return
    here = Place(mine.tunnels[w.tunnel].id, w.s)
    best = None
    for span in mine.zones[mine.zone_index[zone_id]].spans:
        r = mine.route(here, Place(span.tunnel, 0.5 * (span.from_m + span.to_m)))
        if r is not None and (best is None or r.length_m < best.length_m):
            best = r
    for leg in best.legs if best is not None else ():
        walk(mine, w, leg, speed)


def stage_evacuation(
    mine: Mine,
    people: list[Person],
    plans: Plans,
    order: EvacuationOrder,
    t: float,
    rng: np.random.Generator,
    events: list[tuple[float, int, int]],
) -> list[Incident]:
    """Acknowledgements (appended to ``events``), movements and the incidents of one order."""
    by_tag = {p.tag: i for i, p in enumerate(people)}
    targets = (
        range(len(people)) if order.tags is None else [by_tag[x] for x in order.tags if x in by_tag]
    )
    field = _field(mine, order) if order.move else None
    below, acked = 0, 0
    out: list[Incident] = []
    for i in targets:
        if not (plans.segs[i] and plans.lamp_out[i] <= t < plans.lamp_in[i]):
            continue
        below += 1
        if rng.random() < order.never_share:
            continue
        delay = float(order.ack_median_s * np.exp(order.ack_sigma * rng.normal()))
        events.append((t + delay, i, EVAC_ACK))
        acked += 1
        if field is not None:
            arrived, zone = _go(mine, plans, i, t + delay, field, order.speed_mps)
            if math.isfinite(arrived):
                p = people[i]
                out.append(Incident("evacuated", arrived, p.id, p.tag, zone))
    out.append(Incident("evacuation", t, detail={"people": below, "acknowledging": acked}))
    return out


class LiveOrders:
    """Evacuation orders given during a run, queued (from any thread) until the next tick.

    Requests given for the same instant with the same settings are one order: a downlink that
    sends an order tag by tag still makes one order (one route field, one ``evacuation``
    incident). ``zone`` narrows the order to the people in that zone when it is staged.
    """

    def __init__(self, start_ts: float) -> None:
        self.start_ts = start_ts
        self._lock = threading.Lock()
        self._queue: dict[tuple[float, str | None, EvacuationOrder], set[str] | None] = {}

    def add(
        self,
        ts: float,
        tags: Iterable[str] | None,
        zone: str | None,
        order: EvacuationOrder,
    ) -> None:
        """Queue an order given at unix time ``ts`` (``order.at_s`` and ``order.tags`` unused)."""
        key = (ts, zone, dataclasses.replace(order, at_s=0.0, tags=None))
        with self._lock:
            have = self._queue.setdefault(key, set())
            if have is None or tags is None:
                self._queue[key] = None
            else:
                have.update(tags)  # in place: an order to 14,000 tags comes one tag at a time

    def take(self) -> list[tuple[float, str | None, EvacuationOrder]]:
        """The queued orders, each with its time, zone and tags set; the queue is emptied."""
        with self._lock:
            queued, self._queue = self._queue, {}
        out = []
        for (ts, zone, order), tags in sorted(queued.items(), key=lambda kv: kv[0][0]):
            sel = None if tags is None else tuple(sorted(tags))
            out.append((ts, zone, dataclasses.replace(order, at_s=ts - self.start_ts, tags=sel)))
        return out


def in_zone(mine: Mine, plans: Plans, people: list[Person], zone: str, t: float) -> tuple[str, ...]:
    """Tags of the people in ``zone`` at ``t`` (with a lamp out)."""
    out = []
    for i, p in enumerate(people):
        if plans.segs[i] and plans.lamp_out[i] <= t < plans.lamp_in[i]:
            _, tunnel, s, _ = place_at(plans.segs[i], t)
            if zone in mine.zones_at(mine.tunnels[tunnel].id, s):
                out.append(p.tag)
    return tuple(out)
