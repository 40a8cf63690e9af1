"""Transports: they only move bytes from the network into the ingest pipeline."""

from __future__ import annotations

from minepos.ingest.transports.mqtt import MqttSource, MqttSourceConfig, MqttSubscription
from minepos.ingest.transports.udp import UdpSource, UdpSourceConfig

__all__ = ["MqttSource", "MqttSourceConfig", "MqttSubscription", "UdpSource", "UdpSourceConfig"]
