"""Persistence: SQLAlchemy Core over SQLite (default, WAL) or PostgreSQL, one schema, one writer.

Keeps alarms and their lifecycle, zone transitions, lamp events, a compacted position history,
the headcount history, the audit log, users, gateways, the people registry and dead letters.
"""

from __future__ import annotations

from minepos.store.database import DEFAULT_URL, Database, database_url
from minepos.store.retention import Retention
from minepos.store.service import Store
from minepos.store.writer import Receipt, Writer, WriterError

__all__ = [
    "DEFAULT_URL",
    "Database",
    "Receipt",
    "Retention",
    "Store",
    "Writer",
    "WriterError",
    "database_url",
]
