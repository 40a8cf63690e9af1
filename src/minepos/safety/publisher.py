"""Publishing alarm changes and the headcount: the `AlarmPublisher` protocol and its MQTT form.

Topics (CONTRACT section 3): ``minepos/<mine>/alarms`` gets each alarm change (QoS 1, not
retained: every change matters, not only the last), ``minepos/<mine>/headcount`` the headcount
(QoS 1, retained, so a console that connects sees the count at once).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from minepos.errors import MineposError
from minepos.ingest.transports.mqtt import broker_address
from minepos.safety.alarms import AlarmChange
from minepos.safety.state import Headcount

__all__ = [
    "AlarmPublisher",
    "MqttAlarmPublisher",
    "NullPublisher",
    "connect_client",
    "headcount_payload",
]

log = logging.getLogger(__name__)


class AlarmPublisher(Protocol):
    """Where alarm changes and headcounts go once they are stored."""

    def publish_changes(self, changes: Sequence[AlarmChange]) -> None:
        """Send alarm changes, in order."""

    def publish_headcount(self, headcount: Headcount, unaccounted: Sequence[Any] = ()) -> None:
        """Send the current headcount."""


class NullPublisher:
    """Publishes nothing (replay, tests, a mine without a broker)."""

    def publish_changes(self, changes: Sequence[AlarmChange]) -> None:
        """Drop."""

    def publish_headcount(self, headcount: Headcount, unaccounted: Sequence[Any] = ()) -> None:
        """Drop."""


def headcount_payload(headcount: Headcount, unaccounted: Sequence[Any] = ()) -> dict[str, Any]:
    """The headcount as JSON (as in ``GET /mines/<mine>/headcount``)."""
    return {
        "ts": headcount.ts,
        "underground": headcount.underground,
        "by_level": headcount.by_level,
        "by_zone": headcount.by_zone,
        "unaccounted": [u.to_dict() if hasattr(u, "to_dict") else u for u in unaccounted],
    }


def connect_client(
    url: str,
    *,
    client_id: str = "",
    timeout_s: float = 5.0,
    setup: Callable[[mqtt.Client], None] | None = None,
) -> mqtt.Client:
    """A paho client connected to the broker at ``url``, its network thread running.

    ``setup`` adjusts the client before it connects. InputError for a bad URL, MineposError when
    the broker cannot be reached or does not accept the connection within ``timeout_s``.
    """
    host, port, username, password = broker_address(url)
    connected = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)

    def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            connected.set()
        else:
            log.error("MQTT connection refused: %s", reason)

    client.on_connect = on_connect
    if setup is not None:
        setup(client)
    if username:
        client.username_pw_set(username, password)
    try:
        client.connect(host, port, keepalive=30)
    except OSError as exc:
        raise MineposError(f"cannot reach the MQTT broker at {url}: {exc}") from exc
    client.loop_start()
    if not connected.wait(timeout_s):
        client.loop_stop()
        client.disconnect()
        raise MineposError(f"MQTT broker at {url} did not accept the connection")
    return client


class MqttAlarmPublisher:
    """Publishes on an MQTT broker with paho (its own network thread)."""

    def __init__(self, url: str, mine: str, *, client_id: str = "", timeout_s: float = 5.0) -> None:
        self.topic_alarms = f"minepos/{mine}/alarms"
        self.topic_headcount = f"minepos/{mine}/headcount"
        self._client = connect_client(url, client_id=client_id, timeout_s=timeout_s)
        self._last: mqtt.MQTTMessageInfo | None = None

    def _send(self, topic: str, payload: dict[str, Any], retain: bool = False) -> None:
        info = self._client.publish(topic, json.dumps(payload, separators=(",", ":")), 1, retain)
        self._last = info
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.warning("MQTT publish to %s failed: %s", topic, mqtt.error_string(info.rc))

    def publish_changes(self, changes: Sequence[AlarmChange]) -> None:
        """One message per change on ``minepos/<mine>/alarms``."""
        for change in changes:
            self._send(self.topic_alarms, change.to_dict())

    def publish_headcount(self, headcount: Headcount, unaccounted: Sequence[Any] = ()) -> None:
        """The retained headcount on ``minepos/<mine>/headcount``."""
        self._send(self.topic_headcount, headcount_payload(headcount, unaccounted), retain=True)

    def close(self) -> None:
        """Disconnect once the broker has acknowledged what was sent (at most 2 s)."""
        last = self._last
        if last is not None and last.rc == mqtt.MQTT_ERR_SUCCESS:
            try:
                last.wait_for_publish(timeout=2.0)
            except (RuntimeError, ValueError):  # not connected: nothing more will go out
                log.warning("MQTT publisher closed with messages unacknowledged")
        self._client.loop_stop()
        self._client.disconnect()
