"""CLI of ingest: `minepos ingest decode`; `errors` is added by `minepos.store.ingest_commands`."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from minepos.errors import InputError
from minepos.ingest.decoders import DECODERS, get_decoder
from minepos.ingest.report import DecodeContext

__all__ = ["register"]

ingest_app = typer.Typer(
    help="Gateway input: refused payloads (dead letters), trying a decoder.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Attach `minepos ingest ...` to the main app."""
    app.add_typer(ingest_app, name="ingest")


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
