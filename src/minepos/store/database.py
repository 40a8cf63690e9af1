"""`Database`: one SQLAlchemy engine from a URL, migrated to the current schema when opened.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL``. WAL alone already
survives a killed process (SIGKILL): a commit is in the WAL file before ``COMMIT`` returns. FULL
adds an fsync of the WAL at every commit, so a committed alarm, acknowledgement or lamp event also
survives a power cut of the mine's server, which is exactly the moment it matters. The cost is one
fsync per *batch*: the single writer (`minepos.store.writer`) commits many rows at once, so the
fsync is paid a few times a second, not per row (see BENCHMARKS.md).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from minepos.errors import InputError, MineposError

__all__ = ["DEFAULT_URL", "Database", "database_url"]

log = logging.getLogger(__name__)

#: Where the embedded default keeps its data (CONTRACT section 7).
DEFAULT_URL: Final = "sqlite:///./minepos-data/minepos.sqlite3"
_MIGRATIONS: Final = Path(__file__).with_name("migrations")


def database_url(url: str | None = None) -> str:
    """The URL to use: the one given, else ``$MINEPOS_DB``, else the embedded default."""
    return url or os.environ.get("MINEPOS_DB") or DEFAULT_URL


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")  # readers and the writer wait instead of failing
    cur.close()


def _make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError(f"database URL {url!r} is not a URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            # one shared connection, or every pooled connection would see its own empty database
            return create_engine(
                url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise InputError(f"database URL {url!r}: only sqlite:// and postgresql:// are supported")


class Database:
    """A migrated database: the engine, its dialect and the schema at the newest revision."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = database_url(url)
        self.engine = _make_engine(self.url)
        if migrate:
            self.migrate()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def _alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        return cfg

    def head_revision(self) -> str | None:
        """The newest migration shipped with this version of minepos."""
        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        """The revision the database is at (None for an empty database)."""
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self) -> None:
        """Bring the schema to the newest revision; a no-op when it is there already."""
        cfg = self._alembic_config()
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise MineposError(f"cannot open database {self._safe_url()}: {exc}") from exc
        log.debug("database %s at revision %s", self._safe_url(), self.head_revision())

    def _safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
