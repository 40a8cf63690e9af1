"""Tracker settings: particle count, motion model and measurement models, with their reasons.

Every number here was chosen by the accuracy benchmark (bench/bench_accuracy.py, docs/engine.md);
change one only with that benchmark beside you.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from minepos.errors import InputError

__all__ = ["TrackerConfig"]


#: settings the kernel divides by or takes the logarithm of (and durations, "_s", and
#: spreads, "sigma"): above zero
_POSITIVE = frozenset(
    {
        "nlos_mean",
        "outlier_span",
        "presence_edge",
        "presence_range",
        "path_loss_exp",
        "rssi_weight",
        "bandwidth",
    }
)
#: shares and probabilities: between 0 and 1 (a share of particles placed afresh below 1)
_SHARES = frozenset(
    {
        "nlos_prob",
        "outlier_prob",
        "outlier_short_share",
        "mirror_share",
        "range_path_penalty",
        "uwb_absence_factor",
        "rssi_outlier_prob",
        "rssi_weight_still",
        "presence_p_near",
        "presence_half_at",
        "presence_floor",
        "absence_factor",
        "reader_inject",
        "resample_below",
        "interval_mass",
        "interval_mass_unranged",
        "interval_mass_zones",
        "zone_stop",
        "zone_ride",
        "zone_ride_transport",
    }
)


def _out_of_range(name: str, value: float) -> str | None:
    """Why ``value`` is no good for setting ``name``, or None."""
    positive = name in _POSITIVE or name.endswith(("_s", "sigma"))
    if positive and value <= 0.0:
        return "must be > 0"
    if name in _SHARES and not 0.0 <= value <= 1.0:
        return "must be between 0 and 1"
    if name == "reader_inject" and value >= 1.0:
        return "must be below 1"
    return None


def _setting_value(kind: str, text: str) -> bool | int | float | None:
    """``text`` as a setting of type ``kind`` ("bool", "int", "float"), or None if it is not."""
    if kind == "bool":
        return {"true": True, "1": True, "false": False, "0": False}.get(text.lower())
    try:
        number = int(text) if kind == "int" else float(text)
    except ValueError:
        return None
    if kind == "int":
        return number if number >= 1 else None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """Settings of the graph particle filter (`minepos.engine.Tracker`)."""

    #: particles per tag; 128 keeps RMSE within 1.5x the bound at > 50k updates/s
    particles: int = 128
    #: particles for a tag whose 95 % region is one short stretch away from junctions
    particles_tight: int = 96
    #: particles for a zone-only tag (zone readers at most for `silent_after_s`): its cloud
    #: stands for every stop and walk nobody measured, over hundreds of metres of branches.
    #: With 128 the interval held the truth 95-97 % of the time on unseen zone-reader mines
    #: (median of nine), with 256 98-99 %, with 192 no better than 128
    particles_zones: int = 256
    #: "short": the region is narrower than this (m)
    tight_width_m: float = 3.0
    #: "away from junctions": farther than this from both ends of its tunnel (m)
    tight_end_m: float = 15.0
    # -- motion model (metres, seconds) ---------------------------------------------------------
    #: white-acceleration density q (m^2/s^3) while walking along drifts
    accel_q: float = 0.005
    #: white-acceleration density in shafts: a cage accelerates at about 1 m/s^2
    accel_q_shaft: float = 3.0
    #: top speed along drifts, ramps, crosscuts (man-riders and belts run up to 5 m/s)
    max_speed: float = 6.0
    #: top speed in shafts (cage)
    max_speed_shaft: float = 13.0
    #: largest speed change per second at a change of gait (m/s^2): walkers, man-riders
    max_accel: float = 1.5
    #: largest speed change per second in shafts (a cage)
    max_accel_shaft: float = 10.0
    #: mean time between changes of gait (stop, start, turn back, board a vehicle), seconds
    switch_s: float = 15.0
    #: random position diffusion (m/sqrt(s)) on top of the speed, for steps and sway
    pos_diffusion: float = 0.01
    #: position diffusion of a tag whose motion flag says it stands still
    still_diffusion: float = 0.01
    # -- where tags are worn (site calibration) --------------------------------------------------
    #: how far below the surveyed tunnel axis (where anchors are surveyed) tags are worn, m
    tag_below_axis: float = 0.5
    #: spread of a person's sideways place in the tunnel, m (added to distances in quadrature)
    tag_lateral_sd: float = 0.5
    # -- UWB ranges -----------------------------------------------------------------------------
    #: line-of-sight range noise (m), including the uncalibrated bias left after calibration
    range_sigma: float = 0.07
    #: prior share of non-line-of-sight ranges
    nlos_prob: float = 0.25
    #: mean positive excess of an NLOS range (m); exponential
    nlos_mean: float = 1.0
    #: spread of the NLOS Gaussian part (m)
    nlos_sigma: float = 0.25
    #: share of gross outliers (reflections, wrong anchor), uniform over `outlier_span`
    outlier_prob: float = 0.02
    outlier_span: float = 100.0
    #: share of the outlier floor given to ranges shorter than predicted: UWB ranges come out
    #: too long (a longer path), almost never too short, so a much shorter range rules a place out
    outlier_short_share: float = 0.01
    #: a live UWB anchor that sees a place this close (same tunnel, line of sight) and did not
    #: range with a ranging tag says the tag is not there (schedulers take the nearest first), m
    uwb_expect_m: float = 80.0
    #: share of particles moved to their mirror image across the anchor when a tag ranges
    #: with one anchor only (keeps both sides of it alive; see kernel._mirror)
    mirror_share: float = 0.02
    #: a range cannot pass through the rock between levels or drifts: a place the tunnels
    #: connect to the anchor only by a path longer than `range_path_factor` x the range plus
    #: `range_path_slack_m` has its likelihood multiplied by `range_path_penalty`
    range_path_factor: float = 1.5
    range_path_slack_m: float = 15.0
    range_path_penalty: float = 1e-3
    #: anchors one ranging cycle takes (nearest first)
    uwb_max_anchors: int = 4
    #: likelihood factor per such missing anchor
    uwb_absence_factor: float = 0.3
    # -- BLE RSSI (log-distance) ----------------------------------------------------------------
    rssi_at_1m: float = -59.0
    path_loss_exp: float = 2.0
    rssi_sigma: float = 10.0
    rssi_outlier_prob: float = 0.05
    #: weight of one RSSI reading's log-likelihood (successive readings share their shadowing)
    rssi_weight: float = 0.3
    #: ... while the tag's motion flag says it stands still: its shadowing does not change, so
    #: its readings repeat what the first ones said. At 0.3 each a man-down's cloud was drawn
    #: onto the shadowing's bias, metres off the truth within minutes (BLE coverage of a
    #: motionless tag 0.36); at 0.03 within the hour
    rssi_weight_still: float = 0.0
    # -- presence (RFID readers, zone detection) ------------------------------------------------
    #: default reading range when the mine file gives none (m)
    presence_range: float = 10.0
    #: detection probability close to a reader, per report
    presence_p_near: float = 0.95
    #: where (share of the range) the detection probability has fallen to half
    presence_half_at: float = 0.75
    #: width of that fall-off (share of the range)
    presence_edge: float = 0.1
    #: likelihood of a detection far outside the reader's range (relative to inside)
    presence_floor: float = 0.01
    #: the least likelihood one tick of a live reader's silence can give a place in its range
    absence_factor: float = 0.2
    #: share of a zone-only tag's particles placed afresh within a reader's range, with fresh
    #: gaits, each time the reader hears it: they carry the hypotheses the cloud may have lost
    #: between readers (a stop nobody saw, a turn at an unread junction) while the rest keep
    #: what the cloud knew (the way the tag was going, its pace)
    reader_inject: float = 0.1
    #: an anchor heard before and not since for this long has failed (its silence says nothing)
    reader_alive_s: float = 120.0
    # -- position fixes from RTLS gateways ------------------------------------------------------
    fix_sigma: float = 1.0
    # -- resampling and the 95 % interval -------------------------------------------------------
    #: resample when the effective sample size falls below this share of the particles
    resample_below: float = 0.5
    #: roughening after resampling (m): keeps particle diversity, widens the interval honestly
    roughen: float = 0.03
    #: the interval's half-width never falls below this (m): the range noise's own floor
    min_half_width: float = 0.02
    #: kernel bandwidth factor on the particles' spread for the density-ranked 95 % set
    bandwidth: float = 1.0
    #: stretches of one tunnel closer than this many kernel half-widths are reported as one
    merge_gap: float = 4.0
    #: the interval's probability mass
    interval_mass: float = 0.95
    #: ... for a tag that ranged with no anchor in the tick (zones, BLE, silence)
    interval_mass_unranged: float = 0.99
    #: ... for a zone-only tag (zone readers at most for `silent_after_s`): at 0.97 / 0.95 the
    #: lowest coverage of nine unseen zone-reader mines fell from 0.938 to 0.891 / 0.865, for
    #: intervals 14 / 20 % narrower
    interval_mass_zones: float = 0.99
    #: ... and for a zone-only tag, stretches of one tunnel closer than this (m) are one: its
    #: particles stand for walks and stops nobody measured, thinly spread; a gap between two
    #: of them is not a place the tag cannot be
    zone_join_m: float = 20.0
    #: most stretches one interval may have
    max_spans: int = 12
    # -- motion of a zone-only tag (zone readers at most: no range, RSSI or fix) ----------------
    #: a tag without a range, RSSI reading or fix for this long (s) moves as people do between
    #: zone readers: long dwells and steady walks, instead of the gait changes every `switch_s`
    #: that ranges correct at once. Between readers nothing corrects them, and a cloud whose
    #: particles stopped and started every 15 s lagged behind steady walkers and never held a
    #: worker standing for minutes (RFID grid coverage 0.875). A tag unheard this long also
    #: leaves the Kalman fast path.
    silent_after_s: float = 3.0
    #: mean time a stopped particle of such a tag stays stopped (s); the simulator's dwells at
    #: work have a median of 8 minutes, a dispatcher sees people stand for minutes
    zone_dwell_s: float = 300.0
    #: mean time between gait changes of its particles walking to somewhere (s) ...
    zone_gait_s: float = 60.0
    #: ... and of those shuffling about at work, slower than `zone_shuffle_pace` (m/s): the
    #: simulator's moves at work last 18 s at the median, its walks minutes
    zone_shuffle_s: float = 20.0
    zone_shuffle_pace: float = 0.9
    #: share of a walk's gait changes that stop (of a shuffle's: halfway from this to all but
    #: the turns, 0.55); a tenth turn back, the rest walk on at about the same pace (people keep
    #: their own pace). The simulator's walks last 6-17 min at the median: at 0.4 a walk
    #: stopped after 150 s on average and steady walkers outran the cloud
    zone_stop: float = 0.2
    #: slowest and fastest walking pace drawn when such a particle starts walking (m/s)
    zone_pace_lo: float = 0.3
    zone_pace_hi: float = 1.6
    #: share of starts at riding speed (up to `max_speed`) ...
    zone_ride: float = 0.05
    #: ... and of starts and gait changes on a transport roadway (a man-rider, a belt)
    zone_ride_transport: float = 0.5
    #: position diffusion of its stopped particles (m/sqrt(s)): people shuffle about at work
    zone_sway: float = 0.1
    # -- lifecycle ------------------------------------------------------------------------------
    #: a tag silent this long is dropped (s)
    forget_s: float = 3600.0
    #: re-initialise a tag whose measurements fit none of its particles for this many ticks
    lost_ticks: int = 2
    #: mean log-likelihood per range below which the particles are taken as lost
    lost_loglik: float = -8.0

    # -- Kalman fast path (see docs/engine.md) ----------------------------------------------------
    #: follow a tag whose particles agree on one short stretch with a Kalman filter along its
    #: tunnel (offset, speed) instead of particles, until anything it cannot model happens
    kalman: bool = True
    #: hand a tag to the Kalman filter when its particles' offset spread is below this (m)
    kalman_enter_sd: float = 0.5
    #: hand it back to particles when the filter's offset spread grows above this (m)
    kalman_exit_sd: float = 1.0
    #: ... or when its region comes this close to a tunnel end, beyond one second of travel (m)
    kalman_end_m: float = 3.0
    #: a range shorter than predicted by this many innovation standard deviations cannot be a
    #: longer (NLOS) path: the motion changed, and particles take over
    kalman_gate: float = 4.0
    #: white-acceleration density of the filter (m^2/s^3); gait changes go to the particles
    kalman_accel_q: float = 0.002
    #: least speed spread handed to the filter (m/s)
    kalman_min_speed_sd: float = 0.05
    #: factor on 1.96 standard deviations for the filter's 95 % interval: its variance is
    #: conservative (NLOS-weighted range noise, sideways place); 0.85 brings a UWB drift with
    #: 20 % NLOS to about 0.97 coverage, and line of sight to 0.99
    kalman_interval_scale: float = 0.85
    #: consecutive measurement epochs without a line-of-sight range after which particles
    #: take over (NLOS ranges all round, or a stop the filter reads as NLOS)
    kalman_nlos_epochs: int = 2
    #: ticks a tag stays with particles after the filter handed it back (lets them settle)
    kalman_cooldown_ticks: int = 3

    def with_settings(self, settings: Iterable[str]) -> TrackerConfig:
        """A copy with ``FIELD=VALUE`` settings applied (site calibration, tuning runs).

        Raises `InputError` naming the setting for an unknown field, a value that is not a
        finite number of the field's type, or one the engine cannot work with (a duration or
        a spread of zero, a share outside 0-1)."""
        kinds = {f.name: str(f.type) for f in fields(self)}
        changes: dict[str, Any] = {}
        for item in settings:
            name, sep, text = (x.strip() for x in item.partition("="))
            if not sep or name not in kinds:
                raise InputError(
                    f"engine setting {item!r}: expected FIELD=VALUE with FIELD one of "
                    + ", ".join(sorted(kinds))
                )
            value = _setting_value(kinds[name], text)
            if value is None:
                want = {"bool": "true or false", "int": "a whole number >= 1"}
                raise InputError(
                    f"engine setting {name}: {text!r} is not "
                    + want.get(kinds[name], "a finite number")
                )
            why = None if kinds[name] == "bool" else _out_of_range(name, float(value))
            if why is not None:
                raise InputError(f"engine setting {name}: {why}, got {text}")
            changes[name] = value
        return replace(self, **changes)

    def params(self) -> NDArray[np.float64]:
        """All settings as one float array, in field order (what the kernel reads)."""
        return np.array(astuple(self), dtype=np.float64)
