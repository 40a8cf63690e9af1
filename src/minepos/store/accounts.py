"""Users, gateways and the people/tag registry: small create/get/list repositories.

Tokens and gateway keys are random (``secrets``) and stored only as SHA-256 hashes: they are long
and random, so a fast hash is enough and lets a request be authenticated by one indexed lookup.
Passwords are short and human, so they get argon2 (argon2-cffi).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, delete, select, update
from sqlalchemy.exc import IntegrityError

from minepos.errors import InputError
from minepos.store.database import Database
from minepos.store.schema import audit_log, gateways, people, users
from minepos.store.upsert import upsert
from minepos.store.writer import Statement, Writer, WriterError

__all__ = [
    "ROLES",
    "Gateway",
    "GatewayRepository",
    "Person",
    "PersonRepository",
    "User",
    "UserRepository",
    "hash_token",
]

ROLES: Final = ("viewer", "dispatcher", "admin")
_hasher = PasswordHasher()


def hash_token(token: str) -> str:
    """SHA-256 hex of a bearer token or gateway key."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class User:
    """A console or API user."""

    id: int
    name: str
    role: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Gateway:
    """A gateway allowed to post measurements."""

    id: int
    name: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Person:
    """A person in the registry, with the tag they carry."""

    id: str
    name: str
    role: str
    tag: str | None = None
    personnel_number: str | None = None


def _write(writer: Writer, what: str, run: Any) -> None:
    """Run a write through the writer and wait; a unique-key clash becomes an InputError."""
    try:
        writer.submit(Statement(run)).wait()
    except WriterError as exc:
        if isinstance(exc.__cause__, IntegrityError):
            raise InputError(f"{what} already exists") from exc
        raise


def _audit(conn: Connection, ts: float, actor: str, action: str, target: str) -> None:
    conn.execute(
        audit_log.insert(),
        [{"ts": ts, "user": actor, "action": action, "target": target, "details": {}}],
    )


class UserRepository:
    """Users with a role, a bearer token (hashed) and optionally a password (argon2)."""

    def __init__(self, db: Database, writer: Writer) -> None:
        self.db, self.writer = db, writer

    def create(
        self, name: str, role: str, *, ts: float, password: str | None = None, actor: str = "cli"
    ) -> tuple[User, str]:
        """Add a user; returns the user and their token (shown once, stored only hashed)."""
        if role not in ROLES:
            raise InputError(f"role {role!r}: must be one of {', '.join(ROLES)}")
        if not name.strip():
            raise InputError("user name: must not be empty")
        token = secrets.token_urlsafe(32)
        row = {
            "name": name,
            "role": role,
            "password_hash": _hasher.hash(password) if password else None,
            "token_hash": hash_token(token),
            "created_at": ts,
        }

        def run(conn: Connection) -> None:
            conn.execute(users.insert(), [row])
            _audit(conn, ts, actor, "user.add", name)

        _write(self.writer, f"user {name!r}", run)
        user = self.get(name)
        assert user is not None
        return user, token

    def set_password(self, name: str, password: str, ts: float, actor: str = "cli") -> None:
        """Set (or reset) a user's console password; audited. InputError for an unknown user."""
        if len(password) < 8:
            raise InputError("password: must be at least 8 characters")
        digest = _hasher.hash(password)
        found: list[int] = []

        def run(conn: Connection) -> None:
            done = conn.execute(
                update(users).where(users.c.name == name).values(password_hash=digest)
            )
            found.append(done.rowcount)
            if done.rowcount:
                _audit(conn, ts, actor, "user.passwd", name)

        _write(self.writer, f"user {name!r}", run)
        if not found[0]:
            raise InputError(f"no user {name!r}")

    def _one(self, where: Any) -> Row[Any] | None:
        with self.db.engine.connect() as conn:
            return conn.execute(select(users).where(where)).first()

    def get(self, name: str) -> User | None:
        """A user by name."""
        row = self._one(users.c.name == name)
        return None if row is None else User(row.id, row.name, row.role, row.created_at)

    def by_token(self, token: str) -> User | None:
        """The user a bearer token belongs to, or None."""
        row = self._one(users.c.token_hash == hash_token(token))
        return None if row is None else User(row.id, row.name, row.role, row.created_at)

    def check_password(self, name: str, password: str) -> User | None:
        """The user if the password is right, else None."""
        row = self._one(users.c.name == name)
        if row is None or row.password_hash is None:
            return None
        try:
            _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(row.id, row.name, row.role, row.created_at)

    def list(self) -> list[User]:
        """All users by name."""
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).all()
        return [User(r.id, r.name, r.role, r.created_at) for r in rows]


