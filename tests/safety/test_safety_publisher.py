"""Alarm changes and the headcount on the real Mosquitto broker."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from minepos.errors import MineposError
from minepos.safety import AlarmBook, Headcount
from minepos.safety.publisher import MqttAlarmPublisher

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


def test_changes_and_retained_headcount_reach_subscribers() -> None:
    got: list[tuple[str, dict[str, Any], bool]] = []
    done = threading.Event()
    subscribed = threading.Event()

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        got.append((msg.topic, json.loads(msg.payload), bool(msg.retain)))
        if len(got) >= 3:
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    sub.on_message = on_message
    sub.on_subscribe = lambda *_a: subscribed.set()
    sub.connect(*BROKER)
    sub.subscribe("minepos/pubtest/alarms", qos=1)
    sub.loop_start()
    assert subscribed.wait(5)
    pub = MqttAlarmPublisher("mqtt://127.0.0.1:1883", "pubtest")
    book = AlarmBook()
    raised = book.raise_(("sos", "t1"), 100.0, tag="t1", person="p1", zone="lw42")
    cleared = book.clear(("sos", "t1"), 160.0)
    assert raised is not None
    assert cleared is not None
    pub.publish_changes([raised, cleared])
    pub.publish_headcount(Headcount(160.0, 3, {"h320": 3}, {"lw42": 2}))
    pub.close()  # returns once the broker has them
    sub.subscribe("minepos/pubtest/headcount", qos=1)  # after publishing: retained must arrive
    assert done.wait(5)
    sub.loop_stop()
    sub.disconnect()
    alarms = [p for t, p, _ in got if t.endswith("/alarms")]
    assert [(a["kind"], a["state"], a["person"]) for a in alarms] == [
        ("sos", "raised", "p1"),
        ("sos", "cleared", "p1"),
    ]
    headcounts = [(p, r) for t, p, r in got if t.endswith("/headcount")]
    assert headcounts[0][0]["underground"] == 3
    assert headcounts[0][1] is True


def test_an_unreachable_broker_is_a_clear_error() -> None:
    with pytest.raises(MineposError, match="MQTT broker"):
        MqttAlarmPublisher("mqtt://127.0.0.1:1", "x", timeout_s=1)
