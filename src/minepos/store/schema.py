"""The one schema of the store, as SQLAlchemy Core tables, for SQLite and PostgreSQL alike.

The Alembic migrations under ``migrations/versions`` create exactly these tables; a test checks that
the migrated database and this metadata agree, so the code and the migrations cannot drift apart.
Timestamps are seconds since the Unix epoch (float, UTC), as in the canonical measurement.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "alarms",
    "audit_log",
    "dead_letters",
    "gateways",
    "headcount_history",
    "lamp_events",
    "metadata",
    "people",
    "positions",
    "users",
    "zone_transitions",
]

# Stable constraint names so that migrations can refer to them on both backends.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: SQLite autoincrements only an INTEGER PRIMARY KEY (the rowid alias), not a BIGINT one.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

users = Table(
    "users",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

gateways = Table(
    "gateways",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

people = Table(
    "people",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(64), nullable=False),
    Column("tag", String(64), nullable=True, unique=True),
    Column("personnel_number", String(64), nullable=True),
    Column("created_at", Float, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False, index=True),
    Column("user", String(100), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False),
    Column("details", JSON, nullable=False),
)

alarms = Table(
    "alarms",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("tag", String(64), nullable=True),
    Column("person", String(64), nullable=True),
    Column("zone", String(64), nullable=True),
    Column("anchor", String(64), nullable=True),
    Column("raised_at", Float, nullable=False, index=True),
    Column("acked_by", String(100), nullable=True),
    Column("acked_at", Float, nullable=True),
    Column("ack_comment", Text, nullable=True),
    Column("cleared_at", Float, nullable=True, index=True),
    Column("details", JSON, nullable=False),
)

zone_transitions = Table(
    "zone_transitions",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False, index=True),
    Column("tag", String(64), nullable=False),
    Column("person", String(64), nullable=True),
    Column("zone", String(64), nullable=False),
    Column("direction", String(8), nullable=False),  # enter | leave
    Index(None, "person", "ts"),
)

lamp_events = Table(
    "lamp_events",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False, index=True),
    Column("tag", String(64), nullable=False),
    Column("person", String(64), nullable=True),
    Column("event", String(16), nullable=False),  # lamp_out | lamp_in
    Index(None, "tag", "ts"),
)

# The compacted history: one row when a person moved more than a few metres or every N seconds.
# Kept narrow on purpose (bytes per tag-hour is a benchmark); xyz is recomputable from the mine
# but stored so a track replays without the mine file of that day.
positions = Table(
    "positions",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False, index=True),
    Column("person", String(64), nullable=False),
    Column("tag", String(64), nullable=False),
    Column("tunnel", String(64), nullable=False),
    Column("offset_m", Float, nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("z", Float, nullable=False),
    Column("uncertainty_m", Float, nullable=False),
    Column("zone", String(64), nullable=True),
    Index(None, "person", "ts"),
)

headcount_history = Table(
    "headcount_history",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False, index=True),
    Column("underground", Integer, nullable=False),
    Column("by_level", JSON, nullable=False),
    Column("by_zone", JSON, nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False, index=True),
    Column("gateway", String(100), nullable=True, index=True),
    Column("transport", String(16), nullable=False),
    Column("decoder", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),
)

# The emergency tables (migration 0002) live beside their repository; importing it registers them.
import minepos.store.emergency  # noqa: E402, F401
