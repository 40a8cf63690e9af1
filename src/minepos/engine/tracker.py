"""The tracker: one graph particle filter per tag, all tags advanced together in ticks.

Usage::

    tracker = Tracker(mine, TrackerConfig(), rng=np.random.default_rng(7))
    tracker.add(measurements)          # buffers; any order, any tags
    estimates = tracker.step(now)      # one Estimate per tracked tag at time `now`

A tag is tracked from its first anchor measurement (or its ``lamp_out`` at the lamp room) and
dropped at ``lamp_in`` or after ``forget_s`` of silence. Measurements later than ``now`` stay
buffered for a later tick. The same seed and the same calls give exactly the same estimates.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np
from numpy.typing import NDArray

from minepos.engine.config import TrackerConfig
from minepos.engine.estimate import Estimate, Span, make_estimate, make_span
from minepos.engine.initiator import ParticleInitiator
from minepos.engine.interval import TUNNEL_KEY
from minepos.engine.kalman import KALMAN, WHY
from minepos.engine.kernel import run_tick
from minepos.engine.likelihood import KIND_FIX, KIND_PRESENCE, KIND_RANGE, KIND_RSSI
from minepos.engine.particles import ParticleStore
from minepos.engine.rng import seed_state
from minepos.engine.tables import TECH_UWB, MineTables, NetworkSamples, build_tables
from minepos.measurement import Measurement
from minepos.mine import Mine

__all__ = ["Tracker"]

log = logging.getLogger(__name__)
_by_ts = attrgetter("ts")
#: an anchor within this distance along the tunnel of a tag should hear it (m)
_NEAR_M = 15.0
#: ... if the tag's 95 % interval is one stretch narrower than this (m)
_SURE_M = 5.0
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _near_groups(tab: MineTables) -> list[tuple[IntArray, FloatArray, float]]:
    """UWB anchors, then readers, each sorted by ``(tunnel, offset)`` key, with the distance at
    which they should hear a tag: `_NEAR_M` for UWB, half the shortest range for readers."""
    groups = []
    uwb = tab.a_tech == TECH_UWB
    for group, near in ((uwb, _NEAR_M), (~uwb, 0.5 * float(tab.a_range[~uwb].min(initial=1e9)))):
        idx = np.flatnonzero(group)
        if len(idx):
            order = idx[np.lexsort((tab.a_off[idx], tab.a_tun[idx]))]
            groups.append((order, tab.a_tun[order] * TUNNEL_KEY + tab.a_off[order], near))
    return groups


@dataclass
class _Batch:
    """One tick's anchor measurements as parallel lists."""

    slot: list[int] = field(default_factory=list)
    ts: list[float] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    anchor: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    #: (row, xyz) of the position fixes; every other row's xyz is zero
    fixes: list[tuple[int, tuple[float, float, float]]] = field(default_factory=list)


@dataclass
class _Sorted:
    """The batch as arrays sorted by slot, then time."""

    slot: IntArray
    ts: FloatArray
    kind: IntArray
    anchor: IntArray
    value: FloatArray
    xyz: FloatArray


@dataclass
class _Out:
    """The kernel's outputs, one row per tracked slot."""

    t: IntArray
    s: FloatArray
    v: FloatArray
    n: IntArray
    st: IntArray
    slo: FloatArray
    shi: FloatArray


