"""Replay and report of an emergency, from what was recorded while it ran.

`replay` gives what the dispatcher saw, minute by minute: each stored snapshot of the accounting
with the blockages and orders in force at that moment. `build_report` writes the emergency
report: the timeline of the dispatcher's actions and of the counts, and per person where they
were at the declaration, when they acknowledged the order and when they reached safety.
`report_markdown` and `report_html` render it for people.
"""

from __future__ import annotations

import html
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from minepos.safety.emergency.desk import expand
from minepos.safety.emergency.model import Emergency
from minepos.safety.emergency.orders import EvacuationOrder

__all__ = ["build_report", "hhmmss", "replay", "report_html", "report_markdown"]

Event = tuple[float, str, str, str | None]  # (ts, tag, kind, order)


def hhmmss(ts: float | None) -> str:
    """UTC clock time of a timestamp (``-`` for none)."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def replay(
    em: Emergency,
    orders: Sequence[EvacuationOrder],
    snapshots: Sequence[tuple[float, dict[str, Any]]],
    *,
    every_s: float = 60.0,
) -> list[dict[str, Any]]:
    """One frame per ``every_s`` from the declaration: the newest snapshot at or before it."""
    if not snapshots:
        return []
    end = em.ended_at if em.ended_at is not None else snapshots[-1][0]
    frames: list[dict[str, Any]] = []
    k, t = 0, em.declared_at
    while t <= end + 1e-6:
        while k + 1 < len(snapshots) and snapshots[k + 1][0] <= t + 1e-6:
            k += 1
        ts, data = snapshots[k]
        rows = expand(data)
        frames.append(
            {
                "at": t,
                "minute": round((t - em.declared_at) / 60.0, 2),
                "snapshot_ts": ts,
                "counts": data.get("counts", {}),
                "unaccounted": [r for r in rows if r["safety"] == "unaccounted"],
                "blocked": [
                    b.to_dict()
                    for b in em.blockages.values()
                    if b.at <= t and (b.cleared_at is None or b.cleared_at > t)
                ],
                "orders": [o.id for o in orders if o.issued_at <= t],
            }
        )
        t += every_s
    return frames


def _person_rows(
    em: Emergency, events: Sequence[Event], final: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    first: dict[tuple[str, str], float] = {}
    for ts, tag, kind, _ in events:
        first.setdefault((tag, kind), ts)
    last = {r["tag"]: r for r in final}
    people = []
    for r in em.snapshot:
        tag = r["tag"]
        safe = [
            x
            for x in (first.get((tag, "reached_exit")), first.get((tag, "reached_refuge")))
            if x is not None
        ]
        people.append(
            {
                "tag": tag,
                "person": r.get("person"),
                "name": r.get("name"),
                "at_declaration": {
                    k: r.get(k)
                    for k in (
                        "tunnel",
                        "offset_m",
                        "level",
                        "zones",
                        "interval",
                        "uncertainty_m",
                        "last_seen",
                        "status",
                        "stale",
                        "uncertain",
                    )
                },
                "acked_at": first.get((tag, "ack")),
                "reached_exit_at": first.get((tag, "reached_exit")),
                "reached_refuge_at": first.get((tag, "reached_refuge")),
                "safe_after_s": round(min(safe) - em.declared_at, 1) if safe else None,
                "final": last.get(tag, {}).get("safety", "unaccounted"),
            }
        )
    return people


def _event(ts: float, what: str, by: str | None, detail: str) -> dict[str, Any]:
    return {"ts": ts, "what": what, "by": by, "detail": detail}


def _timeline(
    em: Emergency,
    orders: Sequence[EvacuationOrder],
    snapshots: Sequence[tuple[float, dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The dispatcher's actions and the counts each minute, in time order."""
    place = f"{em.kind} at {em.place.tunnel} {em.place.offset_m:.0f} m"
    out = [_event(em.declared_at, "declared", em.declared_by, place)]
    for b in em.blockages.values():
        span = f"{b.span.tunnel} {b.span.from_m:.0f}-{b.span.to_m:.0f} m"
        out.append(_event(b.at, "blocked", b.by, f"{span} ({b.cause})"))
        if b.cleared_at is not None:
            out.append(_event(b.cleared_at, "unblocked", b.cleared_by, span))
    for o in orders:
        detail = f"{o.id} to {o.scope} {o.target or ''} ({len(o.tags)} tags)"
        out.append(_event(o.issued_at, "evacuation order", o.issued_by, detail))
    for ts, data in snapshots:
        c = data.get("counts", {})
        out.append(
            _event(
                ts,
                "count",
                None,
                (
                    f"underground {c.get('underground', 0)}, "
                    f"unaccounted {c.get('unaccounted', 0)}, "
                    f"out {c.get('out', 0)}, refuge {c.get('refuge', 0)}, "
                    f"unacknowledged {c.get('unacknowledged', 0)}"
                ),
            )
        )
    if em.ended_at is not None:
        out.append(_event(em.ended_at, "ended", em.ended_by, ""))
    return sorted(out, key=lambda e: e["ts"])


