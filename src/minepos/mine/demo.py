"""The demo coal mine: two shafts, two horizons and a ramp, a longwall panel, refuges, old workings.

The layout follows a typical Karaganda-basin longwall mine, scaled down: a cage shaft with the
lamp room at its top, a ventilation shaft with an emergency hoist, main haulage drifts of
kilometres on horizons -320 and -480, crosscuts, a longwall panel (head gate, tail gate, face),
refuge chambers, a sealed old goaf and an electrical substation only electricians may enter.
Anchors follow installation practice: UWB every 120 m along roadways (every 30 m on the face),
RFID readers at shaft landings and the lamp room, BLE beacons in the -480 development district.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

__all__ = ["DEMO_PEOPLE", "demo_mine_dict"]

DEMO_PEOPLE = 600
_UWB_SPACING_M = 120.0
_FACE_SPACING_M = 30.0
_BLE_SPACING_M = 50.0

_FIRST = [
    "Aidos",
    "Nurlan",
    "Yerlan",
    "Sergei",
    "Dmitry",
    "Askar",
    "Bauyrzhan",
    "Viktor",
    "Timur",
    "Arman",
    "Ivan",
    "Marat",
    "Oleg",
    "Daniyar",
    "Ruslan",
    "Kairat",
    "Pavel",
    "Zhanibek",
    "Alexei",
    "Serik",
    "Aliya",
    "Gulnara",
    "Olga",
    "Dana",
]
_LAST = ["K.", "S.", "B.", "T.", "M.", "Zh.", "N.", "A.", "Ye.", "D.", "O.", "I."]
_ROLES = (
    ["miner"] * 12
    + ["electrician"] * 2
    + ["fitter"] * 2
    + ["foreman", "shotfirer", "surveyor", "rescue"]
)


def _tunnels() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Nodes and tunnels of the demo mine."""
    nodes: list[dict[str, Any]] = []
    tunnels: list[dict[str, Any]] = []

    def node(nid: str, x: float, y: float, z: float) -> None:
        nodes.append({"id": nid, "xyz": [x, y, z]})

    def tunnel(tid: str, a: str, b: str, kind: str, **extra: Any) -> None:
        tunnels.append({"id": tid, "from": a, "to": b, "kind": kind, **extra})

    # Surface: lamp room -> cage shaft collar; ventilation shaft collar far east.
    node("lamp", -80, 0, 0)
    node("s1_top", 0, 0, 0)
    node("s2_top", 3000, 400, 0)
    tunnel("surface_walk", "lamp", "s1_top", "drift", level="surface")
    # Cage shaft 1 and ventilation shaft 2 (with an emergency hoist).
    node("s1_320", 0, 0, -320)
    node("s1_480", 0, 0, -480)
    node("s2_320", 3000, 400, -320)
    tunnel("shaft1_upper", "s1_top", "s1_320", "shaft", cage=True)
    tunnel("shaft1_lower", "s1_320", "s1_480", "shaft", cage=True)
    tunnel("shaft2", "s2_top", "s2_320", "shaft", cage=True)

    _horizon320(node, tunnel)
    _horizon480(node, tunnel)
    return nodes, tunnels


