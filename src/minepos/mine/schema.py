"""The mine description file (CONTRACT section 1) as pydantic models: shape and value checks.

Cross-references (unknown node, span past a tunnel's end, ...) are checked in `validate`, after
the shape is known to be right, so that every problem of a file can be listed at once.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ANCHOR_TECHS",
    "TUNNEL_KINDS",
    "ZONE_KINDS",
    "AnchorAtOffset",
    "AnchorAtXyz",
    "AnchorSpec",
    "LevelSpec",
    "MineFile",
    "MineInfo",
    "NodeSpec",
    "PersonSpec",
    "RulesSpec",
    "SpanSpec",
    "TunnelSpec",
    "ZoneSpec",
]

TunnelKind = Literal["shaft", "drift", "crosscut", "ramp", "incline", "face", "chamber"]
ZoneKind = Literal["work", "transport", "restricted", "refuge", "exit", "lamp_room"]
AnchorTech = Literal["uwb", "ble", "rfid"]

TUNNEL_KINDS: tuple[str, ...] = get_args(TunnelKind)
ZONE_KINDS: tuple[str, ...] = get_args(ZoneKind)
ANCHOR_TECHS: tuple[str, ...] = get_args(AnchorTech)

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Xyz = tuple[float, float, float]
Metres = Annotated[float, Field(allow_inf_nan=False)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class MineInfo(_Spec):
    """The mine's identity."""

    id: Id
    name: str = Field(min_length=1)
    timezone: str = "UTC"


class LevelSpec(_Spec):
    """A horizon: a named elevation."""

    id: Id
    name: str = Field(min_length=1)
    z: Metres


class NodeSpec(_Spec):
    """A junction, an end or a shaft landing."""

    id: Id
    xyz: tuple[Metres, Metres, Metres]


class TunnelSpec(_Spec):
    """An edge of the graph: a polyline from `from` through `via` to `to`."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, coerce_numbers_to_str=True
    )

    id: Id
    from_: Id = Field(alias="from")
    to: Id
    kind: TunnelKind
    via: tuple[tuple[Metres, Metres, Metres], ...] = ()
    #: extension: the level this tunnel belongs to, when elevation alone would be ambiguous
    level: Id | None = None
    #: extension: for shafts, whether a cage runs (only those are ways out in an emergency)
    cage: bool | None = None


class SpanSpec(_Spec):
    """A stretch of one tunnel."""

    tunnel: Id
    from_m: Metres = Field(ge=0)
    to_m: Metres = Field(ge=0)


class ZoneSpec(_Spec):
    """A named set of tunnel stretches with a kind and optional rules."""

    id: Id
    name: str = Field(min_length=1)
    kind: ZoneKind
    spans: tuple[SpanSpec, ...] = Field(min_length=1)
    max_occupancy: int | None = Field(default=None, ge=1)
    allowed_roles: tuple[str, ...] | None = None


class AnchorAtOffset(_Spec):
    """An anchor placed at an offset along a tunnel."""

    tunnel: Id
    offset_m: Metres


class AnchorAtXyz(_Spec):
    """An anchor placed by survey coordinates; it is snapped to the nearest tunnel."""

    xyz: tuple[Metres, Metres, Metres]


class AnchorSpec(_Spec):
    """A reader or anchor."""

    id: Id
    tech: AnchorTech
    at: AnchorAtOffset | AnchorAtXyz
    range_m: Metres | None = Field(default=None, gt=0)


class PersonSpec(_Spec):
    """A person and the tag they carry."""

    id: Id
    name: str = Field(min_length=1)
    role: str = Field(min_length=1)
    tag: Id


class RulesSpec(_Spec):
    """Alarm thresholds; the defaults are those of CONTRACT section 1."""

    man_down_s: float = Field(default=120, gt=0)
    tag_lost_s: float = Field(default=60, gt=0)
    shift_h: float = Field(default=8, gt=0)
    anchor_offline_s: float = Field(default=120, gt=0)
    low_battery_pct: float = Field(default=20, ge=0, le=100)


class MineFile(_Spec):
    """The whole file, as written by a surveyor or integrator."""

    mine: MineInfo
    levels: tuple[LevelSpec, ...] = Field(min_length=1)
    nodes: tuple[NodeSpec, ...] = Field(min_length=2)
    tunnels: tuple[TunnelSpec, ...] = Field(min_length=1)
    zones: tuple[ZoneSpec, ...] = ()
    anchors: tuple[AnchorSpec, ...] = ()
    people: tuple[PersonSpec, ...] = ()
    rules: RulesSpec = RulesSpec()

    @field_validator("zones", "anchors", "people", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        # `zones:` with nothing under it is YAML null; it means "none".
        return () if value is None else value
