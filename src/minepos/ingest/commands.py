"""CLI of ingest: `minepos ingest errors` (dead letters), `minepos ingest decode` (try payloads)."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from minepos.errors import InputError
from minepos.ingest.deadletters import DB_NAME, DEFAULT_DATA_DIR, DeadLetter, SqliteDeadLetterStore
from minepos.ingest.decoders import DECODERS, get_decoder
from minepos.ingest.report import DecodeContext

__all__ = ["register"]

ingest_app = typer.Typer(
    help="Gateway input: refused payloads (dead letters), trying a decoder.", no_args_is_help=True
)

_SHOWN_PAYLOAD = 300


def register(app: typer.Typer) -> None:
    """Attach `minepos ingest ...` to the main app."""
    app.add_typer(ingest_app, name="ingest")


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


@ingest_app.command("errors")
def errors_command(
    data: Annotated[
        Path, typer.Option("--data", help="data directory holding deadletters.sqlite3")
    ] = DEFAULT_DATA_DIR,
    limit: Annotated[int, typer.Option("--limit", min=1, help="how many, newest first")] = 20,
    gateway: Annotated[str | None, typer.Option("--gateway", help="only this gateway")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
    full: Annotated[bool, typer.Option("--full", help="show whole payloads")] = False,
) -> None:
    """Show the newest refused payloads and why they were refused."""
    path = data / DB_NAME
    if not path.exists():
        typer.echo(f"no dead letters: {path} does not exist yet (nothing was refused)")
        return
    store = SqliteDeadLetterStore(path)
    try:
        letters = store.recent(limit, gateway)
    except sqlite3.DatabaseError as exc:
        raise InputError(f"cannot read the dead-letter store {path}: {exc}") from exc
    finally:
        store.close()
    if not letters:
        typer.echo("no dead letters" + (f" from gateway {gateway}" if gateway else ""))
    for letter in letters:
        typer.echo(json.dumps(letter.to_dict()) if as_json else _line(letter, full))


@ingest_app.command("decode")
def decode_command(
    source: Annotated[str, typer.Argument(help="payload file, or - for standard input")],
    decoder: Annotated[
        str, typer.Option("--decoder", help=f"one of: {', '.join(sorted(DECODERS))}")
    ] = "canonical",
    topic: Annotated[str | None, typer.Option("--topic", help="MQTT topic it came on")] = None,
) -> None:
    """Decode one payload and print the measurements (JSON lines) and the rejects (stderr)."""
    dec = get_decoder(decoder)
    try:
        payload = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror}") from exc
    result = dec.decode(payload, DecodeContext(received_at=time.time(), topic=topic))
    for m in result.measurements:
        typer.echo(m.to_json())
    for r in result.rejects:
        where = "payload" if r.index is None else f"item {r.index}"
        typer.echo(f"rejected {where}: {r.code}: {r.reason}", err=True)
    if result.rejects and not result.measurements:
        raise InputError(f"nothing decoded: {len(result.rejects)} reject(s)")
