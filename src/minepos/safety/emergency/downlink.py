"""Downlink: messages to tags on MQTT ``minepos/<mine>/downlink/<tag>`` (CONTRACT section 3).

Gateways subscribed to the downlink topics forward each message to the tag (the cap lamp
flashes, the tag buzzes); QoS 1 so a gateway that reconnects still gets it. `Downlink` is the
protocol the emergency desk sends through; `MqttDownlink` is the real one, `MemoryDownlink`
keeps what was sent (tests, the simulator, a mine without a broker).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Protocol
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from minepos.errors import InputError, MineposError

__all__ = ["Downlink", "MemoryDownlink", "MqttDownlink", "downlink_topic"]

log = logging.getLogger(__name__)


def downlink_topic(mine: str, tag: str) -> str:
    """The topic of one tag's downlink."""
    return f"minepos/{mine}/downlink/{tag}"


class Downlink(Protocol):
    """Where messages to tags go."""

    def send(self, tag: str, payload: dict[str, Any]) -> bool:
        """Queue one message to one tag; False if it could not even be queued."""


class MemoryDownlink:
    """Keeps every message in a list: ``sent`` holds ``(tag, payload)``."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, tag: str, payload: dict[str, Any]) -> bool:
        """Keep the message."""
        self.sent.append((tag, payload))
        return True


class MqttDownlink:
    """Publishes downlink messages on an MQTT broker with paho (QoS 1, not retained)."""

    def __init__(self, url: str, mine: str, *, client_id: str = "", timeout_s: float = 5.0) -> None:
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise InputError(f"MQTT URL {url!r}: expected mqtt://host[:port]")
        self.mine = mine
        self._connected = threading.Event()
        self._last: mqtt.MQTTMessageInfo | None = None
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.on_connect = self._on_connect
        # an evacuation order to 14,000 tags must not be dropped by paho's in-flight limit
        self._client.max_queued_messages_set(0)
        self._client.max_inflight_messages_set(1000)
        if parts.username:
            self._client.username_pw_set(parts.username, parts.password)
        try:
            self._client.connect(parts.hostname, parts.port or 1883, keepalive=30)
        except OSError as exc:
            raise MineposError(f"cannot reach the MQTT broker at {url}: {exc}") from exc
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self.close()
            raise MineposError(f"MQTT broker at {url} did not accept the connection")

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            self._connected.set()
        else:
            log.error("MQTT connection refused: %s", reason)

    def send(self, tag: str, payload: dict[str, Any]) -> bool:
        """Publish one message to ``minepos/<mine>/downlink/<tag>`` with QoS 1."""
        body = json.dumps(payload, separators=(",", ":"))
        info = self._client.publish(downlink_topic(self.mine, tag), body, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.warning("downlink to %s failed: %s", tag, mqtt.error_string(info.rc))
            return False
        self._last = info
        return True

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every message sent so far is acknowledged by the broker (QoS 1)."""
        if self._last is None:
            return True
        try:
            self._last.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError):
            return False
        return self._last.is_published()

    def close(self) -> None:
        """Disconnect once queued messages are out (waits up to 10 s for them)."""
        self.flush()
        self._client.loop_stop()
        self._client.disconnect()