class Tracker:
    """Graph particle filter for every tag of one mine (see docs/engine.md).

    Parameters
    ----------
    mine
        The mine model; anchors are looked up by id in it.
    config
        Filter settings; the defaults are those the accuracy benchmark chose.
    rng
        Source of all randomness; the same seed replays exactly.
    """

    def __init__(
        self,
        mine: Mine,
        config: TrackerConfig | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.mine = mine
        self.config = config or TrackerConfig()
        self.rng = rng if rng is not None else np.random.default_rng(0)
        samples = NetworkSamples(mine)
        self.tables = build_tables(mine, self.config, samples)
        self.initiator = ParticleInitiator(mine, self.tables, self.config, samples)
        self.store = ParticleStore(max(self.config.particles, self.config.particles_zones))
        self._params = self.config.params()
        self._tunnel_ids = [t.id for t in mine.tunnels]
        self._buffer: list[Measurement] = []
        self._slot: dict[str, int] = {}
        self._motion: dict[str, bool] = {}
        #: when each anchor was last heard (NaN: never since the tracker started)
        self._anchor_last = np.full(len(mine.anchors), np.nan)
        #: when a confidently placed tag last stood where each anchor should have heard it
        self._anchor_near = np.full(len(mine.anchors), -np.inf)
        self._started: float | None = None
        self._near_groups = _near_groups(self.tables)
        #: the last step's estimates; by tag only when `estimate` is first asked after a step
        self._last_list: list[Estimate] = []
        self._last: dict[str, Estimate] | None = {}
        #: measurements skipped, by reason (for example an anchor the mine does not know)
        self.skipped: Counter[str] = Counter()
        self._why = np.zeros(len(WHY), dtype=np.int64)

    # -- public API ---------------------------------------------------------------------------
    def add(self, measurements: Iterable[Measurement]) -> None:
        """Buffer measurements for the next ``step`` (any order, any tags)."""
        self._buffer.extend(measurements)

    def step(self, now: float) -> list[Estimate]:
        """Advance every tag to ``now`` with the buffered measurements up to ``now``."""
        batch, lamp, drop = self._collect(self._take_due(now))
        for tag in drop:
            self.drop(tag)
        b = self._sorted(batch)
        slots = np.flatnonzero(self.store.used).astype(np.int64)
        if len(slots) == 0:
            self._last_list, self._last = [], {}
            return []
        ptr = np.append(np.searchsorted(b.slot, slots, side="left"), len(b.slot)).astype(np.int64)
        self._seed(slots, ptr, b, lamp)
        gauged = b.kind != KIND_PRESENCE
        np.maximum.at(self.store.gauged, b.slot[gauged], b.ts[gauged])
        out = self._run(now, slots, ptr, b)
        self.store.moving[self.store.moving == 2] = 1
        if len(b.slot):
            np.maximum.at(self.store.last_seen, b.slot, b.ts)
        estimates = self._estimates(now, slots, out)
        self._note_near(now, out)
        self._forget(now)
        return estimates

    def estimate(self, tag: str) -> Estimate | None:
        """The tag's estimate from the last ``step``, or None if it is not tracked."""
        if tag not in self._slot:
            return None
        if self._last is None:
            self._last = {e.tag: e for e in self._last_list}
        return self._last.get(tag)

    @property
    def kalman_share(self) -> float:
        """Share of the tracked tags that the Kalman fast path follows (docs/engine.md)."""
        used = self.store.used
        return float(np.mean(self.store.mode[used] == KALMAN)) if used.any() else 0.0

    @property
    def kalman_exits(self) -> dict[str, int]:
        """How often tags left the Kalman fast path for particles since start, by reason."""
        return dict(zip(WHY, self._why.tolist(), strict=True))

    @property
    def tags(self) -> list[str]:
        """Tags being tracked."""
        return sorted(self._slot)

    def drop(self, tag: str) -> None:
        """Stop tracking ``tag`` (it left the mine)."""
        slot = self._slot.pop(tag, None)
        if slot is not None:
            self.store.release(slot)
        if self._last is not None:
            self._last.pop(tag, None)

    # -- one tick -----------------------------------------------------------------------------
    def _take_due(self, now: float) -> list[Measurement]:
        buf = self._buffer
        if not buf:
            return []
        if max(map(_by_ts, buf)) <= now:
            self._buffer = []
            return buf
        self._buffer = [m for m in buf if m.ts > now]
        return [m for m in buf if m.ts <= now]

    def _slot_of(self, tag: str, ts: float) -> int:
        slot = self._slot.get(tag)
        if slot is None:
            slot = self.store.take(tag, ts, self._motion.pop(tag, None))
            self._slot[tag] = slot
        return slot

    def _collect(self, due: list[Measurement]) -> tuple[_Batch, dict[int, float], set[str]]:
        """Sort a tick's measurements into the batch; handle events, motion flags and fixes.

        Anchor measurements (nearly all of them) go through list comprehensions rather than one
        Python loop with branches: at 14,000 tags this loop is a third of the tick.
        """
        batch = _Batch()
        lamp: dict[int, float] = {}
        drop: set[str] = set()
        # events and motion flags in time order (anchor measurements are sorted in `_sorted`)
        for m in sorted(
            [m for m in due if m.event is not None or m.motion is not None or m.xyz is not None],
            key=_by_ts,
        ):
            if m.event is not None:
                self._event(m, lamp, drop)
            if m.motion is not None:
                self._set_motion(m.tag, m.motion)
            if m.anchor is None and m.xyz is not None:
                batch.fixes.append((len(batch.slot), m.xyz))
                batch.slot.append(self._slot_of(m.tag, m.ts))
                batch.ts.append(m.ts)
                batch.kind.append(KIND_FIX)
                batch.anchor.append(0)
                batch.value.append(0.0)
        index = self.mine.anchor_index
        heard = [(m, index.get(m.anchor, -1)) for m in due if m.anchor is not None]
        if any(a < 0 for _, a in heard):
            self.skipped["unknown anchor"] += sum(1 for _, a in heard if a < 0)
            heard = [(m, a) for m, a in heard if a >= 0]
        if not heard:
            return batch, lamp, drop
        slots = self._slot
        slot = [slots.get(m.tag, -1) for m, _ in heard]
        for i in [i for i, k in enumerate(slot) if k < 0]:
            slot[i] = self._slot_of(heard[i][0].tag, heard[i][0].ts)
        ts = [m.ts for m, _ in heard]
        anchor = [a for _, a in heard]
        np.fmax.at(self._anchor_last, anchor, ts)
        batch.slot += slot
        batch.ts += ts
        batch.anchor += anchor
        batch.kind += [
            KIND_RANGE
            if m.range_m is not None
            else KIND_RSSI
            if m.rssi_dbm is not None
            else KIND_PRESENCE
            for m, _ in heard
        ]
        batch.value += [
            m.range_m if m.range_m is not None else m.rssi_dbm if m.rssi_dbm is not None else 0.0
            for m, _ in heard
        ]
        return batch, lamp, drop

    def _event(self, m: Measurement, lamp: dict[int, float], drop: set[str]) -> None:
        if m.event == "lamp_in":
            drop.add(m.tag)
        elif m.event == "lamp_out":
            drop.discard(m.tag)
            if m.tag not in self._slot and self.initiator.has_lamp_room:
                lamp[self._slot_of(m.tag, m.ts)] = m.ts

    def _set_motion(self, tag: str, moving: bool) -> None:
        slot = self._slot.get(tag)
        if slot is None:
            self._motion[tag] = moving
        else:
            was = self.store.moving[slot]
            self.store.moving[slot] = (2 if was == 0 else max(was, 1)) if moving else 0

    def _sorted(self, batch: _Batch) -> _Sorted:
        slot = np.asarray(batch.slot, dtype=np.int64)
        ts = np.asarray(batch.ts, dtype=np.float64)
        xyz = np.zeros((len(slot), 3))  # a list of a zero tuple per range cost more to convert
        for i, p in batch.fixes:
            xyz[i] = p
        order = np.lexsort((ts, slot))
        order = order[self.store.used[slot[order]]]  # tags dropped in this tick (lamp_in) leave
        return _Sorted(
            slot[order],
            ts[order],
            np.asarray(batch.kind, dtype=np.int64)[order],
            np.asarray(batch.anchor, dtype=np.int64)[order],
            np.asarray(batch.value, dtype=np.float64)[order],
            xyz[order],
        )

    def _seed(self, slots: IntArray, ptr: IntArray, b: _Sorted, lamp: dict[int, float]) -> None:
        """Place the particles of new tags, and of tags whose particles fit nothing any more."""
        st = self.store
        lost = st.bad[slots] >= self.config.lost_ticks
        for i in np.flatnonzero(st.fresh[slots] | (lost & (ptr[1:] > ptr[:-1]))):
            k = int(slots[i])
            j0, j1 = int(ptr[i]), int(ptr[i + 1])
            if st.bad[k] >= self.config.lost_ticks:
                log.info("re-initialised lost tag %s", st.tags[k])
            if j1 > j0:
                j = j0 + ParticleInitiator.best(b.kind[j0:j1], b.value[j0:j1])
                cand = self.initiator.candidates(
                    int(b.kind[j]), int(b.anchor[j]), float(b.value[j]), b.xyz[j]
                )
                zones = bool(b.kind[j] == KIND_PRESENCE)
                st.place(k, *self.initiator.draw(cand, self.rng, zones), float(b.ts[j0]))
                continue
            drawn = self.initiator.lamp_room(self.rng)
            if drawn is not None:
                st.place(k, *drawn, lamp.get(k, float(st.time[k])))

    def _run(self, now: float, slots: IntArray, ptr: IntArray, b: _Sorted) -> _Out:
        n, k_max = len(slots), self.config.max_spans
        out = _Out(
            np.zeros(n, dtype=np.int64),
            np.zeros(n),
            np.zeros(n),
            np.zeros(n, dtype=np.int64),
            np.zeros((n, k_max), dtype=np.int64),
            np.zeros((n, k_max)),
            np.zeros((n, k_max)),
        )
        # An anchor has failed when it heard nothing for `reader_alive_s` while tags stood
        # where it should have heard them; its silence then says nothing about the tags near
        # it. An anchor in a quiet part of the mine, with nobody to hear, counts as alive: a
        # quiet anchor taken for failed let mirror images by it outweigh the truth beside a
        # live one, whose silence still counted.
        if self._started is None:
            self._started = now
        window = self.config.reader_alive_s
        last = np.where(np.isnan(self._anchor_last), self._started, self._anchor_last)
        alive = (last >= now - window) | (self._anchor_near < now - window)
        st = self.store
        run_tick(
            self.tables,
            self._params,
            seed_state(self.rng),
            float(now),
            slots,
            st.pt,
            st.ps,
            st.pv,
            st.lw,
            st.time,
            st.moving,
            st.bad,
            st.live,
            st.last_seen,
            st.gauged,
            st.mode,
            st.kx,
            st.kp,
            st.kt,
            st.kmiss,
            self._why,
            ptr,
            b.ts,
            b.kind,
            b.anchor,
            b.value,
            b.xyz,
            alive,
            out.t,
            out.s,
            out.v,
            out.n,
            out.st,
            out.slo,
            out.shi,
        )
        return out

    def _estimates(self, now: float, slots: IntArray, out: _Out) -> list[Estimate]:
        xyz = self.mine.point_at(out.t, out.s).tolist()
        ids = self._tunnel_ids
        tags = self.store.tags
        k_max = out.st.shape[1]
        width = np.where(np.arange(k_max) < out.n[:, None], out.shi - out.slo, 0.0).sum(axis=1)
        # nearly every tag has one stretch: only the rows with several become nested lists
        # (converting the whole (tags, max_spans) arrays made most of this function's objects)
        rows = np.flatnonzero(out.n != 1)
        several = {
            i: tuple(
                [
                    make_span(ids[a], b, c)
                    for a, b, c in zip(st_i[:n], lo_i[:n], hi_i[:n], strict=True)
                ]
            )
            for i, n, st_i, lo_i, hi_i in zip(
                rows.tolist(),
                out.n[rows].tolist(),
                out.st[rows].tolist(),
                out.slo[rows].tolist(),
                out.shi[rows].tolist(),
                strict=True,
            )
        }
        one: list[tuple[Span, ...]] = [
            (make_span(ids[a], b, c),)
            for a, b, c in zip(
                out.st[:, 0].tolist(), out.slo[:, 0].tolist(), out.shi[:, 0].tolist(), strict=True
            )
        ]
        for i, spans in several.items():
            one[i] = spans
        result = [
            make_estimate(tags[k] or "", now, ids[t], s, (p[0], p[1], p[2]), sp, w, v, last)
            for k, t, s, v, p, last, w, sp in zip(
                slots.tolist(),
                out.t.tolist(),
                out.s.tolist(),
                out.v.tolist(),
                xyz,
                self.store.last_seen[slots].tolist(),
                width.tolist(),
                one,
                strict=True,
            )
        ]
        self._last_list, self._last = result, None
        return result

    def _note_near(self, now: float, out: _Out) -> None:
        """Mark the anchors that should have heard a confidently placed tag this tick."""
        width = out.shi[:, 0] - out.slo[:, 0]
        sure = (out.n == 1) & (width < _SURE_M)
        if not sure.any():
            return
        key = out.t[sure] * TUNNEL_KEY + out.s[sure]
        for order, a_key, near in self._near_groups:
            lo = np.searchsorted(a_key, key - near, side="left")
            hi = np.searchsorted(a_key, key + near, side="right")
            hit = np.zeros(len(a_key) + 1, dtype=np.int64)
            np.add.at(hit, lo, 1)
            np.add.at(hit, hi, -1)
            self._anchor_near[order[np.cumsum(hit[:-1]) > 0]] = now

    def _forget(self, now: float) -> None:
        st = self.store
        stale = np.flatnonzero(st.used & (now - st.last_seen > self.config.forget_s))
        for k in stale.tolist():
            tag = st.tags[k]
            if tag is not None:
                log.info("dropped tag %s after %.0f s of silence", tag, self.config.forget_s)
                self.drop(tag)
