"""The people and tag registry (CRUD, roster CSV import) and each person's track."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response
from pydantic import ValidationError

from minepos.api.auth import Principal, require
from minepos.api.routes.common import ServicesDep, parse_time
from minepos.api.schemas import (
    PersonCreate,
    PersonPublic,
    PersonUpdate,
    RosterResult,
    TrackPublic,
)
from minepos.api.services import Services
from minepos.errors import InputError
from minepos.store.accounts import Person

__all__ = ["parse_roster", "router"]

router = APIRouter(tags=["people"])
Viewer = Annotated[Principal, Depends(require("viewer"))]
Admin = Annotated[Principal, Depends(require("admin"))]

_MAX_TRACK_S = 7 * 86400.0
_ROSTER_COLUMNS = ("id", "name", "role", "tag")


def _public(p: Person) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "role": p.role,
        "tag": p.tag,
        "personnel_number": p.personnel_number,
    }


def _put(services: Services, people: list[Person], actor: str) -> None:
    try:
        services.store.people.put(people, ts=services.clock(), actor=actor)
    except InputError as exc:
        raise HTTPException(409, str(exc)) from exc
    services.live.people_changed()


def _matches(p: Person, q: str) -> bool:
    q = q.casefold()
    return any(q in (v or "").casefold() for v in (p.id, p.name, p.tag, p.personnel_number))


@router.get("/people", response_model=list[PersonPublic])
def list_people(
    services: ServicesDep,
    _: Viewer,
    q: Annotated[
        str | None, Query(max_length=100, description="name, number or tag contains")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 100_000,
) -> Any:
    """Everyone in the registry, optionally filtered by a search string."""
    people = services.store.people.list()
    if q:
        people = [p for p in people if _matches(p, q)]
    return [_public(p) for p in people[:limit]]


@router.get("/people/{person}", response_model=PersonPublic)
def get_person(services: ServicesDep, _: Viewer, person: str) -> Any:
    """One person."""
    found = services.store.people.get(person)
    if found is None:
        raise HTTPException(404, f"no person {person!r:.80}")
    return _public(found)


@router.post("/people", response_model=PersonPublic, status_code=201)
def create_person(services: ServicesDep, who: Admin, body: PersonCreate) -> Any:
    """Register a person (and the tag they carry)."""
    if services.store.people.get(body.id) is not None:
        raise HTTPException(409, f"person {body.id!r} exists already; use PUT to change them")
    person = Person(body.id, body.name, body.role, body.tag, body.personnel_number)
    _put(services, [person], who.name)
    return _public(person)


@router.put("/people/{person}", response_model=PersonPublic)
def update_person(services: ServicesDep, who: Admin, person: str, body: PersonUpdate) -> Any:
    """Change a person's name, role, tag or personnel number."""
    found = services.store.people.get(person)
    if found is None:
        raise HTTPException(404, f"no person {person!r:.80}")
    changes = body.model_dump(exclude_unset=True)
    updated = Person(
        found.id,
        changes.get("name") or found.name,
        changes.get("role") or found.role,
        changes.get("tag", found.tag),
        changes.get("personnel_number", found.personnel_number),
    )
    _put(services, [updated], who.name)
    return _public(updated)


@router.delete(
    "/people/{person}", status_code=204, responses={404: {"description": "no such person"}}
)
def delete_person(services: ServicesDep, who: Admin, person: str) -> Response:
    """Remove a person from the registry; their tag is free to issue again. History stays."""
    if not services.store.people.delete(person, services.clock(), who.name):
        raise HTTPException(404, f"no person {person!r:.80}")
    services.live.people_changed()
    return Response(status_code=204)


def parse_roster(text: str) -> list[Person]:
    """People from roster CSV text (``id,name,role,tag[,personnel_number]``).

    Raises InputError listing every bad line.
    """
    try:
        return _parse_roster(text)
    except csv.Error as exc:
        raise InputError(f"roster: not a readable CSV file: {exc}") from exc


def _parse_roster(text: str) -> list[Person]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = set(_ROSTER_COLUMNS) - set(reader.fieldnames or ())
    if missing:
        raise InputError(f"roster: missing column(s) {', '.join(sorted(missing))}")
    people: list[Person] = []
    problems: list[str] = []
    for line, row in enumerate(reader, start=2):
        data = {
            k: (row.get(k) or "").strip() or None for k in (*_ROSTER_COLUMNS, "personnel_number")
        }
        try:
            p = PersonCreate.model_validate(data)
        except ValidationError as exc:
            problems += [
                f"line {line}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            ]
            continue
        people.append(Person(p.id, p.name, p.role, p.tag, p.personnel_number))
    if problems:
        raise InputError("roster: " + "; ".join(problems[:50]))
    if not people:
        raise InputError("roster: no rows")
    return people


@router.post(
    "/people/import",
    response_model=RosterResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def import_roster(
    services: ServicesDep, who: Admin, body: Annotated[bytes, Body(media_type="text/csv")]
) -> Any:
    """Import a roster CSV (``id,name,role,tag[,personnel_number]`` with a header row).

    Importing again updates the people already known.
    """
    try:
        people = parse_roster(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise HTTPException(422, "roster: the file is not UTF-8 text") from None
    except InputError as exc:
        raise HTTPException(422, str(exc)) from exc
    known = {p.id for p in services.store.people.list()}
    _put(services, people, who.name)
    created = sum(p.id not in known for p in people)
    return {"imported": len(people), "created": created, "updated": len(people) - created}


@router.get("/people/{person}/track", response_model=TrackPublic)
def get_track(
    services: ServicesDep,
    _: Viewer,
    person: str,
    since: Annotated[
        str | None, Query(alias="from", description="seconds or RFC 3339; default an hour ago")
    ] = None,
    until: Annotated[
        str | None, Query(alias="to", description="seconds or RFC 3339; default now")
    ] = None,
) -> Any:
    """The person's kept positions in the window, oldest first."""
    if services.store.people.get(person) is None:
        raise HTTPException(404, f"no person {person!r:.80}")
    now = services.clock()
    hi = parse_time(until, "to", now + 1.0)
    lo = parse_time(since, "from", hi - 3600.0)
    if hi <= lo:
        raise HTTPException(422, "to: must be after from")
    if hi - lo > _MAX_TRACK_S:
        raise HTTPException(422, "from: the window may be at most 7 days")
    points = services.store.history.track(person, lo, hi)
    return {"person": person, "since": lo, "until": hi, "points": [p.to_dict() for p in points]}
