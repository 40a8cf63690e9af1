"""`minepos ingest errors` and `minepos ingest decode` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from minepos.errors import InputError
from minepos.ingest import IngestPipeline, SqliteDeadLetterStore, Validator
from minepos.ingest.commands import register

from .conftest import NOW, FakeClock, RecordingSink

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


def test_errors_lists_refused_payloads_newest_first(tmp_path: Path) -> None:
    store = SqliteDeadLetterStore.in_dir(tmp_path)
    pipe = IngestPipeline(
        RecordingSink(), Validator({"t1"}, {"a1"}, FakeClock()), dead_letters=store
    )
    pipe.accept(b"not json", "gw-a", "udp")
    pipe.accept(json.dumps([{"ts": NOW, "tag": "t7", "event": "sos"}]).encode(), "gw-b", "mqtt")
    store.close()

    out = _cli("ingest", "errors", "--data", str(tmp_path))
    assert out.exit_code == 0, out.output
    assert out.stdout.index("gw-b") < out.stdout.index("gw-a")
    assert "unknown_tag" in out.stdout
    assert "invalid_json" in out.stdout

    only = _cli("ingest", "errors", "--data", str(tmp_path), "--gateway", "gw-a", "--json")
    rows = [json.loads(line) for line in only.stdout.splitlines()]
    assert [r["gateway"] for r in rows] == ["gw-a"]
    assert rows[0]["payload"] == "not json"


def test_errors_without_a_store_says_so(tmp_path: Path) -> None:
    out = _cli("ingest", "errors", "--data", str(tmp_path / "none"))
    assert out.exit_code == 0
    assert "does not exist yet" in out.stdout


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


def test_errors_on_a_corrupt_store_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "deadletters.sqlite3").write_bytes(b"this is not a database" * 100)
    out = _cli("ingest", "errors", "--data", str(tmp_path))
    assert isinstance(out.exception, InputError)
    assert "deadletters.sqlite3" in str(out.exception)


def test_letters_buffered_when_a_process_exits_are_still_written(tmp_path: Path) -> None:
    script = (
        "import time\n"
        "from pathlib import Path\n"
        "from minepos.ingest import IngestPipeline, SqliteDeadLetterStore, Validator\n"
        f"store = SqliteDeadLetterStore.in_dir(Path({str(tmp_path)!r}))\n"
        "p = IngestPipeline(lambda b: None, Validator(None, None, time.time), dead_letters=store)\n"
        "for i in range(3):\n"
        "    p.accept(b'bad %d' % i, 'g', 'udp')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    out = _cli("ingest", "errors", "--data", str(tmp_path), "--json")
    assert [json.loads(line)["payload"] for line in out.stdout.splitlines()] == [
        "bad 2",
        "bad 1",
        "bad 0",
    ]
