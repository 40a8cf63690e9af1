"""The emergency desk: declaration, accounting, blockages, evacuation orders and acks."""

from __future__ import annotations

import pytest
from emergency_helpers import T0, put

from minepos.errors import InputError
from minepos.measurement import Measurement
from minepos.mine import Place, Span
from minepos.safety import LiveState
from minepos.safety.emergency import EmergencyDesk, EmergencySettings, MemoryDownlink

FIRE = Place("main320_1000", 300.0)


def _crew(state: LiveState) -> None:
    put(state, "t0001", "main320_1000", 250.0, T0)  # near the fire
    put(state, "t0002", "old_workings", 100.0, T0)  # far west
    put(state, "t0003", "main480_1200", 300.0, T0, unc=120.0)  # -480, uncertain
    put(state, "t0004", "face42", 100.0, T0, heard=T0 - 100)  # longwall, not heard lately
    put(state, "t0005", "surface_walk", 30.0, T0)  # on the surface: not involved


def test_declaring_snapshots_everyone_underground(state: LiveState, desk: EmergencyDesk) -> None:
    _crew(state)
    em = desk.declare("fire", FIRE, "disp", T0 + 1)
    assert em.active
    assert {r["tag"] for r in em.snapshot} == {"t0001", "t0002", "t0003", "t0004"}
    acc = desk.accounting(T0 + 1)
    assert acc.counts["unaccounted"] == 4
    assert acc.counts["by_level"] == {"h320": 3, "h480": 1}
    assert acc.counts["by_zone"]["lw42"] == 1
    rows = {r["tag"]: r for r in acc.rows}
    assert rows["t0003"]["uncertain"] and not rows["t0003"]["stale"]
    assert rows["t0004"]["stale"] and not rows["t0004"]["uncertain"]
    assert rows["t0004"]["age_s"] == pytest.approx(101.0)
    assert not rows["t0001"]["stale"] and not rows["t0001"]["uncertain"]
    assert rows["t0001"]["interval"] == [{"tunnel": "main320_1000", "from_m": 245.0, "to_m": 255.0}]
    assert rows["t0001"]["exit_route"]["target"] == "exit_shaft1"
    assert acc.unaccounted()[0]["tag"] == "t0004"  # least recently seen first


def test_thresholds_are_settings(state: LiveState) -> None:
    _crew(state)
    desk = EmergencyDesk(
        state, settings=EmergencySettings(stale_after_s=200, uncertain_above_m=500)
    )
    desk.declare("fire", FIRE, "disp", T0 + 1)
    acc = desk.accounting(T0 + 1)
    assert acc.counts["stale"] == 0
    assert acc.counts["uncertain"] == 0


def test_one_emergency_at_a_time_and_bad_input_is_named(
    state: LiveState, desk: EmergencyDesk
) -> None:
    with pytest.raises(InputError, match="kind"):
        desk.declare("picnic", FIRE, "disp", T0)
    with pytest.raises(InputError, match=r"place\.tunnel"):
        desk.declare("fire", Place("nowhere", 1.0), "disp", T0)
    with pytest.raises(InputError, match=r"place\.offset_m"):
        desk.declare("fire", Place("main320_1000", 9999.0), "disp", T0)
    with pytest.raises(InputError, match="no emergency"):
        desk.block(Span("main320_500", 0, 10), "fire", "disp", T0)
    desk.declare("fire", FIRE, "disp", T0)
    with pytest.raises(InputError, match="active already"):
        desk.declare("gas", FIRE, "disp", T0 + 5)
    with pytest.raises(InputError, match="cause"):
        desk.block(Span("main320_500", 0, 10), "rain", "disp", T0)
    with pytest.raises(InputError, match=r"to_m"):
        desk.block(Span("main320_500", 50, 10), "fire", "disp", T0)


def test_blocking_reroutes_and_lists_who_cannot_get_out(
    state: LiveState, desk: EmergencyDesk
) -> None:
    _crew(state)
    desk.declare("fire", FIRE, "disp", T0)
    desk.block(Span("main320_500", 100, 200), "smoke", "disp", T0 + 10)
    b2 = desk.block(Span("main320_2200", 0, 50), "fire", "disp", T0 + 20)
    acc = desk.accounting(T0 + 30)
    rows = {r["tag"]: r for r in acc.rows}
    assert rows["t0001"]["exit_route"] is None
    assert rows["t0001"]["refuge_route"]["target"] == "refuge320"
    assert {r["tag"] for r in acc.no_exit()} == {"t0001", "t0004"}
    assert rows["t0002"]["exit_route"]["target"] == "exit_shaft1"  # west of the smoke
    assert rows["t0003"]["exit_route"]["target"] == "exit_shaft1"  # -480 via the cage
    assert acc.counts["no_exit_route"] == 2
    desk.unblock(b2.id, "disp", T0 + 40)
    acc = desk.accounting(T0 + 41)
    assert {r["tag"] for r in acc.no_exit()} == set()
    assert desk.active().blocked() == (Span("main320_500", 100, 200),)
    with pytest.raises(InputError, match="blockage"):
        desk.unblock(b2.id, "disp", T0 + 42)


def test_reaching_a_refuge_or_the_surface_accounts_for_a_person(
    state: LiveState, desk: EmergencyDesk
) -> None:
    _crew(state)
    desk.declare("fire", FIRE, "disp", T0)
    put(state, "t0001", "refuge320", 20.0, T0 + 60)
    put(state, "t0002", "surface_walk", 60.0, T0 + 70)
    desk.step(T0 + 70)
    acc = desk.accounting(T0 + 70)
    rows = {r["tag"]: r for r in acc.rows}
    assert rows["t0001"]["safety"] == "refuge"
    assert rows["t0001"]["reached_refuge_at"] == T0 + 60
    assert rows["t0002"]["safety"] == "out"
    assert rows["t0002"]["reached_exit_at"] == T0 + 70
    assert acc.counts["out"] == 1
    assert acc.counts["refuge"] == 1
    assert acc.counts["unaccounted"] == 2
    assert {r["tag"] for r in acc.unaccounted()} == {"t0003", "t0004"}


