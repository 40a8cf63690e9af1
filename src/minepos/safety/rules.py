"""Alarm rules: each a small class over a small state that says, per subject, raise or clear.

A rule returns `Finding` s: ``on=True`` means the alarm should be active, ``on=False`` that it
should be cleared; saying nothing keeps it as it is. Raise and clear conditions differ (battery
under 20 % raises, over 25 % clears; a zone is left only past a margin; overcrowding clears only
after a quiet spell), which is the hysteresis that keeps alarms from flapping. `SafetyMonitor`
turns findings into alarm changes through the `AlarmBook`, which makes raising idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from minepos.safety.alarms import AlarmBook, AlarmKey
from minepos.safety.lamproom import LampRoom
from minepos.safety.settings import SafetySettings, Thresholds
from minepos.safety.state import Headcount, LiveState, TagState

__all__ = [
    "AnchorOfflineRule",
    "CardAnomalyRule",
    "Finding",
    "ForbiddenZoneRule",
    "LowBatteryRule",
    "ManDownRule",
    "NotReturnedRule",
    "OvercrowdingRule",
    "OvertimeRule",
    "RestrictedZoneRule",
    "Rule",
    "RuleContext",
    "SosRule",
    "TagLostRule",
    "TagRule",
    "default_rules",
]


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule says about one subject now."""

    key: AlarmKey
    on: bool
    at: float
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RuleContext:
    """What rules read: the time, the live state, the lamp room, active alarms, thresholds."""

    now: float
    dt: float
    state: LiveState
    lamp: LampRoom
    book: AlarmBook
    th: Thresholds
    settings: SafetySettings
    headcount: Headcount


def _tag_fields(st: TagState, zone: str | None = None) -> dict[str, Any]:
    z = zone if zone is not None else (min(st.zones) if st.zones else None)
    return {"tag": st.tag, "person": st.person, "zone": z, "details": {"place": st.place()}}


class Rule:
    """Base of every rule: ``kind`` names the alarm (CONTRACT section 6)."""

    kind: ClassVar[str]

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        """Findings for this tick."""
        raise NotImplementedError


class TagRule(Rule):
    """A rule about one tag at a time; the subject is the tag."""

    def candidates(self, ctx: RuleContext) -> Iterator[TagState]:
        """Tags underground plus those with this alarm active."""
        active = {subject for _, subject in ctx.book.keys(self.kind)}
        for st in ctx.state.tags.values():
            if st.underground or st.tag in active:
                yield st

    def judge(self, st: TagState, ctx: RuleContext) -> tuple[bool | None, float]:
        """(True raise / False clear / None keep, when)."""
        raise NotImplementedError

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        """Judge every candidate tag; say only what changes something."""
        active = {subject for _, subject in ctx.book.keys(self.kind)}
        for st in self.candidates(ctx):
            on, at = self.judge(st, ctx)
            if on is True and st.tag not in active:
                yield Finding((self.kind, st.tag), True, at, _tag_fields(st))
            elif on is False and st.tag in active:
                yield Finding((self.kind, st.tag), False, at)


class SosRule(TagRule):
    """The SOS button: raised at the press, cleared by ``sos_cancel`` or the lamp room."""

    kind = "sos"

    def candidates(self, ctx: RuleContext) -> Iterator[TagState]:
        """Any tag with a pending SOS, wherever it is, plus active ones."""
        active = {subject for _, subject in ctx.book.keys(self.kind)}
        return (s for s in ctx.state.tags.values() if s.sos_at is not None or s.tag in active)

    def judge(self, st: TagState, ctx: RuleContext) -> tuple[bool | None, float]:
        """On while the SOS stands."""
        return (True, st.sos_at) if st.sos_at is not None else (False, ctx.now)


class ManDownRule(TagRule):
    """No motion for ``man_down_s`` underground (tag still reporting), or a fall event."""

    kind = "man_down"

    def judge(self, st: TagState, ctx: RuleContext) -> tuple[bool | None, float]:
        """Raise on a fall or a long stillness; clear when the person moves or is up."""
        if not st.underground:
            return False, ctx.now
        if st.fall_at is not None:
            return True, st.fall_at
        if st.still_since is None:
            return False, ctx.now
        if st.silent_for(ctx.now) >= ctx.th.tag_lost_s:
            return None, ctx.now  # a silent tag is tag_lost's business; keep what we have
        return (True, ctx.now) if ctx.now - st.still_since >= ctx.th.man_down_s else (None, 0.0)


