"""Evacuation orders given while the run goes: acknowledgements, walking out, no stray lamp-in."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pytest

from minepos.errors import InputError
from minepos.mine import Mine, Span
from minepos.sim import EvacuationOrder, Simulation
from minepos.sim.batch import EVENT, EVENT_NAMES
from minepos.sim.evacuation import LiveOrders

from .conftest import underground

ORDER_AFTER_S = 30.0


@dataclass
class Run:
    """What a run with a live order showed: first acks, who was below, who handed in a lamp."""

    sim: Simulation
    order_ts: float
    acks: dict[str, float] = field(default_factory=dict)
    below: set[str] = field(default_factory=set)
    lamp_in: set[str] = field(default_factory=set)


def _run_with_order(demo_mine: Mine, **order: object) -> Run:
    """A run (8 minutes, 80 people unless ``cfg``); the order comes from a thread at +30 s."""
    cfg = order.pop("cfg", None) or underground(people=80, minutes=8.0)
    sim = Simulation(demo_mine, cfg, seed=5)  # type: ignore[arg-type]
    run = Run(sim, sim.config.start_ts + ORDER_AFTER_S)
    for tick in sim.run():
        if abs(tick.t - run.order_ts) < 1e-6:
            run.below = {sim.tags[int(p)] for p in tick.truth.person}
            th = threading.Thread(target=sim.order_evacuation, args=(run.order_ts,), kwargs=order)
            th.start()
            th.join()
        m = tick.measurements
        ev = m.select(m.kind == EVENT)
        for ts, p, e in zip(ev.ts, ev.person, ev.event, strict=True):
            name, tag = EVENT_NAMES[int(e)], sim.tags[int(p)]
            if name == "evac_ack":
                run.acks.setdefault(tag, float(ts))
            elif name == "lamp_in":
                run.lamp_in.add(tag)
    return run


@pytest.fixture(scope="module")
def everyone(demo_mine: Mine) -> Run:
    return _run_with_order(demo_mine, avoid=(Span("main320_1500", 200.0, 300.0),))


def test_a_live_order_is_acknowledged_after_a_delay(
    everyone: Run,
) -> None:
    acks, below, order_ts = everyone.acks, everyone.below, everyone.order_ts
    assert len(below) == 80
    assert set(acks) <= below
    assert 0.85 * len(below) <= len(acks) < len(below) + 1
    delay = np.array(list(acks.values())) - order_ts
    assert (delay > 0).all()
    assert np.median(delay) == pytest.approx(25.0, rel=0.4)


def test_people_who_answer_walk_to_an_exit_or_refuge(
    everyone: Run,
) -> None:
    sim, acks, order_ts = everyone.sim, everyone.acks, everyone.order_ts
    arrived = [i for i in sim.incidents() if i.kind == "evacuated"]
    (order,) = [i for i in sim.incidents() if i.kind == "evacuation"]
    assert order_ts <= order.ts <= order_ts + sim.config.tick_s  # staged at the next tick
    assert order.detail["acknowledging"] == len(acks)
    assert len(arrived) >= 0.5 * len(acks)  # eight minutes: the near ones are there
    zones = {z.id: z.kind for z in sim.mine.zones}
    assert all(zones[i.zone] in ("exit", "refuge") for i in arrived if i.zone)
    for inc in arrived:
        tunnel, s, _ = sim.truth_at(sim.tags.index(inc.tag), inc.ts + 60.0)  # type: ignore[arg-type]
        assert inc.zone in sim.mine.zones_at(tunnel, s)  # and waits there


def test_a_zone_order_reaches_only_that_zone(demo_mine: Mine) -> None:
    run = _run_with_order(demo_mine, zone="lw42", never_share=0.0)
    sim, acks, below = run.sim, run.acks, run.below
    assert acks
    start = sim.config.start_ts + ORDER_AFTER_S
    for tag in acks:
        tunnel, s, _ = sim.truth_at(sim.tags.index(tag), start)
        assert "lw42" in sim.mine.zones_at(tunnel, s)
    assert len(acks) < len(below)


def test_an_unknown_zone_is_refused(demo_mine: Mine) -> None:
    sim = Simulation(demo_mine, underground(people=5, minutes=1.0), seed=1)
    with pytest.raises(InputError, match="unknown zone 'nope'"):
        sim.order_evacuation(sim.config.start_ts, zone="nope")


def test_who_answers_does_not_hand_in_a_lamp_at_the_old_time(demo_mine: Mine) -> None:
    # a one-hour shift near its end: without the order most would come up in these 25 minutes
    cfg = underground(people=60, minutes=25.0, shift_s=3600.0, shift_offset_s=2400.0)
    run = _run_with_order(demo_mine, cfg=cfg)
    below = run.below
    assert len(run.acks) >= 0.85 * len(below)
    assert not set(run.acks) & run.lamp_in
    plain = Simulation(demo_mine, cfg, seed=5)  # the same run without the order
    end = cfg.start_ts + cfg.duration_s
    planned = {plain.tags[i] for i, t in enumerate(plain.plans.lamp_in) if t < end}
    assert len(planned & set(run.acks)) >= 10  # the check above means something


def test_requests_of_one_instant_are_one_order() -> None:
    orders = LiveOrders(1000.0)
    plain = EvacuationOrder(0.0)
    for k in range(500):  # a downlink sends tag by tag
        orders.add(1100.0, (f"t{k:04d}",), None, plain)
    orders.add(1100.0, ("x",), None, EvacuationOrder(0.0, never_share=0.5))  # other settings
    orders.add(1200.0, ("a",), "lw42", plain)
    orders.add(1200.0, None, "lw42", plain)  # everyone in the zone
    got = orders.take()
    assert [(ts, zone, o.at_s) for ts, zone, o in got] == [
        (1100.0, None, 100.0),
        (1100.0, None, 100.0),
        (1200.0, "lw42", 200.0),
    ]
    assert sorted(len(o.tags or ()) for _, _, o in got[:2]) == [1, 500]
    assert got[2][2].tags is None
    assert orders.take() == []
