"""Each rule on hand-built sequences: raised once, at the right time, for the right subject."""

from __future__ import annotations

from safety_helpers import Driver

from minepos.measurement import Measurement


def down(d: Driver, tag: str, tunnel: str, offset: float) -> None:
    """Issue the lamp and put the tag at a place underground."""
    d.lamp(tag, "lamp_out")
    d.where[tag] = (tunnel, offset)


def test_headcount_follows_zone_boundaries_without_flapping(driver: Driver) -> None:
    down(driver, "t1", "drift", 850)
    tick = driver.step()
    assert tick.headcount is not None
    assert tick.headcount.counts() == (1, {"h100": 1}, {"face": 1})
    enters = []
    for off in (799.6, 800.4, 799.3, 800.2, 799.9):  # dithering on the boundary, inside the margin
        driver.where["t1"] = ("drift", off)
        enters += [t for t in driver.step().transitions if t.direction == "leave"]
    assert enters == []
    driver.where["t1"] = ("drift", 798.5)
    tick = driver.step()
    assert [(t.zone, t.direction, t.person) for t in tick.transitions] == [("face", "leave", "p1")]
    assert tick.headcount is not None
    assert tick.headcount.by_zone == {}
    assert tick.headcount.underground == 1
    assert driver.changes == []
    rows = driver.monitor.positions(driver.now)
    assert [(r["tag"], r["person"], r["level"], r["zone"], r["status"]) for r in rows] == [
        ("t1", "p1", "h100", None, "moving")
    ]
    view = driver.monitor.headcount_view(driver.now)
    assert view == {"underground": 1, "by_level": {"h100": 1}, "by_zone": {}, "unaccounted": []}


def test_sos_raised_at_the_press_once_and_cleared_by_cancel(driver: Driver) -> None:
    down(driver, "t1", "drift", 850)
    driver.run(5)
    pressed = driver.now + 0.3
    driver.step([Measurement(pressed, "t1", event="sos")])
    driver.run(5, [Measurement(driver.now + 0.2, "t1", event="sos")])  # pressed again: same alarm
    raised = [c for c in driver.changes if c.alarm.kind == "sos"]
    assert len(raised) == 1
    assert raised[0].ts == pressed
    assert (raised[0].alarm.person, raised[0].alarm.zone) == ("p1", "face")
    status = driver.monitor.state.tags["t1"].status(driver.now, 30)
    assert status == "sos"
    driver.step([Measurement(driver.now + 0.5, "t1", event="sos_cancel")])
    assert driver.of("sos") == [("raised", "t1", "face"), ("cleared", "t1", "face")]


def test_man_down_after_n_seconds_still_and_cleared_by_motion(driver: Driver) -> None:
    down(driver, "t1", "drift", 850)
    driver.run(3)
    still = driver.now + 1
    for _ in range(70):
        driver.step([Measurement(driver.now + 1, "t1", motion=False)])
        if driver.of("man_down"):
            break
    change = next(c for c in driver.changes if c.alarm.kind == "man_down")
    assert still + 60 <= change.ts <= still + 61
    assert driver.monitor.state.tags["t1"].status(driver.now, 30) == "motionless"
    driver.step([Measurement(driver.now + 0.5, "t1", motion=True)])
    assert driver.of("man_down") == [("raised", "t1", "face"), ("cleared", "t1", "face")]


def test_a_fall_is_man_down_at_once(driver: Driver) -> None:
    down(driver, "t1", "drift", 850)
    driver.run(3)
    fell = driver.now + 0.5
    driver.step([Measurement(fell, "t1", event="fall")])
    assert [(c.ts, c.alarm.kind) for c in driver.changes] == [(fell, "man_down")]


def test_a_silent_tag_is_tag_lost_not_man_down(driver: Driver) -> None:
    down(driver, "t1", "drift", 850)
    driver.step([Measurement(driver.now + 0.5, "t1", motion=False)])
    driver.silent.add("t1")
    last = driver.now
    driver.run(100)
    assert driver.of("man_down") == []
    lost = [c for c in driver.changes if c.alarm.kind == "tag_lost"]
    assert len(lost) == 1
    assert last + 30 <= lost[0].ts <= last + 31
    assert driver.monitor.state.tags["t1"].status(driver.now, 30) == "lost"
    tick = driver.step()
    assert tick.headcount is not None
    assert tick.headcount.underground == 1  # a lost person still counts, at the last known place
    driver.silent.clear()
    driver.step()
    assert driver.of("tag_lost") == [("raised", "t1", "face"), ("cleared", "t1", "face")]


