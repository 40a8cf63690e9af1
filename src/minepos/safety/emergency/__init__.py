"""Emergency mode: account for everyone, route them out, confirm they got the message.

`EmergencyDesk` is the entry point: declare an emergency, block stretches, send evacuation
orders, read the accounting (every involved person with last place, age, flags, routes to the
nearest exit and refuge chamber, acknowledgement), end it. See docs/emergency.md.
"""

from __future__ import annotations

from minepos.safety.emergency.accounting import (
    Accounting,
    EmergencySettings,
    SafetyProgress,
    account,
)
from minepos.safety.emergency.desk import (
    DEFAULT_MESSAGE,
    EmergencyDesk,
    EmergencyRecorder,
    NullRecorder,
    compact,
    expand,
)
from minepos.safety.emergency.downlink import Downlink, MemoryDownlink, MqttDownlink, downlink_topic
from minepos.safety.emergency.escape import EscapeFields, closed_shafts, route_dict
from minepos.safety.emergency.model import (
    BLOCK_CAUSES,
    EMERGENCY_KINDS,
    Blockage,
    Emergency,
    EmergencyStateError,
)
from minepos.safety.emergency.orders import SCOPES, AckBook, EvacuationOrder, order_payload
from minepos.safety.emergency.simlink import EvacuationTarget, SimulatedTagsDownlink

__all__ = [
    "BLOCK_CAUSES",
    "DEFAULT_MESSAGE",
    "EMERGENCY_KINDS",
    "SCOPES",
    "Accounting",
    "AckBook",
    "Blockage",
    "Downlink",
    "Emergency",
    "EmergencyDesk",
    "EmergencyRecorder",
    "EmergencySettings",
    "EmergencyStateError",
    "EscapeFields",
    "EvacuationOrder",
    "EvacuationTarget",
    "MemoryDownlink",
    "MqttDownlink",
    "NullRecorder",
    "SafetyProgress",
    "SimulatedTagsDownlink",
    "account",
    "closed_shafts",
    "compact",
    "downlink_topic",
    "expand",
    "order_payload",
    "route_dict",
]
