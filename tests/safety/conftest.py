"""Fixtures of the safety tests: the small mine and a driver on it."""

from __future__ import annotations

import pytest
from safety_helpers import SMALL_MINE, Driver

from minepos.mine import Mine, mine_from_dict
from minepos.safety import SafetyMonitor, SafetySettings


@pytest.fixture(scope="session")
def mine() -> Mine:
    """The small mine."""
    return mine_from_dict(SMALL_MINE)


@pytest.fixture
def driver(mine: Mine) -> Driver:
    """A driver over a monitor with default settings."""
    return Driver(
        mine,
        SafetyMonitor(
            mine,
            SafetySettings(card_anomaly_warmup_s=0, shift_starts=("06:00", "14:00", "22:00")),
        ),
    )
