"""`minepos ingest errors`: dead letters from the server's store (--db) or an ingest folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from minepos.errors import InputError
from minepos.ingest import IngestPipeline, SqliteDeadLetterStore, Validator
from minepos.measurement import Measurement
from minepos.store import Store
from minepos.store.ingest_commands import register

NOW = 1_763_793_600.0


class FakeClock:
    """A clock that stands still."""

    def __call__(self) -> float:
        return NOW


class RecordingSink:
    """Keeps what the pipeline hands over."""

    def __init__(self) -> None:
        self.batches: list[list[Measurement]] = []

    def __call__(self, batch: object) -> None:
        self.batches.append(list(batch))  # type: ignore[call-overload]


def _cli(*args: str, stdin: bytes = b"") -> Result:
    """In-process run of the ingest commands."""
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args), input=stdin)


def test_errors_reads_the_dead_letters_a_server_keeps_in_the_store(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/m.sqlite3"
    with Store(db) as store:
        pipe = IngestPipeline(
            RecordingSink(), Validator({"t1"}, {"a1"}, FakeClock()), dead_letters=store.dead_letters
        )
        pipe.accept(b"not json", "gw-a", "udp")
        pipe.accept(json.dumps([{"ts": NOW, "tag": "t7"}]).encode(), "gw-b", "http")
    out = _cli("ingest", "errors", "--db", db, "--json")
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["gateway"] for r in rows] == ["gw-b", "gw-a"]
    assert "unknown_tag" in rows[0]["reason"]
    only = _cli("ingest", "errors", "--db", db, "--gateway", "gw-a")
    assert "invalid_json" in only.stdout and "gw-b" not in only.stdout
    none = _cli("ingest", "errors", "--db", f"sqlite:///{tmp_path}/nothing.sqlite3")
    assert none.exit_code == 0 and "does not exist yet" in none.stdout
    assert not (tmp_path / "nothing.sqlite3").exists()
    both = _cli("ingest", "errors", "--db", db, "--data", str(tmp_path))
    assert isinstance(both.exception, InputError) and "give one" in str(both.exception)


def test_errors_from_the_real_entry_point_reads_minepos_db(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/m.sqlite3"
    with Store(db) as store:
        pipe = IngestPipeline(
            RecordingSink(), Validator({"t1"}, None, FakeClock()), dead_letters=store.dead_letters
        )
        pipe.accept(b"garbage", "gw-z", "mqtt")
    out = subprocess.run(
        [sys.executable, "-c", "from minepos.cli import main; main()", "ingest", "errors"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={**__import__("os").environ, "MINEPOS_DB": db},
    )
    assert out.returncode == 0, out.stderr
    assert "gw-z" in out.stdout and "garbage" in out.stdout


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
