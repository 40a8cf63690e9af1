"""Repositories on SQLite and PostgreSQL: accounts, audit, alarms, events, history, retention."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text

from minepos.engine.estimate import Estimate, Span
from minepos.errors import InputError
from minepos.safety.alarms import AlarmBook
from minepos.safety.events import LampEvent, ZoneTransition
from minepos.store import Store, WriterError
from minepos.store.accounts import Person
from minepos.store.history import HeadcountPoint, PositionCompactor
from minepos.store.retention import DAY_S
from minepos.store.writer import Statement

T0 = 1_763_793_600.0


def test_users_tokens_and_passwords(store: Store) -> None:
    user, token = store.users.create("dina", "dispatcher", ts=T0, password="s3cret")
    assert user.role == "dispatcher"
    assert store.users.by_token(token) == user
    assert store.users.by_token(token + "x") is None
    assert store.users.check_password("dina", "s3cret") == user
    assert store.users.check_password("dina", "wrong") is None
    with pytest.raises(InputError, match="already exists"):
        store.users.create("dina", "viewer", ts=T0)
    with pytest.raises(InputError, match="role"):
        store.users.create("eve", "god", ts=T0)
    assert [u.name for u in store.users.list()] == ["dina"]
    assert store.audit.list()[0].action == "user.add"


def test_gateways_and_people(store: Store) -> None:
    gw, key = store.gateways.create("g1", ts=T0)
    assert store.gateways.by_key(key) == gw
    assert store.gateways.by_key("nope") is None
    store.people.put([Person("p1", "Aidos", "miner", "t1", "0042")], ts=T0)
    store.people.put([Person("p1", "Aidos K.", "miner", "t1", "0042")], ts=T0)
    assert store.people.by_tag("t1") == Person("p1", "Aidos K.", "miner", "t1", "0042")
    assert len(store.people.list()) == 1
    with pytest.raises(InputError):
        store.people.put([Person("p2", "Other", "miner", "t1")], ts=T0)


def test_set_password_replaces_the_old_one_and_is_audited(store: Store) -> None:
    store.users.create("dina", "admin", ts=T0, password="first-pass")
    store.users.set_password("dina", "second-pass", T0 + 5, actor="root")
    assert store.users.check_password("dina", "first-pass") is None
    assert store.users.check_password("dina", "second-pass") is not None
    entry = store.audit.list()[0]
    assert (entry.ts, entry.user, entry.action, entry.target) == (
        T0 + 5,
        "root",
        "user.passwd",
        "dina",
    )
    with pytest.raises(InputError, match="no user 'ghost'"):
        store.users.set_password("ghost", "whatever-pass", T0)
    with pytest.raises(InputError, match="at least 8"):
        store.users.set_password("dina", "short", T0)


def test_deleting_a_person_frees_the_tag_and_is_audited(store: Store) -> None:
    store.people.put([Person("p1", "Aidos", "miner", "t1"), Person("p2", "Bek", "miner")], ts=T0)
    assert store.people.delete("p1", T0 + 1, actor="root") is True
    assert [p.id for p in store.people.list()] == ["p2"]
    assert store.people.by_tag("t1") is None
    entry = store.audit.list()[0]
    assert (entry.user, entry.action, entry.target) == ("root", "people.delete", "p1")
    assert store.people.delete("p1", T0 + 2) is False
    assert store.audit.list()[0].action == "people.delete"
    assert len([e for e in store.audit.list() if e.action == "people.delete"]) == 1
    store.people.put([Person("p3", "New", "miner", "t1")], ts=T0 + 3)  # the tag is free again
    assert store.people.by_tag("t1") == Person("p3", "New", "miner", "t1")


def test_alarm_lifecycle_is_stored_and_the_ack_audited(store: Store) -> None:
    book = AlarmBook()
    raised = book.raise_(("sos", "t1"), T0, tag="t1", person="p1", zone="lw42")
    assert raised is not None
    store.alarms.record([raised]).wait()
    assert [a.id for a in store.alarms.active()] == [raised.alarm.id]
    ack = book.acknowledge(raised.alarm.id, "dina", T0 + 5, "rescue sent")
    store.alarms.record([ack]).wait()
    got = store.alarms.get(raised.alarm.id)
    assert got is not None
    assert (got.acked_by, got.acked_at, got.ack_comment) == ("dina", T0 + 5, "rescue sent")
    assert got.subject == "t1"
    cleared = book.clear(("sos", "t1"), T0 + 60)
    assert cleared is not None
    store.alarms.record([cleared]).wait()
    assert store.alarms.active() == []
    got = store.alarms.get(raised.alarm.id)
    assert got is not None
    assert got.state == "cleared"
    assert got.acked_by == "dina"
    entry = store.audit.list()[0]
    assert (entry.user, entry.action, entry.target) == ("dina", "alarm.ack", raised.alarm.id)
    assert store.alarms.list(kind="sos")[0].cleared_at == T0 + 60
    assert store.alarms.list(kind="man_down") == []


def test_events_and_last_lamp_event_per_tag(store: Store) -> None:
    store.events.add_lamp_events(
        [
            LampEvent(T0, "t1", "p1", "lamp_out"),
            LampEvent(T0 + 1, "t2", "p2", "lamp_out"),
            LampEvent(T0 + 9, "t1", "p1", "lamp_in"),
        ]
    )
    store.events.add_transitions([ZoneTransition(T0 + 2, "t2", "p2", "lw42", "enter")])
    store.flush()
    last = {e.tag: e.event for e in store.events.last_lamp_events()}
    assert last == {"t1": "lamp_in", "t2": "lamp_out"}
    assert store.events.transitions(person="p2")[0].zone == "lw42"
    assert store.events.transitions(person="p1") == []
    assert len(store.events.lamp_events(since=T0 + 1)) == 2


def _est(tag: str, ts: float, offset: float) -> Estimate:
    return Estimate(
        tag,
        ts,
        "d3",
        offset,
        (offset, 0.0, -320.0),
        (Span("d3", offset - 1, offset + 1),),
        2.0,
        1.0,
        ts,
    )


def test_compacted_track_replays_a_walk(store: Store) -> None:
    comp = PositionCompactor(min_move_m=3.0, max_interval_s=30.0)
    for s in range(600):  # 5 min walking at 1 m/s, then 5 min standing still
        offset = float(min(s, 300))
        rows = comp.rows([_est("t1", T0 + s, offset)], {"t1": "p1"}, {"t1": "lw42"})
        store.history.add(rows)
    store.flush()
    track = store.history.track("p1", T0, T0 + 600)
    assert 100 <= len(track) <= 115  # every 3 m while walking, every 30 s standing
    assert track[0].ts == T0
    assert track[-1].offset_m == 300.0
    gaps = [b.ts - a.ts for a, b in itertools.pairwise(track)]
    assert max(gaps) <= 30.0
    assert all(p.zone == "lw42" for p in track)
    assert store.history.track("p1", T0 + 700, T0 + 800) == []
    assert store.history.last_positions(T0)["p1"].offset_m == 300.0


def test_headcount_history(store: Store) -> None:
    store.history.add_headcount(HeadcountPoint(T0, 2, {"h320": 2}, {"lw42": 1}))
    store.history.add_headcount(HeadcountPoint(T0 + 1, 1, {"h320": 1}, {}))
    store.flush()
    got = store.history.headcount(T0, T0 + 10)
    assert [h.underground for h in got] == [2, 1]
    assert got[0].by_zone == {"lw42": 1}


def test_retention_deletes_old_rows_but_never_active_alarms(store: Store) -> None:
    now = T0 + 800 * DAY_S
    book = AlarmBook()
    old_active = book.raise_(("tag_lost", "t1"), T0, tag="t1")
    old_done = book.raise_(("sos", "t2"), T0, tag="t2")
    assert old_active is not None
    assert old_done is not None
    cleared = book.clear(("sos", "t2"), T0 + 10)
    assert cleared is not None
    store.alarms.record([old_active, cleared])
    store.history.add(PositionCompactor().rows([_est("t1", T0, 5.0)], {}))
    store.history.add(PositionCompactor().rows([_est("t1", now - DAY_S, 5.0)], {}))
    store.events.add_lamp_events([LampEvent(T0, "t1", None, "lamp_out")])
    store.purge(now).wait()
    assert [a.kind for a in store.alarms.list()] == ["tag_lost"]
    assert len(store.history.track("t1", 0, now)) == 1
    assert store.events.lamp_events() == []


def test_a_bad_task_does_not_lose_the_rest_of_its_batch(store: Store) -> None:
    bad = store.writer.submit(
        Statement(lambda c: c.execute(text("INSERT INTO nowhere VALUES (1)")))
    )
    good = store.events.add_lamp_events([LampEvent(T0, "t1", None, "lamp_out")])
    store.flush()
    assert bad.error is not None
    with pytest.raises(WriterError):
        bad.wait()
    assert good.error is None
    assert len(store.events.lamp_events()) == 1


def test_dead_letters_implement_the_ingest_sink(store: Store) -> None:
    from minepos.ingest.deadletters import DeadLetter, DeadLetterSink

    sink: DeadLetterSink = store.dead_letters
    a = DeadLetter(T0, "g1", "mqtt", "canonical", "bad_ts: 'soon'", '{"ts":"soon"}')
    b = DeadLetter(T0 + 1, "g2", "http", "canonical", "malformed", "[")
    sink.put([a, b])
    store.flush()
    assert sink.recent(10) == [b, a]
    assert sink.recent(10, gateway="g1") == [a]
    assert sink.recent(1) == [b]
