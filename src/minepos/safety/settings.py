"""Safety settings: shift times and the thresholds and hysteresis of the alarm rules.

The mine file's ``rules`` (CONTRACT section 1) give the main thresholds; `SafetySettings` can
override them and adds the finer knobs. `Thresholds` is the resolved set the rules read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from minepos.mine import Mine

__all__ = ["SafetySettings", "Thresholds"]

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class SafetySettings(BaseModel):
    """Operator-tunable safety settings (every field has a safe default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shift_starts: tuple[str, ...] | None = Field(
        default=None,
        description="Local start times (HH:MM, mine time zone) of the shifts, e.g. "
        "['06:00', '14:00', '22:00']; default: inferred from the lamp-out bursts.",
    )
    shift_h: float | None = Field(default=None, gt=0, description="Overrides the mine's shift_h.")
    man_down_s: float | None = Field(default=None, gt=0, description="Overrides man_down_s.")
    tag_lost_s: float | None = Field(default=None, gt=0, description="Overrides tag_lost_s.")
    anchor_offline_s: float | None = Field(
        default=None, gt=0, description="Overrides anchor_offline_s."
    )
    low_battery_pct: float | None = Field(
        default=None, ge=0, le=100, description="Overrides low_battery_pct."
    )
    low_battery_clear_margin_pct: float = Field(
        default=5, ge=0, description="A low battery alarm clears only this far above the limit."
    )
    overtime_grace_s: float = Field(
        default=0, ge=0, description="Underground past the shift length plus this is overtime."
    )
    not_returned_grace_s: float = Field(
        default=0, ge=0, description="Not back this long after the shift end: not returned."
    )
    zone_exit_margin_m: float = Field(
        default=1.0, ge=0, description="A tag leaves a zone only this far past its boundary."
    )
    zone_alarm_depth_m: float = Field(
        default=2.0,
        ge=0,
        description="A restricted or forbidden zone alarm needs the estimate this far inside...",
    )
    zone_alarm_dwell_s: float = Field(
        default=5.0, ge=0, description="...or this long inside (it is dated from the entry)."
    )
    overcrowding_clear_s: float = Field(
        default=10, ge=0, description="Overcrowding clears after this long at or under the limit."
    )
    anchor_expect_s: float = Field(
        default=30,
        ge=0,
        description="A silent anchor is offline only if tags were where it should hear them "
        "(its learned coverage or sure range) this long.",
    )
    anchor_range_m: dict[str, float] = Field(
        default={"uwb": 30.0, "ble": 20.0, "rfid": 10.0},
        description="Range per anchor technology when the mine file gives none.",
    )
    card_anomaly_warmup_s: float = Field(
        default=60,
        ge=0,
        description="Tags heard this soon after start without lamp events are taken as down "
        "before the start (a recording or restart in mid-shift), not as card anomalies.",
    )
    lamp_in_settle_s: float = Field(
        default=60, ge=0, description="After lamp_in a tag counts as on the surface this long."
    )
    card_anomaly_hold_s: float = Field(
        default=30, ge=0, description="Underground without lamp_out this long: card anomaly."
    )
    stale_estimate_s: float = Field(
        default=10,
        gt=0,
        description="An estimate of a tag not heard this long does not move it: a silent tag "
        "stays at its last known place instead of drifting with the prediction.",
    )
    surface_levels: tuple[str, ...] | None = Field(
        default=None,
        description="Levels that are on the surface; default: levels named 'surface' and the "
        "levels of lamp-room zones.",
    )

    @field_validator("shift_starts")
    @classmethod
    def _check_starts(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("at least one shift start is needed")
        for v in value:
            if not _HHMM.match(v):
                raise ValueError(f"{v!r} is not HH:MM")
        return value


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The numbers the rules use, resolved from the mine file and the settings."""

    man_down_s: float
    tag_lost_s: float
    shift_h: float
    anchor_offline_s: float
    low_battery_pct: float
    low_battery_clear_pct: float

    @classmethod
    def resolve(cls, mine: Mine, settings: SafetySettings) -> Thresholds:
        """Settings override the mine file's rules."""
        r = mine.rules
        low = (
            settings.low_battery_pct if settings.low_battery_pct is not None else r.low_battery_pct
        )
        return cls(
            man_down_s=settings.man_down_s or r.man_down_s,
            tag_lost_s=settings.tag_lost_s or r.tag_lost_s,
            shift_h=settings.shift_h or r.shift_h,
            anchor_offline_s=settings.anchor_offline_s or r.anchor_offline_s,
            low_battery_pct=low,
            low_battery_clear_pct=low + settings.low_battery_clear_margin_pct,
        )
