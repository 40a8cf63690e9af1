"""Live mode: what is published over MQTT (real Mosquitto) or HTTP is what is received."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from minepos.mine import Mine, mine_from_dict
from minepos.mine.demo import demo_mine_dict
from minepos.sim import Simulation
from minepos.sim.live import Gateways, gateway_batches, run_live

from .conftest import underground

BROKER = ("127.0.0.1", 1883)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def unique_mine() -> Mine:
    """The demo mine under an id of its own, so its topics are this test's alone."""
    d = demo_mine_dict(people=60)
    d["mine"]["id"] = f"simtest-{uuid.uuid4().hex[:8]}"
    return mine_from_dict(d)


def _expected(mine: Mine, seed: int, minutes: float) -> Counter[str]:
    sim = Simulation(mine, underground(people=60, minutes=minutes), seed=seed)
    lines = (x for t in sim.run() for x in t.measurements.json_lines(sim.tags, sim.anchor_ids))
    return Counter(json.dumps(json.loads(x), separators=(",", ":")) for x in lines)


@pytest.mark.mqtt
@pytest.mark.timeout(120)
def test_mqtt_live_batches_are_received_as_published(unique_mine: Mine) -> None:
    if not _reachable(*BROKER):
        pytest.skip("no Mosquitto on 127.0.0.1:1883")
    got: list[tuple[str, bytes]] = []
    lock = threading.Lock()

    def on_message(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        with lock:
            got.append((msg.topic, msg.payload))

    sub = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"simtest-sub-{uuid.uuid4().hex[:6]}")
    sub.on_message = on_message
    sub.connect(*BROKER)
    sub.subscribe(f"minepos/{unique_mine.id}/ingest/#", qos=1)
    sub.loop_start()
    time.sleep(0.5)
    try:
        sim = Simulation(unique_mine, underground(people=60, minutes=0.5), seed=7)
        summary = run_live(sim, mqtt_url="mqtt://127.0.0.1:1883", speed=0)
        deadline = time.monotonic() + 15
        while len(got) < summary.batches and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert summary.failed_batches == 0
    assert summary.batches > 30
    assert len(got) == summary.batches
    received: Counter[str] = Counter()
    for topic, payload in got:
        batch = json.loads(payload)
        assert topic == f"minepos/{unique_mine.id}/ingest/{batch['gateway']}"
        received.update(json.dumps(m, separators=(",", ":")) for m in batch["measurements"])
    assert sum(received.values()) == summary.measurements
    assert received == _expected(unique_mine, 7, 0.5)


def test_live_mode_keeps_real_time_at_the_given_speed(unique_mine: Mine) -> None:
    server, _ = _server(200)
    try:
        sim = Simulation(unique_mine, underground(people=20, minutes=0.5), seed=2)
        t0 = time.monotonic()
        summary = run_live(sim, http_url=_url(server), key="k", speed=10.0)
        wall = time.monotonic() - t0
    finally:
        server.shutdown()
    # paced: never faster than 30 simulated seconds at 10x; a loaded machine may make it slower
    assert 3.0 - 0.05 <= wall < 9.0
    assert summary.sim_s == pytest.approx(30.0)


def test_live_mode_stops_when_asked_and_reports_what_it_sent(unique_mine: Mine) -> None:
    server, posts = _server(200)
    stop = threading.Event()
    try:
        sim = Simulation(unique_mine, underground(people=20, minutes=600.0), seed=2)
        threading.Timer(1.0, stop.set).start()
        summary = run_live(sim, http_url=_url(server), key="k", speed=10.0, stop=stop)
    finally:
        server.shutdown()
    assert 5.0 <= summary.sim_s <= 20.0
    assert summary.batches == len(posts) > 0
    assert "sent" in summary.describe()


def _server(status: int) -> tuple[ThreadingHTTPServer, list[dict[str, Any]]]:
    posts: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            posts.append(
                {
                    "path": self.path,
                    "auth": self.headers.get("Authorization"),
                    "body": json.loads(body),
                }
            )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, posts


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def http_posts(unique_mine: Mine) -> tuple[Any, list[dict[str, Any]]]:
    server, posts = _server(202)
    sim = Simulation(unique_mine, underground(people=60, minutes=0.25), seed=9)
    try:
        summary = run_live(sim, http_url=_url(server) + "/", key="gw-secret", speed=0)
    finally:
        server.shutdown()
    return summary, posts


def test_http_live_posts_batches_with_the_gateway_key(
    unique_mine: Mine, http_posts: tuple[Any, list[dict[str, Any]]]
) -> None:
    summary, posts = http_posts
    assert len(posts) == summary.batches > 10
    assert {p["path"] for p in posts} == {f"/api/v1/mines/{unique_mine.id}/ingest"}
    assert {p["auth"] for p in posts} == {"Bearer gw-secret"}
    got = Counter(
        json.dumps(m, separators=(",", ":")) for p in posts for m in p["body"]["measurements"]
    )
    assert got == _expected(unique_mine, 9, 0.25)


def test_http_refusals_are_counted_not_fatal(unique_mine: Mine) -> None:
    server, posts = _server(401)
    try:
        sim = Simulation(unique_mine, underground(people=20, minutes=0.1), seed=1)
        summary = run_live(sim, http_url=_url(server), key="wrong", speed=0)
    finally:
        server.shutdown()
    assert summary.failed_batches == summary.batches == len(posts) > 0
    assert summary.measurements == 0


def test_gateways_group_a_tunnels_anchors_and_carry_tag_reports(unique_mine: Mine) -> None:
    gw = Gateways(unique_mine, per_gateway=4)
    face = [k for k, a in enumerate(unique_mine.anchors) if a.tunnel == "face42"]
    assert len({gw.names[g] for g in gw.of_anchor[face]}) == -(-len(face) // 4)
    sim = Simulation(unique_mine, underground(people=60, minutes=0.1), seed=3)
    tick = next(iter(sim.run()))
    batches = gateway_batches(tick, gw)
    assert sum(len(v) for v in batches.values()) == len(tick.measurements)
    for name, lines in batches.items():
        for line in lines:
            m = json.loads(line)
            if "anchor" in m:
                assert gw.names[gw.of_anchor[unique_mine.anchor_index[m["anchor"]]]] == name
