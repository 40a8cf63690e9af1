"""The emergency is stored as it runs and replayed from the store: frames, report, rescue sheet."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from emergency_helpers import T0, put
from typer.testing import CliRunner

from minepos.measurement import Measurement
from minepos.mine import Place, Span
from minepos.safety import LiveState
from minepos.safety.emergency import EmergencyDesk, MemoryDownlink
from minepos.safety.emergency.report import build_report, replay, report_html, report_markdown
from minepos.safety.emergency.sheet import rescue_sheet, sheet_html, sheet_pdf
from minepos.store import Store
from minepos.store.emergency import EmergencyRepository, register

_T = itertools.count()


def _run(state: LiveState, repo: EmergencyRepository, t0: float) -> EmergencyDesk:
    """Four people; fire; two blockages; an order; acks; two reach safety; ended at +5 min."""
    for tag, tunnel, off in (
        ("t0001", "main320_1000", 250.0),
        ("t0002", "old_workings", 100.0),
        ("t0003", "main480_1200", 300.0),
        ("t0004", "face42", 100.0),
    ):
        put(state, tag, tunnel, off, t0)
    desk = EmergencyDesk(state, downlink=MemoryDownlink(), recorder=repo)
    desk.declare("fire", Place("main320_1000", 300.0), "disp", t0 + 1, note="smoke seen")
    desk.block(Span("main320_500", 100, 200), "smoke", "disp", t0 + 30)
    b = desk.block(Span("main320_2200", 0, 50), "fire", "disp", t0 + 40)
    desk.evacuate("disp", t0 + 45)
    desk.observe(
        [
            Measurement(t0 + 70, "t0001", event="evac_ack"),
            Measurement(t0 + 80, "t0003", event="evac_ack"),
        ]
    )
    for minute in range(1, 6):
        now = t0 + 1 + 60 * minute
        if minute == 2:
            put(state, "t0001", "refuge320", 20.0, now)
        if minute == 3:
            put(state, "t0003", "surface_walk", 60.0, now)
        for tag in ("t0002", "t0004"):
            state.observe([Measurement(now, tag, motion=True)])
        desk.step(now)
    desk.unblock(b.id, "disp", t0 + 250)
    desk.end("admin", t0 + 301)
    return desk


def test_the_whole_emergency_is_stored_and_replays_minute_by_minute(
    state: LiveState, store: Store
) -> None:
    t0 = T0 + 3600 * next(_T) + 7 * 86400 * (store.db.dialect == "postgresql")
    repo = EmergencyRepository(store.db, store.writer)
    desk = _run(state, repo, t0)
    store.flush()
    em_id = desk.last.id if desk.last else ""
    record = repo.get(em_id)
    assert record is not None
    em = record.emergency
    assert (em.kind, em.place, em.note, em.ended_by) == (
        "fire",
        Place("main320_1000", 300.0),
        "smoke seen",
        "admin",
    )
    assert [b.cause for b in em.blockages.values()] == ["smoke", "fire"]
    assert em.blockages["b2"].cleared_at == t0 + 250
    assert {r["tag"] for r in em.snapshot} == {"t0001", "t0002", "t0003", "t0004"}
    assert [o.tags for o in record.orders] == [("t0001", "t0002", "t0003", "t0004")]
    kinds = {(tag, kind) for _, tag, kind, _ in record.events}
    assert kinds == {
        ("t0001", "ack"),
        ("t0003", "ack"),
        ("t0001", "reached_refuge"),
        ("t0003", "reached_exit"),
    }
    assert em_id in [e.id for e in repo.recent()]
    snaps = repo.snapshots(em_id)
    assert len(snaps) >= 6  # at declaration, each minute, at the end
    frames = replay(em, record.orders, snaps)
    assert [f["minute"] for f in frames] == [0, 1, 2, 3, 4, 5]
    assert [len(f["unaccounted"]) for f in frames] == [4, 4, 3, 2, 2, 2]
    assert [len(f["blocked"]) for f in frames] == [0, 2, 2, 2, 2, 1]  # unblocked at +250 s
    assert frames[0]["orders"] == [] and frames[1]["orders"] == [f"{em_id}-o1"]


def test_report_tells_who_was_where_and_when_each_reached_safety(
    state: LiveState, store: Store
) -> None:
    t0 = T0 + 3600 * next(_T) + 7 * 86400 * (store.db.dialect == "postgresql")
    repo = EmergencyRepository(store.db, store.writer)
    desk = _run(state, repo, t0)
    store.flush()
    record = repo.get(desk.last.id if desk.last else "")
    assert record is not None
    report = build_report(
        record.emergency, record.orders, record.events, repo.snapshots(record.emergency.id)
    )
    s = report["summary"]
    assert s["underground_at_declaration"] == 4
    assert (s["reached_exit"], s["reached_refuge"], s["unaccounted_at_end"]) == (1, 1, 2)
    assert s["acknowledged"] == 2
    assert s["median_ack_s"] == pytest.approx(30.0)  # 25 s and 35 s after the order
    assert s["duration_s"] == 300.0
    people = {p["tag"]: p for p in report["people"]}
    assert people["t0002"]["at_declaration"]["tunnel"] == "old_workings"
    assert people["t0001"]["safe_after_s"] == pytest.approx(120.0)
    assert people["t0003"]["reached_exit_at"] == t0 + 181
    whats = [e["what"] for e in report["timeline"]]
    assert whats[0] == "declared" and whats[-1] == "ended"
    assert {"blocked", "unblocked", "evacuation order", "count"} <= set(whats)
    md = report_markdown(report)
    assert "| p0002 |" in md and "old_workings 100 m" in md
    page = report_html(report)
    assert page.startswith("<!doctype html>") and "Timeline" in page


def test_rescue_sheet_lists_the_unaccounted_with_their_routes(state: LiveState) -> None:
    for tag, tunnel, off in (
        ("t0001", "main320_1000", 250.0),
        ("t0002", "old_workings", 100.0),
        ("t0003", "refuge480", 10.0),
    ):
        put(state, tag, tunnel, off, T0)
    state.tags["t0002"].name = "Гүлнара <Ж.>"  # Kazakh, and markup that must be escaped
    desk = EmergencyDesk(state)
    em = desk.declare("collapse", Place("main320_west", 700.0), "disp", T0 + 1)
    desk.block(Span("main320_west", 650, 750), "collapse", "disp", T0 + 2)
    desk.evacuate("disp", T0 + 3)
    desk.observe([Measurement(T0 + 9, "t0001", event="evac_ack")])
    sheet = rescue_sheet(em, desk.accounting(T0 + 10), "Demo coal mine")
    assert [p["tag"] for p in sheet["people"]] == ["t0001", "t0002"]  # t0003 is in a refuge
    by_tag = {p["tag"]: p for p in sheet["people"]}
    assert by_tag["t0002"]["exit_route"] == "NO OPEN ROUTE"
    assert by_tag["t0002"]["refuge_route"] == "NO OPEN ROUTE"
    assert by_tag["t0001"]["exit_route"].startswith("exit_shaft1 1065 m: main320_1000 250→0 m")
    assert by_tag["t0001"]["acked"] and not by_tag["t0002"]["acked"]
    assert sheet["blocked"] == ["main320_west 650–750 m (collapse)"]
    page = sheet_html(sheet)
    assert "Гүлнара &lt;Ж.&gt;" in page and "<Ж.>" not in page
    assert "@media print" in page and "NOT acknowledged" in page
    pdf = sheet_pdf(sheet)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 2000
    west = rescue_sheet(em, desk.accounting(T0 + 10), "Demo coal mine", zone="goaf_old")
    assert [p["tag"] for p in west["people"]] == []
    lower = rescue_sheet(em, desk.accounting(T0 + 10), "Demo coal mine", level="h320")
    assert [p["tag"] for p in lower["people"]] == ["t0001", "t0002"]
    assert lower["title"].endswith("h320")


def test_cli_lists_reports_and_replays_a_stored_emergency(state: LiveState, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    with Store(url, max_delay_s=0.01) as store:
        desk = _run(state, EmergencyRepository(store.db, store.writer), T0)
        store.flush()
    em = desk.last.id if desk.last else ""
    runner = CliRunner()
    app = typer.Typer()
    register(app)

    def cli(*args: str) -> str:
        result = runner.invoke(app, ["emergency", *args, "--db", url])
        assert result.exit_code == 0, result.output
        return result.output

    listed = cli("list")
    assert em in listed and "fire" in listed
    assert cli("report", em).startswith(f"# Emergency report {em}")
    frames = [json.loads(line) for line in cli("replay", em).splitlines()]
    assert [len(f["unaccounted"]) for f in frames] == [4, 4, 3, 2, 2, 2]
    # through the real entry point: a clear message and exit code 1, no traceback
    missing = subprocess.run(
        [sys.executable, "-m", "minepos", "emergency", "report", "em-nope"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "MINEPOS_DB": url},
    )
    assert missing.returncode == 1
    assert "no emergency 'em-nope'" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_restarted_server_takes_the_active_emergency_back(state: LiveState, store: Store) -> None:
    from minepos.api.routes.emergency import emergency_host

    t0 = T0 + 3600 * next(_T) + 7 * 86400 * (store.db.dialect == "postgresql")
    for tag, tunnel, off in (("t0001", "main320_1000", 250.0), ("t0002", "old_workings", 100.0)):
        put(state, tag, tunnel, off, t0)
    first = emergency_host(state, store).desk
    em = first.declare("gas", Place("main320_1000", 300.0), "disp", t0 + 1)
    first.block(Span("main320_500", 100, 200), "gas", "disp", t0 + 2)
    order = first.evacuate("disp", t0 + 3)
    first.observe([Measurement(t0 + 9, "t0002", event="evac_ack")])
    put(state, "t0001", "refuge320", 20.0, t0 + 30)
    first.step(t0 + 30)
    store.flush()
    again = emergency_host(state, store).desk  # a new process over the same store
    assert again.current is not None
    assert again.current.id == em.id
    assert again.current.blocked() == (Span("main320_500", 100, 200),)
    assert [o.id for o in again.orders] == [order.id]
    assert [u["tag"] for u in again.unacknowledged()] == ["t0001"]
    rows = {r["tag"]: r for r in again.accounting(t0 + 31).rows}
    assert rows["t0002"]["acked_at"] == t0 + 9
    assert rows["t0001"]["reached_refuge_at"] == t0 + 30
    again.end("disp", t0 + 60)
    store.flush()
    third = emergency_host(state, store).desk
    assert third.current is None
    assert third.last is not None and third.last.id == em.id