class TagLostRule(TagRule):
    """Underground and silent for ``tag_lost_s``; cleared when heard again or back up."""

    kind = "tag_lost"

    def judge(self, st: TagState, ctx: RuleContext) -> tuple[bool | None, float]:
        """Silence underground."""
        if not st.underground:
            return False, ctx.now
        return st.silent_for(ctx.now) >= ctx.th.tag_lost_s, ctx.now


class LowBatteryRule(TagRule):
    """Battery under the limit underground; clears only a margin above it."""

    kind = "low_battery"

    def judge(self, st: TagState, ctx: RuleContext) -> tuple[bool | None, float]:
        """Under ``low_battery_pct`` raises (never early); clears at ``low_battery_clear_pct``."""
        if not st.underground or st.battery_pct is None:
            return False, ctx.now
        if st.battery_pct < ctx.th.low_battery_pct:
            return True, ctx.now
        return (False, ctx.now) if st.battery_pct >= ctx.th.low_battery_clear_pct else (None, 0.0)


class OvertimeRule(TagRule):
    """Underground for longer than the shift (plus grace) in one stay."""

    kind = "overtime"

    def judge(self, st: TagState, ctx: RuleContext) -> tuple[bool | None, float]:
        """Measured from the descent, not from lamp_out (the walk to the shaft is not overtime)."""
        if not st.underground or st.down_since is None:
            return False, ctx.now
        limit = ctx.th.shift_h * 3600.0 + ctx.settings.overtime_grace_s
        return ctx.now - st.down_since >= limit, ctx.now


class CardAnomalyRule(TagRule):
    """Heard underground without a lamp_out (the lamp room does not know this person is down)."""

    kind = "card_anomaly"

    def judge(self, st: TagState, ctx: RuleContext) -> tuple[bool | None, float]:
        """Held for ``card_anomaly_hold_s`` so an estimate lagging a lamp_in does not raise it."""
        if not st.underground or ctx.lamp.is_out(st.tag) or st.down_since is None:
            return False, ctx.now
        return ctx.now - st.down_since >= ctx.settings.card_anomaly_hold_s, ctx.now


class _ZoneRule(Rule):
    """A rule about a tag inside a zone; the subject is ``tag@zone``."""

    def offends(self, st: TagState, zone: str, ctx: RuleContext) -> bool:
        raise NotImplementedError

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        """Raise for each offending (tag, zone); clear the active ones no longer offending.

        An estimate wobbling across a junction can touch a zone that begins there for a tick or
        three; so a stay counts once the estimate is ``zone_alarm_depth_m`` inside or has stayed
        ``zone_alarm_dwell_s``, and the alarm is then dated from the moment it entered.
        """
        want: set[AlarmKey] = set()
        depth_m = ctx.settings.zone_alarm_depth_m
        dwell_s = ctx.settings.zone_alarm_dwell_s
        for st in ctx.state.tags.values():
            for z in st.zones:
                key = (self.kind, f"{st.tag}@{z}")
                if not self.offends(st, z, ctx):
                    continue
                since = st.zone_since.get(z, ctx.now)
                if ctx.book.is_active(key):
                    want.add(key)
                elif ctx.state.depth(st, z) >= depth_m or ctx.now - since >= dwell_s:
                    want.add(key)
                    yield Finding(key, True, since, _tag_fields(st, z))
        for key in ctx.book.keys(self.kind):
            if key not in want:
                yield Finding(key, False, ctx.now)


class RestrictedZoneRule(_ZoneRule):
    """Inside a zone of kind ``restricted``."""

    kind = "restricted_zone"

    def offends(self, st: TagState, zone: str, ctx: RuleContext) -> bool:
        """Anyone in a restricted zone."""
        return ctx.state.mine.zones[ctx.state.mine.zone_index[zone]].kind == "restricted"


class ForbiddenZoneRule(_ZoneRule):
    """Inside a zone whose ``allowed_roles`` do not include the person's role."""

    kind = "forbidden_zone"

    def offends(self, st: TagState, zone: str, ctx: RuleContext) -> bool:
        """An unknown person (tag not in the registry) has no role and is never allowed."""
        allowed = ctx.state.mine.zones[ctx.state.mine.zone_index[zone]].allowed_roles
        return allowed is not None and st.role not in allowed


