"""The rescue sheet: every unaccounted person, last known place and time, and their route.

For the mine rescue team to carry: one printable HTML page (print CSS, A4, no scripts) and the
same as a PDF (reportlab). Names may be Cyrillic or Kazakh: the PDF uses DejaVu Sans when the
system has it (Debian/Ubuntu ``fonts-dejavu-core``), else reportlab's built-in Helvetica, which
prints Latin only.
"""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

from minepos.safety.emergency.accounting import Accounting
from minepos.safety.emergency.model import Emergency
from minepos.safety.emergency.report import hhmmss

__all__ = ["rescue_sheet", "route_text", "sheet_html", "sheet_pdf"]

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def route_text(route: dict[str, Any] | None) -> str:
    """A route as the rescue team reads it: target, length, then each tunnel walked."""
    if route is None:
        return "NO OPEN ROUTE"
    legs = ", ".join(f"{g['tunnel']} {g['from_m']:.0f}→{g['to_m']:.0f} m" for g in route["legs"])
    return f"{route['target']} {route['length_m']:.0f} m: {legs}" if legs else str(route["target"])


def _place_text(r: dict[str, Any]) -> str:
    if r["tunnel"] is None:
        return "never placed"
    spans = "; ".join(f"{s['tunnel']} {s['from_m']:.0f}–{s['to_m']:.0f} m" for s in r["interval"])
    return f"{r['tunnel']} {r['offset_m']:.0f} m ({spans or 'no interval'}), {r['level'] or '?'}"


def rescue_sheet(
    em: Emergency,
    acc: Accounting,
    mine_name: str,
    *,
    level: str | None = None,
    zone: str | None = None,
) -> dict[str, Any]:
    """The sheet's content: header, blocked stretches, counts, one entry per unaccounted person.

    ``level`` or ``zone`` keep only the people last seen there (a team's district).
    """
    people = []
    for r in acc.unaccounted():
        if (level and r["level"] != level) or (zone and zone not in r["zones"]):
            continue
        flags = [f for f in ("stale", "uncertain") if r[f]]
        if r["status"] in ("lost", "sos", "motionless"):
            flags.append(r["status"])
        people.append(
            {
                "person": r["person"] or r["tag"],
                "name": r["name"] or "",
                "role": r["role"] or "",
                "tag": r["tag"],
                "place": _place_text(r),
                "zones": ", ".join(r["zones"]),
                "last_seen": hhmmss(r["last_seen"]),
                "age_min": None if r["age_s"] is None else round(r["age_s"] / 60.0, 1),
                "flags": flags,
                "acked": r["acked_at"] is not None,
                "exit_route": route_text(r["exit_route"]),
                "refuge_route": route_text(r["refuge_route"]),
            }
        )
    where = " · ".join(x for x in (level, zone) if x)
    return {
        "title": f"RESCUE SHEET — {mine_name}" + (f" — {where}" if where else ""),
        "emergency": f"{em.kind.upper()} at {em.place.tunnel} {em.place.offset_m:.0f} m, "
        f"declared {hhmmss(em.declared_at)} UTC by {em.declared_by}",
        "printed": hhmmss(acc.ts) + " UTC",
        "blocked": [
            f"{b.span.tunnel} {b.span.from_m:.0f}–{b.span.to_m:.0f} m ({b.cause})"
            for b in em.blockages.values()
            if b.cleared_at is None
        ],
        "counts": acc.counts,
        "people": people,
    }


def sheet_html(sheet: dict[str, Any]) -> str:
    """The sheet as a printable HTML page (A4, one person never split across pages)."""
    e = html.escape
    c = sheet["counts"]
    rows = []
    for i, p in enumerate(sheet["people"], start=1):
        flags = " ".join(f'<b class="flag">{e(f)}</b>' for f in p["flags"])
        ack = "acknowledged" if p["acked"] else '<b class="flag">NOT acknowledged</b>'
        rows.append(
            f'<tr class="person"><td>{i}</td><td><b>{e(p["name"])}</b><br>{e(p["person"])} · '
            f"{e(p['role'])} · tag {e(p['tag'])}</td><td>{e(p['place'])}<br>{e(p['zones'])}</td>"
            f"<td>{e(p['last_seen'])}<br>{p['age_min']} min ago {flags}<br>{ack}</td>"
            f"<td>exit: {e(p['exit_route'])}<br>refuge: {e(p['refuge_route'])}</td></tr>"
        )
    blocked = "".join(f"<li>{e(b)}</li>" for b in sheet["blocked"]) or "<li>none</li>"
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{e(sheet['title'])}</title><style>{_CSS}</style>"
        f"<h1>{e(sheet['title'])}</h1><p class=em>{e(sheet['emergency'])}</p>"
        f"<p>Printed {e(sheet['printed'])}. Unaccounted <b>{c['unaccounted']}</b>, in refuge "
        f"{c['refuge']}, out {c['out']}, no open exit route {c['no_exit_route']}.</p>"
        f"<h2>Blocked</h2><ul>{blocked}</ul><h2>Unaccounted for</h2>"
        "<table><thead><tr><th>#</th><th>person</th><th>last known place (95 %)</th>"
        "<th>last seen</th><th>route</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></html>"
    )


