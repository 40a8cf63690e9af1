"""The lamp room: tags issued (``lamp_out``) and returned (``lamp_in``), shifts, reconciliation.

A person's time underground runs from ``lamp_out`` to ``lamp_in``. Each ``lamp_out`` belongs to
the shift whose start is nearest to it (people take their lamp a little before the shift, or
come late); at that shift's end everyone who went down and has not come back is unaccounted.
Shift start times are local times in the mine's time zone, so daylight-saving changes are right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from minepos.errors import InputError
from minepos.safety.events import LampEvent
from minepos.safety.state import LiveState

__all__ = ["LampRecord", "LampRoom", "ShiftSchedule", "Unaccounted"]

_QUARTER_S = 900.0


class ShiftSchedule:
    """Shift start times and length; finds the shift a lamp-out belongs to.

    With ``starts`` (local HH:MM in the mine's time zone) a lamp-out belongs to the shift whose
    start is nearest. Without, shifts are inferred from the lamp room itself: a lamp-out in the
    first half of the current inferred shift belongs to it; any other starts a new shift at its
    time rounded down to the quarter hour (lamps are issued from the start of a shift on).
    """

    def __init__(
        self, starts: Sequence[str] | None, length_h: float, timezone: str = "UTC"
    ) -> None:
        try:
            self.tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError(f"mine timezone {timezone!r} is not a known time zone") from exc
        self.starts = sorted(time.fromisoformat(s) for s in starts) if starts else None
        self.length_s = length_h * 3600.0
        self._inferred: float | None = None

    @property
    def configured(self) -> bool:
        """True when shift times come from configuration, not from the lamp room."""
        return self.starts is not None

    def shift_for(self, ts: float) -> tuple[float, float]:
        """(start, end) of the shift a lamp-out at ``ts`` belongs to."""
        if self.starts is None:
            return self._infer(ts)
        day = datetime.fromtimestamp(ts, self.tz).date()
        best: float | None = None
        for d in (day - timedelta(days=1), day, day + timedelta(days=1)):
            for t in self.starts:
                start = datetime.combine(d, t, self.tz).timestamp()
                if best is None or abs(start - ts) < abs(best - ts):
                    best = start
        assert best is not None
        return best, best + self.length_s

    def _infer(self, ts: float) -> tuple[float, float]:
        s = self._inferred
        if s is None or not s <= ts < s + self.length_s / 2:
            s = self._inferred = ts - ts % _QUARTER_S
        return s, s + self.length_s


@dataclass(slots=True)
class LampRecord:
    """One tag's lamp state: out since ``out_at``, for the shift ending at ``shift_end``."""

    tag: str
    person: str | None
    out_at: float | None = None
    in_at: float | None = None
    shift_end: float | None = None

    @property
    def out(self) -> bool:
        """Issued and not returned."""
        return self.out_at is not None and (self.in_at is None or self.in_at < self.out_at)


@dataclass(frozen=True, slots=True)
class Unaccounted:
    """Someone who went down and had not come back at the end of their shift."""

    person: str | None
    tag: str
    name: str | None
    went_down_at: float
    shift_end: float
    last_place: dict[str, Any]
    last_heard: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the headcount API."""
        return {
            "person": self.person,
            "tag": self.tag,
            "name": self.name,
            "went_down_at": self.went_down_at,
            "shift_end": self.shift_end,
            "last_place": self.last_place,
            "last_heard": self.last_heard,
        }


class LampRoom:
    """The lamp room book: who is out, since when, for which shift."""

    def __init__(self, state: LiveState, schedule: ShiftSchedule) -> None:
        self.state = state
        self.schedule = schedule
        self.records: dict[str, LampRecord] = {}

    def apply(self, ts: float, tag: str, event: str) -> LampEvent:
        """Record a lamp_out or lamp_in of a tag."""
        st = self.state.tag(tag)
        rec = self.records.setdefault(tag, LampRecord(tag, st.person))
        if event == "lamp_out":
            rec.out_at, rec.in_at = ts, None
            st.lamp_in_at = None
            rec.shift_end = self.schedule.shift_for(ts)[1]
            return LampEvent(ts, tag, st.person, "lamp_out")
        rec.in_at = ts
        st.lamp_in_at = ts
        st.underground = False
        st.down_since = None
        st.sos_at = st.fall_at = None
        return LampEvent(ts, tag, st.person, "lamp_in")

    def is_out(self, tag: str) -> bool:
        """True while the tag is issued and not returned."""
        rec = self.records.get(tag)
        return rec is not None and rec.out

    def known(self, tag: str) -> bool:
        """True if the lamp room has ever issued or taken back this tag."""
        return tag in self.records

    def adopt(self, tag: str, ts: float) -> None:
        """Take a tag found underground at start-up (no lamp record) as issued before the start."""
        st = self.state.tag(tag)
        rec = LampRecord(tag, st.person, out_at=ts)
        # an inferred schedule knows nothing of a shift that began before it saw any lamp-out
        rec.shift_end = self.schedule.shift_for(ts)[1] if self.schedule.configured else None
        self.records[tag] = rec

    def out_since(self, tag: str) -> float | None:
        """When the tag went down, if it is out."""
        rec = self.records.get(tag)
        return rec.out_at if rec is not None and rec.out else None

    def unaccounted(self, now: float, grace_s: float = 0.0) -> list[Unaccounted]:
        """Everyone out whose shift ended (plus grace) by ``now``, with their last known place."""
        out = []
        for rec in self.records.values():
            if not rec.out or rec.shift_end is None or now < rec.shift_end + grace_s:
                continue
            st = self.state.tag(rec.tag)
            assert rec.out_at is not None
            out.append(
                Unaccounted(
                    rec.person,
                    rec.tag,
                    st.name,
                    rec.out_at,
                    rec.shift_end,
                    st.place(),
                    st.last_measurement,
                )
            )
        return sorted(out, key=lambda u: (u.person or "", u.tag))

    def restore(self, events: Sequence[LampEvent]) -> None:
        """Rebuild the book from each tag's newest lamp event (after a restart)."""
        for e in sorted(events, key=lambda e: e.ts):
            self.apply(e.ts, e.tag, e.event)
