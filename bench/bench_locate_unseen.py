"""`minepos locate` on generated mines and radio conditions the accuracy benchmark never shows.

    python bench/bench_locate_unseen.py                          # 12 cases, 10 min each: ~2 min
    python bench/bench_locate_unseen.py --cases 16 --minutes 10 --seed 3
    python bench/bench_locate_unseen.py --only 5 --keep /tmp/case5   # one case, keep its files

Each case is a seeded random mine: a cage shaft down to two or three levels joined by ramps
(polylines that descend and turn), random tunnel trees on each level with short dead ends, long
drifts, branches at acute angles, curved tunnels and loops; UWB anchors every 40-250 m (some
junctions left without one), or BLE-only and RFID-only levels, or zone readers only; NLOS 0-40 %,
missing ranges 0-30 %; crews of different sizes; people standing still for minutes (man-down)
and working in short chambers with one anchor; man-riders on the ramps.

The simulator (`minepos.sim`) writes canonical JSON lines, **the real CLI** `minepos locate` runs
on them as a subprocess (what an outsider does), and its output is scored against the simulator's
truth interpolated to each tick: error along the tunnel network (p50, p95), right-tunnel share,
95 % interval coverage, beside the nearest-anchor baseline fed the same measurements. The output
is checked against CONTRACT section 5 (every line parses; fields and types; known tunnels,
offsets and interval stretches within the tunnel's length; one line per tag per tick, ticks on
the second, no gaps while a tag is tracked) and stderr must hold no traceback.

Rows are per case and per area where the truth was (uwb, ble, rfid: zone readers, shafts and the
surface). The flags column marks figures outside the goals: `cov` (UWB coverage outside
0.90-0.99, zones below 0.93), `p95` (UWB p95 above 1 m where anchors are <= 120 m apart with
<= 20 % NLOS), `right` (UWB right tunnel below 99 %), `contract`, `crash`.
"""

from __future__ import annotations

import argparse
import itertools
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from bench_accuracy_eval import covered, interp_truth, near_node, right_tunnel
from minepos.engine.baselines import NearestAnchor
from minepos.mine import Mine, mine_from_dict
from minepos.mine.places import Span
from minepos.sim import ScenarioConfig, SensorConfig, Simulation
from minepos.sim.batch import PRESENCE, RANGE, RSSI
from minepos.sim.config import IncidentSpec, UwbModel
from minepos.sim.plan import MODE_NAMES

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: seconds after the start not scored (tags being placed)
WARMUP_S = 30.0
#: the wall: anchors sit this far beside and above the tunnel axis
WALL_M = 1.5
#: contract fields (section 5) and the extras `locate` adds
FIELDS = {"ts", "tag", "tunnel", "offset_m", "xyz", "interval", "uncertainty_m"}
EXTRA = {"speed_mps", "last_seen"}
#: an area with fewer tag-ticks than this in a case is shown but not flagged (too few to judge)
MIN_FLAG_N = 600
#: where a truth can be: UWB, BLE-only, zone readers (RFID areas, shafts, the surface)
AREAS = ("uwb", "ble", "rfid")


# -- cases ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One generated mine and its radio conditions."""

    index: int
    seed: int
    layout: str  # "uwb": UWB everywhere underground; "mixed": UWB, BLE-only, RFID-only levels;
    # "zones": RFID zone readers only
    levels: int
    spacing_m: float  # UWB anchor spacing
    ble_spacing_m: float
    rfid_spacing_m: float
    rfid_range_m: float
    junction_skip: float  # share of junctions left without an anchor
    p_nlos: float
    p_miss: float
    people: int
    offset_s: float  # into the shift
    still: int  # people who stand still (man-down) most of the run

    def label(self) -> str:
        """Short description for the table."""
        if self.layout == "zones":
            radio = f"RFID /{self.rfid_spacing_m:.0f} m r{self.rfid_range_m:.0f}"
        else:
            radio = f"UWB /{self.spacing_m:.0f} m"
            if self.layout == "mixed":
                radio += f", BLE /{self.ble_spacing_m:.0f}, RFID"
        uwb = "" if self.layout == "zones" else f"NLOS {self.p_nlos:.0%}, miss {self.p_miss:.0%}, "
        return f"{self.levels} lv, {radio}, skip {self.junction_skip:.0%}, {uwb}{self.people} ppl"


