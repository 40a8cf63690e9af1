"""Runs one simulated scenario through the engine, the baselines and the bound; scores them.

The simulator reports each tag once per tick at its own phase ``tq = t + phase``; the engine
steps at the end of each tick ``T = t + tick`` and its estimates are scored against the truth
interpolated to ``T`` (linear between the tag's truth rows at ``tq_k`` and ``tq_{k+1}``, or the
nearer row when they lie on different tunnels). Errors are 3-D distances between the estimated
point and the true place on the tunnel axis: the tag's own sideways offset in the tunnel
cross-section is not observable from anchors in a line (ENGINE.md) and is left out.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from minepos.engine import Tracker, TrackerConfig
from minepos.engine.baselines import LeastSquaresFix, NearestAnchor
from minepos.engine.bound import PosteriorBound, range_information, rssi_information
from minepos.mine import Mine
from minepos.sim import ScenarioConfig, Simulation
from minepos.sim.batch import PRESENCE, RANGE, RSSI

METHODS = ("engine", "particles only", "nearest anchor", "least squares")
WARMUP_S = 30.0
NODE_TOL_M = 2.0


@dataclass
class Scores:
    """Per method: arrays of error, right tunnel, covered, interval length; plus the bound."""

    err: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    right: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    cov: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    width: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    bound: list[float] = field(default_factory=list)
    engine_s: float = 0.0
    updates: int = 0
    track: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))


def near_node(mine: Mine, t: np.ndarray, s: np.ndarray, tol: float) -> np.ndarray:
    """The node within ``tol`` of each place (tunnel, offset), or -1."""
    length = mine.geometry.lengths[t]
    return np.where(
        s <= tol, mine.network.t_from[t], np.where(s >= length - tol, mine.network.t_to[t], -1)
    )


def right_tunnel(
    mine: Mine, te: np.ndarray, se: np.ndarray, tt: np.ndarray, st: np.ndarray
) -> np.ndarray:
    """Estimate on the truth's tunnel, or both within `NODE_TOL_M` of the same junction."""
    ne = near_node(mine, te, se, NODE_TOL_M)
    nt = near_node(mine, tt, st, NODE_TOL_M)
    return (te == tt) | ((ne >= 0) & (ne == nt))


