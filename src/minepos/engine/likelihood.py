r"""Measurement likelihoods, as log-likelihoods of one particle's position.

UWB range ``r`` to an anchor at distance ``d`` (residual ``e = r - d``) — a robust mixture:

.. math::

    p(e) = (1 - \epsilon_n - \epsilon_o)\,\mathcal N(e; 0, \sigma)
         + \epsilon_n\,\mathrm{EMG}(e; \sigma_n, \lambda)
         + \epsilon_o / W

where EMG is a Gaussian convolved with an exponential of mean ``1/λ`` (the positive excess of a
range without a direct path: measured median +0.66 m, mean about +1 m in ENGINE.md) and the
uniform floor of width ``W`` absorbs gross outliers; below zero the floor is a hundred times
lower, because a range much shorter than predicted does not happen physically and so rules the
place out (it is what tells the two branches beyond a junction apart). A Gaussian-only
likelihood lets one NLOS range pull the estimate by metres; this one keeps its influence bounded.

BLE RSSI: log-distance model ``rssi = P0 - 10 n log10(d) + N(0, σ_dB)`` with a uniform floor.
Presence: the reader's detection probability at that distance (a logistic fall-off), plus a
small floor; a live reader's silence weighs a place by one minus that probability.
Position fix from a gateway: isotropic Gaussian in 3-D with a floor.
"""

from __future__ import annotations

import math

import numpy as np

from minepos.engine.config import TrackerConfig
from minepos.engine.jit import jit

__all__ = [
    "KIND_FIX",
    "KIND_PRESENCE",
    "KIND_RANGE",
    "KIND_RSSI",
    "detect_prob",
    "loglik",
    "los_density",
    "nlos_density",
]

KIND_RANGE, KIND_RSSI, KIND_PRESENCE, KIND_FIX = 0, 1, 2, 3
_F = list(TrackerConfig.__slots__)
SIG, NLOS_P, NLOS_MEAN, NLOS_SIG = (
    _F.index(k) for k in ("range_sigma", "nlos_prob", "nlos_mean", "nlos_sigma")
)
OUT_P, OUT_SPAN = _F.index("outlier_prob"), _F.index("outlier_span")
SHORT = _F.index("outlier_short_share")
P0, PLE, RSSI_SIG, RSSI_OUT = (
    _F.index(k) for k in ("rssi_at_1m", "path_loss_exp", "rssi_sigma", "rssi_outlier_prob")
)
PR_HALF, PR_NEAR = _F.index("presence_half_at"), _F.index("presence_p_near")
RSSI_W = _F.index("rssi_weight")
PR_FLOOR, PR_EDGE, FIX_SIG = (
    _F.index("presence_floor"),
    _F.index("presence_edge"),
    _F.index("fix_sigma"),
)
_SQRT2PI = math.sqrt(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)


@jit
def nlos_density(prm: np.ndarray, e: float) -> float:
    """Density of a range residual ``e`` under the NLOS and outlier parts of the mixture
    (already multiplied by their prior shares)."""
    lam = 1.0 / prm[NLOS_MEAN]
    sn = prm[NLOS_SIG]
    emg = 0.0
    if e > -8.0 * sn:  # far below zero the NLOS part is nil (and its formula overflows)
        emg = (
            0.5
            * lam
            * math.exp(0.5 * lam * (lam * sn * sn - 2.0 * e))
            * math.erfc((lam * sn * sn - e) / (_SQRT2 * sn))
        )
    po = prm[OUT_P]
    floor = po / prm[OUT_SPAN] if e >= 0.0 else po * prm[SHORT] / prm[OUT_SPAN]
    return float(prm[NLOS_P] * emg + floor)


@jit
def los_density(prm: np.ndarray, e: float, var: float) -> float:
    """Density of a range residual ``e`` under the line-of-sight part (times its prior share),
    for a residual variance ``var``."""
    share = 1.0 - prm[NLOS_P] - prm[OUT_P]
    return float(share * math.exp(-0.5 * e * e / var) / math.sqrt(2.0 * math.pi * var))


