"""`EmergencyRepository`: emergencies, blockages, evacuation orders, acks and minute snapshots.

Implements the emergency desk's `EmergencyRecorder`: the declaration, every blockage and every
order are committed before the call returns (they are what an inquiry asks about first), acks,
arrivals and the per-minute snapshots go through the writer's batches. The tables are part of
the store's one schema (registered on `minepos.store.schema.metadata`, migration 0002).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    select,
)

from minepos.errors import InputError
from minepos.mine import Place, Span
from minepos.safety.emergency import Blockage, Emergency, EvacuationOrder
from minepos.safety.emergency.report import (
    build_report,
    hhmmss,
    replay,
    report_html,
    report_markdown,
)
from minepos.store.database import Database
from minepos.store.schema import metadata
from minepos.store.upsert import upsert
from minepos.store.writer import Statement, Writer, WriterError

__all__ = [
    "EmergencyRecord",
    "EmergencyRepository",
    "emergencies",
    "emergency_blockages",
    "emergency_events",
    "emergency_orders",
    "emergency_snapshots",
    "register",
]

log = logging.getLogger(__name__)
_WAIT_S = 10.0
#: as in the schema: SQLite autoincrements only an INTEGER PRIMARY KEY
_BigId = BigInteger().with_variant(Integer(), "sqlite")

emergencies = Table(
    "emergencies",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("mine", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("tunnel", String(64), nullable=False),
    Column("offset_m", Float, nullable=False),
    Column("declared_by", String(100), nullable=False),
    Column("declared_at", Float, nullable=False, index=True),
    Column("note", Text, nullable=False),
    Column("ended_by", String(100), nullable=True),
    Column("ended_at", Float, nullable=True),
    Column("snapshot", JSON, nullable=False),
)

emergency_blockages = Table(
    "emergency_blockages",
    metadata,
    Column("emergency", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("tunnel", String(64), nullable=False),
    Column("from_m", Float, nullable=False),
    Column("to_m", Float, nullable=False),
    Column("cause", String(32), nullable=False),
    Column("blocked_by", String(100), nullable=False),
    Column("blocked_at", Float, nullable=False),
    Column("note", Text, nullable=False),
    Column("cleared_by", String(100), nullable=True),
    Column("cleared_at", Float, nullable=True),
)

emergency_orders = Table(
    "emergency_orders",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("emergency", String(64), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("target", String(64), nullable=True),
    Column("message", Text, nullable=False),
    Column("issued_by", String(100), nullable=False),
    Column("issued_at", Float, nullable=False),
    Column("tags", JSON, nullable=False),
)

# per person: "ack" (evacuation order acknowledged), "reached_exit", "reached_refuge"
emergency_events = Table(
    "emergency_events",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("emergency", String(64), nullable=False),
    Column("ts", Float, nullable=False),
    Column("tag", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("order_id", String(80), nullable=True),
    Index(None, "emergency", "ts"),
)

emergency_snapshots = Table(
    "emergency_snapshots",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("emergency", String(64), nullable=False),
    Column("ts", Float, nullable=False),
    Column("data", JSON, nullable=False),
    Index(None, "emergency", "ts"),
)


@dataclass(frozen=True, slots=True)
class EmergencyRecord:
    """An emergency read back whole: the emergency, its orders and its per-person events."""

    emergency: Emergency
    orders: list[EvacuationOrder]
    events: list[tuple[float, str, str, str | None]]  # (ts, tag, kind, order)


def _blockage(r: Any) -> Blockage:
    return Blockage(
        r.id,
        Span(r.tunnel, r.from_m, r.to_m),
        r.cause,
        r.blocked_by,
        r.blocked_at,
        r.note,
        r.cleared_at,
        r.cleared_by,
    )


class EmergencyRepository:
    """Emergencies as rows; the desk's recorder and the replay's source."""

    def __init__(self, db: Database, writer: Writer) -> None:
        self.db = db
        self.writer = writer

    def _commit(self, what: str, run: Any) -> None:
        try:
            self.writer.submit(Statement(run)).wait(_WAIT_S)
        except WriterError:  # the emergency goes on; the log says what is missing from the record
            log.exception("emergency record: %s not stored", what)

    # -- the recorder ----------------------------------------------------------------------
    def save_emergency(self, em: Emergency) -> None:
        """Insert or update the emergency (committed before returning)."""
        row = {
            "id": em.id,
            "mine": em.mine,
            "kind": em.kind,
            "tunnel": em.place.tunnel,
            "offset_m": em.place.offset_m,
            "declared_by": em.declared_by,
            "declared_at": em.declared_at,
            "note": em.note,
            "ended_by": em.ended_by,
            "ended_at": em.ended_at,
            "snapshot": em.snapshot,
        }
        self._commit(f"emergency {em.id}", lambda c: upsert(c, emergencies, [row], ["id"]))

    def save_blockage(self, emergency: str, blockage: Blockage) -> None:
        """Insert or update a blockage (committed before returning)."""
        b = blockage
        row = {
            "emergency": emergency,
            "id": b.id,
            "tunnel": b.span.tunnel,
            "from_m": b.span.from_m,
            "to_m": b.span.to_m,
            "cause": b.cause,
            "blocked_by": b.by,
            "blocked_at": b.at,
            "note": b.note,
            "cleared_by": b.cleared_by,
            "cleared_at": b.cleared_at,
        }
        self._commit(
            f"blockage {b.id}", lambda c: upsert(c, emergency_blockages, [row], ["emergency", "id"])
        )

    def save_order(self, order: EvacuationOrder) -> None:
        """Insert an evacuation order (committed before returning)."""
        row = {**order.to_dict(), "tags": list(order.tags)}

        def run(conn: Connection) -> None:
            conn.execute(emergency_orders.insert(), [row])

        self._commit(f"order {order.id}", run)

    def save_events(self, emergency: str, events: list[tuple[str, str, float, str | None]]) -> None:
        """Queue per-person events ``(tag, kind, ts, order)``."""
        rows = [
            {"emergency": emergency, "tag": t, "kind": k, "ts": ts, "order_id": o}
            for t, k, ts, o in events
        ]
        self.writer.insert(emergency_events, rows)

    def save_snapshot(self, emergency: str, ts: float, data: dict[str, Any]) -> None:
        """Queue a snapshot of the accounting."""
        self.writer.insert(emergency_snapshots, [{"emergency": emergency, "ts": ts, "data": data}])

    # -- reading back ----------------------------------------------------------------------
    def recent(self, limit: int = 100) -> list[Emergency]:
        """Emergencies newest first, without snapshots and blockages."""
        cols = [c for c in emergencies.c if c.name != "snapshot"]
        stmt = select(*cols).order_by(emergencies.c.declared_at.desc()).limit(limit)
        with self.db.engine.connect() as conn:
            return [self._emergency(r, {}, []) for r in conn.execute(stmt).all()]

    def get(self, emergency: str) -> EmergencyRecord | None:
        """The emergency with its blockages, snapshot at declaration, orders and events."""
        with self.db.engine.connect() as conn:
            r = conn.execute(select(emergencies).where(emergencies.c.id == emergency)).first()
            if r is None:
                return None
            bq = select(emergency_blockages).where(emergency_blockages.c.emergency == emergency)
            blocks = {
                b.id: _blockage(b)
                for b in conn.execute(bq.order_by(emergency_blockages.c.blocked_at)).all()
            }
            oq = select(emergency_orders).where(emergency_orders.c.emergency == emergency)
            orders = [
                EvacuationOrder(
                    o.id,
                    o.emergency,
                    o.scope,
                    o.target,
                    o.message,
                    o.issued_by,
                    o.issued_at,
                    tuple(o.tags),
                    o.kind,
                )
                for o in conn.execute(oq.order_by(emergency_orders.c.issued_at)).all()
            ]
            eq = select(emergency_events).where(emergency_events.c.emergency == emergency)
            events = [
                (e.ts, e.tag, e.kind, e.order_id)
                for e in conn.execute(
                    eq.order_by(emergency_events.c.ts, emergency_events.c.id)
                ).all()
            ]
        return EmergencyRecord(self._emergency(r, blocks, list(r.snapshot or [])), orders, events)

    def latest(self) -> EmergencyRecord | None:
        """The newest emergency, whole (what a restarted server takes back), or None."""
        stmt = select(emergencies.c.id).order_by(emergencies.c.declared_at.desc()).limit(1)
        with self.db.engine.connect() as conn:
            found = conn.execute(stmt).scalar()
        return None if found is None else self.get(found)

    def snapshots(
        self, emergency: str, since: float | None = None, until: float | None = None
    ) -> list[tuple[float, dict[str, Any]]]:
        """The stored accountings ``(ts, data)`` in time order, optionally in a window."""
        t = emergency_snapshots
        stmt = select(t.c.ts, t.c.data).where(t.c.emergency == emergency)
        if since is not None:
            stmt = stmt.where(t.c.ts >= since)
        if until is not None:
            stmt = stmt.where(t.c.ts <= until)
        with self.db.engine.connect() as conn:
            return [(r.ts, dict(r.data)) for r in conn.execute(stmt.order_by(t.c.ts)).all()]

    @staticmethod
    def _emergency(r: Any, blocks: dict[str, Blockage], snapshot: list[Any]) -> Emergency:
        return Emergency(
            r.id,
            r.mine,
            r.kind,
            Place(r.tunnel, r.offset_m),
            r.declared_by,
            r.declared_at,
            r.note,
            blocks,
            snapshot,
            r.ended_at,
            r.ended_by,
        )


# -- command line: the record of past emergencies, for the inquiry ------------------------------
emergency_app = typer.Typer(
    help="Past emergencies from the store: list, report, replay.", no_args_is_help=True
)
DbOption = Annotated[str | None, typer.Option("--db", help="database URL (default $MINEPOS_DB)")]


def _load(db: str | None, emergency: str) -> tuple[EmergencyRecord, EmergencyRepository, Any]:
    from minepos.store.service import Store

    store = Store(db)
    repo = EmergencyRepository(store.db, store.writer)
    record = repo.get(emergency)
    if record is None:
        store.close()
        raise InputError(f"no emergency {emergency!r} in {store.db.url}")
    return record, repo, store


@emergency_app.command("list")
def list_command(db: DbOption = None) -> None:
    """Every emergency kept, newest first."""
    from minepos.store.service import Store

    with Store(db) as store:
        for em in EmergencyRepository(store.db, store.writer).recent(1000):
            ended = "active" if em.ended_at is None else f"ended {hhmmss(em.ended_at)}"
            typer.echo(
                f"{em.id}  {em.kind:9s} {em.place.tunnel} {em.place.offset_m:.0f} m  "
                f"declared {hhmmss(em.declared_at)} by {em.declared_by}, {ended}"
            )


@emergency_app.command("report")
def report_command(
    emergency: Annotated[str, typer.Argument(help="emergency id (see `minepos emergency list`)")],
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", help="md, html or json")] = "md",
) -> None:
    """The emergency report: timeline, who was where, when each person reached safety."""
    if fmt not in ("md", "html", "json"):
        raise typer.BadParameter("must be md, html or json", param_hint="--format")
    record, repo, store = _load(db, emergency)
    try:
        report = build_report(
            record.emergency, record.orders, record.events, repo.snapshots(emergency)
        )
    finally:
        store.close()
    out = {"md": report_markdown, "html": report_html}.get(fmt)
    typer.echo(out(report) if out else json.dumps(report, indent=1), nl=fmt == "json")


@emergency_app.command("replay")
def replay_command(
    emergency: Annotated[str, typer.Argument(help="emergency id")],
    db: DbOption = None,
    every: Annotated[float, typer.Option(min=10, help="seconds between frames")] = 60.0,
) -> None:
    """What the dispatcher saw, one JSON line per frame (counts, unaccounted, blocked)."""
    record, repo, store = _load(db, emergency)
    try:
        frames = replay(record.emergency, record.orders, repo.snapshots(emergency), every_s=every)
    finally:
        store.close()
    for f in frames:
        typer.echo(
            json.dumps(
                {
                    **f,
                    "unaccounted": [
                        {
                            k: r[k]
                            for k in ("tag", "person", "tunnel", "offset_m", "last_seen", "stale")
                        }
                        for r in f["unaccounted"]
                    ],
                }
            )
        )


def register(app: typer.Typer) -> None:
    """Attach ``minepos emergency`` to the main app."""
    app.add_typer(emergency_app, name="emergency")
