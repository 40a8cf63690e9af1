"""MQTT source configuration: strict (extra="forbid"), validated filters and decoders."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from minepos.ingest.transports import MqttSourceConfig, MqttSubscription


def test_mqtt_config_is_strict_and_defaults_to_the_canonical_topic() -> None:
    (sub,) = MqttSourceConfig(mine="north").effective_subscriptions()
    assert (sub.topic, sub.decoder, sub.gateway_for("minepos/north/ingest/gw-3")) == (
        "minepos/north/ingest/+",
        "canonical",
        "gw-3",
    )
    with pytest.raises(ValidationError, match="unknown decoder"):
        MqttSubscription(topic="a/#", decoder="acme")
    with pytest.raises(ValidationError, match="not a valid MQTT topic filter"):
        MqttSubscription(topic="a/#/b", decoder="canonical")
    with pytest.raises(ValidationError, match="Extra inputs"):
        MqttSourceConfig(hots="x")  # type: ignore[call-arg]
