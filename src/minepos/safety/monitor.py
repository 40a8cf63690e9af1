"""`SafetyMonitor`: live state, lamp room and rules in one step per engine tick.

``step(now, measurements, estimates)`` takes what arrived since the last tick and the engine's
estimates of this tick, and returns a `Tick`: the alarm changes, zone transitions, lamp events
and the headcount. It does no I/O; storing and publishing are the caller's (see
`minepos.store.recorder`), so the same monitor runs live, in ``minepos replay`` and in tests.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from minepos.engine.estimate import Estimate
from minepos.measurement import Measurement
from minepos.mine import Mine
from minepos.safety.alarms import Alarm, AlarmBook, AlarmChange
from minepos.safety.events import LampEvent, ZoneTransition
from minepos.safety.lamproom import LampRoom, ShiftSchedule, Unaccounted
from minepos.safety.rules import Finding, Rule, RuleContext, default_rules
from minepos.safety.settings import SafetySettings, Thresholds
from minepos.safety.state import Headcount, LiveState, PersonLike

__all__ = ["SafetyMonitor", "Tick"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Tick:
    """Everything one step produced."""

    ts: float
    changes: list[AlarmChange] = field(default_factory=list)
    transitions: list[ZoneTransition] = field(default_factory=list)
    lamp_events: list[LampEvent] = field(default_factory=list)
    headcount: Headcount | None = None
    estimates: Sequence[Estimate] = ()


class SafetyMonitor:
    """The dispatcher's truth for one mine: who is underground, where, and who needs help."""

    def __init__(
        self,
        mine: Mine,
        settings: SafetySettings | None = None,
        rules: Sequence[Rule] | None = None,
        people: Sequence[PersonLike] = (),
    ) -> None:
        self.mine = mine
        self.settings = settings or SafetySettings()
        self.th = Thresholds.resolve(mine, self.settings)
        self.state = LiveState(mine, self.settings, people)
        schedule = ShiftSchedule(self.settings.shift_starts, self.th.shift_h, mine.timezone)
        self.lamp = LampRoom(self.state, schedule)
        self.book = AlarmBook()
        self.rules = list(rules) if rules is not None else default_rules()
        self._last_tick: float | None = None
        self.headcount = Headcount(0.0, 0, {}, {})

    def step(
        self,
        now: float,
        measurements: Iterable[Measurement] = (),
        estimates: Sequence[Estimate] = (),
    ) -> Tick:
        """Advance to ``now``: take measurements and estimates, evaluate every rule."""
        lamp_ms = self.state.observe(measurements)
        transitions = self.state.place(estimates)
        self.state.learn_coverage(now)
        # lamp events after the places: a lamp_in beats an estimate still lagging underground
        lamp_events = [
            self.lamp.apply(m.ts, m.tag, m.event or "") for m in sorted(lamp_ms, key=lambda m: m.ts)
        ]
        self._adopt_early_tags()
        self.headcount = self.state.headcount(now)
        dt = 1.0 if self._last_tick is None else max(0.0, now - self._last_tick)
        self._last_tick = now
        ctx = RuleContext(
            now, dt, self.state, self.lamp, self.book, self.th, self.settings, self.headcount
        )
        changes: list[AlarmChange] = []
        for rule in self.rules:
            for finding in rule.check(ctx):
                change = self._apply(finding, now)
                if change is not None:
                    changes.append(change)
        changes.sort(key=lambda c: c.ts)
        return Tick(now, changes, transitions, lamp_events, self.headcount, estimates)

    def _apply(self, f: Finding, now: float) -> AlarmChange | None:
        if f.on:
            return self.book.raise_(f.key, min(f.at, now), **f.fields)
        return self.book.clear(f.key, now)

    def _adopt_early_tags(self) -> None:
        """Tags found underground right after start-up went down before it: no card anomaly."""
        start = self.state.started_at
        if start is None:
            return
        warmup = self.settings.card_anomaly_warmup_s
        for st in self.state.tags.values():
            if (
                st.underground
                and not self.lamp.known(st.tag)
                and st.first_heard is not None
                and st.first_heard - start < warmup
            ):
                self.lamp.adopt(st.tag, st.down_since or st.first_heard)

    def acknowledge(self, alarm: str, user: str, ts: float, comment: str = "") -> AlarmChange:
        """A dispatcher acknowledges an active alarm."""
        return self.book.acknowledge(alarm, user, ts, comment)

    def positions(self, now: float) -> list[dict[str, Any]]:
        """One row per tag underground, as ``GET /mines/<mine>/positions`` answers (CONTRACT 4)."""
        rows = []
        for st in self.state.tags.values():
            if not st.underground or st.tunnel is None:
                continue
            rows.append(
                {
                    "tag": st.tag,
                    "person": st.person,
                    "tunnel": st.tunnel,
                    "offset_m": st.offset_m,
                    "xyz": list(st.xyz) if st.xyz is not None else None,
                    "level": st.level,
                    "zone": min(st.zones) if st.zones else None,
                    "interval": [
                        {"tunnel": s.tunnel, "from_m": s.from_m, "to_m": s.to_m}
                        for s in st.interval
                    ],
                    "uncertainty_m": st.uncertainty_m,
                    "speed_mps": st.speed_mps,
                    "updated_at": st.placed_at,
                    "status": st.status(now, self.th.tag_lost_s),
                }
            )
        return sorted(rows, key=lambda r: r["tag"])

    def headcount_view(self, now: float) -> dict[str, Any]:
        """``GET /mines/<mine>/headcount``: underground, by level, by zone, unaccounted."""
        hc = self.headcount
        return {
            "underground": hc.underground,
            "by_level": dict(hc.by_level),
            "by_zone": dict(hc.by_zone),
            "unaccounted": [u.to_dict() for u in self.unaccounted(now)],
        }

    def unaccounted(self, now: float) -> list[Unaccounted]:
        """The lamp room reconciliation: who went down and is not back at their shift's end."""
        return self.lamp.unaccounted(now, self.settings.not_returned_grace_s)

    def restore(
        self,
        now: float,
        alarms: Iterable[Alarm],
        lamp_events: Sequence[LampEvent],
        places: Sequence[Estimate],
    ) -> Headcount:
        """Rebuild after a restart: active alarms, the lamp book, last known places.

        Restored tags count as heard at ``now`` so that a restart is not taken for silence.
        """
        for alarm in alarms:
            self.book.restore(alarm)
        self.state.place(places)
        for est in places:
            st = self.state.tag(est.tag)
            st.last_measurement = st.first_heard = now
        self.lamp.restore(lamp_events)
        if self.state.started_at is None:
            self.state.started_at = now
        self.headcount = self.state.headcount(now)
        log.info(
            "restored %d active alarms, %d lamp records, %d places; %d underground",
            len(self.book),
            len(self.lamp.records),
            len(places),
            self.headcount.underground,
        )
        return self.headcount
