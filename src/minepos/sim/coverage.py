"""Coverage of a layout: what share of the time people were heard, and where they were not.

What an integrator wants to know before installing anchors: counted over tag-seconds with a lamp
out, how often a tag had two or more UWB ranges (enough to place it along a tunnel), one, or no
radio contact at all, and which tunnels are worst.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from minepos.mine import Mine
from minepos.sim.batch import PRESENCE, RANGE
from minepos.sim.simulation import Tick

__all__ = ["Coverage"]

_MIN_TAG_SECONDS = 60  # tunnels visited less than this are not ranked


class Coverage:
    """Counts per tunnel of tag-ticks by what was heard."""

    def __init__(self, mine: Mine, n_people: int) -> None:
        self.mine = mine
        self.n_people = n_people
        n_t = len(mine.tunnels)
        self.rows = np.zeros(n_t, dtype=np.int64)
        self.uwb2 = np.zeros(n_t, dtype=np.int64)
        self.uwb1 = np.zeros(n_t, dtype=np.int64)
        self.silent = np.zeros(n_t, dtype=np.int64)

    def add(self, tick: Tick) -> None:
        """Count one tick."""
        m, truth = tick.measurements, tick.truth
        if not len(truth):
            return
        n = self.n_people
        uwb = np.bincount(m.person[m.kind == RANGE], minlength=n)[truth.person]
        radio = np.bincount(m.person[m.kind <= PRESENCE], minlength=n)[truth.person]
        t = truth.tunnel
        k = len(self.rows)
        self.rows += np.bincount(t, minlength=k)
        self.uwb2 += np.bincount(t[uwb >= 2], minlength=k)
        self.uwb1 += np.bincount(t[uwb == 1], minlength=k)
        self.silent += np.bincount(t[radio == 0], minlength=k)

    def _share(self, x: NDArray[np.int64]) -> float:
        return float(x.sum() / max(self.rows.sum(), 1))

    def worst(self, n: int = 3) -> list[tuple[str, float]]:
        """Tunnels with the largest share of tag-ticks with fewer than two UWB ranges."""
        seen = self.rows >= _MIN_TAG_SECONDS
        short = 1.0 - self.uwb2 / np.maximum(self.rows, 1)
        order = [int(i) for i in np.argsort(-short) if seen[i] and short[i] > 0]
        return [(self.mine.tunnels[i].id, float(short[i])) for i in order[:n]]

    def to_dict(self) -> dict[str, Any]:
        """Shares over all tag-ticks, and the worst tunnels."""
        return {
            "tag_ticks": int(self.rows.sum()),
            "uwb_2_or_more": round(self._share(self.uwb2), 4),
            "uwb_1": round(self._share(self.uwb1), 4),
            "heard_by_nothing": round(self._share(self.silent), 4),
            "worst_tunnels": [{"tunnel": t, "below_2_uwb": round(s, 4)} for t, s in self.worst()],
        }

    def describe(self) -> str:
        """One line for a person."""
        worst = ", ".join(f"{t} {100 * s:.0f} %" for t, s in self.worst())
        return (
            f"coverage: 2+ UWB ranges {100 * self._share(self.uwb2):.1f} %, one "
            f"{100 * self._share(self.uwb1):.1f} %, heard by nothing "
            f"{100 * self._share(self.silent):.1f} % of tag-seconds"
            + (f"; fewest ranges in: {worst}" if worst else "")
        )
