"""Evacuation orders reach every tag's downlink topic on the real Mosquitto broker."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import warnings
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from emergency_helpers import T0, estimate, put
from paho.mqtt.enums import CallbackAPIVersion

with warnings.catch_warnings():  # starlette asks for httpx2; httpx still works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from minepos.api import LiveHub, ServerSettings, Services, create_app
from minepos.api.routes.emergency import emergency_host
from minepos.errors import InputError, MineposError
from minepos.measurement import Measurement
from minepos.mine import Mine, Place
from minepos.safety import LiveState
from minepos.safety.emergency import EmergencyDesk, MqttDownlink, downlink_topic
from minepos.store import Store

BROKER = ("127.0.0.1", 1883)


def _broker_up() -> bool:
    try:
        socket.create_connection(BROKER, timeout=1).close()
    except OSError:
        return False
    return True


pytestmark = [
    pytest.mark.mqtt,
    pytest.mark.skipif(not _broker_up(), reason="Mosquitto not reachable on 127.0.0.1:1883"),
]


class Gateway:
    """A subscriber on every downlink topic of a mine, as a gateway would be."""

    def __init__(self, mine: str, expect: int) -> None:
        self.got: list[tuple[str, dict[str, Any], int]] = []
        self.done = threading.Event()
        self.expect = expect
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect(*BROKER)
        self.client.subscribe(f"minepos/{mine}/downlink/+", qos=1)
        self.client.loop_start()
        assert subscribed.wait(5)

    def _on_message(self, _c: Any, _u: Any, msg: Any) -> None:
        self.got.append((msg.topic, json.loads(msg.payload), msg.qos))
        if len(self.got) >= self.expect:
            self.done.set()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_every_tag_gets_its_order_with_qos_1(state: LiveState) -> None:
    mine_topic = f"dl{secrets.token_hex(3)}"
    for i in range(1, 31):
        put(state, f"t{i:04d}", "main320_1500", 10.0 * i, T0)
    gw = Gateway(mine_topic, 30)
    downlink = MqttDownlink("mqtt://127.0.0.1:1883", mine_topic)
    desk = EmergencyDesk(state, downlink=downlink)
    desk.declare("fire", Place("main320_1000", 100.0), "disp", T0)
    order = desk.evacuate("disp", T0 + 2, message="Fire on -320. Go to shaft 2.")
    assert downlink.flush(10)
    assert gw.done.wait(10)
    downlink.close()
    gw.close()
    assert sorted(t for t, _, _ in gw.got) == [downlink_topic(mine_topic, t) for t in order.tags]
    assert {q for _, _, q in gw.got} == {1}
    topic, payload, _ = gw.got[0]
    assert payload["tag"] == topic.rsplit("/", 1)[1]
    assert payload["order"] == order.id
    assert payload["kind"] == "evacuate"
    assert payload["message"] == "Fire on -320. Go to shaft 2."
    assert payload["issued_at"] == T0 + 2
    # the tags answer; ten never do
    desk.observe(
        [Measurement(T0 + 20 + i, t, event="evac_ack") for i, t in enumerate(order.tags[:20])]
    )
    assert [u["tag"] for u in desk.unacknowledged()] == list(order.tags[20:])


def test_a_whole_shift_of_orders_is_delivered(state: LiveState) -> None:
    mine_topic = f"dl{secrets.token_hex(3)}"
    n = 1000  # Mosquitto queues at most 1,000 QoS 1 messages per slow subscriber by default
    state.observe([Measurement(T0, f"x{i:05d}", motion=True) for i in range(n)])
    state.place([estimate(state.mine, f"x{i:05d}", "main480_1800", 0.25 * i, T0) for i in range(n)])
    gw = Gateway(mine_topic, n)
    downlink = MqttDownlink("mqtt://127.0.0.1:1883", mine_topic)
    desk = EmergencyDesk(state, downlink=downlink)
    desk.declare("explosion", Place("main480_1800", 100.0), "disp", T0)
    desk.evacuate("disp", T0)
    assert gw.done.wait(30), f"{len(gw.got)} of {n} delivered"
    downlink.close()
    gw.close()
    assert len({t for t, _, _ in gw.got}) == n


def test_bad_urls_and_an_unreachable_broker_are_clear_errors() -> None:
    with pytest.raises(InputError, match="MQTT URL"):
        MqttDownlink("http://127.0.0.1", "x")
    with pytest.raises(MineposError, match="MQTT broker"):
        MqttDownlink("mqtt://127.0.0.1:1", "x", timeout_s=1)


def test_a_server_with_a_broker_sends_orders_from_the_api(
    tmp_path: Path, mine: Mine, state: LiveState
) -> None:
    mine_id = mine.id
    for i in range(1, 4):
        put(state, f"t{i:04d}", "main480_600", 50.0 * i, T0)
    gw = Gateway(mine_id, 3)
    store = Store(f"sqlite:///{tmp_path}/m.sqlite3", max_delay_s=0.01)
    services = Services(mine=mine, store=store, live=None, hub=LiveHub())  # type: ignore[arg-type]
    app = create_app(ServerSettings(mqtt="mqtt://127.0.0.1:1883"), services)
    app.state.emergency = emergency_host(state, store)
    token = store.users.create("d", "dispatcher", ts=T0)[1]
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as c:
        r = c.post(
            f"/api/v1/mines/{mine_id}/emergency",
            headers=h,
            json={"kind": "flood", "place": {"tunnel": "main480_600", "offset_m": 10}},
        )
        assert r.status_code == 201
        order = c.post(f"/api/v1/mines/{mine_id}/emergency/evacuate", headers=h).json()
    assert gw.done.wait(10), gw.got
    gw.close()
    downlink = app.state.emergency.desk.downlink
    assert isinstance(downlink, MqttDownlink)
    downlink.close()
    store.close()
    assert sorted(t.rsplit("/", 1)[1] for t, _, _ in gw.got) == ["t0001", "t0002", "t0003"]
    assert {p["order"] for _, p, _ in gw.got} == {order["id"]}
