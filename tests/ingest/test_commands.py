"""`minepos ingest decode` from the command line (`errors`: tests/store)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from minepos.errors import InputError
from minepos.ingest.commands import register

FRAMES = Path(__file__).parent.parent / "fixtures" / "frames"


def _cli(*args: str, stdin: bytes = b"") -> Result:
    """In-process run of the ingest commands (fast); `_minepos` runs the real entry point."""
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args), input=stdin)


def _minepos(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from minepos.cli import main; main()", *args],
        input=stdin.decode(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_decode_prints_measurements_and_rejects() -> None:
    frame = FRAMES / "dwm1001" / "location.json"
    topic = "dwm/node/00ff/uplink/location"
    out = _cli("ingest", "decode", str(frame), "--decoder", "dwm1001", "--topic", topic)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["xyz"] == [12.48, 3.05, -1.7]
    bad = _minepos("ingest", "decode", "-", stdin=b"[1, 2")
    assert bad.returncode == 1
    assert "invalid_json" in bad.stderr
    assert "Traceback" not in bad.stderr
    unknown = _cli("ingest", "decode", "-", "--decoder", "acme")
    assert isinstance(unknown.exception, InputError)
    assert "unknown decoder 'acme'" in str(unknown.exception)
