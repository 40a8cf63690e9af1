"""The lamp room: shifts, reconciliation at shift end, not-returned alarms, restart, acks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from safety_helpers import T0, Driver, est

from minepos.errors import InputError
from minepos.mine import Mine
from minepos.safety import LampEvent, SafetyMonitor, SafetySettings, ShiftSchedule

SHIFT_END = T0 + 9 * 3600  # the 06:00 shift ends at 14:00


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M")


def test_a_lamp_out_belongs_to_the_nearest_shift_start() -> None:
    s = ShiftSchedule(["06:00", "14:00", "22:00"], 8, "UTC")
    assert [_utc(x) for x in s.shift_for(T0 + 40 * 60)] == ["06:00", "14:00"]  # early
    assert [_utc(x) for x in s.shift_for(T0 + 3 * 3600)] == ["06:00", "14:00"]  # late
    assert [_utc(x) for x in s.shift_for(T0 + 16.5 * 3600)] == ["22:00", "06:00"]  # night
    almaty = ShiftSchedule(["08:00"], 12, "Asia/Almaty")
    start, _ = almaty.shift_for(T0)  # 05:00 UTC is 10:00 in Almaty (UTC+5)
    assert _utc(start) == "03:00"
    inferred = ShiftSchedule(None, 8)
    burst = [T0 + 3600 + 300, T0 + 3600 + 2000, T0 + 3600 + 40]  # 06:05, 06:33, 06:00:40
    assert {tuple(_utc(x) for x in inferred.shift_for(t)) for t in burst} == {("06:00", "14:00")}
    assert [_utc(x) for x in inferred.shift_for(T0 + 9 * 3600 + 1200)] == ["14:15", "22:15"]
    with pytest.raises(InputError, match="time zone"):
        ShiftSchedule(["06:00"], 8, "Mars/Olympus")


def test_reconciliation_names_exactly_those_not_back(driver: Driver) -> None:
    for tag in ("t1", "t2", "t3"):
        driver.lamp(tag, "lamp_out")
        driver.where[tag] = ("drift", 400 + 100 * int(tag[1]))
    driver.run(3)
    driver.where["t1"] = ("walk", 5)
    driver.where["t3"] = ("walk", 5)
    driver.step(dt=SHIFT_END - 120 - driver.now)
    driver.lamp("t1", "lamp_in")
    driver.lamp("t3", "lamp_in")
    driver.step(dt=SHIFT_END - 1 - driver.now)
    assert driver.of("not_returned") == []
    assert driver.monitor.unaccounted(driver.now) == []
    driver.step(dt=1)
    missing = driver.monitor.unaccounted(driver.now)
    assert [(u.person, u.tag, u.name) for u in missing] == [("p2", "t2", "Nurlan S.")]
    assert missing[0].last_place["tunnel"] == "drift"
    assert missing[0].last_place["offset_m"] == 600
    assert driver.of("not_returned") == [("raised", "t2", None)]
    assert driver.changes[-1].ts == SHIFT_END
    driver.lamp("t2", "lamp_in")
    assert driver.of("not_returned")[-1][0] == "cleared"
    assert driver.monitor.unaccounted(driver.now) == []


def test_acknowledgement_records_who_when_and_why(driver: Driver) -> None:
    driver.lamp("t1", "lamp_out")
    driver.where["t1"] = ("old", 250)
    driver.step()
    alarm = driver.changes[0].alarm
    ack = driver.monitor.acknowledge(alarm.id, "dina", driver.now + 3, "called the foreman")
    assert ack.state == "acknowledged"
    assert ack.to_dict()["acked_by"] == "dina"
    assert driver.monitor.book.get(alarm.id) is not None
    live = driver.monitor.book.get(alarm.id)
    assert live is not None
    assert live.state == "acknowledged"
    with pytest.raises(InputError, match="no active alarm"):
        driver.monitor.acknowledge("nope", "dina", driver.now)
    driver.where["t1"] = ("old", 100)
    driver.step()
    assert driver.changes[-1].state == "cleared"
    assert driver.changes[-1].alarm.acked_by == "dina"


def test_tags_found_at_start_up_are_adopted_not_anomalies(mine: Mine) -> None:
    d = Driver(mine, SafetyMonitor(mine, SafetySettings()))  # 60 s warm-up
    d.where["t1"] = ("drift", 500)
    d.run(100)
    assert d.of("card_anomaly") == []
    assert d.monitor.lamp.is_out("t1")
    d.where["t2"] = ("drift", 600)  # first heard long after start: a real anomaly
    d.run(40)
    assert d.of("card_anomaly") == [("raised", "t2", None)]


def test_restore_brings_back_alarms_lamp_book_and_headcount(mine: Mine, driver: Driver) -> None:
    driver.lamp("t1", "lamp_out")
    driver.lamp("t2", "lamp_out")
    driver.where["t1"] = ("drift", 900)
    driver.where["t2"] = ("old", 250)
    driver.run(3)
    before = driver.monitor.headcount
    active = list(driver.monitor.book)
    assert [a.kind for a in active] == ["restricted_zone"]
    fresh = SafetyMonitor(mine)
    now = driver.now + 5
    events = [LampEvent(T0, "t1", "p1", "lamp_out"), LampEvent(T0, "t2", "p2", "lamp_out")]
    places = [est(mine, "t1", driver.now, "drift", 900), est(mine, "t2", driver.now, "old", 250)]
    headcount = fresh.restore(now, active, events, places)
    assert headcount.counts() == before.counts()
    tick = fresh.step(now + 1)
    assert tick.changes == []  # nothing raised twice, no tag taken for lost
    assert fresh.lamp.is_out("t1")