def interp_truth(prev: Any, cur: Any, at: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Truth (person, tunnel, offset) at time ``at`` for people in both truth batches."""
    common, ip, ic = np.intersect1d(prev.person, cur.person, return_indices=True)
    t0, t1 = prev.ts[ip], cur.ts[ic]
    a = np.clip((at - t0) / np.maximum(t1 - t0, 1e-9), 0.0, 1.0)
    same = prev.tunnel[ip] == cur.tunnel[ic]
    off = np.where(
        same,
        prev.offset[ip] + a * (cur.offset[ic] - prev.offset[ip]),
        np.where(a < 0.5, prev.offset[ip], cur.offset[ic]),
    )
    tun = np.where(same | (a < 0.5), prev.tunnel[ip], cur.tunnel[ic])
    return common, tun, off


def covered(mine: Mine, spans: Any, t: int, s: float, tol: float = 1e-6) -> bool:
    """The truth (tunnel index ``t``, offset ``s``) inside one of the stretches, or at a node
    (0.5 m) that a stretch reaches; ``tol`` for offsets rounded in output."""
    ids = mine.tunnels
    for sp in spans:
        st = mine.tunnel_index[sp.tunnel]
        if st == t and sp.from_m - tol <= s <= sp.to_m + tol:
            return True
    node = near_node(mine, np.array([t]), np.array([s]), 0.5)[0]
    if node < 0:
        return False
    for sp in spans:  # the truth at a junction may be covered by a stretch of another tunnel
        st = mine.tunnel_index[sp.tunnel]
        if mine.network.t_from[st] == node and sp.from_m <= 0.5:
            return True
        if mine.network.t_to[st] == node and sp.to_m >= ids[st].length_m - 0.5:
            return True
    return False


class Runner:
    """Feeds one simulation to the engine, the baselines and the bound, tick by tick."""

    def __init__(
        self,
        mine: Mine,
        cfg: ScenarioConfig,
        seed: int,
        q: float,
        engine: TrackerConfig | None = None,
        follow: int | None = None,
    ) -> None:
        self.mine, self.cfg = mine, cfg
        self.sim = Simulation(mine, cfg, seed=seed)
        n = len(self.sim.tags)
        self.tracker = Tracker(mine, engine or TrackerConfig(), np.random.default_rng(seed))
        # the engine without its Kalman fast path, on the same measurements
        self.particles = Tracker(
            mine, replace(engine or TrackerConfig(), kalman=False), np.random.default_rng(seed)
        )
        self.nearest = NearestAnchor(mine, n)
        self.ls = LeastSquaresFix(mine, n, sigma=max(cfg.sensors.uwb.los_sigma_m, 0.05))
        self.bound = PosteriorBound(n, q)
        self.tag_of = {t: i for i, t in enumerate(self.sim.tags)}
        self.a_xyz = np.array([a.xyz for a in mine.anchors]).reshape(-1, 3)
        self.follow = follow
        self.scores = Scores()

    def run(self) -> Scores:
        """Run the whole scenario."""
        prev = None
        snap: dict[str, Any] | None = None
        for tick in self.sim.run():
            new_snap = self._tick(tick)
            if prev is not None and snap is not None:
                self._score(snap, prev, tick.truth)
            prev, snap = tick.truth, new_snap
        return self.scores

    def _tick(self, tick: Any) -> dict[str, Any]:
        b = tick.measurements
        t0 = time.process_time()
        self.tracker.add(tick.measurement_list())
        at = tick.t + self.cfg.tick_s
        est = {self.tag_of[e.tag]: e for e in self.tracker.step(at)}
        self.scores.engine_s += time.process_time() - t0
        self.scores.updates += len(est)
        self.particles.add(tick.measurement_list())
        est_pf = {self.tag_of[e.tag]: e for e in self.particles.step(at)}
        rows = np.isin(b.kind, (RANGE, RSSI, PRESENCE))
        args = (b.person[rows], b.kind[rows], b.anchor[rows], b.value[rows])
        self.nearest.update(*args)
        self.ls.update(*args)
        self._bound_update(tick)
        people = tick.truth.person
        return {
            "at": at,
            "engine": est,
            "particles only": est_pf,
            "nearest": self.nearest.estimate(people),
            "ls": self.ls.estimate(people),
            "people": people,
            "bound": self.bound.bound(people, at),
        }

    def _bound_update(self, tick: Any) -> None:
        truth, b = tick.truth, tick.measurements
        row_of = np.full(len(self.sim.tags), -1)
        row_of[truth.person] = np.arange(len(truth.person))
        sel = np.flatnonzero(np.isin(b.kind, (RANGE, RSSI)) & (row_of[b.person] >= 0))
        r = row_of[b.person[sel]]
        p = truth.xyz[r]
        u = self.mine.geometry.direction_at(truth.tunnel[r], truth.offset[r])
        uwb, ble = self.cfg.sensors.uwb, self.cfg.sensors.ble
        sig = np.where(
            b.nlos[sel],
            np.sqrt(uwb.los_sigma_m**2 + uwb.nlos_sigma_m**2 + uwb.nlos_bias_mean_m**2),
            uwb.los_sigma_m,
        )
        info = np.where(
            b.kind[sel] == RANGE,
            range_information(p, u, self.a_xyz[b.anchor[sel]], np.maximum(sig, 1e-3)),
            rssi_information(
                p,
                u,
                self.a_xyz[b.anchor[sel]],
                float(np.hypot(ble.shadow_sigma_db, ble.fast_sigma_db)),
                ble.path_loss_exponent,
            ),
        )
        total = np.bincount(r, weights=info, minlength=len(truth.person))
        gone = np.setdiff1d(np.flatnonzero(~np.isnan(self.bound.t)), truth.person)
        self.bound.forget(gone)
        self.bound.update(truth.person, truth.ts, total)

    def _score(self, snap: dict[str, Any], prev: Any, cur: Any) -> None:
        at = snap["at"]
        if at < self.cfg.start_ts + WARMUP_S:
            return
        people, tt, st = interp_truth(prev, cur, at)
        est = snap["engine"]
        keep = np.array([p in est and p in snap["particles only"] for p in people], dtype=bool)
        people, tt, st = people[keep], tt[keep], st[keep]
        if len(people) == 0:
            return
        truth_xyz = self.mine.point_at(tt, st)
        idx = np.searchsorted(snap["people"], people)
        for name in ("engine", "particles only"):
            es = [snap[name][p] for p in people]
            self._record(
                name,
                np.array([e.xyz for e in es]),
                truth_xyz,
                np.array([self.mine.tunnel_index[e.tunnel] for e in es]),
                np.array([e.offset_m for e in es]),
                tt,
                st,
                [
                    covered(self.mine, e.interval, int(a), float(b))
                    for e, a, b in zip(es, tt, st, strict=True)
                ],
                [e.uncertainty_m for e in es],
            )
        for name, key in (("nearest anchor", "nearest"), ("least squares", "ls")):
            t, s, lo, hi = (x[idx] for x in snap[key])
            ok = t >= 0
            xyz = self.mine.point_at(np.where(ok, t, 0), s)
            cov = (t == tt) & (lo <= st) & (st <= hi)
            self._record(
                name,
                xyz[ok],
                truth_xyz[ok],
                t[ok],
                s[ok],
                tt[ok],
                st[ok],
                list(cov[ok]),
                list((hi - lo)[ok]),
            )
        self.scores.bound.extend(snap["bound"][idx].tolist())
        if self.follow is not None:  # keep the tracks of the first `follow` people
            for k in np.flatnonzero(people < self.follow):
                p = int(people[k])
                self.scores.track[str(p)].append((at, int(tt[k]), float(st[k]), est[p]))

    def _record(
        self,
        name: str,
        xyz: np.ndarray,
        truth: np.ndarray,
        te: np.ndarray,
        se: np.ndarray,
        tt: np.ndarray,
        st: np.ndarray,
        cov: list[bool],
        width: list[float],
    ) -> None:
        sc = self.scores
        sc.err[name].extend(np.linalg.norm(xyz - truth, axis=1).tolist())
        sc.right[name].extend(right_tunnel(self.mine, te, se, tt, st).tolist())
        sc.cov[name].extend(cov)
        sc.width[name].extend(width)


def summary(scores: Scores) -> dict[str, dict[str, float]]:
    """p50, p95, RMSE, right-tunnel share, coverage and mean interval length per method."""
    out: dict[str, dict[str, float]] = {}
    for name in METHODS:
        e = np.asarray(scores.err.get(name, []))
        if len(e) == 0:
            continue
        out[name] = {
            "n": float(len(e)),
            "p50": float(np.median(e)),
            "p95": float(np.percentile(e, 95)),
            "p99": float(np.percentile(e, 99)),
            "max": float(e.max()),
            "rmse": float(np.sqrt(np.mean(e**2))),
            "right": float(np.mean(scores.right[name])),
            "cov": float(np.mean(scores.cov[name])),
            "width": float(np.median(scores.width[name])),
        }
    if scores.bound:
        bnd = np.asarray(scores.bound)
        out["PCRB"] = {
            "rmse": float(np.sqrt(np.mean(bnd**2))),
            "p50": float(np.median(bnd) * 0.674),
            "p95": float(np.percentile(bnd, 95) * 1.96),
        }
    return out


def truth_q(mine: Mine, cfg: ScenarioConfig, seed: int) -> float:
    """Acceleration density of the true motion: mean of (dv)^2/dt over the truth (same tunnel)."""
    sim = Simulation(mine, cfg, seed=seed)
    prev = None
    acc: list[float] = []
    for tick in sim.run():
        cur = tick.truth
        if prev is not None:
            _, ip, ic = np.intersect1d(prev.person, cur.person, return_indices=True)
            same = prev.tunnel[ip] == cur.tunnel[ic]
            dt = np.maximum(cur.ts[ic] - prev.ts[ip], 1e-3)
            dv = np.abs(cur.speed[ic]) - np.abs(prev.speed[ip])
            acc.extend((dv[same] ** 2 / dt[same]).tolist())
        prev = cur
        if len(acc) > 200_000:
            break
    return float(np.mean(acc)) if acc else 0.1
