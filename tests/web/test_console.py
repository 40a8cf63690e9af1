"""The console in a real Chromium against a real server: what a dispatcher does in a shift."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import PASSWORD, SOS_PERSON, Live

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(browser: Any, live_server: Live) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 850}, locale="en-US")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(live_server.url + "/")
    yield pg
    context.close()
    assert not errors, errors


def login(pg: Any, password: str = PASSWORD) -> None:
    pg.fill("#login-name", "disp")
    pg.fill("#login-password", password)
    pg.click("#login-submit")


def people_on_level(pg: Any) -> int:
    return int(
        pg.evaluate("""() => {
        const m = window.minepos; if (!m) return 0;
        const lvl = m.map.geo.levelIndex.get(m.map.level);
        let n = 0;
        for (let i = 0; i < m.tags.n; i++) if (m.tags.present[i] && m.tags.level[i] === lvl) n++;
        return n;
    }""")
    )


def test_wrong_password_is_refused_with_a_message(page: Any) -> None:
    login(page, "not the password")
    page.wait_for_function("document.getElementById('login-error').textContent.length > 0")
    assert "Wrong" in page.text_content("#login-error")
    assert page.is_hidden("#console")


def test_log_in_and_see_people_on_the_map(page: Any) -> None:
    login(page)
    page.wait_for_selector("#console:not([hidden])")
    page.wait_for_function("window.minepos && window.minepos.tags.n >= 25", timeout=30_000)
    assert page.text_content("[data-level='h320']") == "Horizon -320"
    assert people_on_level(page) >= 25
    underground = int(page.text_content("#count-underground"))
    assert underground >= 25
    # the dots are drawn: the canvas has the colour of a person (light) somewhere
    lit = page.evaluate("""() => {
        const c = document.getElementById('map');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i+1] > 200 && d[i+2] > 200) n++;
        return n;
    }""")
    assert lit > 50


def test_find_a_person_centres_the_map_on_them(page: Any, live_server: Live) -> None:
    login(page)
    page.wait_for_function("window.minepos && window.minepos.tags.n >= 25", timeout=30_000)
    person = live_server.mine.people[3]
    page.fill("#search", person.name.split()[0])
    page.wait_for_selector(f"#results li[data-person='{person.id}']")
    page.click(f"#results li[data-person='{person.id}']")
    page.wait_for_function(f"document.getElementById('card-name').textContent === {person.name!r}")
    assert page.text_content("#card-tag") == person.tag
    off = page.evaluate(f"""() => {{
        const m = window.minepos; const i = m.tags.index.get({person.tag!r});
        const [x, y] = m.tags.at(i, performance.now());
        const [sx, sy] = m.map.toScreen(x, y);
        return Math.hypot(sx - m.map.width / 2, sy - m.map.height / 2);
    }}""")
    assert off < 40  # pixels from the centre (the person walks while the map is centred)
    assert "main320" in page.text_content("#card-place")


def test_acknowledge_an_alarm_and_it_leaves_the_active_list(page: Any) -> None:
    login(page)
    sel = "#alarms li.alarm.unacked"
    page.wait_for_selector(sel, timeout=30_000)
    sos = f"#alarms li.alarm.unacked[data-alarm^='sos.t{SOS_PERSON[1:]}']"
    page.wait_for_selector(sos, timeout=30_000)
    alarm_id = page.get_attribute(sos, "data-alarm")
    assert page.get_attribute("body", "data-sounding") == "true"
    assert int(page.text_content("#count-alarms")) >= 1
    page.click(f"#alarms li[data-alarm='{alarm_id}'] button.ack")
    page.wait_for_selector(f"#alarms li[data-alarm='{alarm_id}']", state="detached")
    page.wait_for_selector(f"#alarms-acked li[data-alarm='{alarm_id}']")
    assert "disp" in page.text_content(f"#alarms-acked li[data-alarm='{alarm_id}']")
    # the sound stops only when every alarm is acknowledged
    while page.query_selector(sel) is not None:
        assert page.get_attribute("body", "data-sounding") == "true"
        other = page.query_selector(sel).get_attribute("data-alarm")
        page.click(f"#alarms li[data-alarm='{other}'] button.ack")
        page.wait_for_selector(f"#alarms li[data-alarm='{other}']", state="detached")
    page.wait_for_function("document.body.dataset.sounding === 'false'")


def test_switch_language(page: Any) -> None:
    login(page)
    page.wait_for_selector("#console:not([hidden])")
    label = "[data-i18n='top.underground']"
    assert page.text_content(label) == "Underground"
    page.click(".topbar [data-lang='ru']")
    page.wait_for_function(f"document.querySelector(\"{label}\").textContent === 'Под землёй'")
    assert page.get_attribute("html", "lang") == "ru"
    page.click(".topbar [data-lang='kk']")
    page.wait_for_function(f"document.querySelector(\"{label}\").textContent === 'Жер астында'")
    assert page.text_content("[data-i18n='alarms.title']") == "Дабылдар"
    page.click(".topbar [data-lang='en']")


def test_the_emergency_button_speaks_the_chosen_language(page: Any) -> None:
    login(page)
    page.wait_for_selector("#console:not([hidden])")
    button = "#emergency-open"
    page.wait_for_function(f"document.querySelector('{button}').textContent === 'EMERGENCY'")
    page.click(".topbar [data-lang='ru']")
    page.wait_for_function(f"document.querySelector('{button}').textContent === 'АВАРИЯ'")
    page.click(".topbar [data-lang='kk']")
    page.wait_for_function(f"document.querySelector('{button}').textContent === 'АПАТ'")
    page.wait_for_timeout(3500)  # the emergency watcher's poll must keep the chosen language
    assert page.text_content(button) == "АПАТ"
    page.click(".topbar [data-lang='en']")
    page.wait_for_function(f"document.querySelector('{button}').textContent === 'EMERGENCY'")


def test_language_follows_the_browser(browser: Any, live_server: Live) -> None:
    context = browser.new_context(locale="kk-KZ")
    pg = context.new_page()
    pg.goto(live_server.url + "/")
    pg.wait_for_function("document.documentElement.lang === 'kk'")
    assert pg.text_content("#login-submit") == "Кіру"
    context.close()


def test_replay_a_track(page: Any, live_server: Live) -> None:
    login(page)
    page.wait_for_function("window.minepos && window.minepos.tags.n >= 25", timeout=30_000)
    person = live_server.mine.people[5]
    page.fill("#search", person.tag)
    page.click(f"#results li[data-person='{person.id}']")
    # the history keeps a point every few metres walked; wait until there is a track to replay
    for _ in range(20):
        page.wait_for_timeout(1000)
        page.click(f"#results li[data-person='{person.id}']")
        page.wait_for_function("document.getElementById('track-info').textContent.length > 0")
        if page.is_enabled("#replay"):
            break
    assert page.is_enabled("#replay")
    last = page.text_content("#replay-time")
    page.eval_on_selector(
        "#replay", "el => { el.value = 0; el.dispatchEvent(new Event('input')); }"
    )
    first = page.text_content("#replay-time")
    assert first != last
    assert page.evaluate("window.minepos.map.replayIndex") == 0
