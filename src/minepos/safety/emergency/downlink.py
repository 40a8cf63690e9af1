"""Downlink: messages to tags on MQTT ``minepos/<mine>/downlink/<tag>`` (CONTRACT section 3).

Gateways subscribed to the downlink topics forward each message to the tag (the cap lamp
flashes, the tag buzzes); QoS 1 so a gateway that reconnects still gets it. `Downlink` is the
protocol the emergency desk sends through; `MqttDownlink` is the real one, `MemoryDownlink`
keeps what was sent (tests, the simulator, a mine without a broker).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

import paho.mqtt.client as mqtt

from minepos.safety.publisher import connect_client

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


def _no_publish_limits(client: mqtt.Client) -> None:
    # an evacuation order to 14,000 tags must not be dropped by paho's in-flight limit
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(1000)


class MqttDownlink:
    """Publishes downlink messages on an MQTT broker with paho (QoS 1, not retained)."""

    def __init__(self, url: str, mine: str, *, client_id: str = "", timeout_s: float = 5.0) -> None:
        self.mine = mine
        self._last: mqtt.MQTTMessageInfo | None = None
        self._client = connect_client(
            url, client_id=client_id, timeout_s=timeout_s, setup=_no_publish_limits
        )

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
