"""Reading mine files (YAML or JSON) and rosters; a broken file is refused whole."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from minepos.errors import InputError, MineFileError
from minepos.mine.model import Mine
from minepos.mine.schema import MineFile, PersonSpec
from minepos.mine.validate import format_pydantic_errors, partial_spec, problems_of

__all__ = ["load_mine", "load_mine_text", "load_roster", "mine_from_dict", "parse_mine_file"]

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(source: str | Path) -> tuple[str, str]:
    """Text and display name of a file, or of standard input for ``-``."""
    if str(source) == "-":
        return sys.stdin.read(), "<stdin>"
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc


def _parse_text(text: str, name: str) -> Any:
    stripped = text.lstrip()
    try:
        if stripped.startswith(("{", "[")):
            return json.loads(text)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except json.JSONDecodeError as exc:
        raise MineFileError([f"line {exc.lineno} column {exc.colno}: {exc.msg}"], name) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise MineFileError([f"{where}{problem}"], name) from exc


def parse_mine_file(data: Any, name: str = "mine file") -> MineFile:
    """Validate a parsed mine description; raise `MineFileError` listing every problem."""
    if not isinstance(data, dict):
        raise MineFileError([f"the file must hold a mapping, not {type(data).__name__}"], name)
    try:
        spec = MineFile.model_validate(data)
    except ValidationError as exc:
        # Refused whole, but still cross-check the well-formed items so every problem is listed.
        partial, ctx = partial_spec(data)
        problems = format_pydantic_errors(exc) + problems_of(partial, ctx)
        raise MineFileError(problems, name) from exc
    problems = problems_of(spec)
    if problems:
        raise MineFileError(problems, name)
    return spec


def mine_from_dict(data: Any, name: str = "mine file") -> Mine:
    """Build a `Mine` from an already parsed description."""
    return Mine(parse_mine_file(data, name))


def load_mine_text(text: str, name: str = "mine file") -> Mine:
    """Build a `Mine` from YAML or JSON text."""
    return mine_from_dict(_parse_text(text, name), name)


def load_mine(source: str | Path) -> Mine:
    """Build a `Mine` from a YAML or JSON file (``-`` for standard input)."""
    text, name = _read(source)
    return load_mine_text(text, name)


def load_roster(source: str | Path) -> list[PersonSpec]:
    """People from a roster CSV with the columns ``id,name,role,tag`` (a header row is required)."""
    text, name = _read(source)
    reader = csv.DictReader(io.StringIO(text))
    missing = {"id", "name", "role", "tag"} - set(reader.fieldnames or ())
    if missing:
        raise InputError(f"{name}: missing column(s) {', '.join(sorted(missing))}")
    people, problems = [], []
    for row_no, row in enumerate(reader, start=2):
        try:
            people.append(
                PersonSpec.model_validate({k: row[k] for k in ("id", "name", "role", "tag")})
            )
        except ValidationError as exc:
            problems += [f"line {row_no}: {p}" for p in format_pydantic_errors(exc)]
    if problems:
        raise MineFileError(problems, name)
    return people