def _horizon320(node: Any, tunnel: Any) -> None:
    """Main haulage drift, crosscuts, chambers and longwall panel 42 on horizon -320."""
    # Main haulage drift east to shaft 2, west to the old workings.
    xs = [0, 500, 1000, 1500, 1750, 2200, 2600]
    for x in xs[1:]:
        node(f"m320_{x}", x, 0.03 * x, -320)
    prev = "s1_320"
    for x in xs[1:]:
        tunnel(f"main320_{x}", prev, f"m320_{x}", "drift")
        prev = f"m320_{x}"
    tunnel("main320_east", prev, "s2_320", "drift", via=[[2800, 200, -320]])
    node("w320_1500", -1500, 60, -320)
    tunnel("main320_west", "s1_320", "w320_1500", "drift", via=[[-700, 40, -320]])
    node("goaf_end", -1500, 700, -320)
    tunnel("old_workings", "w320_1500", "goaf_end", "drift")

    # Crosscuts on -320, with a substation chamber and a refuge chamber.
    for x, y in ((500, -400), (1000, 450), (2200, -350)):
        node(f"xc320_{x}", x, y, -320)
        tunnel(f"crosscut320_{x}", f"m320_{x}", f"xc320_{x}", "crosscut")
    node("sub320", 500, -430, -320)
    tunnel("substation320", "xc320_500", "sub320", "chamber")
    node("ref320", 1030, 480, -320)
    tunnel("refuge320", "xc320_1000", "ref320", "chamber")

    # Longwall panel 42: head gate and tail gate north from the main drift, joined by the face.
    node("hg_600", 1500, 600, -316)
    node("hg_end", 1500, 1300, -312)
    node("tg_end", 1750, 1300, -310)
    tunnel("headgate42_outby", "m320_1500", "hg_600", "drift")
    tunnel("headgate42", "hg_600", "hg_end", "drift")
    tunnel("tailgate42", "m320_1750", "tg_end", "drift", via=[[1750, 600, -315]])
    tunnel("face42", "hg_end", "tg_end", "face")
    node("ref42", 1540, 600, -316)
    tunnel("refuge42", "hg_600", "ref42", "chamber")


def _horizon480(node: Any, tunnel: Any) -> None:
    """The ramp from -320 down to -480 (about 1:7.5) and horizon -480."""
    node("m480_2600", 2600, 0, -480)
    tunnel("ramp", "m320_2200", "m480_2600", "ramp", via=[[2200, -400, -360], [2600, -400, -420]])
    for x in (600, 1200, 1800):
        node(f"m480_{x}", x, -20, -480)
    tunnel("main480_600", "s1_480", "m480_600", "drift")
    tunnel("main480_1200", "m480_600", "m480_1200", "drift")
    tunnel("main480_1800", "m480_1200", "m480_1800", "drift")
    tunnel("main480_2600", "m480_1800", "m480_2600", "drift")
    node("dev480_end", 1200, -1100, -478)
    tunnel("development480", "m480_1200", "dev480_end", "drift")
    node("xc480_end", 600, 500, -480)
    tunnel("crosscut480", "m480_600", "xc480_end", "crosscut")
    node("ref480", 1240, -1100, -478)
    tunnel("refuge480", "dev480_end", "ref480", "chamber")


def _zones(length: dict[str, float]) -> list[dict[str, Any]]:
    def span(tunnel: str, a: float, b: float | None = None) -> dict[str, Any]:
        end = length[tunnel] if b is None else min(b, length[tunnel])
        return {"tunnel": tunnel, "from_m": round(a, 2), "to_m": round(end, 2)}

    def last(tunnel: str, metres: float) -> dict[str, Any]:
        return span(tunnel, length[tunnel] - metres)

    return [
        {
            "id": "lamp_room",
            "name": "Lamp room",
            "kind": "lamp_room",
            "spans": [span("surface_walk", 0, 20)],
        },
        {
            "id": "exit_shaft1",
            "name": "Shaft 1 top",
            "kind": "exit",
            "spans": [span("surface_walk", 0), span("shaft1_upper", 0, 5)],
        },
        {
            "id": "exit_shaft2",
            "name": "Shaft 2 top",
            "kind": "exit",
            "spans": [span("shaft2", 0, 5)],
        },
        {
            "id": "cage1",
            "name": "Cage shaft 1",
            "kind": "transport",
            "spans": [span("shaft1_upper", 5), span("shaft1_lower", 0)],
        },
        {
            "id": "lw42",
            "name": "Longwall 42",
            "kind": "work",
            "max_occupancy": 25,
            "spans": [span("face42", 0), last("headgate42", 150), last("tailgate42", 150)],
        },
        {
            "id": "goaf_old",
            "name": "Sealed old goaf",
            "kind": "restricted",
            "spans": [span("old_workings", 150)],
        },
        {
            "id": "substation320",
            "name": "Substation -320",
            "kind": "work",
            "allowed_roles": ["electrician", "rescue"],
            "spans": [span("substation320", 0)],
        },
        {
            "id": "refuge320",
            "name": "Refuge chamber -320",
            "kind": "refuge",
            "spans": [span("refuge320", 0)],
        },
        {
            "id": "refuge42",
            "name": "Refuge chamber LW42",
            "kind": "refuge",
            "spans": [span("refuge42", 0)],
        },
        {
            "id": "refuge480",
            "name": "Refuge chamber -480",
            "kind": "refuge",
            "spans": [span("refuge480", 0)],
        },
        {
            "id": "dev480",
            "name": "Development -480",
            "kind": "work",
            "max_occupancy": 15,
            "spans": [last("development480", 300)],
        },
        {
            "id": "haulage320",
            "name": "Main haulage -320",
            "kind": "transport",
            "spans": [span(f"main320_{x}", 0) for x in (500, 1000, 1500, 1750, 2200, 2600)],
        },
    ]


