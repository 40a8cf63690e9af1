"""Request and response shapes of the HTTP API (CONTRACT section 4), as pydantic models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AlarmAck",
    "AlarmPublic",
    "AnchorPublic",
    "AuditPublic",
    "DeadLetterPublic",
    "GatewayCreate",
    "GatewayCreated",
    "HeadcountPublic",
    "Health",
    "IngestResult",
    "IntervalSpan",
    "LevelPublic",
    "LoginRequest",
    "LoginResult",
    "MinePlan",
    "MinePublic",
    "PasswordSet",
    "PersonCreate",
    "PersonPublic",
    "PersonUpdate",
    "PositionPublic",
    "RosterResult",
    "SystemHealth",
    "TrackPoint",
    "TrackPublic",
    "TunnelPublic",
    "UserCreate",
    "UserCreated",
    "UserPublic",
    "ZonePublic",
]

Role = Literal["viewer", "dispatcher", "admin"]
_Id = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Health(BaseModel):
    """Liveness: no credentials needed."""

    status: Literal["ok"]
    version: str
    mine: str


class SystemHealth(BaseModel):
    """What the dispatcher watches at the bottom of the console."""

    ts: float
    anchors_total: int
    anchors_online: int
    tags_total: int
    tags_reporting: int
    ingest_per_s: float = Field(description="Measurements accepted per second, last minute")
    rejected_per_s: float = Field(description="Measurements refused per second, last minute")
    engine_tick_ms: float | None = Field(description="Duration of the last engine tick")
    ws_clients: int
    offline_anchors: list[str]


class LoginRequest(_In):
    """User name and password of a console user."""

    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class UserPublic(BaseModel):
    """A user as others see it."""

    name: str
    role: Role
    created_at: float


class LoginResult(BaseModel):
    """A session token for the console (``Authorization: Bearer <token>``)."""

    token: str
    user: UserPublic
    expires_at: float


class UserCreate(_In):
    """A new user; the password is optional (API-only users have just a token)."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")
    role: Role
    password: str | None = Field(default=None, min_length=8, max_length=200)


class DeadLetterPublic(BaseModel):
    """A refused payload and why (as ``minepos ingest errors --json`` prints it)."""

    received_at: str = Field(description="RFC 3339 time it arrived")
    gateway: str
    transport: str
    decoder: str
    reason: str
    payload: str = Field(description="the payload as text (kept up to 64 KiB)")


class PasswordSet(_In):
    """A new console password for a user."""

    password: str = Field(min_length=8, max_length=200)


class UserCreated(BaseModel):
    """The new user and their token, shown this once."""

    user: UserPublic
    token: str


class GatewayCreate(_In):
    """A new gateway."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")


class GatewayCreated(BaseModel):
    """The new gateway and its ingest key, shown this once."""

    name: str
    created_at: float
    key: str


class MinePublic(BaseModel):
    """A mine served by this minepos."""

    id: str
    name: str
    timezone: str


class LevelPublic(BaseModel):
    """A horizon."""

    id: str
    name: str
    z: float


class TunnelPublic(BaseModel):
    """A tunnel with its polyline, for drawing; ``levels`` lists the levels it touches."""

    id: str
    kind: str
    from_node: str
    to_node: str
    length_m: float
    points: list[tuple[float, float, float]]
    levels: list[str]


class IntervalSpan(BaseModel):
    """A stretch of one tunnel."""

    tunnel: str
    from_m: float
    to_m: float


class ZonePublic(BaseModel):
    """A named stretch (or stretches) of tunnel."""

    id: str
    name: str
    kind: str
    spans: list[IntervalSpan]
    max_occupancy: int | None
    allowed_roles: list[str] | None
    levels: list[str]


class AnchorPublic(BaseModel):
    """A reader or anchor."""

    id: str
    tech: str
    tunnel: str
    offset_m: float
    xyz: tuple[float, float, float]
    level: str


class MinePlan(BaseModel):
    """Everything the console needs to draw the mine."""

    mine: MinePublic
    levels: list[LevelPublic]
    tunnels: list[TunnelPublic]
    zones: list[ZonePublic]
    anchors: list[AnchorPublic]
    bounds: tuple[float, float, float, float] = Field(description="min x, min y, max x, max y")


class PositionPublic(BaseModel):
    """One tag underground, now (CONTRACT section 4)."""

    tag: str
    person: str | None
    tunnel: str | None
    offset_m: float | None
    xyz: tuple[float, float, float] | None
    level: str | None
    zone: str | None
    interval: list[IntervalSpan]
    uncertainty_m: float | None
    speed_mps: float
    updated_at: float | None
    status: str


class HeadcountPublic(BaseModel):
    """People underground in total, per level and zone, and who is unaccounted for."""

    ts: float
    underground: int
    by_level: dict[str, int]
    by_zone: dict[str, int]
    unaccounted: list[dict[str, Any]]


class AlarmPublic(BaseModel):
    """An alarm and where it is in its lifecycle (CONTRACT sections 4 and 6)."""

    id: str
    kind: str
    state: Literal["raised", "acknowledged", "cleared"]
    tag: str | None
    person: str | None
    zone: str | None
    anchor: str | None
    raised_at: float
    acked_by: str | None
    acked_at: float | None
    ack_comment: str | None
    cleared_at: float | None
    details: dict[str, Any]


class AlarmAck(_In):
    """An acknowledgement, with an optional comment."""

    comment: str = Field(default="", max_length=500)


class PersonPublic(BaseModel):
    """A person in the registry."""

    id: str
    name: str
    role: str
    tag: str | None
    personnel_number: str | None


class PersonCreate(_In):
    """A new person (or a full replacement of one)."""

    id: str = _Id
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=64)
    tag: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"
    )
    personnel_number: str | None = Field(default=None, min_length=1, max_length=64)


class PersonUpdate(_In):
    """Fields of a person to change."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: str | None = Field(default=None, min_length=1, max_length=64)
    tag: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"
    )
    personnel_number: str | None = Field(default=None, min_length=1, max_length=64)


class RosterResult(BaseModel):
    """What a roster import did."""

    imported: int
    created: int
    updated: int


class TrackPoint(BaseModel):
    """One kept position of a person."""

    ts: float
    tag: str
    tunnel: str
    offset_m: float
    xyz: tuple[float, float, float]
    uncertainty_m: float
    zone: str | None


class TrackPublic(BaseModel):
    """A person's history in a window."""

    person: str
    since: float
    until: float
    points: list[TrackPoint]


class AuditPublic(BaseModel):
    """One audited action."""

    ts: float
    user: str
    action: str
    target: str
    details: dict[str, Any]


class IngestResult(BaseModel):
    """What became of an ingested batch."""

    gateway: str
    transport: str
    decoder: str
    received: int
    accepted: int
    duplicates: int
    rejected: int
    rejects: list[dict[str, Any]]
