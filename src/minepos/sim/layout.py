"""Anchor layouts for what-if runs: replace a mine's anchors by a regular layout of given density.

Benchmarks sweep anchor spacing; an integrator tries a layout before installing it::

    d = place_anchors(demo_mine_dict(), uwb_spacing_m=60)
    mine = mine_from_dict(d)
"""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any

from minepos.errors import InputError

__all__ = ["place_anchors"]


def _length(nodes: dict[str, list[float]], t: dict[str, Any]) -> float:
    pts = [nodes[t["from"]], *t.get("via", []), nodes[t["to"]]]
    return sum(math.dist(a, b) for a, b in itertools.pairwise(pts))


def place_anchors(
    mine: dict[str, Any],
    *,
    uwb_spacing_m: float | None = 120.0,
    ble_spacing_m: float | None = None,
    ble_tunnels: tuple[str, ...] = (),
    rfid_at_shafts: bool = True,
    keep_rfid: bool = True,
) -> dict[str, Any]:
    """A copy of mine-file mapping ``mine`` whose anchors follow a regular layout.

    Every tunnel but shafts gets UWB anchors every ``uwb_spacing_m`` (centred, at least one),
    or BLE readers every ``ble_spacing_m`` on ``ble_tunnels`` (all non-shaft tunnels if empty and
    no UWB spacing is given). Shafts get RFID readers 2 m from each end; RFID readers of the
    original file (lamp room, landings) are kept with ``keep_rfid``.
    """
    for name, value in (("uwb_spacing_m", uwb_spacing_m), ("ble_spacing_m", ble_spacing_m)):
        if value is not None and not value > 0:
            raise InputError(f"{name} must be > 0, got {value}")
    out = copy.deepcopy(mine)
    nodes = {n["id"]: n["xyz"] for n in out["nodes"]}
    anchors = [a for a in out.get("anchors") or () if keep_rfid and a["tech"] == "rfid"]
    taken = {a["id"] for a in anchors}
    for t in out["tunnels"]:
        length = _length(nodes, t)
        if t["kind"] == "shaft":
            if rfid_at_shafts:
                for end in (2.0, max(length - 2.0, 0.0)):
                    _add(anchors, taken, f"r_{t['id']}_{int(end)}", "rfid", t["id"], end, 10.0)
            continue
        use_ble = ble_spacing_m is not None and (
            t["id"] in ble_tunnels or (not ble_tunnels and uwb_spacing_m is None)
        )
        step = ble_spacing_m if use_ble else uwb_spacing_m
        if step is None:
            continue
        tech = "ble" if use_ble else "uwb"
        n = max(1, round(length / step))
        for k in range(n):
            _add(anchors, taken, f"{tech[0]}_{t['id']}_{k}", tech, t["id"], (k + 0.5) * length / n)
    out["anchors"] = anchors
    return out


def _add(
    anchors: list[dict[str, Any]],
    taken: set[str],
    aid: str,
    tech: str,
    tunnel: str,
    offset: float,
    range_m: float | None = None,
) -> None:
    if aid in taken:
        return
    a: dict[str, Any] = {
        "id": aid,
        "tech": tech,
        "at": {"tunnel": tunnel, "offset_m": round(offset, 2)},
    }
    if range_m is not None:
        a["range_m"] = range_m
    anchors.append(a)
    taken.add(aid)
