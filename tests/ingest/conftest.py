"""Shared helpers for ingest tests: a settable clock and a recording sink."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from minepos.measurement import Measurement

NOW = 1763793600.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RecordingSink:
    """Collects every batch handed to the engine."""

    def __init__(self) -> None:
        self.batches: list[list[Measurement]] = []

    def __call__(self, batch: Sequence[Measurement]) -> None:
        self.batches.append(list(batch))

    @property
    def measurements(self) -> list[Measurement]:
        return [m for b in self.batches for m in b]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()
