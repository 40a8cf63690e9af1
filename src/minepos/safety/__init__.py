"""Safety: live state, headcount, the lamp room, alarm rules and the alarm lifecycle."""

from __future__ import annotations

from minepos.safety.alarms import ALARM_KINDS, Alarm, AlarmBook, AlarmChange
from minepos.safety.events import LampEvent, ZoneTransition
from minepos.safety.lamproom import LampRoom, ShiftSchedule, Unaccounted
from minepos.safety.monitor import SafetyMonitor, Tick
from minepos.safety.settings import SafetySettings, Thresholds
from minepos.safety.state import Headcount, LiveState, TagState

__all__ = [
    "ALARM_KINDS",
    "Alarm",
    "AlarmBook",
    "AlarmChange",
    "Headcount",
    "LampEvent",
    "LampRoom",
    "LiveState",
    "SafetyMonitor",
    "SafetySettings",
    "ShiftSchedule",
    "TagState",
    "Thresholds",
    "Tick",
    "Unaccounted",
    "ZoneTransition",
]
