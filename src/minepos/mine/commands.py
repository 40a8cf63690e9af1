"""CLI commands of the mine model: `minepos mine demo`, `minepos mine check`."""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated

import typer
import yaml

from minepos.mine.demo import demo_mine_dict
from minepos.mine.loader import load_mine
from minepos.mine.model import Mine

__all__ = ["register", "summary"]

mine_app = typer.Typer(
    help="Mine descriptions: write the demo mine, check a file.", no_args_is_help=True
)


def summary(mine: Mine) -> str:
    """A few lines that tell a surveyor the file was read as meant."""
    zones = Counter(z.kind for z in mine.zones)
    anchors = Counter(a.tech for a in mine.anchors)
    kinds = Counter(t.kind for t in mine.tunnels)

    def fmt(c: Counter[str]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none"

    return "\n".join(
        [
            f"mine {mine.id} ({mine.name}): OK",
            f"levels: {len(mine.levels)} ({', '.join(lv.id for lv in mine.levels)})",
            f"nodes: {len(mine.nodes)}",
            f"tunnels: {len(mine.tunnels)}, {mine.total_length_m / 1000:.2f} km ({fmt(kinds)})",
            f"zones: {len(mine.zones)} ({fmt(zones)})",
            f"anchors: {len(mine.anchors)} ({fmt(anchors)})",
            f"people: {len(mine.people)}",
        ]
    )


@mine_app.command("demo")
def demo_command(
    fmt: Annotated[str, typer.Option("--format", help="yaml or json")] = "yaml",
    people: Annotated[int, typer.Option(min=0, help="people in the roster")] = 600,
) -> None:
    """Write the demo coal mine to standard output."""
    data = demo_mine_dict(people)
    if fmt == "json":
        typer.echo(json.dumps(data, indent=1))
    elif fmt == "yaml":
        typer.echo(
            yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100), nl=False
        )
    else:
        raise typer.BadParameter("must be yaml or json", param_hint="--format")


@mine_app.command("check")
def check_command(
    path: Annotated[str, typer.Argument(help="mine file (YAML or JSON), - for stdin")],
) -> None:
    """Validate a mine file: print a summary, or every problem as `path: message` (exit 1)."""
    typer.echo(summary(load_mine(path)))


def register(app: typer.Typer) -> None:
    """Attach the mine commands to the main app."""
    app.add_typer(mine_app, name="mine")
