"""Columnar batches of simulated measurements and truth, and their canonical JSON lines.

A tick of a 2,000-person shift holds ~10,000 measurements; keeping them as numpy columns and
formatting lines straight from the columns is several times faster than building one
`Measurement` object each. `MeasurementBatch.to_measurements` gives the objects when wanted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from minepos.measurement import Measurement

__all__ = ["EVENT", "EVENT_NAMES", "PRESENCE", "RANGE", "RSSI", "STATUS", "MeasurementBatch"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

RANGE, RSSI, PRESENCE, STATUS, EVENT = range(5)
EVENT_NAMES = ("lamp_out", "lamp_in", "sos", "sos_cancel", "fall", "evac_ack")


@dataclass(frozen=True, slots=True)
class MeasurementBatch:
    """Measurements as columns; ``kind`` says which columns mean something per row.

    ``true_m``, ``nlos`` and ``link_class`` are diagnostics (the true 3-D anchor distance, whether
    the range got an NLOS bias, the link class of `minepos.sim.radio`): ground truth for
    benchmarks, never part of the canonical measurement.
    """

    ts: FloatArray
    kind: IntArray
    person: IntArray
    anchor: IntArray  # mine anchor index, -1 for tag reports
    value: FloatArray  # range_m or rssi_dbm
    motion: BoolArray
    battery: FloatArray
    event: IntArray
    true_m: FloatArray
    nlos: BoolArray
    link_class: IntArray

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def empty(cls) -> MeasurementBatch:
        """A batch with no rows."""
        return cls.make(np.zeros(0), RANGE, np.zeros(0, dtype=np.intp))

    @classmethod
    def make(
        cls,
        ts: FloatArray,
        kind: int,
        person: IntArray,
        *,
        anchor: IntArray | None = None,
        value: FloatArray | None = None,
        motion: BoolArray | None = None,
        battery: FloatArray | None = None,
        event: IntArray | None = None,
        true_m: FloatArray | None = None,
        nlos: BoolArray | None = None,
        link_class: IntArray | None = None,
    ) -> MeasurementBatch:
        """A batch of one kind; columns left out are filled with their 'not set' value."""
        n = len(ts)

        def fill(x: NDArray[Any] | None, v: object, dt: type) -> NDArray[Any]:
            return np.full(n, v, dtype=dt) if x is None else np.asarray(x, dtype=dt)

        return cls(
            np.asarray(ts, dtype=np.float64),
            np.full(n, kind, dtype=np.intp),
            np.asarray(person, dtype=np.intp),
            fill(anchor, -1, np.intp),
            fill(value, np.nan, np.float64),
            fill(motion, False, np.bool_),
            fill(battery, np.nan, np.float64),
            fill(event, -1, np.intp),
            fill(true_m, np.nan, np.float64),
            fill(nlos, False, np.bool_),
            fill(link_class, -1, np.intp),
        )

    @classmethod
    def concat(cls, parts: Sequence[MeasurementBatch]) -> MeasurementBatch:
        """All rows of ``parts``, sorted by time (stable)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        cols = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        order = np.argsort(cols["ts"], kind="stable")
        return cls(**{k: v[order] for k, v in cols.items()})

    def select(self, mask: BoolArray | IntArray) -> MeasurementBatch:
        """Rows picked by a mask or index array."""
        return MeasurementBatch(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    def to_measurements(self, tags: Sequence[str], anchors: Sequence[str]) -> list[Measurement]:
        """Canonical `Measurement` objects, in row order."""
        out = []
        for i in range(len(self.ts)):
            k = int(self.kind[i])
            ts, tag = round(float(self.ts[i]), 3), tags[self.person[i]]
            a = anchors[self.anchor[i]] if self.anchor[i] >= 0 else None
            if k == RANGE:
                out.append(Measurement(ts, tag, a, range_m=round(float(self.value[i]), 3)))
            elif k == RSSI:
                out.append(Measurement(ts, tag, a, rssi_dbm=round(float(self.value[i]), 1)))
            elif k == PRESENCE:
                out.append(Measurement(ts, tag, a))
            elif k == STATUS:
                out.append(
                    Measurement(
                        ts,
                        tag,
                        motion=bool(self.motion[i]),
                        battery_pct=round(float(self.battery[i]), 1),
                    )
                )
            else:
                out.append(Measurement(ts, tag, event=EVENT_NAMES[self.event[i]]))
        return out

    def json_lines(self, tags: Sequence[str], anchors: Sequence[str]) -> list[str]:
        """One canonical JSON object per row (no newline), in row order; fast path for writers.

        Rows are encoded kind by kind (ranges are most of them) with orjson, times rounded to the
        millisecond, ranges to the millimetre, RSSI and battery to a tenth; then put back in row
        order.
        """
        out: list[str] = [""] * len(self.ts)
        for k in np.unique(self.kind).tolist():
            rows = np.flatnonzero(self.kind == k)
            lines = self._encode(k, rows, tags, anchors)
            for i, line in zip(rows.tolist(), lines, strict=True):
                out[i] = line.decode()
        return out

    def _encode(
        self, kind: int, rows: IntArray, tags: Sequence[str], anchors: Sequence[str]
    ) -> list[bytes]:
        dumps = orjson.dumps
        ts = np.round(self.ts[rows], 3).tolist()
        tag = [tags[p] for p in self.person[rows].tolist()]
        if kind in (RANGE, RSSI, PRESENCE):
            anc = [anchors[a] for a in self.anchor[rows].tolist()]
            if kind == PRESENCE:
                return [
                    dumps({"ts": t, "anchor": a, "tag": g})
                    for t, a, g in zip(ts, anc, tag, strict=True)
                ]
            key = "range_m" if kind == RANGE else "rssi_dbm"
            val = np.round(self.value[rows], 3 if kind == RANGE else 1).tolist()
            return [
                dumps({"ts": t, "anchor": a, "tag": g, key: v})
                for t, a, g, v in zip(ts, anc, tag, val, strict=True)
            ]
        if kind == STATUS:
            flag = self.motion[rows].tolist()
            bat = np.round(self.battery[rows], 1).tolist()
            return [
                dumps({"ts": t, "tag": g, "motion": f, "battery_pct": b})
                for t, g, f, b in zip(ts, tag, flag, bat, strict=True)
            ]
        ev = [EVENT_NAMES[e] for e in self.event[rows].tolist()]
        return [dumps({"ts": t, "tag": g, "event": e}) for t, g, e in zip(ts, tag, ev, strict=True)]
