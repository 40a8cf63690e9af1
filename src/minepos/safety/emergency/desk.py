"""`EmergencyDesk`: declare, block, evacuate, account, end — the dispatcher's emergency controls.

The desk sits beside the safety monitor and reads its `LiveState`; the runtime calls
``observe(measurements)`` with every batch (to catch ``evac_ack`` events) and ``step(now)`` once
per engine tick (to note who reached safety and to store a snapshot every minute). Everything
the desk does is told to an `EmergencyRecorder` (the store's `EmergencyRepository` in
production), so the emergency survives a restart and can be replayed. Calls are serialised by a
lock: API threads and the engine tick may call at the same time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from minepos.errors import InputError
from minepos.measurement import Measurement
from minepos.mine import Place, Span
from minepos.safety.emergency.accounting import (
    Accounting,
    EmergencySettings,
    SafetyProgress,
    account,
)
from minepos.safety.emergency.downlink import Downlink, MemoryDownlink
from minepos.safety.emergency.escape import EscapeFields
from minepos.safety.emergency.model import (
    BLOCK_CAUSES,
    EMERGENCY_KINDS,
    Blockage,
    Emergency,
    EmergencyStateError,
    check_place,
    check_span,
)
from minepos.safety.emergency.orders import AckBook, EvacuationOrder, check_scope, order_payload
from minepos.safety.state import LiveState

__all__ = ["DEFAULT_MESSAGE", "EmergencyDesk", "EmergencyRecorder", "NullRecorder"]

log = logging.getLogger(__name__)

DEFAULT_MESSAGE = "EVACUATE NOW. Follow your route to the exit or refuge chamber. Press to confirm."


class EmergencyRecorder(Protocol):
    """Where the desk keeps what happens (the store's `EmergencyRepository` implements it)."""

    def save_emergency(self, em: Emergency) -> None:
        """Insert or update the emergency (declared, ended; with its snapshot)."""

    def save_blockage(self, emergency: str, blockage: Blockage) -> None:
        """Insert or update a blockage."""

    def save_order(self, order: EvacuationOrder) -> None:
        """Insert an evacuation order."""

    def save_events(self, emergency: str, events: list[tuple[str, str, float, str | None]]) -> None:
        """Insert per-person events ``(tag, kind, ts, order)``: acks, reached exit or refuge."""

    def save_snapshot(self, emergency: str, ts: float, data: dict[str, Any]) -> None:
        """Insert the accounting as the dispatcher saw it at ``ts``."""


class NullRecorder:
    """Keeps nothing (tests of the desk alone, benchmarks)."""

    def save_emergency(self, em: Emergency) -> None:
        """Drop."""

    def save_blockage(self, emergency: str, blockage: Blockage) -> None:
        """Drop."""

    def save_order(self, order: EvacuationOrder) -> None:
        """Drop."""

    def save_events(self, emergency: str, events: list[tuple[str, str, float, str | None]]) -> None:
        """Drop."""

    def save_snapshot(self, emergency: str, ts: float, data: dict[str, Any]) -> None:
        """Drop."""


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%dT%H%M%SZ")


class EmergencyDesk:
    """The emergency of one mine (at most one active at a time) and its evacuation."""

    def __init__(
        self,
        state: LiveState,
        *,
        downlink: Downlink | None = None,
        recorder: EmergencyRecorder | None = None,
        settings: EmergencySettings | None = None,
        tag_lost_s: float | None = None,
    ) -> None:
        self.state = state
        self.mine = state.mine
        self.downlink: Downlink = downlink or MemoryDownlink()
        self.recorder: EmergencyRecorder = recorder or NullRecorder()
        self.settings = settings or EmergencySettings()
        self.tag_lost_s = tag_lost_s if tag_lost_s is not None else self.mine.rules.tag_lost_s
        self.current: Emergency | None = None
        self.last: Emergency | None = None
        self.orders: list[EvacuationOrder] = []
        self.acks = AckBook()
        self.progress = SafetyProgress(0.0)
        self._exits = frozenset(z.id for z in self.mine.zones if z.kind == "exit")
        self._refuges = frozenset(z.id for z in self.mine.zones if z.kind == "refuge")
        self._escape: EscapeFields | None = None
        self._last_snapshot = float("-inf")
        self._lock = threading.RLock()
        self._version = 0  # bumped by every change of the desk, to know a cached accounting
        self._cache: tuple[int, bool, Accounting] | None = None

    # -- the emergency --------------------------------------------------------------------
    def active(self) -> Emergency:
        """The active emergency; InputError if there is none."""
        if self.current is None:
            raise EmergencyStateError("no emergency is declared")
        return self.current

    def declare(self, kind: str, place: Place, by: str, now: float, note: str = "") -> Emergency:
        """Declare an emergency: snapshot the live state, start accounting from this moment."""
        if kind not in EMERGENCY_KINDS:
            raise InputError(f"kind: {kind!r} is not one of {', '.join(EMERGENCY_KINDS)}")
        place = check_place(self.mine, place)
        with self._lock:
            if self.current is not None:
                raise EmergencyStateError(
                    f"emergency {self.current.id} is active already; end it first"
                )
            em = Emergency(f"em-{_stamp(now)}", self.mine.id, kind, place, by, now, note)
            self.current, self.orders, self.acks = em, [], AckBook()
            self.progress = SafetyProgress(now)
            self.progress.update(self.state, self._exits, self._refuges, now)
            self._escape = None
            self._version += 1
            snap = self._accounting(now, with_routes=True)
            em.snapshot = snap.rows
            self.recorder.save_emergency(em)
            self._snapshot(snap)
        log.warning(
            "EMERGENCY %s declared by %s: %s at %s %.0f m; %d underground",
            em.id,
            by,
            kind,
            place.tunnel,
            place.offset_m,
            snap.counts["underground"],
        )
        return em

    def end(self, by: str, now: float) -> Emergency:
        """End the active emergency (its record stays for the replay and the report)."""
        with self._lock:
            em = self.active()
            self._snapshot(self._accounting(now, with_routes=False))
            em.ended_at, em.ended_by = now, by
            self._version += 1
            self.recorder.save_emergency(em)
            self.current, self.last = None, em
        log.warning("emergency %s ended by %s", em.id, by)
        return em

    def restore(
        self,
        em: Emergency,
        orders: Iterable[EvacuationOrder],
        events: Iterable[tuple[float, str, str, str | None]],
    ) -> None:
        """Take back a stored emergency after a restart: blockages, orders, acks, arrivals.

        An active one becomes the current emergency again; an ended one the last.
        """
        with self._lock:
            self.orders = sorted(orders, key=lambda o: o.issued_at)
            self.acks = AckBook()
            for order in self.orders:
                self.acks.record_order(order)
            self.progress = SafetyProgress(em.declared_at)
            for row in em.snapshot:
                self.progress.involved.setdefault(row["tag"], em.declared_at)
            for ts, tag, kind, order_id in events:
                self.progress.involved.setdefault(tag, ts)
                if kind == "ack" and order_id is not None:
                    self.acks.restore_ack(tag, order_id, ts)
                elif kind == "reached_exit":
                    self.progress.reached_exit.setdefault(tag, ts)
                elif kind == "reached_refuge":
                    self.progress.reached_refuge.setdefault(tag, ts)
            if em.active:
                self.current, self.last = em, None
            else:
                self.current, self.last = None, em
            self._escape = None
            self._version += 1
        log.warning(
            "emergency %s restored (%s): %d blockages, %d orders",
            em.id,
            "active" if em.active else "ended",
            len(em.blockages),
            len(self.orders),
        )

    # -- blocked stretches ----------------------------------------------------------------
    def block(self, span: Span, cause: str, by: str, now: float, note: str = "") -> Blockage:
        """Mark a stretch impassable; routes avoid it from now on."""
        if cause not in BLOCK_CAUSES:
            raise InputError(f"cause: {cause!r} is not one of {', '.join(BLOCK_CAUSES)}")
        span = check_span(self.mine, span)
        with self._lock:
            em = self.active()
            b = Blockage(f"b{len(em.blockages) + 1}", span, cause, by, now, note)
            em.blockages[b.id] = b
            self._escape = None
            self._version += 1
            self.recorder.save_blockage(em.id, b)
        log.warning(
            "%s: %s blocked (%s) %.0f-%.0f m by %s",
            em.id,
            span.tunnel,
            cause,
            span.from_m,
            span.to_m,
            by,
        )
        return b

    def unblock(self, blockage: str, by: str, now: float) -> Blockage:
        """The stretch is passable again (the blockage stays in the record, cleared)."""
        with self._lock:
            em = self.active()
            old = em.blockages.get(blockage)
            if old is None or old.cleared_at is not None:
                raise InputError(f"blockage: no active blockage {blockage!r}")
            b = Blockage(old.id, old.span, old.cause, old.by, old.at, old.note, now, by)
            em.blockages[b.id] = b
            self._escape = None
            self._version += 1
            self.recorder.save_blockage(em.id, b)
        return b

    def escape(self) -> EscapeFields:
        """The distance fields for the stretches blocked now (rebuilt when they change)."""
        with self._lock:
            if self._escape is None:
                em = self.current or self.last
                blocked = em.blocked() if em is not None else ()
                self._escape = EscapeFields(self.mine, blocked)
            return self._escape

    # -- evacuation -----------------------------------------------------------------------
    def evacuate(
        self,
        by: str,
        now: float,
        scope: str = "all",
        target: str | None = None,
        message: str = DEFAULT_MESSAGE,
    ) -> EvacuationOrder:
        """Send the evacuation order to every tag underground, a zone's tags or one person's."""
        sc = check_scope(scope, target)
        with self._lock:
            em = self.active()
            tags = self._targets(sc, target)
            if not tags:
                raise InputError(f"target: nobody underground in {scope} {target or ''}".strip())
            order = EvacuationOrder(
                f"{em.id}-o{len(self.orders) + 1}", em.id, sc, target, message, by, now, tags
            )
            failed = [t for t in tags if not self.downlink.send(t, order_payload(order, t))]
            self.orders.append(order)
            self.acks.record_order(order)
            self.recorder.save_order(order)
            self._version += 1
        if failed:
            log.error("evacuation order %s could not be queued for %d tags", order.id, len(failed))
        log.warning("%s: evacuation order %s to %d tags by %s", em.id, order.id, len(tags), by)
        return order

    def _targets(self, scope: str, target: str | None) -> tuple[str, ...]:
        tags = [st for st in list(self.state.tags.values()) if st.underground]
        if scope == "zone":
            if target not in self.mine.zone_index:
                raise InputError(f"target: unknown zone {target!r}")
            tags = [st for st in tags if target in st.zones]
        elif scope == "person":
            found = [st for st in self.state.tags.values() if target in (st.person, st.tag)]
            if not found:
                raise InputError(f"target: no person or tag {target!r} known")
            tags = found
        return tuple(sorted(st.tag for st in tags))

    def unacknowledged(self) -> list[dict[str, Any]]:
        """Who was sent an order and has not acknowledged it, oldest order first."""
        with self._lock:
            out = []
            for tag in self.acks.unacknowledged():
                st = self.state.tags.get(tag)
                order, sent_at = self.acks.sent[tag]
                out.append(
                    {
                        "tag": tag,
                        "person": st.person if st else None,
                        "name": st.name if st else None,
                        "order": order,
                        "sent_at": sent_at,
                        "zones": sorted(st.zones) if st else [],
                        "underground": bool(st and st.underground),
                    }
                )
            return out

    # -- the live part --------------------------------------------------------------------
    def observe(self, measurements: Iterable[Measurement]) -> list[tuple[str, str, float]]:
        """Take a batch of measurements; record the evacuation acknowledgements among them."""
        events = [m for m in measurements if m.event == "evac_ack"]
        if not events:
            return []
        with self._lock:
            if self.current is None:
                return []
            new = self.acks.observe(events)
            if new:
                self._version += 1
                self.recorder.save_events(self.current.id, [(t, "ack", ts, o) for t, o, ts in new])
            return new

    def step(self, now: float) -> None:
        """Once per tick: who reached safety; a stored snapshot every ``snapshot_every_s``."""
        with self._lock:
            if self.current is None:
                return
            news = self.progress.update(self.state, self._exits, self._refuges, now)
            if news:
                self._version += 1
                self.recorder.save_events(self.current.id, [(t, k, ts, None) for t, k, ts in news])
            if now - self._last_snapshot >= self.settings.snapshot_every_s:
                self._snapshot(self._accounting(now, with_routes=False))

    def accounting(self, now: float, *, with_routes: bool = True) -> Accounting:
        """The accounting of the active emergency (or the last one) at ``now``.

        Several consoles polling at once share one computation: an accounting less than
        ``reuse_s`` old is served again unless the desk changed since (a blockage, an order,
        an ack, an arrival); positions may then be up to that much older.
        """
        with self._lock:
            if self.current is None and self.last is None:
                raise EmergencyStateError("no emergency is declared")
            hit = self._cache
            if (
                hit is not None
                and hit[0] == self._version
                and (hit[1] or not with_routes)
                and 0.0 <= now - hit[2].ts < self.settings.reuse_s
            ):
                return hit[2]
            acc = self._accounting(now, with_routes=with_routes)
            self._cache = (self._version, with_routes, acc)
            return acc

    def _accounting(self, now: float, *, with_routes: bool) -> Accounting:
        return account(
            self.state,
            self.progress,
            self.escape(),
            now,
            self.settings,
            tag_lost_s=self.tag_lost_s,
            acks=self.acks.ack_times(),
            sent=self.acks.orders(),
            with_routes=with_routes,
        )

    def _snapshot(self, acc: Accounting) -> None:
        em = self.current
        if em is None:
            return
        self._last_snapshot = acc.ts
        self.recorder.save_snapshot(em.id, acc.ts, compact(acc))


_SNAP_FIELDS = (
    "tag",
    "person",
    "name",
    "safety",
    "status",
    "tunnel",
    "offset_m",
    "level",
    "uncertainty_m",
    "last_seen",
    "stale",
    "uncertain",
    "exit_m",
    "refuge_m",
    "order",
    "acked_at",
)


def compact(acc: Accounting) -> dict[str, Any]:
    """The accounting as columns (keys once, not per person) without routes, for storage.

    About 150 bytes per person: a minute of 14,000 people is about 2 MB.
    """
    cols: dict[str, list[Any]] = {k: [r[k] for r in acc.rows] for k in _SNAP_FIELDS}
    cols["zones"] = [r["zones"] for r in acc.rows]
    return {"ts": acc.ts, "counts": acc.counts, "columns": cols}


def expand(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows back from a compact snapshot."""
    cols: dict[str, list[Any]] = snapshot.get("columns", {})
    if not cols:
        return []
    n = len(next(iter(cols.values())))
    return [{k: v[i] for k, v in cols.items()} for i in range(n)]
