"""Rows, headcount and health figures built from the safety monitor (in the safety thread)."""

from __future__ import annotations

from collections import deque
from typing import Any

from minepos.safety.monitor import SafetyMonitor
from minepos.safety.publisher import headcount_payload
from minepos.safety.state import TagState

__all__ = ["RateMeter", "headcount_of", "position_row", "positions_of", "system_of"]


def position_row(st: TagState, now: float, tag_lost_s: float) -> dict[str, Any]:
    """A tag's state as a `PositionPublic` row (CONTRACT section 4)."""
    return {
        "tag": st.tag,
        "person": st.person,
        "tunnel": st.tunnel,
        "offset_m": None if st.offset_m is None else round(st.offset_m, 2),
        "xyz": None if st.xyz is None else [round(v, 2) for v in st.xyz],
        "level": st.level,
        "zone": min(st.zones) if st.zones else None,
        "interval": [
            {"tunnel": s.tunnel, "from_m": round(s.from_m, 2), "to_m": round(s.to_m, 2)}
            for s in st.interval
        ],
        "uncertainty_m": None if st.uncertainty_m is None else round(st.uncertainty_m, 2),
        "speed_mps": round(st.speed_mps, 2),
        "updated_at": st.placed_at,
        "status": st.status(now, tag_lost_s),
    }


def positions_of(monitor: SafetyMonitor, now: float) -> dict[str, dict[str, Any]]:
    """Rows of every placed tag by tag (underground or on the surface)."""
    lost = monitor.th.tag_lost_s
    return {
        tag: position_row(st, now, lost)
        for tag, st in monitor.state.tags.items()
        if st.xyz is not None
    }


def headcount_of(monitor: SafetyMonitor, now: float) -> dict[str, Any]:
    """`HeadcountPublic` from the monitor's last headcount and the lamp room."""
    return headcount_payload(monitor.headcount, monitor.unaccounted(now))


class RateMeter:
    """Per-second rate of a growing counter over the last ``window_s``."""

    def __init__(self, window_s: float = 60.0) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, ts: float, total: int) -> float:
        """Record the counter at ``ts``; return its rate over the window."""
        self._samples.append((ts, total))
        while len(self._samples) > 2 and self._samples[0][0] < ts - self.window_s:
            self._samples.popleft()
        t0, c0 = self._samples[0]
        return 0.0 if ts <= t0 else (total - c0) / (ts - t0)


def system_of(monitor: SafetyMonitor, now: float) -> dict[str, Any]:
    """Anchors online and tags underground still reporting (the runtime adds the rates)."""
    # offline as the anchor_offline rule sees it: silent while tags were in its range
    anchors = [a.id for a in monitor.mine.anchors]
    offline = sorted(subject for _, subject in monitor.book.keys("anchor_offline"))
    lost_cut = now - monitor.th.tag_lost_s
    reporting = sum(
        1
        for st in monitor.state.tags.values()
        if st.underground and st.last_measurement is not None and st.last_measurement >= lost_cut
    )
    underground = sum(1 for st in monitor.state.tags.values() if st.underground)
    return {
        "ts": now,
        "anchors_total": len(anchors),
        "anchors_online": len(anchors) - len(offline),
        "tags_total": underground,
        "tags_reporting": reporting,
        "offline_anchors": offline[:200],
    }
