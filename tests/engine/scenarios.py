"""Small deterministic scenarios for the engine's tests: mines, walkers, and their measurements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from minepos.measurement import Measurement
from minepos.mine import Mine, mine_from_dict


def _mine(
    nodes: list[tuple[str, tuple[float, float, float]]],
    tunnels: list[tuple[str, str, str, str]],
    anchors: list[dict[str, Any]],
    zones: list[dict[str, Any]] | None = None,
) -> Mine:
    return mine_from_dict(
        {
            "mine": {"id": "t", "name": "test", "timezone": "UTC"},
            "levels": [{"id": "l0", "name": "L0", "z": 0}],
            "nodes": [{"id": n, "xyz": list(p)} for n, p in nodes],
            "tunnels": [{"id": i, "from": a, "to": b, "kind": k} for i, a, b, k in tunnels],
            "zones": zones or [],
            "anchors": anchors,
        }
    )


def straight_mine(
    length: float = 600.0, spacing: float = 60.0, tech: str = "uwb", reach: float | None = None
) -> Mine:
    """One drift along x with anchors on the wall (1.5 m to the side, 2 m up) every ``spacing``;
    the first 20 m are the lamp room."""
    anchors: list[dict[str, Any]] = []
    for i, x in enumerate(np.arange(0.0, length + 1e-9, spacing)):
        a: dict[str, Any] = {"id": f"a{i}", "tech": tech, "at": {"xyz": [float(x), 1.5, 2.0]}}
        if reach is not None:
            a["range_m"] = reach
        anchors.append(a)
    lamp = {
        "id": "lamp",
        "name": "Lamp room",
        "kind": "lamp_room",
        "spans": [{"tunnel": "d1", "from_m": 0, "to_m": 20}],
    }
    return _mine(
        [("w", (0, 0, 0)), ("e", (length, 0, 0))], [("d1", "w", "e", "drift")], anchors, [lamp]
    )


def junction_mine(spacing: float = 60.0) -> Mine:
    """A T junction at (300, 0): drifts west (d_w) and east (d_e), a crosscut north (xc)."""
    anchors: list[dict[str, Any]] = []
    for x in np.arange(0.0, 601.0, spacing):
        anchors.append({"id": f"m{int(x)}", "tech": "uwb", "at": {"xyz": [float(x), 1.5, 2.0]}})
    for y in np.arange(spacing, 301.0, spacing):
        anchors.append({"id": f"x{int(y)}", "tech": "uwb", "at": {"xyz": [301.5, float(y), 2.0]}})
    return _mine(
        [("w", (0, 0, 0)), ("j", (300, 0, 0)), ("e", (600, 0, 0)), ("n", (300, 300, 0))],
        [("d_w", "w", "j", "drift"), ("d_e", "j", "e", "drift"), ("xc", "j", "n", "crosscut")],
        anchors,
    )


def reader_grid(spacing: float = 100.0, reach: float = 10.0, transport: bool = False) -> Mine:
    """Zone readers only: a crossroads at (400, 0) of drifts west (d_w) and east (d_e, 400 m
    each) and crosscuts north and south (x_n, x_s, 300 m), a reader at the crossroads and every
    ``spacing`` metres; ``transport``: a man-rider runs along d_e."""
    anchors: list[dict[str, Any]] = []
    for x in np.arange(0.0, 801.0, spacing):
        anchors.append({"id": f"r{int(x)}", "tech": "rfid", "at": {"xyz": [float(x), 1.5, 2.0]}})
    for y in np.arange(spacing, 301.0, spacing):
        for sign, name in ((1.0, "n"), (-1.0, "s")):
            anchors.append(
                {"id": f"{name}{int(y)}", "tech": "rfid", "at": {"xyz": [401.5, sign * y, 2.0]}}
            )
    for a in anchors:
        a["range_m"] = reach
    zones = []
    if transport:
        zones.append(
            {
                "id": "rider",
                "name": "Man-rider",
                "kind": "transport",
                "spans": [{"tunnel": "d_e", "from_m": 0, "to_m": 400}],
            }
        )
    return _mine(
        [
            ("w", (0, 0, 0)),
            ("j", (400, 0, 0)),
            ("e", (800, 0, 0)),
            ("n", (400, 300, 0)),
            ("s", (400, -300, 0)),
        ],
        [
            ("d_w", "w", "j", "drift"),
            ("d_e", "j", "e", "drift"),
            ("x_n", "j", "n", "crosscut"),
            ("x_s", "j", "s", "crosscut"),
        ],
        anchors,
        zones,
    )


def shaft_mine() -> Mine:
    """A 300 m shaft (anchors every 50 m) down to a 300 m drift (anchors every 60 m)."""
    anchors = [
        {"id": f"s{int(z)}", "tech": "uwb", "at": {"xyz": [1.5, 0.0, float(-z)]}}
        for z in np.arange(0.0, 301.0, 50.0)
    ]
    anchors += [
        {"id": f"d{int(x)}", "tech": "uwb", "at": {"xyz": [float(x), 1.5, -298.0]}}
        for x in np.arange(60.0, 301.0, 60.0)
    ]
    return _mine(
        [("top", (0, 0, 0)), ("bot", (0, 0, -300)), ("end", (300, 0, -300))],
        [("shaft", "top", "bot", "shaft"), ("drift", "bot", "end", "drift")],
        anchors,
    )


@dataclass
class Truth:
    """Ground truth at 1 Hz: time, tunnel id, offset, xyz."""

    ts: np.ndarray
    tunnel: list[str]
    offset: np.ndarray
    xyz: np.ndarray


def walk(mine: Mine, legs: list[tuple[str, float, float, float]], t0: float = 1000.0) -> Truth:
    """Walk legs ``(tunnel, from_m, to_m, speed)``; speed 0: stand ``from_m`` s at ``to_m``."""
    ts: list[float] = []
    tun: list[str] = []
    off: list[float] = []
    t = t0
    for tunnel, a, b, speed in legs:
        if speed == 0:
            steps = np.full(int(a), b)
        else:
            n = max(round(abs(b - a) / speed), 1)
            steps = np.linspace(a, b, n + 1)[1:] if ts else np.linspace(a, b, n + 1)
        for s in steps:
            ts.append(t)
            tun.append(tunnel)
            off.append(float(s))
            t += 1.0
    idx = np.array([mine.tunnel_index[x] for x in tun])
    return Truth(np.array(ts), tun, np.array(off), mine.point_at(idx, np.array(off)))


def ranges(
    mine: Mine,
    truth: Truth,
    rng: np.random.Generator,
    tag: str = "t1",
    sigma: float = 0.05,
    nlos: float = 0.0,
    miss: float = 0.1,
    reach: float = 80.0,
) -> list[Measurement]:
    """UWB ranges from every anchor within ``reach``; NLOS adds an exponential excess (mean 1 m)."""
    a_xyz = np.array([a.xyz for a in mine.anchors])
    out: list[Measurement] = []
    for ts, p in zip(truth.ts, truth.xyz, strict=True):
        d = np.linalg.norm(a_xyz - p, axis=1)
        for k in np.flatnonzero(d <= reach):
            if rng.random() < miss:
                continue
            r = d[k] + sigma * rng.standard_normal()
            if rng.random() < nlos:
                r += rng.exponential(1.0)
            out.append(
                Measurement(
                    ts=float(ts), tag=tag, anchor=mine.anchors[k].id, range_m=round(float(r), 3)
                )
            )
    return out


def track(
    mine: Mine, measurements: list[Measurement], truth: Truth, seed: int = 1, **config: Any
) -> list[Any]:
    """Run the tracker tick by tick at the truth's times; return the estimates of tag ``t1``."""
    from minepos.engine import Tracker, TrackerConfig

    tracker = Tracker(mine, TrackerConfig(**config), rng=np.random.default_rng(seed))
    tracker.add(measurements)
    out = []
    for ts in truth.ts:
        est = {e.tag: e for e in tracker.step(float(ts))}
        out.append(est.get("t1"))
    return out


