"""`minepos ingest errors` and `minepos ingest decode` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from minepos.ingest import IngestPipeline, SqliteDeadLetterStore, Validator

from .conftest import NOW, FakeClock, RecordingSink

FRAMES = Path(__file__).parent.parent / "fixtures" / "frames"


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

    out = _minepos("ingest", "errors", "--data", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.index("gw-b") < out.stdout.index("gw-a")
    assert "unknown_tag" in out.stdout
    assert "invalid_json" in out.stdout

    only = _minepos("ingest", "errors", "--data", str(tmp_path), "--gateway", "gw-a", "--json")
    rows = [json.loads(line) for line in only.stdout.splitlines()]
    assert [r["gateway"] for r in rows] == ["gw-a"]
    assert rows[0]["payload"] == "not json"


def test_errors_without_a_store_says_so(tmp_path: Path) -> None:
    out = _minepos("ingest", "errors", "--data", str(tmp_path / "none"))
    assert out.returncode == 0
    assert "does not exist yet" in out.stdout


def test_decode_prints_measurements_and_rejects() -> None:
    frame = FRAMES / "dwm1001" / "location.json"
    topic = "dwm/node/00ff/uplink/location"
    out = _minepos("ingest", "decode", str(frame), "--decoder", "dwm1001", "--topic", topic)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["xyz"] == [12.48, 3.05, -1.7]
    bad = _minepos("ingest", "decode", "-", stdin=b"[1, 2")
    assert bad.returncode == 1
    assert "invalid_json" in bad.stderr
    assert "Traceback" not in bad.stderr
    unknown = _minepos("ingest", "decode", "-", "--decoder", "acme")
    assert unknown.returncode == 1
    assert "unknown decoder 'acme'" in unknown.stderr
