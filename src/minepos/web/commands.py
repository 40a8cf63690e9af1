"""Commands that run the system: ``minepos demo``, ``serve``, ``user add|passwd``, ``gateway add``.

They live with the console because they are what serves it; the work is in `minepos.api`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Annotated

import typer

from minepos.errors import InputError

__all__ = ["register"]

log = logging.getLogger(__name__)

user_app = typer.Typer(help="Users of the API and the console.", no_args_is_help=True)
gateway_app = typer.Typer(help="Gateways allowed to post measurements.", no_args_is_help=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="database URL (default: $MINEPOS_DB, else SQLite in ./minepos-data/)"
    ),
]


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="user name")],
    role: Annotated[str, typer.Option("--role", help="viewer, dispatcher or admin")],
    db: DbOption = None,
    password: Annotated[
        bool, typer.Option("--password", help="also ask for a console password")
    ] = False,
) -> None:
    """Add a user and print their bearer token (shown this once)."""
    from minepos.store import Store

    secret = _ask_password() if password else None
    with Store(db) as store:
        _, token = store.users.create(name, role, ts=time.time(), password=secret, actor="cli")
    typer.echo(token)


def _ask_password() -> str:
    secret: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(secret) < 8:
        raise InputError("password: must be at least 8 characters")
    return secret


@user_app.command("passwd")
def user_passwd(
    name: Annotated[str, typer.Argument(help="user name")],
    db: DbOption = None,
) -> None:
    """Set or reset a user's console password (asked twice, never echoed)."""
    from minepos.store import Store

    with Store(db) as store:
        if store.users.get(name) is None:
            raise InputError(f"no user {name!r}")
        store.users.set_password(name, _ask_password(), time.time(), actor="cli")
    typer.echo(f"password of {name!r} set")


@gateway_app.command("add")
def gateway_add(
    name: Annotated[str, typer.Argument(help="gateway name")],
    db: DbOption = None,
) -> None:
    """Add a gateway and print its ingest key (shown this once)."""
    from minepos.store import Store

    with Store(db) as store:
        _, key = store.gateways.create(name, ts=time.time(), actor="cli")
    typer.echo(key)


def demo(
    port: Annotated[int, typer.Option("--port", help="HTTP port on 127.0.0.1")] = 8000,
    people: Annotated[int, typer.Option("--people", help="people in the simulated shift")] = 300,
) -> None:
    """Everything on the embedded defaults: the demo mine, a simulated shift, the console."""
    from minepos.api.demo import demo_feed, demo_login, demo_mine
    from minepos.api.settings import load_settings
    from minepos.store import Store

    if not 0 < people <= 5000:
        raise InputError(f"--people: must be between 1 and 5000, got {people}")
    settings = load_settings(None, host="127.0.0.1", port=port)
    data = settings.data_dir
    typer.echo(f"starting the demo mine with {people} people; data in {data.resolve()}/ ...")
    mine = demo_mine()
    store = Store(settings.db or f"sqlite:///{data}/minepos.sqlite3")
    name, password = demo_login(store, data)

    def ready(_: object, bound: int) -> None:
        typer.echo("")
        typer.echo(f"  minepos demo is running:  http://127.0.0.1:{bound}/")
        typer.echo(f"  log in as:                {name} / {password}")
        typer.echo(f"  the API:                  http://127.0.0.1:{bound}/api/v1/docs")
        typer.echo("  stop with Ctrl-C")
        typer.echo("")

    _run(settings, mine, feed=demo_feed(people), on_ready=ready, store=store)


def serve(
    mine: Annotated[Path, typer.Option("--mine", help="mine file (YAML or JSON)")],
    host: Annotated[str | None, typer.Option("--host", help="bind address")] = None,
    port: Annotated[int | None, typer.Option("--port", help="HTTP port")] = None,
    db: DbOption = None,
    mqtt: Annotated[
        str | None, typer.Option("--mqtt", help="MQTT broker URL, e.g. mqtt://127.0.0.1:1883")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="settings file (YAML); env MINEPOS_* too")
    ] = None,
) -> None:
    """Run minepos for a real mine: ingest, engine, alarms, store, API and console."""
    from minepos.api.settings import load_settings
    from minepos.mine import load_mine

    settings = load_settings(config, host=host, port=port, db=db, mqtt=mqtt)
    the_mine = load_mine(mine)
    scheme = "https" if settings.tls_certfile else "http"

    def ready(_: object, bound: int) -> None:
        typer.echo(f"minepos serving mine {the_mine.id!r} on {scheme}://{settings.host}:{bound}/")
        if settings.host not in ("127.0.0.1", "localhost", "::1") and scheme == "http":
            typer.echo("note: serving plain HTTP beyond this machine; set tls_certfile/tls_keyfile")

    _run(settings, the_mine, feed=None, on_ready=ready)


def _run(settings: object, mine: object, **kwargs: object) -> None:
    from minepos.api.server import run_server
    from minepos.web import STATIC_DIR

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_server(settings, mine, static_dir=STATIC_DIR, **kwargs))  # type: ignore[arg-type]
    typer.echo("stopped", err=True)


def register(app: typer.Typer) -> None:
    """Attach demo, serve, user and gateway to the main app."""
    app.command("demo")(demo)
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
    app.add_typer(gateway_app, name="gateway")
