r"""The posterior Cramér–Rao lower bound for a walker along a tunnel (the limit to compare with).

State ``[s, v]`` (offset along the tunnel, signed speed), constant velocity with white
acceleration of density ``q``:

.. math::

    F = \begin{bmatrix}1 & \Delta\\ 0 & 1\end{bmatrix},\quad
    Q = q \begin{bmatrix}\Delta^3/3 & \Delta^2/2\\ \Delta^2/2 & \Delta\end{bmatrix},\quad
    J_{k+1} = (Q + F J_k^{-1} F^\top)^{-1} + J_z

(Tichavský, Muravchik, Nehorai 1998), with the measurement information
``J_z = diag(Σ_i cos²θ_i / σ_i², 0)`` evaluated along the true trajectory for the ranges actually
received (so missed detections are accounted for as they happened); ``θ_i`` is the angle between
the tunnel and the line to anchor ``i``. The bound on the position is ``sqrt([J^{-1}]_{11})``.
RSSI readings add ``(10 n cos θ / (ln 10 · σ_dB · d))²``. The bound is local: it knows nothing of
junction ambiguity, NLOS bias values or correlated shadowing.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["PosteriorBound", "range_information", "rssi_information"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _cos(tag_xyz: FloatArray, direction: FloatArray, anchor_xyz: FloatArray) -> FloatArray:
    diff = tag_xyz - anchor_xyz
    d = np.maximum(np.linalg.norm(diff, axis=1), 1e-6)
    out: FloatArray = (diff * direction).sum(axis=1) / d
    return out


def range_information(
    tag_xyz: FloatArray, direction: FloatArray, anchor_xyz: FloatArray, sigma: FloatArray
) -> FloatArray:
    """Fisher information on the along-tunnel offset of each range (rows of ``(N, 3)`` arrays)."""
    out: FloatArray = _cos(tag_xyz, direction, anchor_xyz) ** 2 / sigma**2
    return out


def rssi_information(
    tag_xyz: FloatArray, direction: FloatArray, anchor_xyz: FloatArray, sigma_db: float, n: float
) -> FloatArray:
    """Fisher information on the offset of each RSSI reading (log-distance model)."""
    d = np.maximum(np.linalg.norm(tag_xyz - anchor_xyz, axis=1), 1.0)
    grad = 10.0 * n / (math.log(10.0) * sigma_db * d)
    out: FloatArray = (grad * _cos(tag_xyz, direction, anchor_xyz)) ** 2
    return out


class PosteriorBound:
    """The PCRB recursion for many tags at once, each on its own time line."""

    def __init__(self, n_tags: int, q: float, prior_sd: tuple[float, float] = (50.0, 2.0)) -> None:
        self.q = q
        self.prior = np.diag([prior_sd[0] ** -2, prior_sd[1] ** -2])
        self.j = np.tile(self.prior, (n_tags, 1, 1))
        self.t = np.full(n_tags, np.nan)

    def _predicted_cov(self, tags: IntArray, dt: FloatArray) -> FloatArray:
        cov = np.linalg.inv(self.j[tags])
        f = np.zeros((len(tags), 2, 2))
        f[:, 0, 0] = f[:, 1, 1] = 1.0
        f[:, 0, 1] = dt
        qm = np.empty((len(tags), 2, 2))
        qm[:, 0, 0] = dt**3 / 3.0
        qm[:, 0, 1] = qm[:, 1, 0] = dt**2 / 2.0
        qm[:, 1, 1] = dt
        out: FloatArray = f @ cov @ np.transpose(f, (0, 2, 1)) + self.q * qm
        return out

    def update(self, tags: IntArray, ts: FloatArray, info: FloatArray) -> None:
        """Advance ``tags`` to their measurement times ``ts`` and add the information ``info``."""
        fresh = np.isnan(self.t[tags])
        self.j[tags[fresh]] = self.prior
        old = tags[~fresh]
        if len(old):
            dt = np.maximum(ts[~fresh] - self.t[old], 0.0)
            self.j[old] = np.linalg.inv(self._predicted_cov(old, dt))
        self.j[tags, 0, 0] += info
        self.t[tags] = ts

    def bound(self, tags: IntArray, at: float) -> FloatArray:
        """Lower bound on the position error (std, metres) of each tag at time ``at``."""
        dt = np.maximum(at - self.t[tags], 0.0)
        out: FloatArray = np.sqrt(self._predicted_cov(tags, dt)[:, 0, 0])
        return out

    def forget(self, tags: IntArray) -> None:
        """Tags that left: their next update starts from the prior."""
        self.t[tags] = np.nan
