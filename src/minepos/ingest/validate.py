"""Validation of decoded measurements: known ids, sane values, timestamps near the server clock.

Kept apart from decoding: decoders check structure and types, the validator checks meaning
against the mine (known tags and anchors) and physics, so every format gets the same rules.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass

from minepos.measurement import EVENTS, Measurement

__all__ = ["ValidationLimits", "Validator"]


@dataclass(frozen=True, slots=True)
class ValidationLimits:
    """What counts as sane; the defaults suit UWB, BLE and LoRa hardware underground."""

    #: longest believable UWB range, metres (a few hundred in practice)
    max_range_m: float = 2000.0
    #: received signal strength bounds, dBm
    min_rssi_dbm: float = -140.0
    max_rssi_dbm: float = 20.0
    #: how far ahead of the server clock a timestamp may be (gateway clock drift), seconds
    max_future_s: float = 5.0
    #: how old a measurement may be when it arrives (gateway buffering), seconds
    max_age_s: float = 300.0
    #: bound on |x|, |y|, |z| of a position fix, metres
    max_coord_m: float = 1.0e6


class Validator:
    """Checks one measurement at a time and names the first problem found.

    ``known_tags`` / ``known_anchors`` are kept by reference (any container with ``in``), so the
    wiring layer may update a set in place when a tag is registered; ``None`` disables the check.
    """

    def __init__(
        self,
        known_tags: Collection[str] | None,
        known_anchors: Collection[str] | None,
        clock: Callable[[], float],
        limits: ValidationLimits | None = None,
    ) -> None:
        self.known_tags = known_tags
        self.known_anchors = known_anchors
        self.clock = clock
        self.limits = limits or ValidationLimits()

    def check(self, m: Measurement, now: float) -> tuple[str, str] | None:
        """``(code, reason)`` for the first problem of `m`, or None if it is acceptable."""
        lim = self.limits
        ts = m.ts
        if (  # the common case in one test: a known tag heard by a known anchor at a sane range
            m.range_m is not None
            and m.rssi_dbm is None
            and m.event is None
            and m.battery_pct is None
            and m.motion is None
            and m.xyz is None
            and (self.known_tags is None or m.tag in self.known_tags)
            and (self.known_anchors is None or m.anchor in self.known_anchors)
            and 0.0 <= m.range_m <= lim.max_range_m
            and now - lim.max_age_s <= ts <= now + lim.max_future_s
            and m.anchor is not None
            and type(ts) is float
        ):
            return None
        problem = self._check_time(ts, now)
        if problem is None:
            problem = self._check_ids(m)
        if problem is None:
            problem = self._check_values(m)
        return problem

    def _check_time(self, ts: float, now: float) -> tuple[str, str] | None:
        lim = self.limits
        if type(ts) is not float or not math.isfinite(ts):
            return ("bad_ts", f"ts: {ts!r:.40} is not a finite number of seconds")
        if ts > now + lim.max_future_s:
            hint = " (it looks like milliseconds: send seconds)" if ts > now * 100 else ""
            return (
                "ts_future",
                f"ts is {ts - now:.1f} s ahead of the server clock (max {lim.max_future_s:g} s)"
                + hint,
            )
        if ts < now - lim.max_age_s:
            return ("ts_stale", f"ts is {now - ts:.1f} s old (max {lim.max_age_s:g} s)")
        return None

    def _check_ids(self, m: Measurement) -> tuple[str, str] | None:
        tags = self.known_tags
        if tags is not None and m.tag not in tags:
            return ("unknown_tag", f"unknown tag {m.tag!r:.80}")
        anchors = self.known_anchors
        if m.anchor is not None and anchors is not None and m.anchor not in anchors:
            return ("unknown_anchor", f"unknown anchor {m.anchor!r:.80}")
        return None

    def _check_values(self, m: Measurement) -> tuple[str, str] | None:  # noqa: PLR0911
        lim = self.limits
        if m.range_m is not None and not (0.0 <= m.range_m <= lim.max_range_m):
            return ("bad_value", f"range_m: {m.range_m:g} is outside 0..{lim.max_range_m:g} m")
        if m.rssi_dbm is not None and not (lim.min_rssi_dbm <= m.rssi_dbm <= lim.max_rssi_dbm):
            bounds = f"{lim.min_rssi_dbm:g}..{lim.max_rssi_dbm:g} dBm"
            return ("bad_value", f"rssi_dbm: {m.rssi_dbm:g} is outside {bounds}")
        if m.battery_pct is not None and not (0.0 <= m.battery_pct <= 100.0):
            return ("bad_value", f"battery_pct: {m.battery_pct:g} is outside 0..100")
        if m.event is not None and m.event not in EVENTS:
            return (
                "unknown_event",
                f"unknown event {m.event!r:.40} (known: {', '.join(sorted(EVENTS))})",
            )
        if m.motion is not None and type(m.motion) is not bool:
            return ("malformed", "motion: expected true or false")
        if m.xyz is not None and not all(
            math.isfinite(c) and abs(c) <= lim.max_coord_m for c in m.xyz
        ):
            return ("bad_value", f"xyz: {m.xyz!r:.80} is not a finite position within the mine")
        if (
            m.anchor is None
            and m.event is None
            and m.motion is None
            and m.battery_pct is None
            and m.xyz is None
        ):
            return ("empty", "nothing measured: no anchor, event, motion, battery_pct or xyz")
        return None