class OvercrowdingRule(Rule):
    """More people in a zone than its ``max_occupancy``; clears after a quiet spell."""

    kind = "overcrowding"

    def __init__(self) -> None:
        self._ok_since: dict[str, float] = {}

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        """Raise at once over the limit; clear after ``overcrowding_clear_s`` at or under it."""
        for zone in ctx.state.mine.zones:
            if zone.max_occupancy is None:
                continue
            count = ctx.headcount.by_zone.get(zone.id, 0)
            key = (self.kind, zone.id)
            fields = {"zone": zone.id, "details": {"count": count, "max": zone.max_occupancy}}
            if count > zone.max_occupancy:
                self._ok_since.pop(zone.id, None)
                yield Finding(key, True, ctx.now, fields)
            elif ctx.book.is_active(key):
                since = self._ok_since.setdefault(zone.id, ctx.now)
                if ctx.now - since >= ctx.settings.overcrowding_clear_s:
                    yield Finding(key, False, ctx.now)


class AnchorOfflineRule(Rule):
    """An anchor silent for ``anchor_offline_s`` while tags were where it should hear them.

    An anchor only reports what it hears, so silence alone is no fault where nobody walks. A tag
    counts as "should be heard" when it is surely placed (95 % interval under 5 m) in a 10 m cell
    where this anchor, while alive, heard the tags present at least 80 % of the time over at
    least 10 samples (its learned coverage: the cells where it heard tags and those within its
    sure range). Near junctions a UWB tag ranges only its nearest anchors, and the engine may
    confuse two close tunnels: such cells are heard only now and then and do not count. The rule
    raises when such tags were present for ``anchor_expect_s`` since the anchor was last heard.
    """

    kind = "anchor_offline"

    def __init__(self) -> None:
        self._expected: dict[str, tuple[float, float]] = {}  # anchor -> (heard at, seconds)

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        """Accumulate expected-but-silent time per anchor and judge."""
        start = ctx.state.started_at
        if start is None:
            return
        for a in ctx.state.mine.anchors:
            heard = ctx.state.anchor_heard.get(a.id, start)
            key = (self.kind, a.id)
            silent = ctx.now - heard
            if silent < ctx.th.anchor_offline_s / 4:
                self._expected.pop(a.id, None)
                if ctx.book.is_active(key):
                    yield Finding(key, False, ctx.now)
                continue
            since, seconds = self._expected.get(a.id, (heard, 0.0))
            if since != heard:
                since, seconds = heard, 0.0
            if ctx.state.covers(a.id):
                seconds += ctx.dt
            self._expected[a.id] = (since, seconds)
            if silent >= ctx.th.anchor_offline_s and seconds >= ctx.settings.anchor_expect_s:
                fields = {"anchor": a.id, "details": {"last_heard": heard}}
                yield Finding(key, True, ctx.now, fields)


class NotReturnedRule(Rule):
    """Went down (lamp_out) and had not come back (lamp_in) at the end of the shift."""

    kind = "not_returned"

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        """One alarm per tag still out after its shift; cleared by its lamp_in."""
        due = ctx.lamp.unaccounted(ctx.now, ctx.settings.not_returned_grace_s)
        seen = set()
        for u in due:
            key = (self.kind, u.tag)
            seen.add(key)
            zones = u.last_place.get("zones") or [None]
            details = {
                "place": u.last_place,
                "shift_end": u.shift_end,
                "went_down_at": u.went_down_at,
            }
            fields = {"tag": u.tag, "person": u.person, "zone": zones[0], "details": details}
            yield Finding(key, True, ctx.now, fields)
        for key in ctx.book.keys(self.kind):
            if key not in seen:
                yield Finding(key, False, ctx.now)


def default_rules() -> list[Rule]:
    """Every rule of CONTRACT section 6, in a fixed order."""
    return [
        SosRule(),
        ManDownRule(),
        RestrictedZoneRule(),
        ForbiddenZoneRule(),
        OvercrowdingRule(),
        OvertimeRule(),
        TagLostRule(),
        LowBatteryRule(),
        AnchorOfflineRule(),
        NotReturnedRule(),
        CardAnomalyRule(),
    ]