def make_cases(n: int, seed: int) -> list[Case]:
    """``n`` cases from ``seed``: layouts cycle so that a short run has each kind."""
    kinds = ("uwb", "mixed", "uwb", "zones")
    out = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        layout = kinds[i % len(kinds)]
        # spacing cycles through dense, standard and sparse so every run spans 40-250 m
        band = ((40.0, 90.0), (90.0, 130.0), (130.0, 250.0))[(i // len(kinds) + i) % 3]
        shift = 8 * 3600.0
        out.append(
            Case(
                index=i,
                seed=int(rng.integers(1 << 31)),
                layout=layout,
                levels=int(rng.integers(2, 4)),
                spacing_m=float(round(rng.uniform(*band))),
                ble_spacing_m=float(round(rng.uniform(25.0, 60.0))),
                rfid_spacing_m=float(round(rng.uniform(120.0, 300.0))),
                rfid_range_m=float(round(rng.uniform(8.0, 30.0))),
                junction_skip=float(rng.choice([0.0, 0.2, 0.5])),
                p_nlos=float(round(rng.uniform(0.0, 0.4), 2)),
                p_miss=float(round(rng.uniform(0.0, 0.3), 2)),
                people=int(rng.integers(30, 160)),
                offset_s=float(rng.choice([1500.0, 2700.0, 5400.0, shift - 3000.0])),
                still=int(rng.integers(1, 4)),
            )
        )
    return out


# -- mines ---------------------------------------------------------------------------------------
@dataclass
class _Net:
    """A mine-file mapping being grown, with sample points for clearance tests."""

    d: dict[str, Any]
    rng: np.random.Generator
    xyz: dict[str, FloatArray] = field(default_factory=dict)
    heading: dict[str, float] = field(default_factory=dict)
    level_of: dict[str, int] = field(default_factory=dict)
    pts: list[FloatArray] = field(default_factory=list)
    tech_of: dict[str, str] = field(default_factory=dict)  # tunnel -> area

    def node(self, nid: str, p: FloatArray, heading: float, level: int) -> None:
        self.d["nodes"].append({"id": nid, "xyz": [round(float(c), 2) for c in p]})
        self.xyz[nid], self.heading[nid], self.level_of[nid] = p, heading, level

    def clear(self, poly: FloatArray, ends: tuple[str, ...], gap: float) -> bool:
        """Whether a polyline keeps ``gap`` metres from every tunnel.

        Near its own ends (shared nodes) it may come closer, as far as diverging from the
        tunnels there at 17 degrees or more allows (distance >= 0.3 x distance from the node):
        acute branches, but no two roadways through the same rock.
        """
        if not self.pts:
            return True
        samples = _sample(poly, 5.0)
        r = np.full(len(samples), np.inf)
        for e in ends:
            r = np.minimum(r, np.linalg.norm(samples - self.xyz[e], axis=1))
        need = np.minimum(gap, 0.3 * r)
        q = np.concatenate(self.pts)
        dmin = np.min(np.linalg.norm(samples[:, None, :] - q[None, :, :], axis=2), axis=1)
        return bool(np.all(dmin >= need))

    def tunnel(self, tid: str, a: str, b: str, poly: FloatArray, kind: str, tech: str) -> None:
        t: dict[str, Any] = {"id": tid, "from": a, "to": b, "kind": kind}
        if len(poly) > 2:
            t["via"] = [[round(float(c), 2) for c in p] for p in poly[1:-1]]
        if kind == "shaft":
            t["cage"] = True
        self.d["tunnels"].append(t)
        self.pts.append(_sample(poly, 5.0))
        self.tech_of[tid] = tech


def _sample(poly: FloatArray, step: float) -> FloatArray:
    out = [poly[0]]
    for a, b in itertools.pairwise(poly):
        n = max(1, int(np.linalg.norm(b - a) // step))
        out.extend(a + (b - a) * (k / n) for k in range(1, n + 1))
    return np.array(out)


def _path(
    rng: np.random.Generator,
    start: FloatArray,
    heading: float,
    length: float,
    curved: bool,
    dz: float = 0.0,
) -> tuple[FloatArray, float]:
    """A polyline from ``start``: straight, or turning a little at every bend; the end heading."""
    n = max(1, int(length // rng.uniform(50.0, 120.0))) if curved else 1
    pts = [start]
    h = heading
    turn = rng.uniform(-0.35, 0.35) if curved else 0.0
    for _ in range(n):
        h += turn + (rng.normal(0.0, 0.12) if curved else 0.0)
        step = length / n
        p = pts[-1] + np.array([step * math.cos(h), step * math.sin(h), dz / n])
        pts.append(p)
    return np.array(pts), h


def build_mine(case: Case) -> tuple[dict[str, Any], dict[str, str]]:
    """The mine-file mapping of ``case`` and the radio area of each tunnel."""
    rng = np.random.default_rng(case.seed)
    d: dict[str, Any] = {
        "mine": {"id": f"unseen{case.index}", "name": f"unseen {case.index}", "timezone": "UTC"},
        "levels": [{"id": "surface", "name": "Surface", "z": 0}],
        "nodes": [],
        "tunnels": [],
        "zones": [
            {
                "id": "lamp_room",
                "name": "Lamp room",
                "kind": "lamp_room",
                "spans": [{"tunnel": "surface", "from_m": 0, "to_m": 15}],
            },
            {
                "id": "exit",
                "name": "Shaft top",
                "kind": "exit",
                "spans": [{"tunnel": "surface", "from_m": 50, "to_m": 60}],
            },
        ],
        "anchors": [],
    }
    net = _Net(d, rng)
    net.node("lamp", np.array([-60.0, 0.0, 0.0]), 0.0, -1)
    net.node("top", np.array([0.0, 0.0, 0.0]), 0.0, -1)
    net.tunnel(
        "surface", "lamp", "top", np.array([net.xyz["lamp"], net.xyz["top"]]), "drift", "rfid"
    )
    z = -float(rng.uniform(200.0, 400.0))
    above = "top"
    areas = _level_areas(case, rng)
    level_nodes: list[list[str]] = []
    for lv in range(case.levels):
        d["levels"].append({"id": f"L{lv}", "name": f"Level {lv}", "z": round(z, 1)})
        landing = f"L{lv}_n0"
        net.node(landing, np.array([0.0, 0.0, z]), float(rng.uniform(0, 2 * math.pi)), lv)
        net.tunnel(
            f"shaft{lv}",
            above,
            landing,
            np.array([net.xyz[above], net.xyz[landing]]),
            "shaft",
            "rfid",
        )
        seeds = [landing]
        if lv > 0:
            ramp_end = _ramp(net, lv, z, level_nodes[lv - 1], areas[lv - 1])
            if ramp_end is not None:
                seeds.append(ramp_end)
        level_nodes.append(_grow(net, lv, seeds, areas[lv]))
        above = landing
        z -= float(rng.uniform(40.0, 90.0))
    _zones(net, case)
    return d, net.tech_of


def _level_areas(case: Case, rng: np.random.Generator) -> list[str]:
    if case.layout == "zones":
        return ["rfid"] * case.levels
    if case.layout == "uwb":
        return ["uwb"] * case.levels
    rest = ["ble", "rfid"] if rng.random() < 0.5 else ["rfid", "ble"]
    return (["uwb", *rest])[: case.levels]


def _ramp(net: _Net, lv: int, z: float, upper: list[str], area: str) -> str | None:
    """A ramp from a node of the level above down to a new node of level ``lv``."""
    rng = net.rng
    for _ in range(40):
        a = str(rng.choice(upper[1:] if len(upper) > 1 else upper))
        dz = z - float(net.xyz[a][2])
        length = abs(dz) * rng.uniform(6.0, 8.0)
        poly, h = _path(rng, net.xyz[a], float(rng.uniform(0, 2 * math.pi)), length, True, dz)
        if net.clear(poly, (a,), 20.0):
            end = f"L{lv}_r"
            net.node(end, poly[-1], h, lv)
            net.tunnel(f"ramp{lv}", a, end, poly, "ramp", area)
            return end
    return None


def _grow(net: _Net, lv: int, seeds: list[str], area: str) -> list[str]:
    """A random tunnel network on one level, grown from ``seeds``; returns its nodes."""
    rng = net.rng
    nodes = list(seeds)
    degree: Counter[str] = Counter()
    target = int(rng.integers(6, 13))
    made, tries = 0, 0
    while made < target and tries < 400:
        tries += 1
        a = str(rng.choice([n for n in nodes if degree[n] < 3]))
        style = rng.random()
        if style < 0.3:  # acute branch
            turn = float(rng.choice([-1, 1]) * rng.uniform(0.3, 0.7))
        elif style < 0.6:  # straight on
            turn = float(rng.normal(0.0, 0.1))
        else:  # crosscut
            turn = float(rng.choice([-1, 1]) * rng.uniform(1.2, 1.9))
        r = rng.random()
        length = (
            rng.uniform(25.0, 90.0)
            if r < 0.3
            else rng.uniform(150, 500)
            if r < 0.75
            else rng.uniform(500, 1200)
        )
        poly, h = _path(rng, net.xyz[a], net.heading[a] + turn, float(length), rng.random() < 0.4)
        if not net.clear(poly, (a,), 25.0):
            continue
        b = f"L{lv}_n{len(nodes)}"
        net.node(b, poly[-1], h, lv)
        kind = "crosscut" if abs(turn) > 1.0 else "drift"
        net.tunnel(f"t{lv}_{made}", a, b, poly, kind, area)
        degree[a] += 1
        degree[b] += 1
        nodes.append(b)
        made += 1
    for k in range(int(rng.integers(0, 3))):  # loops: join two nodes 80-400 m apart
        for _ in range(30):
            a, b = (str(x) for x in rng.choice(nodes, 2, replace=False))
            dist = float(np.linalg.norm(net.xyz[a] - net.xyz[b]))
            joined = any({t["from"], t["to"]} == {a, b} for t in net.d["tunnels"])
            if 80.0 < dist < 400.0 and degree[a] < 4 and degree[b] < 4 and not joined:
                poly = np.array([net.xyz[a], net.xyz[b]])
                if net.clear(poly, (a, b), 25.0):
                    net.tunnel(f"x{lv}_{k}", a, b, poly, "crosscut", area)
                    degree[a] += 1
                    degree[b] += 1
                    break
    return nodes


def _zones(net: _Net, case: Case) -> None:
    """Transport zones on the ramps (man-riders), a work chamber per level with one anchor."""
    d, rng = net.d, net.rng
    for t in d["tunnels"]:
        if t["kind"] == "ramp":
            d["zones"].append(
                {
                    "id": f"ride_{t['id']}",
                    "name": "ramp",
                    "kind": "transport",
                    "spans": [{"tunnel": t["id"], "from_m": 0, "to_m": 1e9}],
                }
            )
    for lv in range(case.levels):
        ends = [n for n, v in net.level_of.items() if v == lv]
        for _ in range(30):
            a = str(rng.choice(ends))
            area = next(  # the area of a roadway at that node (none: a bare shaft landing)
                (
                    net.tech_of[t["id"]]
                    for t in d["tunnels"]
                    if a in (t["from"], t["to"]) and t["kind"] != "shaft"
                ),
                None,
            )
            if area is None:
                continue
            length = float(rng.uniform(15.0, 40.0))
            poly, h = _path(
                rng, net.xyz[a], net.heading[a] + float(rng.uniform(-2, 2)), length, False
            )
            if net.clear(poly, (a,), 20.0):
                b = f"L{lv}_ch"
                net.node(b, poly[-1], h, lv)
                net.tunnel(f"chamber{lv}", a, b, poly, "chamber", area)
                d["zones"].append(
                    {
                        "id": f"work{lv}",
                        "name": "chamber",
                        "kind": "work",
                        "max_occupancy": 12,
                        "spans": [
                            {"tunnel": f"chamber{lv}", "from_m": 0, "to_m": round(length, 1)}
                        ],
                    }
                )
                break
    lengths = _lengths(d)  # clip the ramp zones to their tunnel (the loader refuses past-end)
    for z in d["zones"]:
        for s in z["spans"]:
            s["to_m"] = min(s["to_m"], round(lengths[s["tunnel"]] - 0.01, 2))


def _lengths(d: dict[str, Any]) -> dict[str, float]:
    xyz = {n["id"]: np.array(n["xyz"], dtype=float) for n in d["nodes"]}
    out = {}
    for t in d["tunnels"]:
        pts = np.array([xyz[t["from"]], *t.get("via", []), xyz[t["to"]]], dtype=float)
        out[t["id"]] = float(np.sum(np.linalg.norm(np.diff(pts, axis=0), axis=1)))
    return out


def place_anchors(d: dict[str, Any], areas: dict[str, str], case: Case) -> Mine:
    """Anchors on the wall by each tunnel's area; returns the loaded mine."""
    bare = mine_from_dict(d)
    rng = np.random.default_rng([case.seed, 7])
    deg = bare.network.degree()
    done: set[int] = set()  # nodes that have an anchor (or were skipped on purpose)
    anchors: list[dict[str, Any]] = []
    for ti, t in enumerate(bare.tunnels):
        length = t.length_m
        area = areas[t.id]
        if t.kind == "shaft" or t.id == "surface":
            for s in (2.0, length - 2.0):
                anchors.append(_anchor(bare, ti, s, "rfid", f"r_{t.id}_{int(s)}", 10.0))
            continue
        spacing = {"uwb": case.spacing_m, "ble": case.ble_spacing_m}.get(area, case.rfid_spacing_m)
        tech = area
        n = max(1, round(length / spacing))
        for k in range(n + 1):
            s = length * k / n
            if k in (0, n):
                node = int(bare.network.t_from[ti] if k == 0 else bare.network.t_to[ti])
                if node in done:
                    continue
                done.add(node)
                if deg[node] > 2 and rng.random() < case.junction_skip:
                    continue  # a junction left without an anchor
            elif tech != "rfid":
                s = float(np.clip(s + rng.uniform(-0.1, 0.1) * length / n, 1.0, length - 1.0))
            rng_m = case.rfid_range_m if tech == "rfid" else None
            anchors.append(_anchor(bare, ti, s, tech, f"{tech[0]}_{t.id}_{k}", rng_m))
    d["anchors"] = anchors
    return mine_from_dict(d)


def _anchor(
    mine: Mine, t: int, s: float, tech: str, aid: str, range_m: float | None
) -> dict[str, Any]:
    """An anchor on the wall beside offset ``s`` of tunnel ``t`` (as surveyed on site)."""
    p = mine.point_at(np.array([t]), np.array([s]))[0]
    u = mine.geometry.direction_at(np.array([t]), np.array([s]))[0]
    side = np.array([-u[1], u[0], 0.0])
    side = side / np.linalg.norm(side) if np.linalg.norm(side) > 1e-6 else np.array([1, 0, 0.0])
    xyz = p + WALL_M * side + np.array([0.0, 0.0, WALL_M])
    out: dict[str, Any] = {"id": aid, "tech": tech, "at": {"xyz": xyz.round(3).tolist()}}
    if range_m is not None:
        out["range_m"] = range_m
    return out


# -- running -------------------------------------------------------------------------------------
@dataclass
class Run:
    """What one case produced: truth per tick, the baseline's answers, locate's output."""

    start: float
    tags: list[str]
    truth: list[Any] = field(default_factory=list)
    nearest: list[tuple[IntArray, FloatArray, FloatArray, FloatArray, IntArray]] = field(
        default_factory=list
    )
    ranges: list[IntArray] = field(default_factory=list)  # UWB ranges per person per tick
    n_measurements: int = 0
    sim_s: float = 0.0
    locate_s: float = 0.0
    returncode: int = 0
    stdout: bytes = b""
    stderr: str = ""


def locate_cmd() -> list[str]:
    """The installed `minepos` console script beside this Python, as an outsider runs it."""
    script = Path(sys.executable).parent / "minepos"
    if script.exists():
        return [str(script)]
    found = shutil.which("minepos")
    return [found] if found else [sys.executable, "-m", "minepos"]


def engine_version() -> str:
    """The commit the CLI runs, and whether the engine's sources differ from it (best effort)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, check=True
        ).stdout.decode()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src/minepos/engine"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.strip() + (" + uncommitted engine changes" if dirty.strip() else "")


def simulate(case: Case, mine: Mine, minutes: float, folder: Path, extra: list[str]) -> Run:
    """Simulate the case, write measurements.jsonl, run the baseline, then `minepos locate`."""
    cfg = ScenarioConfig(
        people=case.people,
        minutes=minutes,
        shift_offset_s=case.offset_s,
        sensors=SensorConfig(uwb=UwbModel(p_nlos=case.p_nlos, p_miss=case.p_miss)),
        incidents=tuple(
            IncidentSpec("man_down", at_s=20.0 + 15.0 * k, duration_s=minutes * 60.0)
            for k in range(case.still)
        ),
    )
    t0 = time.perf_counter()
    sim = Simulation(mine, cfg, seed=case.seed)
    run = Run(start=cfg.start_ts, tags=list(sim.tags))
    nearest = NearestAnchor(mine, len(sim.tags))
    with (folder / "measurements.jsonl").open("w") as out:
        for tick in sim.run():
            b = tick.measurements
            lines = b.json_lines(sim.tags, sim.anchor_ids)
            run.n_measurements += len(lines)
            if lines:
                out.write("\n".join(lines))
                out.write("\n")
            rows = np.isin(b.kind, (RANGE, RSSI, PRESENCE))
            nearest.update(b.person[rows], b.kind[rows], b.anchor[rows], b.value[rows])
            people = tick.truth.person
            run.nearest.append((*nearest.estimate(people), people))
            run.truth.append(tick.truth)
            run.ranges.append(np.bincount(b.person[b.kind == RANGE], minlength=len(sim.tags)))
    run.sim_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            *locate_cmd(),
            "locate",
            "--mine",
            str(folder / "mine.json"),
            str(folder / "measurements.jsonl"),
            *extra,
        ],
        capture_output=True,
        check=False,
    )
    run.locate_s = time.perf_counter() - t0
    run.returncode, run.stdout = proc.returncode, proc.stdout
    run.stderr = proc.stderr.decode(errors="replace")
    return run


# -- checking and scoring ------------------------------------------------------------------------
@dataclass
class Result:
    """Scores of one case, per area, and what broke the contract."""

    rows: dict[str, dict[str, float]] = field(default_factory=dict)
    violations: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    misses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    miss_tags: Counter[str] = field(default_factory=Counter)
    #: per area and situation: tag-ticks and coverage
    situ: dict[str, dict[str, tuple[int, float]]] = field(default_factory=lambda: defaultdict(dict))
    worst: list[tuple[float, str, float, str]] = field(default_factory=list)
    lines: int = 0


def _bad(res: Result, what: str, example: str) -> None:
    res.violations[what] += 1
    res.examples.setdefault(what, example[:300])


def _num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def check_contract(run: Run, mine: Mine, res: Result) -> list[dict[str, Any]]:
    """Every output line against CONTRACT section 5; returns the objects that passed."""
    lengths = {t.id: t.length_m for t in mine.tunnels}
    _check_exit(run, res)
    good: list[dict[str, Any]] = []
    seen: set[tuple[float, str]] = set()
    ticks: dict[str, list[float]] = defaultdict(list)
    last_ts = -math.inf
    for n, raw in enumerate(run.stdout.splitlines(), start=1):
        res.lines += 1
        try:
            o = orjson.loads(raw)
        except orjson.JSONDecodeError:
            _bad(res, "not JSON", f"line {n}: {raw[:200]!r}")
            continue
        if not isinstance(o, dict):
            _bad(res, "not an object", f"line {n}")
            continue
        missing = FIELDS - o.keys()
        if missing:
            _bad(res, "missing field", f"line {n}: {sorted(missing)}")
            continue
        if o.keys() - FIELDS - EXTRA:
            _bad(res, "unknown field", f"line {n}: {sorted(o.keys() - FIELDS - EXTRA)}")
        ok = _check_line(o, n, lengths, mine, res)
        if _check_tick(o, n, last_ts, seen, res) and ok:
            good.append(o)
        if _num(o["ts"]) and isinstance(o["tag"], str):
            last_ts = max(last_ts, o["ts"])
            ticks[o["tag"]].append(o["ts"])
    for tag, ts_list in ticks.items():
        gaps = np.flatnonzero(np.diff(np.sort(ts_list)) > 1.5)
        if len(gaps):
            _bad(
                res,
                "tag missing from a tick while tracked",
                f"{tag}: no line between {sorted(ts_list)[gaps[0]]} and the next tick",
            )
    return good


def _check_exit(run: Run, res: Result) -> None:
    """Exit status 0, no traceback, nothing on stderr (every input line was valid)."""
    if run.returncode != 0:
        _bad(res, "crash", f"exit status {run.returncode}: {run.stderr[-300:]}")
    if "Traceback" in run.stderr:
        _bad(res, "traceback", run.stderr[run.stderr.index("Traceback") :])
    elif run.stderr.strip():
        _bad(res, "stderr", run.stderr.strip().splitlines()[0])


def _check_tick(
    o: dict[str, Any], n: int, last_ts: float, seen: set[tuple[float, str]], res: Result
) -> bool:
    """Ticks on the second, in time order, one line per tag and tick."""
    ts, tag = o["ts"], o["tag"]
    if not _num(ts) or not isinstance(tag, str):
        _bad(res, "bad ts or tag", f"line {n}: {ts!r} {tag!r}")
        return False
    if abs(ts - round(ts)) > 1e-6:
        _bad(res, "tick off the second", f"line {n}: ts {ts}")
    if ts < last_ts:
        _bad(res, "ts goes back", f"line {n}: {ts} after {last_ts}")
    if (ts, tag) in seen:
        _bad(res, "two lines for one tag and tick", f"line {n}: {tag} at {ts}")
        return False
    seen.add((ts, tag))
    return True


def _check_line(
    o: dict[str, Any], n: int, lengths: dict[str, float], mine: Mine, res: Result
) -> bool:
    tun, off = o["tunnel"], o["offset_m"]
    if not isinstance(tun, str) or tun not in lengths:
        _bad(res, "unknown tunnel", f"line {n}: {tun!r}")
        return False
    if not _num(off) or not -1e-3 <= off <= lengths[tun] + 1e-3:
        _bad(res, "offset off the tunnel", f"line {n}: {tun} {off} of {lengths[tun]:.3f}")
        return False
    xyz = o["xyz"]
    if not (isinstance(xyz, list) and len(xyz) == 3 and all(_num(c) for c in xyz)):
        _bad(res, "bad xyz", f"line {n}: {xyz!r}")
        return False
    p = mine.point_at_one(tun, off)
    if float(np.linalg.norm(np.asarray(xyz) - p)) > 0.05:
        _bad(res, "xyz not the point at tunnel/offset", f"line {n}: {xyz} vs {p.round(3)}")
    iv = o["interval"]
    if not isinstance(iv, list) or not iv:
        _bad(res, "empty interval", f"line {n}: {iv!r}")
        return False
    total = 0.0
    for sp in iv:
        if not (isinstance(sp, dict) and {"tunnel", "from_m", "to_m"} <= sp.keys()):
            _bad(res, "bad stretch", f"line {n}: {sp!r}")
            return False
        st, a, b = sp["tunnel"], sp["from_m"], sp["to_m"]
        if st not in lengths or not (_num(a) and _num(b)):
            _bad(res, "stretch on an unknown tunnel", f"line {n}: {sp!r}")
            return False
        if not -1e-3 <= a <= b <= lengths[st] + 1e-3:
            _bad(res, "stretch off its tunnel", f"line {n}: {sp!r} of {lengths[st]:.3f} m")
            return False
        total += b - a
    u = o["uncertainty_m"]
    if not _num(u) or abs(u - total) > 0.01 + 1e-6 * total + 0.002 * len(iv):
        _bad(res, "uncertainty_m is not the interval length", f"line {n}: {u} vs {total:.3f}")
    return True


class NetworkDistance:
    """Along-the-tunnels distance between places, from node-to-node shortest paths."""

    def __init__(self, mine: Mine) -> None:
        net = mine.network
        m = coo_matrix(
            (
                np.r_[net.lengths, net.lengths],
                (np.r_[net.t_from, net.t_to], np.r_[net.t_to, net.t_from]),
            ),
            shape=(net.n_nodes, net.n_nodes),
        )
        dense = np.full((net.n_nodes, net.n_nodes), np.inf)
        np.minimum.at(dense, (m.row, m.col), m.data)  # parallel tunnels: the shorter one
        self.d = shortest_path(np.where(np.isinf(dense), 0.0, dense), directed=False)
        self.t_from, self.t_to, self.length = net.t_from, net.t_to, net.lengths

    def __call__(self, te: IntArray, se: FloatArray, tt: IntArray, st: FloatArray) -> FloatArray:
        ends_e = ((self.t_from[te], se), (self.t_to[te], self.length[te] - se))
        ends_t = ((self.t_from[tt], st), (self.t_to[tt], self.length[tt] - st))
        best = np.where(te == tt, np.abs(se - st), np.inf)
        for ne, de in ends_e:
            for nt, dt in ends_t:
                best = np.minimum(best, de + self.d[ne, nt] + dt)
        return np.asarray(best, dtype=np.float64)


def score(mine: Mine, areas: dict[str, str], run: Run, res: Result) -> None:
    """Engine and nearest-anchor scores per area of the truth's tunnel."""
    good = check_contract(run, mine, res)
    dist = NetworkDistance(mine)
    area_idx = {a: i for i, a in enumerate(AREAS)}
    area_of_t = np.array([area_idx[areas[t.id]] for t in mine.tunnels])
    by_tick: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for o in good:
        by_tick[round(o["ts"] - run.start) - 1].append(o)
    tag_index = {tag: k for k, tag in enumerate(run.tags)}
    cols: dict[str, list[Any]] = defaultdict(list)
    for k, objs in sorted(by_tick.items()):
        at = run.start + k + 1.0
        if at < run.start + WARMUP_S or k + 1 >= len(run.truth) or k < 0:
            continue
        prev, cur = run.truth[k], run.truth[k + 1]
        people, tt, st = interp_truth(prev, cur, at)
        row = {int(p): i for i, p in enumerate(people.tolist())}
        mode_row = {int(p): int(m) for p, m in zip(prev.person, prev.mode, strict=True)}
        nt, ns, nlo, nhi, npeople = run.nearest[k]
        nrow = {int(p): i for i, p in enumerate(npeople.tolist())}
        for o in objs:
            p = tag_index.get(o["tag"], -1)
            if p not in row or p not in nrow:
                continue
            i, j = row[p], nrow[p]
            t, s = int(tt[i]), float(st[i])
            cols["tag"].append(o["tag"])
            cols["tt"].append(t)
            cols["st"].append(s)
            cols["te"].append(mine.tunnel_index[o["tunnel"]])
            cols["se"].append(o["offset_m"])
            spans = [Span(sp["tunnel"], sp["from_m"], sp["to_m"]) for sp in o["interval"]]
            cols["cov"].append(covered(mine, spans, t, s, tol=1e-3))
            cols["width"].append(o["uncertainty_m"])
            cols["mode"].append(mode_row.get(p, 0))
            cols["ranges"].append(int(run.ranges[k][p]))
            cols["ts"].append(at)
            cols["nt"].append(int(nt[j]))
            cols["ns"].append(float(ns[j]))
            cols["ncov"].append(bool(nt[j] == t and nlo[j] <= s <= nhi[j]))
    if not cols["tt"]:
        return
    tt_a, st_a = np.array(cols["tt"]), np.array(cols["st"])
    te_a, se_a = np.array(cols["te"]), np.array(cols["se"])
    err = dist(te_a, se_a, tt_a, st_a)
    right = right_tunnel(mine, te_a, se_a, tt_a, st_a)
    nt_a, ns_a = np.array(cols["nt"]), np.array(cols["ns"])
    heard = nt_a >= 0
    nerr = np.full(len(err), np.nan)
    nerr[heard] = dist(nt_a[heard], ns_a[heard], tt_a[heard], st_a[heard])
    cov, ncov = np.array(cols["cov"]), np.array(cols["ncov"])
    width = np.array(cols["width"])
    area = area_of_t[tt_a]
    for name, sel in [("all", np.ones(len(err), dtype=bool))] + [
        (AREAS[a], area == a) for a in range(len(AREAS))
    ]:
        if not sel.any():
            continue
        ne = nerr[sel & heard]
        res.rows[name] = {
            "n": float(sel.sum()),
            "p50": float(np.median(err[sel])),
            "p95": float(np.percentile(err[sel], 95)),
            "right": float(np.mean(right[sel])),
            "cov": float(np.mean(cov[sel])),
            "width": float(np.median(width[sel])),
            "np50": float(np.median(ne)) if len(ne) else math.nan,
            "np95": float(np.percentile(ne, 95)) if len(ne) else math.nan,
            "ncov": float(np.mean(ncov[sel & heard])) if len(ne) else math.nan,
        }
    _misses(mine, cols, tt_a, st_a, ~cov, ~right, area, res)
    order = np.argsort(-err)[:5]
    res.worst = [
        (
            float(err[i]),
            str(cols["tag"][i]),
            float(cols["ts"][i]) - run.start,
            f"{mine.tunnels[tt_a[i]].id}@{st_a[i]:.1f} "
            f"est {mine.tunnels[te_a[i]].id}@{se_a[i]:.1f}",
        )
        for i in order
    ]


def _misses(
    mine: Mine,
    cols: dict[str, list[Any]],
    tt: IntArray,
    st: FloatArray,
    miss: NDArray[np.bool_],
    wrong: NDArray[np.bool_],
    area: IntArray,
    res: Result,
) -> None:
    """Count misses by situation: truth mode, near a junction or dead end, bent, ranges heard."""
    uwb = np.array([a.xyz for a in mine.anchors if a.tech == "uwb"]).reshape(-1, 3)
    truth = mine.point_at(tt, st)
    near = np.zeros(len(tt), dtype=bool)
    for lo in range(0, len(tt), 5000):  # the truth within 10 m of a UWB anchor
        d = np.linalg.norm(truth[lo : lo + 5000, None, :] - uwb[None, :, :], axis=2)
        near[lo : lo + 5000] = np.min(d, axis=1, initial=np.inf) < 10.0
    heard_n = np.minimum(np.array(cols["ranges"]), 2)
    for a, name in enumerate(AREAS):
        sel = area == a
        for key, mask in (
            ("0r", heard_n == 0),
            ("1r", heard_n == 1),
            ("2+r", heard_n == 2),
            ("anchor<10m", near),
            ("anchor>=10m", ~near),
        ):
            k = sel & mask
            if k.any():
                res.situ[name][key] = (int(k.sum()), float(np.mean(~miss[k])))
    deg = mine.network.degree()
    node = near_node(mine, tt, st, 20.0)
    at_junction = (node >= 0) & (deg[np.maximum(node, 0)] >= 3)
    for i in np.flatnonzero(miss | wrong):
        what = "miss" if miss[i] else "wrong tunnel"
        where = "junction" if at_junction[i] else "dead end" if node[i] >= 0 else "tunnel"
        bent = "bent" if len(mine.tunnels[tt[i]].points) > 2 else "straight"
        heard = ("0r", "1r", "2+r")[min(int(cols["ranges"][i]), 2)]
        mode = MODE_NAMES[cols["mode"][i]]
        res.misses[AREAS[area[i]]][f"{what} {mode} {where} {bent} {heard}"] += 1
        res.miss_tags[str(cols["tag"][i])] += 1


# -- report --------------------------------------------------------------------------------------
HEADER = (
    "| case | mine and radio | area | tag-ticks | p50 m | p95 m | right | coverage | "
    "median interval m | nearest p50 / p95 m | nearest coverage | flags |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def flags(case: Case, area: str, r: dict[str, float], res: Result) -> list[str]:
    """Figures outside the goals (see the module docstring)."""
    out = []
    if area == "all" and res.violations:
        out.append("contract" if not {"crash", "traceback"} & res.violations.keys() else "crash")
    if r["n"] < MIN_FLAG_N:
        return out
    if area == "uwb":
        if not 0.90 <= r["cov"] <= 0.99:
            out.append("cov")
        if case.spacing_m <= 120 and case.p_nlos <= 0.2 and r["p95"] > 1.0:
            out.append("p95")
        if r["right"] < 0.99:
            out.append("right")
    if area == "rfid" and r["cov"] < 0.93:
        out.append("cov")
    return out


def report_rows(case: Case, res: Result) -> list[str]:
    """The table rows of one case."""
    out = []
    if not res.rows:
        out.append(
            f"| {case.index} | {case.label()} | - | 0 | | | | | | | | "
            f"{' '.join(sorted(res.violations)) or 'no output'} |"
        )
    for area, r in res.rows.items():
        f = flags(case, area, r, res)
        out.append(
            f"| {case.index} | {case.label() if area == 'all' else ''} | {area} | {r['n']:,.0f} "
            f"| {r['p50']:.2f} | {r['p95']:.2f} | {100 * r['right']:.1f} % | {r['cov']:.3f} "
            f"| {r['width']:.1f} | {r['np50']:.1f} / {r['np95']:.1f} | {r['ncov']:.3f} "
            f"| {' '.join(f)} |"
        )
    return out


def main() -> None:
    """Generate, simulate, locate, score, print."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--cases", type=int, default=12)
    ap.add_argument("--minutes", type=float, default=10.0, help="simulated minutes per case")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default=None, help="run only these cases (comma list)")
    ap.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="write each case's mine.json, measurements.jsonl, locate.jsonl here",
    )
    ap.add_argument("--quiet", action="store_true", help="no per-case diagnostics")
    ap.add_argument(
        "--locate-args",
        default="",
        help="extra options for minepos locate, e.g. '--particles-only' (split on spaces)",
    )
    args = ap.parse_args()
    only = None if args.only is None else {int(x) for x in args.only.split(",")}
    extra = args.locate_args.split()
    print(
        f"locate: {' '.join(locate_cmd())} locate --mine mine.json measurements.jsonl "
        f"{' '.join(extra)}\nengine: {engine_version()}; seed {args.seed}, {args.cases} cases, "
        f"{args.minutes:g} min each\n"
    )
    print(HEADER, flush=True)
    all_rows: list[str] = []
    flagged: list[str] = []
    summary: dict[str, list[float]] = defaultdict(list)
    t_all = time.perf_counter()
    for case in make_cases(args.cases, args.seed):
        if only is not None and case.index not in only:
            continue
        with tempfile.TemporaryDirectory(prefix="unseen") as tmp:
            folder = args.keep / f"case{case.index}" if args.keep else Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            d, areas = build_mine(case)
            mine = place_anchors(d, areas, case)
            (folder / "mine.json").write_bytes(orjson.dumps(d, option=orjson.OPT_INDENT_2))
            run = simulate(case, mine, args.minutes, folder, extra)
            if args.keep:
                (folder / "locate.jsonl").write_bytes(run.stdout)
                (folder / "locate.stderr").write_text(run.stderr)
            res = Result()
            score(mine, areas, run, res)
        rows = report_rows(case, res)
        all_rows += rows
        print("\n".join(rows), flush=True)
        for area, r in res.rows.items():
            for key in ("p50", "p95", "right", "cov"):
                summary[f"{area} {key}"].append(r[key])
            if flags(case, area, r, res):
                flagged.append(f"case {case.index} {area}: {' '.join(flags(case, area, r, res))}")
        if not args.quiet:
            _diagnose(case, mine, res, run)
    print(f"\nsummary over cases (median of case figures), {time.perf_counter() - t_all:.0f} s:")
    for area in ("all", "uwb", "ble", "rfid"):
        if f"{area} p50" in summary:
            s = {
                k: float(np.median(summary[f"{area} {k}"])) for k in ("p50", "p95", "right", "cov")
            }
            print(
                f"  {area}: {len(summary[f'{area} p50'])} cases, p50 {s['p50']:.2f} m, "
                f"p95 {s['p95']:.2f} m, right {100 * s['right']:.1f} %, "
                f"coverage {s['cov']:.3f}"
            )
    print(f"  flagged: {'; '.join(flagged) if flagged else 'none'}")


def _diagnose(case: Case, mine: Mine, res: Result, run: Run) -> None:
    n_anchor = Counter(a.tech for a in mine.anchors)
    print(
        f"    case {case.index}: {len(mine.tunnels)} tunnels, {mine.total_length_m:,.0f} m, "
        f"anchors {dict(n_anchor)}, offset {case.offset_s / 60:.0f} min, {case.still} still; "
        f"{run.n_measurements:,} measurements, {res.lines:,} lines; sim {run.sim_s:.0f} s, "
        f"locate {run.locate_s:.0f} s",
        file=sys.stderr,
    )
    for what, k in res.violations.items():
        print(f"    contract: {what} x{k}: {res.examples[what]}", file=sys.stderr)
    for area, c in res.misses.items():
        print(
            f"    {area} misses (what, truth mode, place, tunnel, UWB ranges heard): "
            f"{dict(c.most_common(5))}",
            file=sys.stderr,
        )
    for area, sit in res.situ.items():
        cells = ", ".join(f"{k} {c:.3f} ({n:,})" for k, (n, c) in sit.items())
        print(
            f"    {area} coverage by UWB ranges heard / nearest UWB anchor: {cells}",
            file=sys.stderr,
        )
    if res.miss_tags:
        print(f"    tags with most misses: {dict(res.miss_tags.most_common(4))}", file=sys.stderr)
    for e, tag, t, where in res.worst[:3]:
        print(f"    worst: {e:.1f} m {tag} at +{t:.0f} s, truth {where}", file=sys.stderr)


if __name__ == "__main__":
    main()