_CSS = (
    "body{font:11px/1.3 'DejaVu Sans',sans-serif;margin:12px;color:#000}"
    "h1{font-size:18px;margin:0}h2{font-size:13px;margin:8px 0 2px}.em{font-size:14px;"
    "font-weight:bold;color:#b00}table{border-collapse:collapse;width:100%}"
    "td,th{border:1px solid #555;padding:3px;vertical-align:top;text-align:left}"
    ".flag{color:#b00}@page{size:A4;margin:10mm}"
    "@media print{body{margin:0}tr.person{break-inside:avoid}thead{display:table-header-group}}"
)


def _font() -> str:
    """DejaVu Sans (registered once) if the system has it, else Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVuSans" in pdfmetrics.getRegisteredFontNames():
        return "DejaVuSans"
    if _DEJAVU.exists():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(_DEJAVU)))
        return "DejaVuSans"
    return "Helvetica"


_PDF_SIZE, _PDF_LEAD = 7.5, 9.0  # points
_COLS = (
    ("#", 10.0),
    ("person", 52.0),
    ("last known place (95 %)", 72.0),
    ("last seen", 40.0),
    ("route", 103.0),
)  # widths in mm, landscape A4 less margins


def _pdf_cells(i: int, p: dict[str, Any]) -> list[str]:
    seen = f"{p['last_seen']}, {p['age_min']} min ago {' '.join(p['flags'])}".strip()
    seen += "" if p["acked"] else " — NOT acknowledged"
    return [
        str(i),
        f"{p['name']} ({p['person']}, {p['role']}, tag {p['tag']})",
        f"{p['place']} {p['zones']}".strip(),
        seen,
        f"exit: {p['exit_route']}\nrefuge: {p['refuge_route']}",
    ]


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of ``text`` (with hard breaks) that fit ``width`` points."""
    from reportlab.lib.utils import simpleSplit

    out: list[str] = []
    for part in text.split("\n"):
        out += simpleSplit(part, font, size, width - 4) or [""]
    return out


def _pdf_header(
    pdf: Any, page: tuple[float, float], sheet: dict[str, Any], font: str, xs: list[float]
) -> float:
    """Title, emergency, counts and column heads at the top of a page; the y below them."""
    width, height = page
    margin, size, lead = xs[0], _PDF_SIZE, _PDF_LEAD
    pdf.setFont(font, 13)
    pdf.drawString(margin, height - margin - 4, sheet["title"])
    pdf.setFont(font, size)
    c = sheet["counts"]
    top = height - margin - 16
    summary = (
        f"Printed {sheet['printed']}. Unaccounted {c['unaccounted']}, in refuge {c['refuge']}, "
        f"out {c['out']}, no open exit route {c['no_exit_route']}. "
        f"Blocked: {'; '.join(sheet['blocked']) or 'none'}."
    )
    for text in (sheet["emergency"], summary):
        for ln in _wrap(text, font, size, width - 2 * margin):
            pdf.drawString(margin, top, ln)
            top -= lead
    top -= 4
    for x, (name, _) in zip(xs, _COLS, strict=True):
        pdf.drawString(x + 2, top, name)
    pdf.line(margin, top - 3, width - margin, top - 3)
    return float(top) - 3 - lead


def sheet_pdf(sheet: dict[str, Any]) -> bytes:
    """The sheet as an A4 PDF, drawn line by line (thousands of people in seconds)."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    font, lead = _font(), _PDF_LEAD
    width, _ = landscape(A4)
    margin = 10 * mm
    buf = io.BytesIO()
    pdf = Canvas(buf, pagesize=landscape(A4))
    pdf.setTitle(sheet["title"])
    widths = [w * mm for _, w in _COLS]
    xs = [margin + sum(widths[:k]) for k in range(len(widths))]
    y = _pdf_header(pdf, landscape(A4), sheet, font, xs)
    for i, p in enumerate(sheet["people"], start=1):
        cells = [
            _wrap(text, font, _PDF_SIZE, w)
            for text, w in zip(_pdf_cells(i, p), widths, strict=True)
        ]
        rows = max(len(c) for c in cells)
        if y - rows * lead < margin:
            pdf.showPage()
            y = _pdf_header(pdf, landscape(A4), sheet, font, xs)
        for x, cell_lines in zip(xs, cells, strict=True):
            for k, ln in enumerate(cell_lines):
                pdf.drawString(x + 2, y - k * lead, ln)
        y -= rows * lead
        pdf.setLineWidth(0.3)
        pdf.line(margin, y + lead - 3, width - margin, y + lead - 3)
        y -= 2
    pdf.save()
    return buf.getvalue()