def test_restricted_zone_entry_and_exit(driver: Driver) -> None:
    down(driver, "t1", "old", 150)
    driver.run(3)
    driver.where["t1"] = ("old", 205)
    entered = driver.now + 1
    driver.run(5)
    driver.where["t1"] = ("old", 150)
    driver.run(2)
    alarms = [c for c in driver.changes if c.alarm.kind == "restricted_zone"]
    assert [(c.state, c.alarm.zone, c.alarm.person) for c in alarms] == [
        ("raised", "goaf", "p1"),
        ("cleared", "goaf", "p1"),
    ]
    assert alarms[0].ts == entered


def test_forbidden_zone_depends_on_the_role(driver: Driver) -> None:
    down(driver, "t1", "drift", 310)  # a miner in the substation
    down(driver, "t2", "drift", 311)  # an electrician: allowed
    driver.run(3)
    assert driver.of("forbidden_zone") == [("raised", "t1", "sub")]
    driver.where["t1"] = ("drift", 250)
    driver.run(1)
    assert driver.of("forbidden_zone")[-1] == ("cleared", "t1", "sub")


def test_overcrowding_raises_over_the_limit_and_clears_after_a_quiet_spell(
    driver: Driver,
) -> None:
    for tag in ("t1", "t2"):
        down(driver, tag, "drift", 900)
    driver.run(3)
    assert driver.of("overcrowding") == []
    down(driver, "t3", "drift", 900)
    driver.run(2)
    assert driver.of("overcrowding") == [("raised", None, "face")]
    driver.where["t3"] = ("drift", 700)
    driver.run(9)
    assert len(driver.of("overcrowding")) == 1  # not yet: under the limit for less than 10 s
    driver.run(2)
    assert driver.of("overcrowding")[-1] == ("cleared", None, "face")


def test_low_battery_with_hysteresis(driver: Driver) -> None:
    down(driver, "t1", "drift", 850)
    for pct in (35, 19, 21, 24, 19, 26):
        driver.step([Measurement(driver.now + 0.5, "t1", battery_pct=pct)])
    assert [s for s, _, _ in driver.of("low_battery")] == ["raised", "cleared"]


def test_anchor_offline_only_where_tags_should_be_heard(driver: Driver) -> None:
    down(driver, "t1", "drift", 880)
    driver.run(40)  # a3 learns that it hears tags here (sampled every 3 s, 10 samples)
    driver.dead.add("a3")  # from now on the tag, 20 m from a3, is heard by a2 only
    failed = driver.now
    driver.run(80)
    raised = [c for c in driver.changes if c.alarm.kind == "anchor_offline"]
    # a1 was never heard either, but nobody came near it: no alarm for a1
    assert [c.alarm.anchor for c in raised] == ["a3"]
    assert failed + 60 <= raised[0].ts <= failed + 61
    driver.dead.clear()
    driver.step()
    assert [c.state for c in driver.changes] == ["raised", "cleared"]


def test_card_anomaly_for_a_tag_underground_without_lamp_out(driver: Driver) -> None:
    driver.where["t3"] = ("drift", 500)
    driver.run(29)
    assert driver.of("card_anomaly") == []
    driver.run(2)
    assert driver.of("card_anomaly") == [("raised", "t3", None)]
    driver.lamp("t3", "lamp_out")
    assert driver.of("card_anomaly")[-1][0] == "cleared"


def test_overtime_counts_from_the_descent(driver: Driver) -> None:
    driver.lamp("t1", "lamp_out")
    driver.where["t1"] = ("walk", 5)
    driver.step(dt=1800)  # half an hour on the surface does not count
    driver.where["t1"] = ("drift", 500)
    driver.step()
    descent = driver.now
    driver.step(dt=8 * 3600 - 2)
    assert driver.of("overtime") == []
    driver.step(dt=2)
    assert driver.of("overtime") == [("raised", "t1", None)]
    assert driver.changes[-1].ts == descent + 8 * 3600
