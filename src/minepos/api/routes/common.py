"""Helpers shared by the routers: JSON responses, the mine path check, alarm rows, times."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, HTTPException, Path, Response

from minepos.api.auth import get_services
from minepos.api.services import Services
from minepos.safety.alarms import Alarm

__all__ = ["ServicesDep", "alarm_public", "check_mine", "json_response", "parse_time"]

ServicesDep = Annotated[Services, Depends(get_services)]


def json_response(data: Any, status_code: int = 200) -> Response:
    """Fast JSON for big answers (positions of thousands of tags)."""
    return Response(
        orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY),
        status_code=status_code,
        media_type="application/json",
    )


def check_mine(
    services: ServicesDep,
    mine: Annotated[str, Path(description="Mine id", max_length=64)],
) -> str:
    """404 unless ``mine`` is the mine this server runs."""
    if mine != services.mine.id:
        raise HTTPException(404, f"no mine {mine!r} here (this server runs {services.mine.id!r})")
    return mine


def alarm_public(alarm: Alarm) -> dict[str, Any]:
    """`AlarmPublic` of an alarm."""
    return {**alarm.fields(), "state": alarm.state}


def parse_time(value: str | None, name: str, default: float) -> float:
    """Seconds since the epoch from a number or an RFC 3339 time; 422 naming ``name`` if bad."""
    if value is None or value == "":
        return default
    try:
        out = float(value)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise HTTPException(
                422, f"{name}: {value!r:.40} is neither seconds nor an RFC 3339 time"
            ) from None
        if parsed.tzinfo is None:
            raise HTTPException(422, f"{name}: the time needs a zone (Z or +hh:mm)") from None
        out = parsed.timestamp()
    if not math.isfinite(out) or abs(out) > 1e11:
        raise HTTPException(422, f"{name}: {value!r:.40} is out of range")
    return out