@jit
def range_loglik(prm: np.ndarray, e: float) -> float:
    """Log-likelihood of a range residual ``e = measured - predicted`` (metres)."""
    return math.log(los_density(prm, e, prm[SIG] ** 2) + nlos_density(prm, e))


@jit
def rssi_loglik(prm: np.ndarray, rssi: float, d: float) -> float:
    """Log-likelihood of an RSSI reading (dBm) at distance ``d``."""
    pred = prm[P0] - 10.0 * prm[PLE] * math.log10(max(d, 0.5))
    sig = prm[RSSI_SIG]
    z = (rssi - pred) / sig
    po = prm[RSSI_OUT]
    # tempered: shadowing is correlated along the tunnel, so successive readings are far from
    # independent; each counts for `rssi_weight` of one
    lik = (1.0 - po) * math.exp(-0.5 * z * z) / (sig * _SQRT2PI) + po / 80.0
    return float(prm[RSSI_W] * math.log(lik))


@jit
def detect_prob(prm: np.ndarray, d: float, reach: float) -> float:
    """Probability that a reader ``d`` metres away detects the tag in one report.

    Falls off as a logistic around ``presence_half_at * reach`` (width ``presence_edge *
    reach``), from ``presence_p_near``; RFID and zone readers read less often near the edge of
    their range than close by.
    """
    z = (d - prm[PR_HALF] * reach) / (prm[PR_EDGE] * reach)
    return float(prm[PR_NEAR] / (1.0 + math.exp(min(z, 50.0))))


@jit
def presence_loglik(prm: np.ndarray, d: float, reach: float) -> float:
    """Log-likelihood of a detection by a reader ``d`` metres away with range ``reach``."""
    return math.log(prm[PR_FLOOR] + detect_prob(prm, d, reach))


@jit
def fix_loglik(prm: np.ndarray, d: float) -> float:
    """Log-likelihood of a gateway's position fix ``d`` metres from the particle."""
    return math.log(math.exp(-0.5 * (d / prm[FIX_SIG]) ** 2) + 1e-4)


#: the range log-likelihood is tabulated from RANGE_LO to RANGE_HI metres of residual
RANGE_LO, RANGE_HI, RANGE_STEP = -10.0, 60.0, 0.005


def range_table(prm: np.ndarray) -> np.ndarray:
    """`range_loglik` on a grid of residuals: the kernel interpolates it (3 ns instead of 25)."""
    grid = np.arange(RANGE_LO, RANGE_HI + RANGE_STEP, RANGE_STEP)
    return np.array([range_loglik(prm, float(e)) for e in grid])


@jit
def range_lookup(prm: np.ndarray, table: np.ndarray, e: float) -> float:
    """`range_loglik` of residual ``e`` interpolated in ``table``; exact outside its span."""
    x = (e - RANGE_LO) / RANGE_STEP
    if x < 0.0 or x >= len(table) - 1:
        return range_loglik(prm, e)
    i = int(x)
    f = x - i
    return float(table[i] + f * (table[i + 1] - table[i]))


@jit
def loglik(
    prm: np.ndarray, table: np.ndarray, kind: int, value: float, d: float, reach: float
) -> float:
    """Log-likelihood of one measurement of ``kind`` for a particle ``d`` metres from its source."""
    if kind == KIND_RANGE:
        return range_lookup(prm, table, value - d)
    if kind == KIND_RSSI:
        return rssi_loglik(prm, value, d)
    if kind == KIND_PRESENCE:
        return presence_loglik(prm, d, reach)
    return fix_loglik(prm, d)


@jit
def lost_threshold(prm: np.ndarray, kind: int) -> float:
    """Below this log mean likelihood a measurement fits none of the particles."""
    if kind == KIND_RANGE:
        # between the floors: a gross long outlier is not "lost", a gross short range is
        return math.log(0.5 * prm[OUT_P] / prm[OUT_SPAN])
    if kind == KIND_PRESENCE:
        # no particle within the reader's range (a zone-only tag's detections always fit:
        # the kernel places some particles afresh there first)
        return math.log(2.0 * prm[PR_FLOOR])
    if kind == KIND_FIX:
        return -7.0
    return -1e9  # RSSI is too vague to declare a track lost
