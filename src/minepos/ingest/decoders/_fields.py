"""Field readers shared by the decoders: strict types, readable reasons, never a stray exception."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Final

import orjson

from minepos.ingest.report import FieldError

__all__ = [
    "MAX_ID_LEN",
    "json_type",
    "load_json",
    "read_bool",
    "read_id",
    "read_number",
    "read_ts",
    "read_xyz",
    "unix_seconds",
]

MAX_ID_LEN: Final = 64
_MAX_TS_TEXT: Final = 64


def json_type(value: object) -> str:  # noqa: PLR0911 (one return per JSON type reads best)
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def load_json(payload: bytes) -> Any:
    """Parse JSON bytes; raise `FieldError('invalid_json')` with the parser's message."""
    try:
        return orjson.loads(payload)
    except (orjson.JSONDecodeError, TypeError, ValueError, RecursionError) as exc:
        raise FieldError("invalid_json", f"not valid JSON: {exc}") from None


def read_number(value: object, name: str) -> float:
    """A finite JSON number (not a boolean, not a string)."""
    if type(value) is float:
        result = value
    elif type(value) is int:
        result = float(value)
    else:
        raise FieldError("malformed", f"{name}: expected a number, got {json_type(value)}")
    if not math.isfinite(result):
        raise FieldError("bad_value", f"{name}: not a finite number")
    return result


def read_bool(value: object, name: str) -> bool:
    """A JSON boolean."""
    if type(value) is not bool:
        raise FieldError("malformed", f"{name}: expected true or false, got {json_type(value)}")
    return value


#: ids already found valid: most payloads repeat the same few thousand tags and anchors
_VALID_IDS: set[str] = set()
_VALID_IDS_MAX: Final = 100_000


def read_id(value: object, name: str) -> str:
    """A non-empty printable identifier of at most 64 characters."""
    if type(value) is str and value in _VALID_IDS:
        return value
    if type(value) is not str:
        raise FieldError("malformed", f"{name}: expected a string, got {json_type(value)}")
    if not value or len(value) > MAX_ID_LEN or not value.isprintable() or value.strip() != value:
        shown = value[:MAX_ID_LEN].encode("unicode_escape").decode("ascii")
        raise FieldError(
            "malformed", f"{name}: {shown!r} is not a valid id (1-64 printable characters)"
        )
    if len(_VALID_IDS) < _VALID_IDS_MAX:
        _VALID_IDS.add(value)
    return value


def read_ts(value: object, name: str = "ts") -> float:
    """Epoch seconds (number) or an RFC 3339 string with a time zone; returns epoch seconds."""
    if type(value) is float or type(value) is int:
        return read_number(value, name)
    if type(value) is str:
        return _parse_rfc3339(value, name)
    if value is None:
        raise FieldError("malformed", f"{name}: missing")
    raise FieldError(
        "bad_ts", f"{name}: expected epoch seconds or RFC 3339, got {json_type(value)}"
    )


def _parse_rfc3339(text: str, name: str) -> float:
    if len(text) > _MAX_TS_TEXT or "T" not in text.upper():
        raise FieldError("bad_ts", f"{name}: {text[:_MAX_TS_TEXT]!r} is not an RFC 3339 time")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise FieldError("bad_ts", f"{name}: {text!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise FieldError("bad_ts", f"{name}: {text!r} has no time zone (add Z or +hh:mm)")
    try:
        return parsed.timestamp()
    except (OverflowError, ValueError, OSError):
        raise FieldError("bad_ts", f"{name}: {text!r} is out of range") from None


def unix_seconds(value: object, name: str) -> float:
    """Unix seconds given as a number or as a decimal string (some gateways quote them)."""
    if type(value) is str:
        text = value.strip()
        digits = text.replace(".", "", 1)
        if not digits or len(text) > 20 or not (digits.isascii() and digits.isdigit()):
            raise FieldError("bad_ts", f"{name}: {value!r:.40} is not Unix seconds")
        return float(text)
    return read_ts(value, name)


def read_xyz(value: object, name: str = "xyz") -> tuple[float, float, float]:
    """Three finite coordinates in metres."""
    if type(value) is not list or len(value) != 3:
        raise FieldError("malformed", f"{name}: expected [x, y, z], got {json_type(value)}")
    x, y, z = value
    return (
        read_number(x, f"{name}[0]"),
        read_number(y, f"{name}[1]"),
        read_number(z, f"{name}[2]"),
    )
