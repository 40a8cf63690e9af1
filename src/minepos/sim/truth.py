"""Ground truth of a tick: where every tag with a lamp out really was."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from minepos.mine import Mine
from minepos.sim.motion import Positions
from minepos.sim.plan import MODE_NAMES

__all__ = ["TruthBatch"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class TruthBatch:
    """One row per tag: time, place on the network, tag xyz, zones, level, speed and mode."""

    ts: FloatArray
    person: IntArray
    tunnel: IntArray
    offset: FloatArray
    xyz: FloatArray  # (N, 3): the tag itself (axis + sideways and height offsets)
    zones: NDArray[np.bool_]  # (N, n_zones)
    level: IntArray
    speed: FloatArray  # signed, along the tunnel
    mode: IntArray

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def build(cls, mine: Mine, ts: FloatArray, pos: Positions, xyz: FloatArray) -> TruthBatch:
        """Truth rows for positions ``pos`` at times ``ts``."""
        return cls(
            ts,
            pos.person,
            pos.tunnel,
            pos.offset,
            xyz,
            mine.zone_mask(pos.tunnel, pos.offset),
            mine.level_index_at(pos.tunnel, pos.offset),
            pos.speed,
            pos.mode,
        )

    def select(self, mask: NDArray[np.bool_] | IntArray) -> TruthBatch:
        """Rows picked by a mask or index array."""
        return TruthBatch(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    def records(self, mine: Mine, people: Sequence[Any]) -> list[dict[str, Any]]:
        """One ``truth.jsonl`` object per row."""
        zone_ids = [z.id for z in mine.zones]
        out = []
        for i in range(len(self.ts)):
            p = people[self.person[i]]
            out.append(
                {
                    "ts": round(float(self.ts[i]), 3),
                    "tag": p.tag,
                    "person": p.id,
                    "tunnel": mine.tunnels[self.tunnel[i]].id,
                    "offset_m": round(float(self.offset[i]), 3),
                    "xyz": [round(float(v), 3) for v in self.xyz[i]],
                    "zones": [zone_ids[k] for k in np.flatnonzero(self.zones[i])],
                    "level": mine.levels[self.level[i]].id,
                    "speed_mps": round(float(self.speed[i]), 3),
                    "mode": MODE_NAMES[self.mode[i]],
                }
            )
        return out

    def json_lines(self, mine: Mine, people: Sequence[Any]) -> list[str]:
        """One compact JSON line per row (no newline); fast path for writers."""
        zone_ids = [z.id for z in mine.zones]
        # each distinct set of zones is formatted once: rows share a handful of sets
        sets, which = np.unique(self.zones, axis=0, return_inverse=True)
        zone_text = [",".join(f'"{zone_ids[k]}"' for k in np.flatnonzero(row)) for row in sets]
        zones = [zone_text[w] for w in np.asarray(which).reshape(-1).tolist()]
        tunnel_ids = [t.id for t in mine.tunnels]
        level_ids = [lv.id for lv in mine.levels]
        who = [people[p] for p in self.person.tolist()]
        tunnels = [tunnel_ids[t] for t in self.tunnel.tolist()]
        levels = [level_ids[v] for v in self.level.tolist()]
        modes = [MODE_NAMES[m] for m in self.mode.tolist()]
        x, y, z = (self.xyz[:, k].tolist() for k in range(3))
        cols = (
            self.ts.tolist(),
            who,
            tunnels,
            self.offset.tolist(),
            x,
            y,
            z,
            zones,
            levels,
            self.speed.tolist(),
            modes,
        )
        return [
            f'{{"ts":{ts:.3f},"tag":"{p.tag}","person":"{p.id}","tunnel":"{tu}",'
            f'"offset_m":{off:.3f},"xyz":[{xx:.3f},{yy:.3f},{zz:.3f}],"zones":[{zn}],'
            f'"level":"{lv}","speed_mps":{sp:.3f},"mode":"{mo}"}}'
            for ts, p, tu, off, xx, yy, zz, zn, lv, sp, mo in zip(*cols, strict=True)
        ]
