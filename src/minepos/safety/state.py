"""Live state: per tag and person the current place, zones, level, status and last report.

`LiveState` eats raw measurements (status, events, which anchors are alive) and the engine's
estimates (places). Zone membership has a spatial hysteresis: a tag enters a zone the moment its
estimate is inside, and leaves only once it is ``zone_exit_margin_m`` past the boundary, so a
person standing on a boundary does not make the headcount and the zone alarms flap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from minepos.engine.estimate import Estimate, Span
from minepos.measurement import Measurement
from minepos.mine import Mine
from minepos.safety.events import ZoneTransition
from minepos.safety.settings import SafetySettings

__all__ = [
    "COVERAGE_CELL_M",
    "Headcount",
    "LiveState",
    "PersonLike",
    "RegistryPerson",
    "TagState",
    "TagStatus",
]

log = logging.getLogger(__name__)

TagStatus = Literal["moving", "motionless", "sos", "lost", "surface"]


class PersonLike(Protocol):
    """A person of the mine file or of a roster: id, name, role and the tag they carry."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def tag(self) -> str: ...


class RegistryPerson(Protocol):
    """A person of the people registry, where the tag may not be issued yet."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def tag(self) -> str | None: ...


#: a zone re-entered within this many seconds continues the stay (an estimate flickering at a
#: junction), so zone alarms are dated from the first entry
_REJOIN_S = 5.0

#: cell size of the learned anchor coverage (where tags were when an anchor heard them)
COVERAGE_CELL_M = 10.0
#: only tags placed this surely (95 % interval length) teach or use the coverage
COVERAGE_SURE_M = 5.0
#: cells farther than this from the anchor are not learned (the edge of the radio range)
COVERAGE_MAX_M = 50.0
#: coverage is learned on every this many seconds
COVERAGE_EVERY_S = 3


@dataclass(slots=True)
class TagState:
    """Everything known now about one tag and the person carrying it."""

    tag: str
    person: str | None = None
    name: str | None = None
    role: str | None = None
    tunnel: str | None = None
    offset_m: float | None = None
    xyz: tuple[float, float, float] | None = None
    interval: tuple[Span, ...] = ()
    uncertainty_m: float | None = None
    speed_mps: float = 0.0
    level: str | None = None
    zones: frozenset[str] = frozenset()
    #: when the current stay in each zone began
    zone_since: dict[str, float] = field(default_factory=dict)
    #: zones left a moment ago: (left at, stay began at), so a flicker does not restart a stay
    zone_left: dict[str, tuple[float, float]] = field(default_factory=dict)
    placed_at: float | None = None
    first_heard: float | None = None
    last_measurement: float | None = None
    motion: bool | None = None
    still_since: float | None = None
    battery_pct: float | None = None
    sos_at: float | None = None
    fall_at: float | None = None
    underground: bool = False
    #: when this stay underground began (reset on the surface), for overtime and card anomalies
    down_since: float | None = None
    lamp_in_at: float | None = None

    @property
    def who(self) -> str:
        """The person id, or the tag when the tag is not issued to anyone known."""
        return self.person or self.tag

    def silent_for(self, now: float) -> float:
        """Seconds since the tag was last heard (infinite if never)."""
        return float("inf") if self.last_measurement is None else now - self.last_measurement

    def status(self, now: float, tag_lost_s: float) -> TagStatus:
        """moving, motionless, sos, lost, or surface."""
        if not self.underground:
            return "surface"
        if self.sos_at is not None:
            return "sos"
        if self.silent_for(now) >= tag_lost_s:
            return "lost"
        return "motionless" if self.motion is False else "moving"

    def place(self) -> dict[str, Any]:
        """Last known place, as the rescue team reads it."""
        return {
            "tunnel": self.tunnel,
            "offset_m": self.offset_m,
            "level": self.level,
            "zones": sorted(self.zones),
            "interval": [
                {"tunnel": s.tunnel, "from_m": s.from_m, "to_m": s.to_m} for s in self.interval
            ],
            "at": self.placed_at,
        }


@dataclass(frozen=True, slots=True)
class Headcount:
    """People underground, in total, per level and per zone, at ``ts``."""

    ts: float
    underground: int
    by_level: dict[str, int]
    by_zone: dict[str, int]
    people: frozenset[str] = field(default_factory=frozenset)

    def counts(self) -> tuple[int, dict[str, int], dict[str, int]]:
        """The numbers without the time (to see whether anything changed)."""
        return self.underground, self.by_level, self.by_zone


def _surface_levels(mine: Mine, settings: SafetySettings) -> frozenset[str]:
    if settings.surface_levels is not None:
        return frozenset(settings.surface_levels)
    out = {lv.id for lv in mine.levels if "surface" in f"{lv.id} {lv.name}".lower()}
    for z in mine.zones:
        if z.kind == "lamp_room" and z.spans:
            s = z.spans[0]
            out.add(mine.level_at(s.tunnel, (s.from_m + s.to_m) / 2))
    return frozenset(out)


def _zone_edges(mine: Mine) -> dict[str, list[tuple[str, float, float, bool, bool]]]:
    """Per zone its spans, with whether each end is a real boundary (not joined to another span
    of the same zone at a node)."""
    out: dict[str, list[tuple[str, float, float, bool, bool]]] = {}
    for z in mine.zones:
        spans = []
        for s in z.spans:
            t = mine.tunnels[mine.tunnel_index[s.tunnel]]
            lo_open = not (s.from_m <= 1e-6 and _joined(mine, z.spans, s, t.from_node))
            hi_open = not (s.to_m >= t.length_m - 1e-6 and _joined(mine, z.spans, s, t.to_node))
            spans.append((s.tunnel, s.from_m, s.to_m, lo_open, hi_open))
        out[z.id] = spans
    return out


def _joined(mine: Mine, spans: Sequence[Any], own: Any, node: str) -> bool:
    """Whether another span of the zone touches ``node``."""
    for s in spans:
        if s is own:
            continue
        t = mine.tunnels[mine.tunnel_index[s.tunnel]]
        if (t.from_node == node and s.from_m <= 1e-6) or (
            t.to_node == node and s.to_m >= t.length_m - 1e-6
        ):
            return True
    return False


class LiveState:
    """Per-tag state of the whole mine, updated by measurements and estimates."""

    def __init__(
        self,
        mine: Mine,
        settings: SafetySettings | None = None,
        people: Sequence[PersonLike] = (),
    ) -> None:
        self.mine = mine
        self.settings = settings or SafetySettings()
        self.tags: dict[str, TagState] = {}
        self.anchor_heard: dict[str, float] = {}
        #: per anchor and place (tunnel, 10 m cell) where it has heard a tag: ticks a tag was
        #: surely there while the anchor was alive, and ticks it heard one there
        self.coverage: dict[str, dict[tuple[str, int], list[int]]] = {}
        #: cells holding a freshly and surely placed tag at the last tick
        self.occupied: set[tuple[str, int]] = set()
        self._heard: list[tuple[str, str]] = []
        self.started_at: float | None = None
        self.surface_levels = _surface_levels(mine, self.settings)
        self.surface_zones = frozenset(z.id for z in mine.zones if z.kind == "lamp_room")
        # a roster (CSV import) adds to and overrides the people of the mine file, by tag
        self._people: dict[str, RegistryPerson] = {p.tag: p for p in mine.people}
        self._people.update({p.tag: p for p in people})
        self._zone_ids = np.array([z.id for z in mine.zones], dtype=object)
        self._edges = _zone_edges(mine)
        self._near_anchors = self._anchors_by_tunnel()
        self._far: dict[tuple[str, tuple[str, int]], bool] = {}

    def set_people(self, people: Iterable[RegistryPerson]) -> None:
        """Replace who carries which tag (the registry after an edit, delete or roster import).

        Tags already seen take the new person id, name and role at once (the forbidden-zone
        rules read the role); a tag nobody carries any more keeps its state but no person.
        People without a tag are skipped.
        """
        self._people = {p.tag: p for p in people if p.tag is not None}
        for tag, st in self.tags.items():
            p = self._people.get(tag)
            st.person, st.name, st.role = (p.id, p.name, p.role) if p else (None, None, None)

    def tag(self, tag: str) -> TagState:
        """The state of a tag, created on first sight."""
        st = self.tags.get(tag)
        if st is None:
            p = self._people.get(tag)
            st = TagState(tag, p.id if p else None, p.name if p else None, p.role if p else None)
            self.tags[tag] = st
        return st

    def observe(self, measurements: Iterable[Measurement]) -> list[Measurement]:
        """Take raw measurements; return the lamp room events among them, in order."""
        lamp: list[Measurement] = []
        heard, tags, pairs = self.anchor_heard, self.tags, self._heard
        for m in measurements:
            ts, anchor = m.ts, m.anchor
            if self.started_at is None:
                self.started_at = ts
            if anchor is not None:
                if ts > heard.get(anchor, -np.inf):
                    heard[anchor] = ts
                pairs.append((anchor, m.tag))
            event = m.event
            if event in {"lamp_out", "lamp_in"}:
                lamp.append(m)  # the lamp room's reader, not the tag itself speaking
                continue
            st = tags.get(m.tag) or self.tag(m.tag)
            if st.first_heard is None:
                st.first_heard = ts
            if st.last_measurement is None or ts > st.last_measurement:
                st.last_measurement = ts
            if event is not None or m.motion is not None or m.battery_pct is not None:
                self._status(st, m)
        return lamp

    @staticmethod
    def _status(st: TagState, m: Measurement) -> None:
        if m.motion is not None:
            if m.motion:
                st.still_since = None
                st.fall_at = None
            elif st.still_since is None:
                st.still_since = m.ts
            st.motion = m.motion
        if m.battery_pct is not None:
            st.battery_pct = m.battery_pct
        if m.event == "sos" and st.sos_at is None:
            st.sos_at = m.ts
        elif m.event == "sos_cancel":
            st.sos_at = None
        elif m.event == "fall" and st.fall_at is None:
            st.fall_at = m.ts

    def place(self, estimates: Sequence[Estimate]) -> list[ZoneTransition]:
        """Take the engine's estimates; return the zone entries and exits they cause."""
        stale = self.settings.stale_estimate_s
        known = [
            e
            for e in estimates
            if e.tunnel in self.mine.tunnel_index and e.ts - e.last_seen <= stale
        ]
        if not known:
            return []
        idx = np.array([self.mine.tunnel_index[e.tunnel] for e in known], dtype=np.intp)
        off = np.array([e.offset_m for e in known], dtype=np.float64)
        margin = self.settings.zone_exit_margin_m
        inside = self.mine.zone_mask(idx, off)
        near = (
            inside | self.mine.zone_mask(idx, off - margin) | self.mine.zone_mask(idx, off + margin)
        )
        levels = self.mine.level_index_at(idx, off)
        out: list[ZoneTransition] = []
        zoned = np.logical_or(inside.any(axis=1), near.any(axis=1)).tolist()
        level_ids = [lv.id for lv in self.mine.levels]
        for i, e in enumerate(known):
            st = self.tags.get(e.tag) or self.tag(e.tag)
            if zoned[i] or st.zones:
                self._move_zones(st, e, inside[i], near[i], out)
            st.tunnel, st.offset_m, st.xyz = e.tunnel, e.offset_m, e.xyz
            st.interval, st.uncertainty_m, st.speed_mps = e.interval, e.uncertainty_m, e.speed_mps
            st.level = level_ids[levels[i]]
            st.placed_at = e.ts
            self._set_underground(st, e.ts)
        return out

    def _move_zones(
        self,
        st: TagState,
        e: Estimate,
        inside: np.ndarray,
        near: np.ndarray,
        out: list[ZoneTransition],
    ) -> None:
        """Zone entries at once, exits past the margin; a quick re-entry continues the stay."""
        now_in = frozenset(self._zone_ids[inside])
        stay = frozenset(z for z in st.zones if near[self.mine.zone_index[z]])
        zones = now_in | stay
        if zones == st.zones:
            return
        for z in sorted(zones - st.zones):
            out.append(ZoneTransition(e.ts, e.tag, st.person, z, "enter"))
            left = st.zone_left.pop(z, None)
            rejoined = left is not None and e.ts - left[0] <= _REJOIN_S
            st.zone_since[z] = left[1] if left is not None and rejoined else e.ts
        for z in sorted(st.zones - zones):
            out.append(ZoneTransition(e.ts, e.tag, st.person, z, "leave"))
            st.zone_left[z] = (e.ts, st.zone_since.pop(z, e.ts))
        st.zones = zones

    def _set_underground(self, st: TagState, ts: float) -> None:
        settling = st.lamp_in_at is not None and ts - st.lamp_in_at < self.settings.lamp_in_settle_s
        # just after lamp_in the estimate may still lag below ground: the lamp room is believed
        st.underground = not settling and not self.on_surface(st)
        if not st.underground:
            st.down_since = None
        elif st.down_since is None:
            st.down_since = ts

    def _cell(self, st: TagState, now: float) -> tuple[str, int] | None:
        """The 10 m cell of a tag placed this tick with an interval no longer than a cell."""
        if st.tunnel is None or st.offset_m is None or st.placed_at is None:
            return None
        if now - st.placed_at > 2.0 or (st.uncertainty_m or 0.0) > COVERAGE_SURE_M:
            return None
        return st.tunnel, int(st.offset_m // COVERAGE_CELL_M)

    def depth(self, st: TagState, zone: str) -> float:
        """How far inside ``zone`` the tag's estimate is, from the nearest real boundary."""
        best = 0.0
        off = st.offset_m
        if off is None:
            return best
        for tunnel, lo, hi, lo_open, hi_open in self._edges.get(zone, ()):
            if tunnel == st.tunnel and lo <= off <= hi:
                d = min(off - lo if lo_open else np.inf, hi - off if hi_open else np.inf)
                best = max(best, float(d))
        return best

    def learn_coverage(self, now: float) -> None:
        """Learn, per anchor, how reliably it hears tags in each place it has heard one.

        Sampled every `COVERAGE_EVERY_S` seconds: a share needs no more, and it keeps the cost
        of 14,000 tags low.
        """
        self.occupied = {c for st in self.tags.values() if (c := self._cell(st, now))}
        if int(now) % COVERAGE_EVERY_S:
            self._heard.clear()
            return
        heard: dict[str, set[tuple[str, int]]] = {}
        for anchor, tag in self._heard:
            st = self.tags.get(tag)
            cell = self._cell(st, now) if st is not None else None
            if cell is not None:
                heard.setdefault(anchor, set()).add(cell)
                self._track_cell(anchor, cell)
        self._heard.clear()
        self._watch_near_cells()
        for anchor, cells in self.coverage.items():
            if now - self.anchor_heard.get(anchor, -1e18) > 5.0:
                continue  # learn only while the anchor is alive
            got = heard.get(anchor, set())
            for cell, counts in cells.items():
                if cell in self.occupied:
                    counts[0] += 1
                    counts[1] += cell in got

    def _anchors_by_tunnel(self) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
        """Per tunnel: anchor offsets, their sure ranges and ids."""
        out: dict[str, tuple[list[float], list[float], list[str]]] = {}
        for a in self.mine.anchors:
            reach = 0.5 * a.range_m if a.range_m else self.settings.anchor_range_m.get(a.tech, 30.0)
            offs, reaches, ids = out.setdefault(a.tunnel, ([], [], []))
            offs.append(a.offset_m)
            reaches.append(reach)
            ids.append(a.id)
        return {t: (np.asarray(o), np.asarray(r), i) for t, (o, r, i) in out.items()}

    def _watch_near_cells(self) -> None:
        """Track occupied cells within an anchor's sure range too, heard there or not.

        Without this a place where an anchor never hears anyone (round a corner, or where the
        engine confuses two close tunnels) would look like a place without knowledge.
        """
        for tunnel, k in self.occupied:
            near = self._near_anchors.get(tunnel)
            if near is None:
                continue
            offs, reaches, ids = near
            centre = (k + 0.5) * COVERAGE_CELL_M
            for j in np.flatnonzero(np.abs(offs - centre) <= reaches).tolist():
                self._track_cell(ids[j], (tunnel, k))

    def _track_cell(self, anchor: str, cell: tuple[str, int]) -> None:
        """Start counting a cell for an anchor, unless it lies beyond `COVERAGE_MAX_M`.

        Far cells sit near the edge of the radio range, where a metre decides; they would teach
        a reliability that does not hold for the next tag.
        """
        cells = self.coverage.setdefault(anchor, {})
        if cell in cells or anchor not in self.mine.anchor_index:
            return
        key = (anchor, cell)
        far = self._far.get(key)
        if far is None:
            a = self.mine.anchors[self.mine.anchor_index[anchor]]
            centre = self.mine.point_at_one(cell[0], (cell[1] + 0.5) * COVERAGE_CELL_M)
            far = self._far[key] = bool(np.linalg.norm(centre - np.asarray(a.xyz)) > COVERAGE_MAX_M)
        if not far:
            cells[cell] = [0, 0]

    def covers(self, anchor: str, min_ticks: int = 10, min_share: float = 0.8) -> bool:
        """True if a tag sits now where this anchor, while alive, heard tags reliably."""
        cells = self.coverage.get(anchor)
        if not cells:
            return False
        return any(
            c in self.occupied and n >= min_ticks and k >= min_share * n
            for c, (n, k) in cells.items()
        )

    def on_surface(self, st: TagState) -> bool:
        """True where the place is on a surface level or in the lamp room."""
        return st.level in self.surface_levels or bool(st.zones & self.surface_zones)

    def headcount(self, ts: float) -> Headcount:
        """Count each person underground once, by their level and zones."""
        by_level: dict[str, int] = {}
        by_zone: dict[str, int] = {}
        people: set[str] = set()
        for st in self.tags.values():
            if not st.underground or st.who in people:
                continue
            people.add(st.who)
            if st.level is not None:
                by_level[st.level] = by_level.get(st.level, 0) + 1
            for z in st.zones:
                by_zone[z] = by_zone.get(z, 0) + 1
        return Headcount(ts, len(people), by_level, by_zone, frozenset(people))
