"""Alarms and their lifecycle: raised -> acknowledged (who, when, comment) -> cleared.

`AlarmBook` holds the active alarms keyed by what they are about (kind and subject), so a rule
that keeps saying "yes" raises an alarm once; every transition comes out as an `AlarmChange`,
which is what is stored, published on MQTT and printed by ``minepos replay``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from minepos.errors import InputError

__all__ = ["ALARM_KINDS", "Alarm", "AlarmBook", "AlarmChange", "AlarmKey", "alarm_id"]

#: CONTRACT section 6; these names are public and never change.
ALARM_KINDS: Final = (
    "sos",
    "man_down",
    "restricted_zone",
    "forbidden_zone",
    "overcrowding",
    "overtime",
    "tag_lost",
    "low_battery",
    "anchor_offline",
    "not_returned",
    "card_anomaly",
)

ChangeState = Literal["raised", "acknowledged", "cleared"]

#: (kind, subject): the subject is the tag, the zone, the anchor or "tag@zone" the alarm is about.
AlarmKey = tuple[str, str]


def alarm_id(kind: str, subject: str, raised_at: float) -> str:
    """A stable id: the same recording replayed twice gives the same ids."""
    return f"{kind}.{subject}.{round(raised_at * 1000)}"


@dataclass(slots=True)
class Alarm:
    """One alarm and where it is in its lifecycle."""

    id: str
    kind: str
    raised_at: float
    subject: str = ""
    tag: str | None = None
    person: str | None = None
    zone: str | None = None
    anchor: str | None = None
    acked_by: str | None = None
    acked_at: float | None = None
    ack_comment: str | None = None
    cleared_at: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> Literal["raised", "acknowledged", "cleared"]:
        """Where the alarm is: cleared wins over acknowledged."""
        if self.cleared_at is not None:
            return "cleared"
        return "acknowledged" if self.acked_at is not None else "raised"

    @property
    def active(self) -> bool:
        """Not cleared yet."""
        return self.cleared_at is None

    def fields(self) -> dict[str, Any]:
        """Every field as JSON-ready values (the subject kept in ``details``): the stored row
        and, with ``state``, the API's ``AlarmPublic``."""
        return {
            "id": self.id,
            "kind": self.kind,
            "tag": self.tag,
            "person": self.person,
            "zone": self.zone,
            "anchor": self.anchor,
            "raised_at": self.raised_at,
            "acked_by": self.acked_by,
            "acked_at": self.acked_at,
            "ack_comment": self.ack_comment,
            "cleared_at": self.cleared_at,
            "details": {**self.details, "subject": self.subject},
        }

    def snapshot(self) -> Alarm:
        """An independent copy (changes carry the alarm as it was at that moment)."""
        return dataclasses.replace(self, details=dict(self.details))


@dataclass(frozen=True, slots=True)
class AlarmChange:
    """One transition of one alarm, at time ``ts``."""

    ts: float
    state: ChangeState
    alarm: Alarm

    def to_dict(self) -> dict[str, Any]:
        """JSON of ``minepos replay`` and of the MQTT alarm topic (CONTRACT section 6)."""
        a = self.alarm
        out: dict[str, Any] = {
            "ts": self.ts,
            "alarm": a.id,
            "kind": a.kind,
            "state": self.state,
            "tag": a.tag,
            "person": a.person,
            "zone": a.zone,
        }
        if a.anchor is not None:
            out["anchor"] = a.anchor
        if self.state == "acknowledged":
            out["acked_by"] = a.acked_by
            out["comment"] = a.ack_comment
        return out

    def to_json(self) -> str:
        """One compact JSON line."""
        return json.dumps(self.to_dict(), separators=(",", ":"))


class AlarmBook:
    """The active alarms, one per (kind, subject); raising twice is a no-op."""

    def __init__(self) -> None:
        self._active: dict[AlarmKey, Alarm] = {}
        self._by_id: dict[str, Alarm] = {}

    def __len__(self) -> int:
        return len(self._active)

    def __iter__(self) -> Iterator[Alarm]:
        return iter(list(self._active.values()))

    def is_active(self, key: AlarmKey) -> bool:
        """True while an alarm for this key is raised and not cleared."""
        return key in self._active

    def get(self, alarm: str) -> Alarm | None:
        """An active alarm by id."""
        return self._by_id.get(alarm)

    def raise_(self, key: AlarmKey, ts: float, **fields: Any) -> AlarmChange | None:
        """Raise the alarm for ``key`` unless it is active already."""
        if key in self._active:
            return None
        kind, subject = key
        if kind not in ALARM_KINDS:
            raise InputError(f"unknown alarm kind {kind!r}")
        alarm = Alarm(
            id=alarm_id(kind, subject, ts), kind=kind, raised_at=ts, subject=subject, **fields
        )
        self._active[key] = alarm
        self._by_id[alarm.id] = alarm
        return AlarmChange(ts, "raised", alarm.snapshot())

    def clear(self, key: AlarmKey, ts: float) -> AlarmChange | None:
        """Clear the alarm for ``key`` if one is active."""
        alarm = self._active.pop(key, None)
        if alarm is None:
            return None
        del self._by_id[alarm.id]
        alarm.cleared_at = ts
        return AlarmChange(ts, "cleared", alarm.snapshot())

    def acknowledge(self, alarm: str, user: str, ts: float, comment: str = "") -> AlarmChange:
        """Record who acknowledged an active alarm, when and why."""
        found = self._by_id.get(alarm)
        if found is None:
            raise InputError(f"no active alarm {alarm!r}")
        if found.acked_at is None:
            found.acked_by, found.acked_at, found.ack_comment = user, ts, comment
        return AlarmChange(ts, "acknowledged", found.snapshot())

    def restore(self, alarm: Alarm) -> None:
        """Put back an active alarm loaded from the store after a restart."""
        if alarm.active:
            self._active[(alarm.kind, alarm.subject)] = alarm
            self._by_id[alarm.id] = alarm

    def keys(self, kind: str | None = None) -> list[AlarmKey]:
        """Keys of the active alarms, optionally of one kind."""
        return [k for k in self._active if kind is None or k[0] == kind]