def _length(nodes: dict[str, list[float]], t: dict[str, Any]) -> float:
    pts = [nodes[t["from"]], *t.get("via", []), nodes[t["to"]]]
    return sum(math.dist(a, b) for a, b in itertools.pairwise(pts))


def _anchors(nodes: list[dict[str, Any]], tunnels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    xyz = {n["id"]: n["xyz"] for n in nodes}
    out: list[dict[str, Any]] = []
    ble_tunnels = {"development480", "crosscut480"}
    for t in tunnels:
        length = _length(xyz, t)
        if t["kind"] == "shaft":
            for end in (2.0, length - 2.0):
                out.append(
                    {
                        "id": f"r_{t['id']}_{int(end)}",
                        "tech": "rfid",
                        "at": {"tunnel": t["id"], "offset_m": round(end, 2)},
                        "range_m": 10,
                    }
                )
            continue
        if t["id"] in ble_tunnels:
            tech, step = "ble", _BLE_SPACING_M
        elif t["kind"] == "face":
            tech, step = "uwb", _FACE_SPACING_M
        else:
            tech, step = "uwb", _UWB_SPACING_M
        n = max(1, round(length / step))
        for k in range(n):
            off = round((k + 0.5) * length / n, 2)
            out.append(
                {
                    "id": f"{tech[0]}_{t['id']}_{k}",
                    "tech": tech,
                    "at": {"tunnel": t["id"], "offset_m": off},
                }
            )
    out.append(
        {
            "id": "r_lamp_room",
            "tech": "rfid",
            "at": {"tunnel": "surface_walk", "offset_m": 10},
            "range_m": 10,
        }
    )
    return out


def _people(n: int) -> list[dict[str, Any]]:
    people = []
    for i in range(1, n + 1):
        first = _FIRST[(i * 7) % len(_FIRST)]
        last = _LAST[(i * 5) % len(_LAST)]
        people.append(
            {
                "id": f"p{i:04d}",
                "name": f"{first} {last}",
                "role": _ROLES[i % len(_ROLES)],
                "tag": f"t{i:04d}",
            }
        )
    return people


def demo_mine_dict(people: int = DEMO_PEOPLE) -> dict[str, Any]:
    """The demo mine as a mine-file mapping (CONTRACT section 1)."""
    nodes, tunnels = _tunnels()
    xyz = {n["id"]: n["xyz"] for n in nodes}
    length = {t["id"]: _length(xyz, t) for t in tunnels}
    return {
        "mine": {"id": "demo", "name": "Demo coal mine", "timezone": "Asia/Almaty"},
        "levels": [
            {"id": "surface", "name": "Surface", "z": 0},
            {"id": "h320", "name": "Horizon -320", "z": -320},
            {"id": "h480", "name": "Horizon -480", "z": -480},
        ],
        "nodes": nodes,
        "tunnels": tunnels,
        "zones": _zones(length),
        "anchors": _anchors(nodes, tunnels),
        "people": _people(people),
        "rules": {
            "man_down_s": 120,
            "tag_lost_s": 60,
            "shift_h": 8,
            "anchor_offline_s": 120,
            "low_battery_pct": 20,
        },
    }
