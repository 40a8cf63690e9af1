"""Fixtures of the emergency tests: the demo mine with 40 people, a live state, a desk."""

from __future__ import annotations

import pytest

from minepos.mine import Mine, mine_from_dict
from minepos.mine.demo import demo_mine_dict
from minepos.safety import LiveState
from minepos.safety.emergency import EmergencyDesk, MemoryDownlink


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