def build_report(
    em: Emergency,
    orders: Sequence[EvacuationOrder],
    events: Sequence[Event],
    snapshots: Sequence[tuple[float, dict[str, Any]]],
) -> dict[str, Any]:
    """The emergency report as JSON: summary, timeline and one row per person."""
    final = expand(snapshots[-1][1]) if snapshots else []
    people = _person_rows(em, events, final)
    return {
        "emergency": em.to_dict(),
        "summary": _summary(em, people, orders),
        "timeline": _timeline(em, orders, snapshots),
        "people": people,
    }


def _summary(
    em: Emergency, people: list[dict[str, Any]], orders: Sequence[EvacuationOrder]
) -> dict[str, Any]:
    first_order = min((o.issued_at for o in orders), default=None)
    ack_delays = [
        p["acked_at"] - first_order
        for p in people
        if p["acked_at"] is not None and first_order is not None
    ]
    safe = [p["safe_after_s"] for p in people if p["safe_after_s"] is not None]
    return {
        "underground_at_declaration": len(people),
        "reached_exit": sum(p["reached_exit_at"] is not None for p in people),
        "reached_refuge": sum(p["reached_refuge_at"] is not None for p in people),
        "unaccounted_at_end": sum(p["final"] == "unaccounted" for p in people),
        "acknowledged": sum(p["acked_at"] is not None for p in people),
        "median_ack_s": round(statistics.median(ack_delays), 1) if ack_delays else None,
        "median_to_safety_s": round(statistics.median(safe), 1) if safe else None,
        "duration_s": None if em.ended_at is None else round(em.ended_at - em.declared_at, 1),
    }


def _place(p: dict[str, Any]) -> str:
    a = p["at_declaration"]
    if a.get("tunnel") is None:
        return "unknown"
    flags = [f for f in ("stale", "uncertain") if a.get(f)]
    return f"{a['tunnel']} {a['offset_m']:.0f} m ±{(a.get('uncertainty_m') or 0) / 2:.0f}" + (
        f" ({', '.join(flags)})" if flags else ""
    )


def report_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown (for the inquiry file)."""
    em, s = report["emergency"], report["summary"]
    out = [
        f"# Emergency report {em['id']}",
        "",
        f"{em['kind']} at {em['place']['tunnel']} {em['place']['offset_m']:.0f} m, declared "
        f"{hhmmss(em['declared_at'])} UTC by {em['declared_by']}; ended "
        f"{hhmmss(em['ended_at'])} by {em['ended_by'] or '-'}.",
        "",
        "## Summary",
        "",
    ]
    out += [f"- {k.replace('_', ' ')}: {v if v is not None else '-'}" for k, v in s.items()]
    out += [
        "",
        "## Timeline (UTC)",
        "",
        "| time | what | by | detail |",
        "| --- | --- | --- | --- |",
    ]
    out += [
        f"| {hhmmss(e['ts'])} | {e['what']} | {e['by'] or ''} | {e['detail']} |"
        for e in report["timeline"]
    ]
    out += [
        "",
        "## People",
        "",
        "| person | name | at declaration | acknowledged | reached exit | reached refuge | end |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    out += [
        f"| {p['person'] or p['tag']} | {p['name'] or ''} | {_place(p)} | "
        f"{hhmmss(p['acked_at'])} | {hhmmss(p['reached_exit_at'])} | "
        f"{hhmmss(p['reached_refuge_at'])} | {p['final']} |"
        for p in report["people"]
    ]
    return "\n".join(out) + "\n"


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def report_html(report: dict[str, Any]) -> str:
    """The report as a self-contained, printable HTML page."""
    em, s = report["emergency"], report["summary"]
    title = html.escape(f"Emergency report {em['id']}")
    summary = _table(
        ["", ""], [(k.replace("_", " "), "-" if v is None else v) for k, v in s.items()]
    )
    timeline = _table(
        ["time (UTC)", "what", "by", "detail"],
        [(hhmmss(e["ts"]), e["what"], e["by"] or "", e["detail"]) for e in report["timeline"]],
    )
    people = _table(
        [
            "person",
            "name",
            "at declaration",
            "acknowledged",
            "reached exit",
            "reached refuge",
            "end",
        ],
        [
            (
                p["person"] or p["tag"],
                p["name"] or "",
                _place(p),
                hhmmss(p["acked_at"]),
                hhmmss(p["reached_exit_at"]),
                hhmmss(p["reached_refuge_at"]),
                p["final"],
            )
            for p in report["people"]
        ],
    )
    head = html.escape(
        f"{em['kind']} at {em['place']['tunnel']} {em['place']['offset_m']:.0f} m, declared "
        f"{hhmmss(em['declared_at'])} UTC by {em['declared_by']}"
    )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{title}</title><style>{_CSS}</style>"
        f"<h1>{title}</h1><p>{head}</p><h2>Summary</h2>{summary}"
        f"<h2>Timeline</h2>{timeline}<h2>People</h2>{people}</html>"
    )


_CSS = (
    "body{font:12px/1.35 sans-serif;margin:16px}table{border-collapse:collapse;margin:6px 0}"
    "td,th{border:1px solid #999;padding:2px 6px;text-align:left}h1{font-size:18px}"
    "@media print{body{margin:0}tr{break-inside:avoid}}"
)
