"""Evacuation orders to tags and their acknowledgements (canonical event ``evac_ack``).

An order goes to every tag underground, to the tags in one zone, or to one person's tag; each
tag gets its own downlink message (`minepos.safety.emergency.downlink`). A tag's ``evac_ack``
acknowledges the newest order it was sent before the ack; an ack from a tag that was sent
nothing is counted as stray and otherwise ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from minepos.errors import InputError
from minepos.measurement import Measurement

__all__ = ["SCOPES", "AckBook", "EvacuationOrder", "order_payload"]

Scope = Literal["all", "zone", "person"]
SCOPES: Final = ("all", "zone", "person")


@dataclass(frozen=True, slots=True)
class EvacuationOrder:
    """One evacuation order: to whom it went, who gave it, and when."""

    id: str
    emergency: str
    scope: Scope
    target: str | None
    message: str
    issued_by: str
    issued_at: float
    tags: tuple[str, ...]
    kind: str = "evacuate"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "emergency": self.emergency,
            "kind": self.kind,
            "scope": self.scope,
            "target": self.target,
            "message": self.message,
            "issued_by": self.issued_by,
            "issued_at": self.issued_at,
            "tags": list(self.tags),
        }


def order_payload(order: EvacuationOrder, tag: str) -> dict[str, Any]:
    """The downlink message for one tag (JSON on ``minepos/<mine>/downlink/<tag>``)."""
    return {
        "order": order.id,
        "kind": order.kind,
        "message": order.message,
        "issued_at": order.issued_at,
        "emergency": order.emergency,
        "tag": tag,
        "ack": "evac_ack",
    }


@dataclass
class AckBook:
    """Per tag: the newest order sent and when (if ever) it was acknowledged."""

    sent: dict[str, tuple[str, float]] = field(default_factory=dict)  # tag -> (order, sent_at)
    acked: dict[str, tuple[str, float]] = field(default_factory=dict)  # tag -> (order, ack ts)
    history: list[tuple[str, str, float]] = field(default_factory=list)  # (tag, order, ack ts)
    stray: int = 0

    def record_order(self, order: EvacuationOrder) -> None:
        """Note that ``order`` went to its tags (a newer order needs a new acknowledgement)."""
        for tag in order.tags:
            self.sent[tag] = (order.id, order.issued_at)
            self.acked.pop(tag, None)

    def observe(self, measurements: Iterable[Measurement]) -> list[tuple[str, str, float]]:
        """Take measurements; return the new acknowledgements as ``(tag, order, ts)``."""
        new: list[tuple[str, str, float]] = []
        for m in measurements:
            if m.event != "evac_ack":
                continue
            got = self.sent.get(m.tag)
            if got is None or m.ts < got[1]:
                self.stray += 1
                continue
            if m.tag in self.acked:
                continue  # a repeated press
            self.acked[m.tag] = (got[0], m.ts)
            self.history.append((m.tag, got[0], m.ts))
            new.append((m.tag, got[0], m.ts))
        return new

    def restore_ack(self, tag: str, order: str, ts: float) -> None:
        """Re-apply a stored acknowledgement (after a restart)."""
        if self.sent.get(tag, ("", 0.0))[0] == order and tag not in self.acked:
            self.acked[tag] = (order, ts)
            self.history.append((tag, order, ts))

    def ack_times(self) -> dict[str, float]:
        """Tag -> time of its acknowledgement of the newest order."""
        return {tag: ts for tag, (_, ts) in self.acked.items()}

    def orders(self) -> dict[str, str]:
        """Tag -> id of the newest order sent to it."""
        return {tag: order for tag, (order, _) in self.sent.items()}

    def unacknowledged(self) -> list[str]:
        """Tags sent an order that have not acknowledged it, in order of sending."""
        return [
            t for t, _ in sorted(self.sent.items(), key=lambda kv: kv[1][1]) if t not in self.acked
        ]


def check_scope(scope: str, target: str | None) -> Scope:
    """The scope if valid with its target; InputError naming what is wrong."""
    if scope not in SCOPES:
        raise InputError(f"scope: {scope!r} is not one of {', '.join(SCOPES)}")
    if scope != "all" and not target:
        raise InputError(f"target: a {scope} is needed for scope {scope!r}")
    return scope  # type: ignore[return-value]