class GatewayRepository:
    """Gateways and their ingest keys (hashed)."""

    def __init__(self, db: Database, writer: Writer) -> None:
        self.db, self.writer = db, writer

    def create(self, name: str, *, ts: float, actor: str = "cli") -> tuple[Gateway, str]:
        """Add a gateway; returns it and its key (shown once, stored only hashed)."""
        if not name.strip():
            raise InputError("gateway name: must not be empty")
        key = secrets.token_urlsafe(32)
        row = {"name": name, "key_hash": hash_token(key), "created_at": ts}

        def run(conn: Connection) -> None:
            conn.execute(gateways.insert(), [row])
            _audit(conn, ts, actor, "gateway.add", name)

        _write(self.writer, f"gateway {name!r}", run)
        gateway = self.get(name)
        assert gateway is not None
        return gateway, key

    def get(self, name: str) -> Gateway | None:
        """A gateway by name."""
        with self.db.engine.connect() as conn:
            row = conn.execute(select(gateways).where(gateways.c.name == name)).first()
        return None if row is None else Gateway(row.id, row.name, row.created_at)

    def by_key(self, key: str) -> Gateway | None:
        """The gateway an ingest key belongs to, or None."""
        with self.db.engine.connect() as conn:
            row = conn.execute(
                select(gateways).where(gateways.c.key_hash == hash_token(key))
            ).first()
        return None if row is None else Gateway(row.id, row.name, row.created_at)

    def list(self) -> list[Gateway]:
        """All gateways by name."""
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(gateways).order_by(gateways.c.name)).all()
        return [Gateway(r.id, r.name, r.created_at) for r in rows]


def _person(row: Row[Any]) -> Person:
    return Person(row.id, row.name, row.role, row.tag, row.personnel_number)


class PersonRepository:
    """The people and tag registry (imported from the mine file or a roster)."""

    def __init__(self, db: Database, writer: Writer) -> None:
        self.db, self.writer = db, writer

    def put(self, persons: Sequence[Person], *, ts: float, actor: str = "cli") -> None:
        """Create or update people by id (a re-imported roster overwrites)."""
        rows = [
            {
                "id": p.id,
                "name": p.name,
                "role": p.role,
                "tag": p.tag,
                "personnel_number": p.personnel_number,
                "created_at": ts,
            }
            for p in persons
        ]

        def run(conn: Connection) -> None:
            upsert(conn, people, rows, ["id"])
            _audit(conn, ts, actor, "people.put", f"{len(rows)} people")

        _write(self.writer, "a tag in this roster", run)

    def delete(self, person: str, ts: float, actor: str = "cli") -> bool:
        """Remove a person from the registry (audited); False if there was no such person.

        History keeps the person id in its rows; only the registry entry goes.
        """
        found: list[int] = []

        def run(conn: Connection) -> None:
            done = conn.execute(delete(people).where(people.c.id == person))
            found.append(done.rowcount)
            if done.rowcount:
                _audit(conn, ts, actor, "people.delete", person)

        _write(self.writer, f"person {person!r}", run)
        return bool(found[0])

    def get(self, person: str) -> Person | None:
        """A person by id."""
        with self.db.engine.connect() as conn:
            row = conn.execute(select(people).where(people.c.id == person)).first()
        return None if row is None else _person(row)

    def by_tag(self, tag: str) -> Person | None:
        """The person carrying a tag."""
        with self.db.engine.connect() as conn:
            row = conn.execute(select(people).where(people.c.tag == tag)).first()
        return None if row is None else _person(row)

    def list(self) -> list[Person]:
        """Everyone, by id."""
        with self.db.engine.connect() as conn:
            return [_person(r) for r in conn.execute(select(people).order_by(people.c.id)).all()]
