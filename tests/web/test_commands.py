"""The commands: user add and gateway add print working credentials; demo starts and stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from minepos.errors import InputError
from minepos.store import Store

MINEPOS = [sys.executable, "-c", "from minepos.cli import main; main()"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MINEPOS, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_user_add_prints_a_token_of_that_role(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/m.sqlite3"
    out = run("user", "add", "olga", "--role", "dispatcher", "--db", db, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    with Store(db) as store:
        user = store.users.by_token(token)
        assert user is not None and (user.name, user.role) == ("olga", "dispatcher")
        assert store.audit.list()[0].action == "user.add"
    again = run("user", "add", "olga", "--role", "viewer", "--db", db, cwd=tmp_path)
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_user_add_refuses_an_unknown_role(tmp_path: Path) -> None:
    out = run(
        "user",
        "add",
        "x",
        "--role",
        "king",
        "--db",
        f"sqlite:///{tmp_path}/m.sqlite3",
        cwd=tmp_path,
    )
    assert out.returncode == 1
    assert "role 'king'" in out.stderr
    assert "Traceback" not in out.stderr


def test_gateway_add_prints_an_ingest_key(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/m.sqlite3"
    out = run("gateway", "add", "gw-7", "--db", db, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    with Store(db) as store:
        gw = store.gateways.by_key(out.stdout.strip())
        assert gw is not None and gw.name == "gw-7"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_demo_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "MINEPOS_DB": ""}
    proc = subprocess.Popen(
        [*MINEPOS, "demo", "--port", str(port), "--people", "40"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            lines.append(line)
            if "log in as:" in line:
                break
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in text, text
        name, password = text.split("log in as:")[1].strip().split(" / ")
        base = f"http://127.0.0.1:{port}/api/v1"
        assert httpx.get(f"{base}/health").json()["status"] == "ok"
        login = httpx.post(f"{base}/auth/login", json={"name": name, "password": password})
        assert login.status_code == 200
        page = httpx.get(f"http://127.0.0.1:{port}/")
        assert "minepos" in page.text and "<canvas" in page.text
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped" in err
    assert "Traceback" not in err
    assert (tmp_path / "minepos-data" / "minepos.sqlite3").is_file()


def test_serve_refuses_a_missing_mine_file(tmp_path: Path) -> None:
    out = run("serve", "--mine", str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert out.returncode == 1
    assert "nope.yaml" in out.stderr
    assert "Traceback" not in out.stderr


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_runs_a_mine_file_with_a_udp_source_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    made = run("mine", "demo", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    mine.write_text(made.stdout)
    port, udp = _free_port(), _free_udp_port()
    (tmp_path / "cfg.yaml").write_text(f"udp: {{host: 127.0.0.1, port: {udp}}}\n")
    db = f"sqlite:///{tmp_path}/serve.sqlite3"
    token = run("user", "add", "d", "--role", "dispatcher", "--db", db, cwd=tmp_path).stdout.strip()
    args = ["serve", "--mine", str(mine), "--port", str(port), "--db", db, "--config", "cfg.yaml"]
    proc = subprocess.Popen(
        [*MINEPOS, *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert f"127.0.0.1:{port}" in line, line
        base = f"http://127.0.0.1:{port}/api/v1"
        assert httpx.get(f"{base}/health").json()["mine"] == "demo"
        sos = json.dumps([{"ts": time.time(), "tag": "t0001", "event": "sos"}]).encode()
        kinds: list[str] = []
        deadline = time.monotonic() + 20
        while "sos" not in kinds and time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(sos, ("127.0.0.1", udp))
            time.sleep(0.5)
            alarms = httpx.get(
                f"{base}/mines/demo/alarms",
                params={"state": "active"},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            kinds = [a["kind"] for a in alarms if a["tag"] == "t0001"]
        assert "sos" in kinds  # the datagram went through the runtime's pipeline
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def _cli() -> typer.Typer:
    from minepos.web.commands import register

    app = typer.Typer()
    register(app)
    return app


def test_user_passwd_sets_a_password_that_logs_in(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/m.sqlite3"
    with Store(db) as store:
        store.users.create("olga", "dispatcher", ts=1.0, password="old-password")
    runner = CliRunner()
    out = runner.invoke(_cli(), ["user", "passwd", "olga", "--db", db], input="new-pass-1\n" * 2)
    assert out.exit_code == 0, out.output
    assert "new-pass-1" not in out.output  # never echoed back
    with Store(db) as store:
        assert store.users.check_password("olga", "new-pass-1") is not None
        assert store.users.check_password("olga", "old-password") is None
        assert store.audit.list()[0].action == "user.passwd"
    short = runner.invoke(_cli(), ["user", "passwd", "olga", "--db", db], input="short\n" * 2)
    assert isinstance(short.exception, InputError) and "at least 8" in str(short.exception)
    ghost = runner.invoke(_cli(), ["user", "passwd", "ghost", "--db", db], input="x" * 9 + "\n")
    assert isinstance(ghost.exception, InputError) and "no user 'ghost'" in str(ghost.exception)


def test_demo_login_sets_a_new_password_on_every_start_and_keeps_no_file(tmp_path: Path) -> None:
    from minepos.api.demo import demo_login

    stale = tmp_path / "demo-login.txt"
    stale.write_text("old\n", encoding="utf-8")
    with Store(f"sqlite:///{tmp_path}/m.sqlite3") as store:
        name, first = demo_login(store, tmp_path)
        assert store.users.check_password(name, first) is not None
        _, second = demo_login(store, tmp_path)
        assert second != first
        assert store.users.check_password(name, second) is not None
        assert store.users.check_password(name, first) is None
    assert not stale.exists()
    assert not any(first in p.read_text(errors="ignore") for p in tmp_path.glob("*.txt"))
