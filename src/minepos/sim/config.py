"""Simulation parameters: sensor error models, incidents, evacuation orders and the scenario.

Every number that shapes a measurement lives here so that benchmarks can sweep it from Python.
Defaults marked "fitted" come from ``python bench/calibrate_sensors.py`` run on the real
measurements in ``/work/shared/data`` (docs/simulator.md lists the fit); nothing reads that data
at run time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, Final

from minepos.errors import InputError
from minepos.mine import Span

__all__ = [
    "INCIDENT_KINDS",
    "BleModel",
    "EvacuationOrder",
    "IncidentSpec",
    "RfidModel",
    "ScenarioConfig",
    "SensorConfig",
    "StatusModel",
    "UwbModel",
]

#: Incident kinds the simulator can stage; each appears in ``incidents.jsonl`` under this name.
INCIDENT_KINDS: Final = (
    "sos",
    "man_down",
    "restricted_zone",
    "forbidden_zone",
    "overcrowding",
    "tag_silent",
    "low_battery",
    "anchor_failed",
    "not_returned",
)


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise InputError(what)


def _prob(name: str, value: float) -> None:
    _check(0.0 <= value <= 1.0, f"{name} must be a probability in [0, 1], got {value}")


def _positive(name: str, value: float) -> None:
    _check(value > 0 and math.isfinite(value), f"{name} must be > 0, got {value}")


@dataclass(frozen=True, slots=True)
class UwbModel:
    """UWB two-way ranging: LOS Gaussian, positive NLOS bias, dropouts, range limits.

    range = |tag - anchor| + bias(d) + e, e ~ N(0, los_sigma_m) in line of sight; NLOS adds
    N(0, nlos_sigma_m) + Exp(nlos_bias_mean_m) (and ``nlos_bias_min_m``). Links that pass a junction
    are NLOS with ``p_nlos_junction``, links round a corner always; any link with ``p_nlos``.
    """

    #: LOS random error (fitted, Hanyang LOS: std of residuals about the distance trend, 0.059;
    #: of which 0.034 is noise at a fixed geometry and the rest scatter between geometries)
    los_sigma_m: float = 0.06
    #: constant LOS bias; 0 = antenna delays calibrated (fitted uncalibrated value: see docs)
    los_bias_m: float = 0.0
    #: LOS bias per metre of distance; 0 = clock scale calibrated (fitted uncalibrated: see docs)
    los_bias_per_m: float = 0.0
    #: share of clear links that are NLOS anyway (people, machines, ventilation doors)
    p_nlos: float = 0.05
    #: share of links passing a junction (straight chord, other tunnel) that are NLOS
    p_nlos_junction: float = 0.3
    #: NLOS extra bias: exponential mean (fitted, Kolakowski no-direct-path: per-geometry excess
    #: over the LOS mean, 0.76; the data's excess median 0.60, p95 2.61)
    nlos_bias_mean_m: float = 0.76
    #: NLOS extra bias: fixed part added to the exponential
    nlos_bias_min_m: float = 0.0
    #: NLOS random spread on top of the bias (fitted, Kolakowski no-direct-path within-geometry std)
    nlos_sigma_m: float = 0.19
    #: share of wild outliers: uniform extra range in [0, outlier_max_m]
    p_outlier: float = 0.002
    outlier_max_m: float = 20.0
    #: chance an otherwise hearable range is missing (collision, blocked by a body)
    p_miss: float = 0.05
    #: farthest range measured along a straight tunnel
    max_range_m: float = 130.0
    #: farthest range heard round a corner (along the tunnels)
    corner_range_m: float = 35.0
    #: anchors a tag ranges with per cycle (nearest first), as TWR schedulers limit them
    max_anchors: int = 4
    #: per-anchor constant bias std (residual antenna-delay error after calibration)
    anchor_bias_sigma_m: float = 0.0

    def __post_init__(self) -> None:
        for name in ("p_nlos", "p_nlos_junction", "p_outlier", "p_miss"):
            _prob(f"uwb.{name}", getattr(self, name))
        for name in ("max_range_m", "corner_range_m"):
            _positive(f"uwb.{name}", getattr(self, name))
        for name in (
            "los_sigma_m",
            "nlos_sigma_m",
            "nlos_bias_mean_m",
            "outlier_max_m",
            "anchor_bias_sigma_m",
            "nlos_bias_min_m",
        ):
            _check(getattr(self, name) >= 0, f"uwb.{name} must be >= 0")
        _check(self.max_anchors >= 1, "uwb.max_anchors must be >= 1")

    @classmethod
    def uncalibrated(cls, **changes: Any) -> UwbModel:
        """The model with the raw DWM1001 distance bias fitted on the Hanyang data left in."""
        return replace(cls(los_bias_m=0.068, los_bias_per_m=0.0047), **changes)


@dataclass(frozen=True, slots=True)
class BleModel:
    """BLE RSSI: log-distance path loss, spatially correlated shadowing, fast fading."""

    #: RSSI at 1 m (fitted, Kolakowski BLE calibration set: -47.4)
    rssi_1m_dbm: float = -47.4
    #: path-loss exponent (fitted 1.99 in a furnished flat; straight tunnels report 1.6-2.2)
    path_loss_exponent: float = 2.0
    #: shadowing std, fixed for a place (fitted: std of per-point mean residuals, 6.6 dB)
    shadow_sigma_db: float = 6.6
    #: distance over which shadowing decorrelates, AR(1) along the tunnel (fitted 1.1 m in the
    #: flat, where walls and furniture change every metre; tunnels are likely smoother)
    shadow_decorrelation_m: float = 1.1
    #: fast fading std per report (fitted: pooled within-point std, 3.6 dB)
    fast_sigma_db: float = 3.6
    #: extra loss when the path turns a corner
    corner_loss_db: float = 15.0
    #: readers do not report below this
    sensitivity_dbm: float = -95.0
    #: chance a report is missing
    p_miss: float = 0.05
    #: farthest reader considered (along the tunnels)
    max_range_m: float = 120.0

    def __post_init__(self) -> None:
        _prob("ble.p_miss", self.p_miss)
        _positive("ble.path_loss_exponent", self.path_loss_exponent)
        _positive("ble.shadow_decorrelation_m", self.shadow_decorrelation_m)
        _positive("ble.max_range_m", self.max_range_m)
        _check(self.shadow_sigma_db >= 0 and self.fast_sigma_db >= 0, "ble sigmas must be >= 0")


@dataclass(frozen=True, slots=True)
class RfidModel:
    """Zone presence: detection probability falling with distance, none beyond ``range_m``."""

    #: range used where the mine file gives none
    default_range_m: float = 10.0
    #: detection probability close to the reader
    p_detect_near: float = 0.98
    #: distance (share of the range) where detection probability is half of ``p_detect_near``
    half_at: float = 0.75

    def __post_init__(self) -> None:
        _prob("rfid.p_detect_near", self.p_detect_near)
        _positive("rfid.default_range_m", self.default_range_m)
        _check(0 < self.half_at <= 1, "rfid.half_at must be in (0, 1]")

    def p_detect(self, d: Any, range_m: Any) -> Any:
        """Detection probability at distance ``d`` (arrays welcome)."""
        import numpy as np
        from scipy.special import expit

        width = 0.08 * range_m
        p = self.p_detect_near * expit(-(d - self.half_at * range_m) / width)
        return np.where(d <= range_m, p, 0.0)


@dataclass(frozen=True, slots=True)
class StatusModel:
    """Tag status reports and battery."""

    #: seconds between status reports (also sent at once when the motion flag changes)
    interval_s: float = 10.0
    #: battery at lamp out, uniform in this range (tags come off the lamp-room charger)
    battery_start_pct: tuple[float, float] = (70.0, 100.0)
    #: drain per hour of shift
    battery_drain_pct_h: float = 1.5
    #: share of work time in short still spells (motion flag false, 20-90 s, below man-down)
    still_share: float = 0.05
    #: whether a man-down also sends a ``fall`` event
    fall_event: bool = True

    def __post_init__(self) -> None:
        _positive("status.interval_s", self.interval_s)
        _prob("status.still_share", self.still_share)
        lo, hi = self.battery_start_pct
        _check(0 <= lo <= hi <= 100, "status.battery_start_pct must be 0 <= lo <= hi <= 100")


@dataclass(frozen=True, slots=True)
class SensorConfig:
    """All sensor models plus where the tag sits relative to the tunnel axis."""

    uwb: UwbModel = field(default_factory=UwbModel)
    ble: BleModel = field(default_factory=BleModel)
    rfid: RfidModel = field(default_factory=RfidModel)
    status: StatusModel = field(default_factory=StatusModel)
    #: std of each person's sideways place in the tunnel (fixed per person), m
    tag_lateral_sigma_m: float = 0.5
    #: tag height relative to the surveyed axis on which anchors sit (cap lamp/belt below roof)
    tag_vertical_m: float = -0.5
    #: half width of a tunnel for line-of-sight tests
    tunnel_half_width_m: float = 2.5


@dataclass(frozen=True, slots=True)
class IncidentSpec:
    """An incident to stage: ``kind`` at ``at_s`` seconds after the run starts.

    ``person`` (id) may be left out: one is chosen (deterministically for the seed) among the
    people underground who can have it. ``zone`` / ``anchor`` likewise. ``duration_s`` is how long
    it lasts (man-down, silent tag, failed anchor, SOS until cancelled, time spent in a zone);
    None means until the end of the run.
    """

    kind: str
    at_s: float
    person: str | None = None
    zone: str | None = None
    anchor: str | None = None
    duration_s: float | None = None

    def __post_init__(self) -> None:
        _check(
            self.kind in INCIDENT_KINDS,
            f"incident kind {self.kind!r} unknown (one of {', '.join(INCIDENT_KINDS)})",
        )
        _check(self.at_s >= 0, f"incident {self.kind}: at_s must be >= 0")
        if self.duration_s is not None:
            _positive(f"incident {self.kind}: duration_s", self.duration_s)


@dataclass(frozen=True, slots=True)
class EvacuationOrder:
    """An evacuation signal sent at ``at_s`` to ``tags`` (None: everyone underground)."""

    at_s: float
    tags: tuple[str, ...] | None = None
    #: median delay before a person presses acknowledge (lognormal)
    ack_median_s: float = 25.0
    #: lognormal sigma of the delay
    ack_sigma: float = 0.8
    #: share of people who never acknowledge (asleep, injured, tag under a jacket); they stay
    never_share: float = 0.03
    #: whether people who acknowledge walk to the nearest zone of the ``to`` kinds and wait there
    move: bool = True
    to: tuple[str, ...] = ("exit", "refuge")
    #: stretches that cannot be passed (fire, roof fall): routes avoid them
    avoid: tuple[Span, ...] = ()
    speed_mps: float = 1.6

    def __post_init__(self) -> None:
        _prob("evacuation.never_share", self.never_share)
        _positive("evacuation.ack_median_s", self.ack_median_s)
        _positive("evacuation.speed_mps", self.speed_mps)


def _default_start() -> datetime:
    return datetime(2026, 1, 12, 6, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ScenarioConfig:
    """What to simulate: how many people, how long, from when, with which sensors and incidents."""

    people: int | None = None  # None: the mine's roster
    minutes: float = 60.0
    start: datetime = field(default_factory=_default_start)
    #: the run starts this long after the shift starts (people already down at work)
    shift_offset_s: float = 0.0
    #: shift length; None: the mine's ``rules.shift_h``
    shift_s: float | None = None
    #: consecutive shifts; crews take turns (3 shifts of 8 h keep a mine busy round the clock)
    shifts: int = 1
    #: time step; every tag ranges, reports and is recorded in truth once per tick
    tick_s: float = 1.0
    sensors: SensorConfig = field(default_factory=SensorConfig)
    incidents: tuple[IncidentSpec, ...] = ()
    evacuations: tuple[EvacuationOrder, ...] = ()
    #: lamp-out window at shift start: people take lamps over this many seconds
    lamp_out_window_s: float = 2400.0
    #: cage: people per trip and seconds between departures
    cage_capacity: int = 60
    cage_cycle_s: float = 90.0
    #: share of crews that ride the man-rider on transport roadways
    rider_share: float = 0.6
    #: anchors per gateway (gateways group a tunnel's anchors)
    anchors_per_gateway: int = 16

    def __post_init__(self) -> None:
        if self.people is not None:
            _check(self.people >= 0, f"people must be >= 0, got {self.people}")
        _positive("minutes", self.minutes)
        _positive("tick_s", self.tick_s)
        _check(self.start.tzinfo is not None, "start must be timezone-aware")
        _check(self.shift_offset_s >= 0, "shift_offset_s must be >= 0")
        if self.shift_s is not None:
            _positive("shift_s", self.shift_s)
        _check(self.cage_capacity >= 1, "cage_capacity must be >= 1")
        _check(self.shifts >= 1, f"shifts must be >= 1, got {self.shifts}")
        _positive("cage_cycle_s", self.cage_cycle_s)
        _prob("rider_share", self.rider_share)
        _check(self.anchors_per_gateway >= 1, "anchors_per_gateway must be >= 1")

    @property
    def start_ts(self) -> float:
        """Unix time of the first tick."""
        return self.start.timestamp()

    @property
    def duration_s(self) -> float:
        """Length of the run in seconds."""
        return self.minutes * 60.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly description (written beside the outputs)."""
        out: dict[str, Any] = _plain(self)
        return out


def _plain(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, tuple | list):
        return [_plain(x) for x in obj]
    return obj
