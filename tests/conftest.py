"""Shared fixtures: the demo mine, small mines built in code."""

from __future__ import annotations

from typing import Any

import pytest

from minepos.mine import Mine, mine_from_dict
from minepos.mine.demo import demo_mine_dict


@pytest.fixture(scope="session")
def demo_mine() -> Mine:
    """The demo mine, loaded once per test session."""
    return mine_from_dict(demo_mine_dict())


@pytest.fixture
def demo_dict() -> dict[str, Any]:
    """A fresh copy of the demo mine's description, safe to modify."""
    return demo_mine_dict(people=20)
