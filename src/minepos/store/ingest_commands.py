"""`minepos ingest ...`: ingest's own commands plus ``errors``, which reads the dead letters.

``errors`` lives with the store because a server keeps its dead letters in the store
(`DeadLetterRepository`, read by ``GET /api/v1/dead-letters`` too); ``--data DIR`` reads the
file of a standalone ingest service (`minepos.ingest.service.build_pipeline`) instead.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from minepos.errors import InputError
from minepos.ingest import commands as ingest_commands
from minepos.ingest.deadletters import DB_NAME, DeadLetter, SqliteDeadLetterStore

__all__ = ["register"]

_SHOWN_PAYLOAD = 300


def register(app: typer.Typer) -> None:
    """Attach `minepos ingest ...` (decode from ingest, errors from here) to the main app."""
    group = ingest_commands.ingest_app
    if not any(c.name == "errors" for c in group.registered_commands):
        group.command("errors")(errors_command)
    ingest_commands.register(app)


def _line(letter: DeadLetter, full: bool) -> str:
    when = datetime.fromtimestamp(letter.received_at, UTC).isoformat(timespec="milliseconds")
    payload = letter.payload
    if not full and len(payload) > _SHOWN_PAYLOAD:
        payload = payload[:_SHOWN_PAYLOAD] + f"... ({len(letter.payload)} chars, --full shows all)"
    return (
        f"{when}  gateway={letter.gateway} transport={letter.transport} decoder={letter.decoder}\n"
        f"  reason:  {letter.reason}\n"
        f"  payload: {payload}"
    )


def errors_command(
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="database URL (default: $MINEPOS_DB, else SQLite in ./minepos-data/)"
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="read a standalone ingest's deadletters.sqlite3 here instead"),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="how many, newest first")] = 20,
    gateway: Annotated[str | None, typer.Option("--gateway", help="only this gateway")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
    full: Annotated[bool, typer.Option("--full", help="show whole payloads")] = False,
) -> None:
    """Show the newest refused payloads and why they were refused."""
    if db is not None and data is not None:
        raise InputError("--db and --data: give one (the server's store, or an ingest folder)")
    letters = _from_file(data, limit, gateway) if data else _from_store(db, limit, gateway)
    if letters is None:
        return
    if not letters:
        typer.echo("no dead letters" + (f" from gateway {gateway}" if gateway else ""))
    for letter in letters:
        typer.echo(json.dumps(letter.to_dict()) if as_json else _line(letter, full))


def _from_store(db: str | None, limit: int, gateway: str | None) -> list[DeadLetter] | None:
    from minepos.store.database import database_url
    from minepos.store.service import Store

    url = database_url(db)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        typer.echo(f"no dead letters: {url} does not exist yet (no server has run there)")
        return None
    try:
        with Store(url) as store:
            return store.dead_letters.recent(limit, gateway)
    except SQLAlchemyError as exc:
        raise InputError(f"cannot read dead letters from {url}: {exc}") from exc


def _from_file(data: Path, limit: int, gateway: str | None) -> list[DeadLetter] | None:
    path = data / DB_NAME
    if not path.exists():
        typer.echo(f"no dead letters: {path} does not exist yet (nothing was refused)")
        return None
    store = SqliteDeadLetterStore(path)
    try:
        return store.recent(limit, gateway)
    except sqlite3.DatabaseError as exc:
        raise InputError(f"cannot read the dead-letter store {path}: {exc}") from exc
    finally:
        store.close()