def test_evacuation_order_and_acknowledgements(state: LiveState) -> None:
    _crew(state)
    downlink = MemoryDownlink()
    desk = EmergencyDesk(state, downlink=downlink)
    desk.declare("fire", FIRE, "disp", T0)
    order = desk.evacuate("disp", T0 + 5)
    assert order.tags == ("t0001", "t0002", "t0003", "t0004")
    assert [t for t, _ in downlink.sent] == list(order.tags)
    payload = downlink.sent[0][1]
    assert payload["kind"] == "evacuate"
    assert payload["order"] == order.id
    assert payload["issued_at"] == T0 + 5
    new = desk.observe(
        [
            Measurement(T0 + 20, "t0001", event="evac_ack"),
            Measurement(T0 + 21, "t0001", event="evac_ack"),  # pressed twice
            Measurement(T0 + 22, "t0005", event="evac_ack"),  # was sent nothing
            Measurement(T0 + 23, "t0003", anchor="u_x", range_m=3.0),
        ]
    )
    assert new == [("t0001", order.id, T0 + 20)]
    assert desk.acks.stray == 1
    assert [u["tag"] for u in desk.unacknowledged()] == ["t0002", "t0003", "t0004"]
    acc = desk.accounting(T0 + 30)
    assert acc.counts["unacknowledged"] == 3
    assert {r["tag"]: r["acked_at"] for r in acc.rows}["t0001"] == T0 + 20


def test_orders_to_a_zone_or_a_person(state: LiveState, desk: EmergencyDesk) -> None:
    _crew(state)
    desk.declare("gas", FIRE, "disp", T0)
    assert desk.evacuate("disp", T0, scope="zone", target="lw42").tags == ("t0004",)
    assert desk.evacuate("disp", T0, scope="person", target="p0002").tags == ("t0002",)
    assert desk.evacuate("disp", T0, scope="person", target="t0003").tags == ("t0003",)
    with pytest.raises(InputError, match="target"):
        desk.evacuate("disp", T0, scope="zone", target="nozone")
    with pytest.raises(InputError, match="target"):
        desk.evacuate("disp", T0, scope="zone")
    with pytest.raises(InputError, match="nobody"):
        desk.evacuate("disp", T0, scope="zone", target="dev480")
    with pytest.raises(InputError, match="scope"):
        desk.evacuate("disp", T0, scope="mine")


def test_a_new_order_needs_a_new_acknowledgement(state: LiveState, desk: EmergencyDesk) -> None:
    _crew(state)
    desk.declare("fire", FIRE, "disp", T0)
    desk.evacuate("disp", T0 + 1, scope="person", target="t0001")
    desk.observe([Measurement(T0 + 5, "t0001", event="evac_ack")])
    assert desk.unacknowledged() == []
    o2 = desk.evacuate("disp", T0 + 10, scope="person", target="t0001")
    assert [(u["tag"], u["order"]) for u in desk.unacknowledged()] == [("t0001", o2.id)]


def test_ending_keeps_the_last_accounting(state: LiveState, desk: EmergencyDesk) -> None:
    _crew(state)
    desk.declare("fire", FIRE, "disp", T0)
    em = desk.end("admin", T0 + 600)
    assert not em.active
    assert em.ended_by == "admin"
    assert desk.current is None
    assert desk.accounting(T0 + 601).counts["involved"] == 4
    desk.declare("collapse", FIRE, "disp", T0 + 700)  # a new one may be declared


def test_consoles_polling_together_share_one_accounting(
    state: LiveState, desk: EmergencyDesk
) -> None:
    _crew(state)
    desk.declare("fire", FIRE, "disp", T0)
    first = desk.accounting(T0 + 10)
    assert desk.accounting(T0 + 10.5) is first
    assert desk.accounting(T0 + 10.5, with_routes=False) is first  # has more than asked
    assert desk.accounting(T0 + 11.2) is not first  # older than reuse_s
    lean = desk.accounting(T0 + 20, with_routes=False)
    assert desk.accounting(T0 + 20.1) is not lean  # routes asked for, not in the cached one
    again = desk.accounting(T0 + 30)
    desk.block(Span("main320_500", 100, 200), "smoke", "disp", T0 + 30)
    after = desk.accounting(T0 + 30.2)
    assert after is not again  # a blockage changes every route at once
    assert after.rows[0]["exit_route"] != again.rows[0]["exit_route"]


def test_a_tag_heard_but_never_placed_is_unaccounted_stale_or_uncertain_with_no_route(
    state: LiveState, desk: EmergencyDesk
) -> None:
    _crew(state)
    desk.declare("fire", FIRE, "disp", T0)
    st = state.tag("t0009")
    st.underground = True  # the lamp room says down, no anchor has placed it yet
    desk.step(T0 + 5)
    row = {r["tag"]: r for r in desk.accounting(T0 + 5).rows}["t0009"]
    assert row["safety"] == "unaccounted"
    assert row["uncertain"] and row["stale"]
    assert row["exit_route"] is None and row["exit_m"] is None
    assert "t0009" not in {
        r["tag"] for r in desk.accounting(T0 + 6).no_exit()
    }  # unknown, not cut off
