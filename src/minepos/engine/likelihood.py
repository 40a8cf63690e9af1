r"""Measurement likelihoods, as log-likelihoods of one particle's position.

UWB range ``r`` to an anchor at distance ``d`` (residual ``e = r - d``) — a robust mixture:

.. math::

    p(e) = (1 - \epsilon_n - \epsilon_o)\,\mathcal N(e; 0, \sigma)
         + \epsilon_n\,\mathrm{EMG}(e; \sigma_n, \lambda)
         + \epsilon_o / W

where EMG is a Gaussian convolved with an exponential of mean ``1/λ`` (the positive excess of a
range without a direct path: measured median +0.66 m, mean about +1 m in ENGINE.md) and the
uniform floor of width ``W`` absorbs gross outliers. A Gaussian-only likelihood lets one NLOS
range pull the estimate by metres; this one keeps its influence bounded.

BLE RSSI: log-distance model ``rssi = P0 - 10 n log10(d) + N(0, σ_dB)`` with a uniform floor.
Presence: 1 inside the reader's range, a Gaussian edge outside, down to a small floor.
Position fix from a gateway: isotropic Gaussian in 3-D with a floor.
"""

from __future__ import annotations

import math

import numpy as np

from minepos.engine.config import TrackerConfig
from minepos.engine.jit import jit

__all__ = ["KIND_FIX", "KIND_PRESENCE", "KIND_RANGE", "KIND_RSSI", "loglik"]

KIND_RANGE, KIND_RSSI, KIND_PRESENCE, KIND_FIX = 0, 1, 2, 3
_F = list(TrackerConfig.__slots__)
SIG, NLOS_P, NLOS_MEAN, NLOS_SIG = (
    _F.index(k) for k in ("range_sigma", "nlos_prob", "nlos_mean", "nlos_sigma")
)
OUT_P, OUT_SPAN = _F.index("outlier_prob"), _F.index("outlier_span")
P0, PLE, RSSI_SIG, RSSI_OUT = (
    _F.index(k) for k in ("rssi_at_1m", "path_loss_exp", "rssi_sigma", "rssi_outlier_prob")
)
PR_FLOOR, PR_EDGE, FIX_SIG = (
    _F.index("presence_floor"),
    _F.index("presence_edge"),
    _F.index("fix_sigma"),
)
_SQRT2PI = math.sqrt(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)


@jit
def range_loglik(prm: np.ndarray, e: float) -> float:
    """Log-likelihood of a range residual ``e = measured - predicted`` (metres)."""
    sig = prm[SIG]
    los = math.exp(-0.5 * (e / sig) ** 2) / (sig * _SQRT2PI)
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
    pn, po = prm[NLOS_P], prm[OUT_P]
    return math.log((1.0 - pn - po) * los + pn * emg + po / prm[OUT_SPAN])


@jit
def rssi_loglik(prm: np.ndarray, rssi: float, d: float) -> float:
    """Log-likelihood of an RSSI reading (dBm) at distance ``d``."""
    pred = prm[P0] - 10.0 * prm[PLE] * math.log10(max(d, 0.5))
    sig = prm[RSSI_SIG]
    z = (rssi - pred) / sig
    po = prm[RSSI_OUT]
    return math.log((1.0 - po) * math.exp(-0.5 * z * z) / (sig * _SQRT2PI) + po / 80.0)


@jit
def presence_loglik(prm: np.ndarray, d: float, reach: float) -> float:
    """Log-likelihood of a detection by a reader ``d`` metres away with range ``reach``."""
    x = d - reach
    if x <= 0.0:
        return 0.0
    floor = prm[PR_FLOOR]
    return math.log(floor + (1.0 - floor) * math.exp(-0.5 * (x / prm[PR_EDGE]) ** 2))


@jit
def fix_loglik(prm: np.ndarray, d: float) -> float:
    """Log-likelihood of a gateway's position fix ``d`` metres from the particle."""
    return math.log(math.exp(-0.5 * (d / prm[FIX_SIG]) ** 2) + 1e-4)


@jit
def loglik(prm: np.ndarray, kind: int, value: float, d: float, reach: float) -> float:
    """Log-likelihood of one measurement of ``kind`` for a particle ``d`` metres from its source."""
    if kind == KIND_RANGE:
        return range_loglik(prm, value - d)
    if kind == KIND_RSSI:
        return rssi_loglik(prm, value, d)
    if kind == KIND_PRESENCE:
        return presence_loglik(prm, d, reach)
    return fix_loglik(prm, d)


@jit
def lost_threshold(prm: np.ndarray, kind: int) -> float:
    """Below this log mean likelihood a measurement fits none of the particles."""
    if kind == KIND_RANGE:
        return math.log(3.0 * prm[OUT_P] / prm[OUT_SPAN])
    if kind == KIND_PRESENCE:
        return math.log(3.0 * prm[PR_FLOOR])
    if kind == KIND_FIX:
        return -7.0
    return -1e9  # RSSI is too vague to declare a track lost
