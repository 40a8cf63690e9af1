"""The emergency view in real Chromium: the console switches to it, and a dispatcher works it."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from emergency_helpers import T0, put

from minepos.api import LiveHub, ServerSettings, Services, create_app
from minepos.api.routes.emergency import EmergencyHost, emergency_host
from minepos.measurement import Measurement
from minepos.mine import Mine
from minepos.safety import LiveState
from minepos.safety.emergency import MemoryDownlink
from minepos.store import Store
from minepos.web import STATIC_DIR

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Chromium not found at {CHROMIUM}"),
]


class RowsView:
    """A quiet live view: the emergency host below carries the people."""

    def positions(self, now: float) -> list[dict[str, object]]:
        return []

    def headcount(self, now: float) -> dict[str, object]:
        return {"ts": now, "underground": 3, "by_level": {}, "by_zone": {}, "unaccounted": []}

    def active_alarms(self) -> list[object]:
        return []

    def acknowledge(self, alarm: str, user: str, ts: float, comment: str) -> object:
        raise NotImplementedError

    def system(self, now: float) -> dict[str, object]:
        return {
            "ts": now,
            "anchors_total": 1,
            "anchors_online": 1,
            "tags_total": 3,
            "tags_reporting": 3,
            "ingest_per_s": 0.0,
            "rejected_per_s": 0.0,
            "engine_tick_ms": None,
            "offline_anchors": [],
        }

    def people_changed(self) -> None:
        pass


@dataclass
class Server:
    url: str
    host: EmergencyHost
    token: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path, mine: Mine, state: LiveState) -> Iterator[Server]:
    store = Store(f"sqlite:///{tmp_path}/m.sqlite3", max_delay_s=0.01)
    for tag, tunnel, off in (
        ("t0001", "main320_1000", 250.0),
        ("t0002", "old_workings", 100.0),
        ("t0003", "main480_1200", 300.0),
    ):
        put(state, tag, tunnel, off, time.time(), unc=12.0)
    services = Services(mine=mine, store=store, live=RowsView(), hub=LiveHub())  # type: ignore[arg-type]
    app = create_app(ServerSettings(), services, static_dir=STATIC_DIR)
    host = emergency_host(state, store)
    host.desk.downlink = MemoryDownlink()
    app.state.emergency = host
    store.users.create("anna", "dispatcher", ts=T0, password="correct horse")
    token = store.users.create("api", "dispatcher", ts=T0)[1]
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield Server(f"http://127.0.0.1:{port}", host, token)
    srv.should_exit = True
    thread.join(10)
    store.close()


def test_the_console_switches_and_the_dispatcher_works_the_emergency(server: Server) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url + "/")
        page.fill("#login-name", "anna")
        page.fill("#login-password", "correct horse")
        page.click("#login-submit")
        expect(page.locator("#emergency-open")).to_be_visible(timeout=10_000)
        # declared elsewhere (another dispatcher, the API): the console turns to the emergency view
        r = httpx.post(
            f"{server.url}/api/v1/mines/demo/emergency",
            headers={"Authorization": f"Bearer {server.token}"},
            json={"kind": "fire", "place": {"tunnel": "main320_1000", "offset_m": 300}},
        )
        assert r.status_code == 201
        page.wait_for_url("**/emergency.html", timeout=10_000)
        expect(page.locator("#em-title")).to_have_text("EMERGENCY: FIRE", timeout=10_000)
        expect(page.locator("#em-banner")).not_to_have_class("em-banner idle")
        expect(page.locator("#n-unaccounted")).to_have_text("3")
        # the dispatcher's language: Russian and Kazakh as in the console
        page.click("#em-langs button:text-is('ru')")
        expect(page.locator("#em-title")).to_have_text("АВАРИЯ: ПОЖАР")
        expect(page.locator("#em-counts")).to_contain_text("не учтены")
        page.click("#em-langs button:text-is('kk')")
        expect(page.locator("#em-title")).to_have_text("АПАТ: ӨРТ")
        page.click("#em-langs button:text-is('en')")
        expect(page.locator("#em-title")).to_have_text("EMERGENCY: FIRE")
        # two tunnels blocked from the view's form
        for tunnel, lo, hi, cause in (
            ("main320_500", "100", "200", "smoke"),
            ("main320_2200", "0", "50", "fire"),
        ):
            page.select_option("#block-tunnel", tunnel)
            page.fill("#block-from", lo)
            page.fill("#block-to", hi)
            page.select_option("#block-cause", cause)
            page.click("#block-submit")
        expect(page.locator("#em-blocked li")).to_have_count(2)
        assert page.evaluate("window.emergencyView.map.blocked.length") == 2
        expect(page.locator("#n-noexit")).to_have_text("1")
        expect(page.locator("#em-noexit tr[data-tag=t0001]")).to_contain_text("refuge320")
        page.click("#evac-all")
        expect(page.locator("#evac-result")).to_contain_text("sent to 3 tags")
        expect(page.locator("#n-unacked")).to_have_text("3")
        server.host.call(
            lambda: server.host.desk.observe([Measurement(time.time(), "t0002", event="evac_ack")])
        )
        expect(page.locator("#n-unacked")).to_have_text("2", timeout=6_000)
        expect(page.locator("#em-unacked tr[data-tag=t0002]")).to_have_count(0)
        if os.environ.get("MINEPOS_SHOT"):
            page.screenshot(path=os.environ["MINEPOS_SHOT"])
        # the rescue sheet, as the team prints it, through the same token
        sheet = page.evaluate("""async () => {
            const r = await fetch('/api/v1/mines/demo/emergency/rescue-sheet?format=html',
              {headers: {Authorization: 'Bearer ' + sessionStorage.getItem('minepos.token')}});
            return await r.text(); }""")
        assert "RESCUE SHEET" in sheet and "old_workings" in sheet
        sheet_page = browser.new_page()
        sheet_page.set_content(sheet)
        pdf = sheet_page.pdf(format="A4")  # Chromium's own print-to-PDF of the printable page
        assert pdf.startswith(b"%PDF-")
        page.once("dialog", lambda d: d.accept())
        page.click("#em-end")
        expect(page.locator("#em-title")).to_have_text("Ended: fire", timeout=6_000)
        # after the event: the replay of what the dispatcher saw, from the store
        expect(page.locator("#em-replay")).to_be_visible()
        expect(page.locator("#replay-info")).to_contain_text("minutes recorded", timeout=6_000)
        page.locator("#replay-slider").evaluate(
            "el => { el.value = 0; el.dispatchEvent(new Event('input')); }"
        )
        expect(page.locator("#replay-info")).to_contain_text("minute 0")
        expect(page.locator("#replay-info")).to_contain_text("unaccounted 3")
        expect(page.locator("#em-unaccounted tr[data-tag]")).to_have_count(3)
        browser.close()
    assert errors == []
