"""The `minepos` command line: one typer app; each part of the system registers its own commands."""

from __future__ import annotations

import logging
import sys

import typer

from minepos.errors import MineposError

__all__ = ["app", "main"]

app = typer.Typer(
    name="minepos",
    help="Underground mine personnel positioning and dispatch.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    """Attach the commands of every part; each module adds its own to `app`."""
    from minepos.mine import commands as mine_commands

    mine_commands.register(app)
    from minepos.sim import commands as sim_commands

    sim_commands.register(app)
    from minepos.mine import dxf as dxf_commands

    dxf_commands.register(app)
    from minepos.ingest import commands as ingest_commands

    ingest_commands.register(app)
    from minepos.store import commands as store_commands

    store_commands.register(app)
    from minepos.engine import commands as engine_commands

    engine_commands.register(app)
    from minepos.web import commands as web_commands

    web_commands.register(app)
    from minepos.store import emergency as emergency_commands

    emergency_commands.register(app)


def main() -> None:
    """Entry point: run the app, turn every error into a message and an exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _register()
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
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        typer.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
