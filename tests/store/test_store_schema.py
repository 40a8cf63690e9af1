"""The migrations make exactly the schema the code uses, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from minepos.store import Database
from minepos.store.schema import metadata


def test_migrated_database_matches_the_code_schema(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert db.current_revision() == db.head_revision() == "0002"
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert {t.name for t in metadata.sorted_tables} <= tables
    finally:
        db.close()


def test_opening_twice_is_a_no_op(db_url: str) -> None:
    Database(db_url).close()
    db = Database(db_url)
    try:
        assert db.current_revision() == "0002"
    finally:
        db.close()


def test_sqlite_runs_in_wal_with_full_sync(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/x.sqlite3")
    try:
        with db.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            cur = raw.cursor()
            assert cur.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert cur.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        db.close()
