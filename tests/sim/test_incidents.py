"""Incidents on demand: each appears in the ground truth with its time, and the data show it."""

from __future__ import annotations

import numpy as np
import pytest

from minepos.errors import InputError
from minepos.mine import Mine
from minepos.safety.lamproom import ShiftSchedule
from minepos.sim import EvacuationOrder, Incident, IncidentSpec, ScenarioConfig, Simulation
from minepos.sim.batch import EVENT, EVENT_NAMES, STATUS
from minepos.sim.plan import STILL

from .conftest import Collected, collect, underground

SPECS = (
    IncidentSpec("sos", 60, duration_s=120),
    IncidentSpec("man_down", 120, duration_s=300),
    IncidentSpec("tag_silent", 200, duration_s=300),
    IncidentSpec("low_battery", 300),
    IncidentSpec("anchor_failed", 100, anchor="u_face42_3", duration_s=600),
    IncidentSpec("restricted_zone", 60, duration_s=300),
    IncidentSpec("forbidden_zone", 60, duration_s=300),
    IncidentSpec("overcrowding", 60, zone="lw42", duration_s=900),
)


@pytest.fixture(scope="module")
def run(demo_mine: Mine) -> Collected:
    """300 people at work for 30 minutes with one incident of each kind and an evacuation."""
    cfg = underground(
        people=300,
        minutes=30.0,
        incidents=SPECS,
        evacuations=(EvacuationOrder(1500.0, never_share=0.1),),
    )
    return collect(Simulation(demo_mine, cfg, seed=31))


def _one(run: Collected, kind: str) -> Incident:
    found = [i for i in run.sim.incidents() if i.kind == kind]
    assert found, f"no {kind} incident"
    return found[0]


def _person(run: Collected, inc: Incident) -> int:
    return [p.id for p in run.sim.people].index(inc.person)


def _events(run: Collected, name: str) -> tuple[np.ndarray, np.ndarray]:
    m = run.m.select((run.m.kind == EVENT) & (run.m.event == EVENT_NAMES.index(name)))
    return m.ts, m.person


def test_every_staged_kind_is_recorded_with_its_time(run: Collected) -> None:
    start = run.sim.config.start_ts
    kinds = {i.kind for i in run.sim.incidents()}
    assert {s.kind for s in SPECS} <= kinds
    for spec in SPECS:
        inc = _one(run, spec.kind)
        if spec.kind in ("restricted_zone", "forbidden_zone", "overcrowding"):
            assert inc.ts >= start + spec.at_s  # the time the zone was entered, after the walk
            assert inc.zone is not None
        else:
            assert inc.ts == pytest.approx(start + spec.at_s)
        if spec.duration_s and spec.kind not in (
            "restricted_zone",
            "forbidden_zone",
            "overcrowding",
        ):
            assert inc.end_ts == pytest.approx(inc.ts + spec.duration_s)


def test_sos_button_and_cancel_are_sent_at_the_recorded_times(run: Collected) -> None:
    inc = _one(run, "sos")
    p = _person(run, inc)
    ts, person = _events(run, "sos")
    assert list(ts[person == p]) == [pytest.approx(inc.ts)]
    ts, person = _events(run, "sos_cancel")
    assert list(ts[person == p]) == [pytest.approx(inc.end_ts)]


def test_man_down_lies_still_and_reports_no_motion(run: Collected) -> None:
    inc = _one(run, "man_down")
    assert inc.end_ts is not None
    p = _person(run, inc)
    t = run.truth
    during = (t.person == p) & (t.ts > inc.ts) & (t.ts < inc.end_ts)
    assert during.sum() >= 295
    assert (t.mode[during] == STILL).all()
    assert np.ptp(t.offset[during]) == 0.0
    st = run.m.select((run.m.kind == STATUS) & (run.m.person == p))
    inside = (st.ts > inc.ts) & (st.ts < inc.end_ts)
    assert inside.sum() >= 20
    assert not st.motion[inside].any()
    ts, person = _events(run, "fall")
    assert ts[person == p][0] == pytest.approx(inc.ts)


def test_a_silent_tag_sends_nothing_while_silent(run: Collected) -> None:
    inc = _one(run, "tag_silent")
    assert inc.end_ts is not None
    p = _person(run, inc)
    mine_ts = run.m.ts[run.m.person == p]
    assert ((mine_ts >= inc.ts) & (mine_ts < inc.end_ts)).sum() == 0
    assert (mine_ts < inc.ts).sum() > 50
    assert (mine_ts >= inc.end_ts).sum() > 50
    truth_ts = run.truth.ts[run.truth.person == p]
    assert ((truth_ts >= inc.ts) & (truth_ts < inc.end_ts)).sum() >= 299  # still there in truth


def test_low_battery_crosses_the_threshold_at_the_recorded_time(run: Collected) -> None:
    inc = _one(run, "low_battery")
    p = _person(run, inc)
    low = run.sim.mine.rules.low_battery_pct
    st = run.m.select((run.m.kind == STATUS) & (run.m.person == p))
    assert (st.battery[st.ts < inc.ts] >= low).all()
    assert (st.battery[st.ts > inc.ts] < low).all()
    assert (st.ts > inc.ts).sum() > 10
    # the tag reports on the threshold, not only on its 10 s timer
    assert st.ts[st.ts > inc.ts].min() <= inc.ts + run.sim.config.tick_s


