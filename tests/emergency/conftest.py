"""Fixtures of the emergency tests: the demo mine with 40 people, a live state, a desk."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from minepos.mine import Mine, mine_from_dict
from minepos.mine.demo import demo_mine_dict
from minepos.safety import LiveState
from minepos.safety.emergency import EmergencyDesk, MemoryDownlink
from minepos.store import Store


@pytest.fixture(scope="session")
def mine() -> Mine:
    """The demo mine with 40 people on the roster."""
    return mine_from_dict(demo_mine_dict(people=40))


@pytest.fixture
def state(mine: Mine) -> LiveState:
    """An empty live state of the demo mine."""
    return LiveState(mine)


@pytest.fixture
def desk(state: LiveState) -> EmergencyDesk:
    """A desk with an in-memory downlink."""
    return EmergencyDesk(state, downlink=MemoryDownlink())


PG_SERVER = os.environ.get("MINEPOS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session's emergency tests (dropped after)."""
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    name = f"minepos_em_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL unreachable at {PG_SERVER}: {exc.orig}")
    yield f"{PG_SERVER}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An open store on each backend (emergency ids are unique per test by their time)."""
    url = (
        f"sqlite:///{tmp_path}/minepos.sqlite3"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_server_url")
    )
    s = Store(url, max_delay_s=0.01)
    yield s
    s.close()