def errors(mine: Mine, estimates: list[Any], truth: Truth) -> np.ndarray:
    """3-D error of each estimate (inf where none)."""
    return np.array(
        [
            np.inf if e is None else float(np.linalg.norm(np.array(e.xyz) - p))
            for e, p in zip(estimates, truth.xyz, strict=True)
        ]
    )


def covered(estimates: list[Any], truth: Truth) -> np.ndarray:
    """Whether the truth lies in each estimate's interval."""
    return np.array(
        [
            e is not None
            and any(s.tunnel == t and s.from_m - 1e-6 <= o <= s.to_m + 1e-6 for s in e.interval)
            for e, t, o in zip(estimates, truth.tunnel, truth.offset, strict=True)
        ]
    )


def presence(
    mine: Mine,
    truth: Truth,
    rng: np.random.Generator,
    tag: str = "t1",
    p_detect: float = 0.9,
    falloff: bool = False,
) -> list[Measurement]:
    """Presence detections by every reader within its range, each with ``p_detect``;
    ``falloff``: the probability falls to half at 75 % of the range, as real readers do."""
    a_xyz = np.array([a.xyz for a in mine.anchors])
    reach = np.array([a.range_m or 10.0 for a in mine.anchors])
    out: list[Measurement] = []
    for ts, p in zip(truth.ts, truth.xyz, strict=True):
        d = np.linalg.norm(a_xyz - p, axis=1)
        for k in np.flatnonzero(d <= reach):
            edge = 1.0 + np.exp((d[k] - 0.75 * reach[k]) / (0.08 * reach[k])) if falloff else 1.0
            if rng.random() < p_detect / edge:
                out.append(Measurement(ts=float(ts), tag=tag, anchor=mine.anchors[k].id))
    return out
