"""Server settings: from a file, the environment (``MINEPOS_*``) and the command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from minepos.errors import InputError
from minepos.ingest.transports.mqtt import MqttSubscription
from minepos.ingest.transports.udp import UdpSourceConfig

__all__ = ["ServerSettings", "load_settings"]


class ServerSettings(BaseSettings):
    """Everything `minepos serve` needs besides the mine; env vars are ``MINEPOS_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MINEPOS_", extra="forbid")

    db: str | None = Field(
        default=None,
        description="Database URL (sqlite:/// or postgresql://); default SQLite in minepos-data/",
    )
    host: str = Field(default="127.0.0.1", description="Address to bind the HTTP server to")
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port of the HTTP server")
    mqtt: str | None = Field(
        default=None, description="MQTT broker URL (mqtt://host:1883); none: no MQTT ingest"
    )
    mqtt_subscriptions: list[MqttSubscription] | None = Field(
        default=None,
        description="MQTT topic filters and decoders; default: minepos/<mine>/ingest/+ (canonical)",
    )
    udp: UdpSourceConfig | None = Field(
        default=None,
        description="UDP source (host, port, decoder, allowed_sources); none: no UDP ingest",
    )
    data_dir: Path = Field(
        default=Path("minepos-data"), description="Folder for the embedded database and files"
    )
    tls_certfile: Path | None = Field(
        default=None, description="TLS certificate (PEM); serve HTTPS when given with the key"
    )
    tls_keyfile: Path | None = Field(default=None, description="TLS private key (PEM)")
    tick_s: float = Field(default=1.0, gt=0, le=10, description="Engine tick period, seconds")
    login_attempts: int = Field(
        default=5, ge=1, description="Failed logins allowed per user name and address per window"
    )
    login_window_s: float = Field(
        default=300.0, gt=0, description="Window of the login rate limit, seconds"
    )
    session_hours: float = Field(
        default=12.0, gt=0, description="How long a console login stays valid, hours"
    )


def load_settings(path: Path | None = None, **overrides: Any) -> ServerSettings:
    """Settings from an optional YAML/JSON file, then env, then non-None ``overrides``."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"settings file {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise InputError(f"settings file {path}: must be a mapping of setting: value")
        # the environment beats the file, the command line beats both
        data.update(
            {k: v for k, v in loaded.items() if f"MINEPOS_{str(k).upper()}" not in os.environ}
        )
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ServerSettings(**data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise InputError(f"settings: {problems}") from exc
