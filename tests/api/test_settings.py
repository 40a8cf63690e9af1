"""Server settings: file, then environment, then command line; bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from minepos.api.settings import load_settings
from minepos.errors import InputError


def test_file_then_env_then_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "minepos.yaml"
    cfg.write_text("host: 0.0.0.0\nport: 9000\ndb: sqlite:///file.db\nmqtt: mqtt://broker:1883\n")
    monkeypatch.setenv("MINEPOS_PORT", "9100")
    s = load_settings(cfg, db="sqlite:///cli.db")
    assert (s.host, s.port, s.db, s.mqtt) == (
        "0.0.0.0",
        9100,
        "sqlite:///cli.db",
        "mqtt://broker:1883",
    )


def test_unknown_and_bad_settings_are_named(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("prot: 80\nport: seventy\n")
    with pytest.raises(InputError) as exc:
        load_settings(cfg)
    assert "prot" in str(exc.value) and "port" in str(exc.value)


def test_mqtt_subscriptions_are_checked(tmp_path: Path) -> None:
    cfg = tmp_path / "subs.yaml"
    cfg.write_text("mqtt_subscriptions: [{topic: 'dwm/node/+/uplink', decoder: nope}]\n")
    with pytest.raises(InputError) as exc:
        load_settings(cfg)
    assert "decoder" in str(exc.value)