def test_a_failed_anchor_hears_nothing_while_down(run: Collected) -> None:
    inc = _one(run, "anchor_failed")
    assert inc.end_ts is not None
    a = run.sim.anchor_ids.index("u_face42_3")
    heard = run.m.ts[run.m.anchor == a]
    assert ((heard >= inc.ts) & (heard < inc.end_ts)).sum() == 0
    assert (heard < inc.ts).sum() > 20
    assert (heard >= inc.end_ts).sum() > 20


def test_zone_incidents_agree_with_the_truth(run: Collected) -> None:
    mine, t = run.sim.mine, run.truth
    for kind in ("restricted_zone", "forbidden_zone"):
        inc = _one(run, kind)
        k = mine.zone_index[inc.zone]  # type: ignore[index]
        p = _person(run, inc)
        row = (t.person == p) & (t.ts == inc.ts)
        assert t.zones[row, k].all()
        before = (t.person == p) & (t.ts < inc.ts) & (t.ts > inc.ts - 1.5)
        assert not t.zones[before, k].any()
        if kind == "forbidden_zone":
            allowed = mine.zones[k].allowed_roles or ()
            assert run.sim.people[p].role not in allowed
    inc = _one(run, "overcrowding")
    k = mine.zone_index["lw42"]
    near = (t.ts >= inc.ts) & (t.ts < inc.ts + 1.0)
    assert t.zones[near, k].sum() > (mine.zones[k].max_occupancy or 0)


def test_evacuation_orders_are_acknowledged_after_a_delay_some_never(run: Collected) -> None:
    order_t = run.sim.config.start_ts + 1500.0
    ts, person = _events(run, "evac_ack")
    below = np.unique(run.truth.person[np.abs(run.truth.ts - order_t) < 1.0])
    assert 0.8 * len(below) <= len(set(person.tolist())) <= 0.97 * len(below)
    delay = ts - order_t
    assert (delay > 0).all()
    assert np.median(delay) == pytest.approx(25.0, rel=0.3)


def test_not_returned_stays_below_after_the_others_come_up(demo_mine: Mine) -> None:
    cfg = ScenarioConfig(
        people=60, minutes=150.0, shift_s=3600.0, incidents=(IncidentSpec("not_returned", 900.0),)
    )
    run = collect(Simulation(demo_mine, cfg, seed=41))
    inc = _one(run, "not_returned")
    p = _person(run, inc)
    _, lamp_in = _events(run, "lamp_in")
    assert p not in lamp_in
    assert len(set(lamp_in.tolist())) == 59
    last_tick = run.truth.ts.max()
    assert ((run.truth.person == p) & (run.truth.ts > last_tick - 1.0)).sum() == 1
    assert inc.ts < last_tick
    # dated at the shift end the lamp room infers from the lamp-out burst, not at the lamp-in
    schedule = ShiftSchedule(None, length_h=1.0)
    out_ts, out_person = _events(run, "lamp_out")
    ends = {
        int(i): schedule.shift_for(float(t))[1]
        for t, i in sorted(zip(out_ts, out_person, strict=True))
    }
    assert inc.ts == pytest.approx(ends[p])
    assert inc.detail["expected_lamp_in"] < inc.ts  # would have come up before the shift ended


def test_bad_incident_requests_are_refused_with_the_reason(demo_mine: Mine) -> None:
    with pytest.raises(InputError, match=r"incident kind .flood. unknown"):
        IncidentSpec("flood", 10)
    cfg = underground(incidents=(IncidentSpec("anchor_failed", 10, anchor="nope"),))
    with pytest.raises(InputError, match="unknown anchor 'nope'"):
        Simulation(demo_mine, cfg)
    cfg = underground(incidents=(IncidentSpec("sos", 10, person="nobody"),))
    with pytest.raises(InputError, match="unknown person 'nobody'"):
        Simulation(demo_mine, cfg)


def test_evacuees_walk_to_the_nearest_exit_or_refuge_and_wait_there(run: Collected) -> None:
    mine, t = run.sim.mine, run.truth
    order = _one(run, "evacuation")
    arrivals = [i for i in run.sim.incidents() if i.kind == "evacuated"]
    assert len(arrivals) >= 0.5 * order.detail["acknowledging"]
    kinds = {mine.zones[mine.zone_index[i.zone]].kind for i in arrivals}  # type: ignore[index]
    assert kinds <= {"exit", "refuge"}
    for inc in arrivals[:20]:
        p = _person(run, inc)
        k = mine.zone_index[inc.zone]  # type: ignore[index]
        after = (t.person == p) & (t.ts > inc.ts + 1.0)
        assert t.zones[after, k].all()


def test_evacuation_routes_avoid_blocked_stretches(demo_mine: Mine) -> None:
    from minepos.mine import Span

    blocked = Span("main320_1000", 0.0, 500.0)
    cfg = underground(
        people=200,
        minutes=20.0,
        evacuations=(EvacuationOrder(30.0, never_share=0.0, avoid=(blocked,)),),
    )
    sim = Simulation(demo_mine, cfg, seed=12)
    t_block = demo_mine.tunnel_index["main320_1000"]
    order_t = cfg.start_ts + 30.0
    through_before = sum(s[2] == t_block for segs in sim.plans.segs for s in segs if s[0] < order_t)
    assert through_before > 0  # the roadway is used before the order
    for segs in sim.plans.segs:
        moving_through = [
            s for s in segs if s[0] > order_t + 600 and s[2] == t_block and s[3] != s[4]
        ]
        assert not moving_through
