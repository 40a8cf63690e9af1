"""The `minepos` command line: one typer app; each part of the system registers its own commands.

Only the part that owns the command being run is imported, so `minepos mine check` does not pay
for loading the engine, the store and the web server.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence

import typer

from minepos.errors import MineposError

__all__ = ["COMMANDS", "app", "main"]

app = typer.Typer(
    name="minepos",
    help="Underground mine personnel positioning and dispatch.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Underground mine personnel positioning and dispatch."""
    # A callback keeps `minepos` a group even when only one command is registered.


#: top-level command -> the module whose `register(app)` adds it
COMMANDS: dict[str, str] = {
    "demo": "minepos.web.commands",
    "serve": "minepos.web.commands",
    "user": "minepos.web.commands",
    "gateway": "minepos.web.commands",
    "mine": "minepos.mine.commands",
    "import-dxf": "minepos.mine.dxf",
    "simulate": "minepos.sim.commands",
    "locate": "minepos.engine.commands",
    "replay": "minepos.store.commands",
    "ingest": "minepos.store.ingest_commands",  # ingest's commands and `errors` (the store)
    "emergency": "minepos.store.emergency",
}

_registered: set[str] = set()


def _register(argv: Sequence[str] | None = None) -> None:
    """Attach commands: only the one named in ``argv``, or all of them (for help, or tests)."""
    wanted = argv[0] if argv else None
    modules = [COMMANDS[wanted]] if wanted in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        if name not in _registered:
            importlib.import_module(name).register(app)
            _registered.add(name)


def _usage_error(exc: Exception) -> int | None:
    """The exit code of a command-line usage error (typer vendors its own click), else None."""
    show = getattr(exc, "show", None)
    code = getattr(exc, "exit_code", None)
    if callable(show) and isinstance(code, int):
        show()
        return code
    return None


def main() -> None:
    """Entry point: run the app, turn every error into a message and an exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _register(sys.argv[1:])
    try:
        app(standalone_mode=False)
    except MineposError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)
        sys.exit(130)
    except (typer.Abort, typer.Exit) as exc:
        sys.exit(getattr(exc, "exit_code", 1))
    except Exception as exc:  # no traceback ever reaches a user
        code = _usage_error(exc)
        if code is not None:
            sys.exit(code)
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        typer.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
