"""The positioning engine: one estimate per tag, constrained to the tunnel graph.

Public API: `Tracker` (``add`` measurements, ``step(now)`` -> estimates), `TrackerConfig`,
`Estimate` and `Span`. See docs/engine.md for the design, the maths and the measured accuracy.
"""

from minepos.engine.config import TrackerConfig
from minepos.engine.estimate import Estimate, Span
from minepos.engine.tracker import Tracker

__all__ = ["Estimate", "Span", "Tracker", "TrackerConfig"]
