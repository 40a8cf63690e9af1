"""``minepos replay`` from the command line: alarm changes as JSON lines, stored if asked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from shaft_and_drift import shaft_and_drift

from minepos.measurement import Measurement
from minepos.store import Store

T0 = 1_795_323_600.0

MINE = shaft_and_drift("tiny", 500, {"a1": 100, "a2": 450}, people=(1,))


def _recording(path: Path) -> None:
    ms = [Measurement(T0, "t1", event="lamp_out")]
    for i in range(1, 60):
        anchor = "a1" if i < 30 else "a2"  # enters the goaf at T0 + 30
        ms.append(Measurement(T0 + i + 0.2, "t1", anchor=anchor, range_m=3.0))
    ms.append(Measurement(T0 + 40.5, "t1", event="sos"))
    lines = [m.to_json() for m in sorted(ms, key=lambda m: m.ts)]
    lines.insert(5, '{"ts": "yesterday", "tag": "t1"}')
    path.write_text("\n".join(lines) + "\n")


def _minepos(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from minepos.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_replay_writes_every_alarm_change_and_stores_them(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(MINE))
    _recording(tmp_path / "rec.jsonl")
    db = f"sqlite:///{tmp_path}/replay.sqlite3"
    run = _minepos(
        "replay", "--mine", str(tmp_path / "mine.yaml"), str(tmp_path / "rec.jsonl"), "--db", db
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(x) for x in run.stdout.splitlines()]
    assert [(x["kind"], x["state"], x["person"], x["zone"]) for x in lines] == [
        ("restricted_zone", "raised", "p1", "goaf"),
        ("sos", "raised", "p1", "goaf"),
    ]
    assert set(lines[0]) == {"ts", "alarm", "kind", "state", "tag", "person", "zone"}
    # the tag jumps 350 m at T0 + 30 (an unphysical recording): the engine follows in seconds
    assert T0 + 31 <= lines[0]["ts"] <= T0 + 40
    assert lines[1]["ts"] == T0 + 40.5
    assert "skipped 1 bad line(s); first: line 6" in run.stderr
    with Store(db) as store:
        assert sorted(a.kind for a in store.alarms.active()) == ["restricted_zone", "sos"]
        assert len(store.events.lamp_events()) == 1


def test_replay_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(MINE))
    run = _minepos("replay", "--mine", str(tmp_path / "mine.yaml"), str(tmp_path / "nope.jsonl"))
    assert run.returncode == 1
    assert "nope.jsonl" in run.stderr
    assert "Traceback" not in run.stderr


def test_replay_takes_the_roster_beside_the_recording(tmp_path: Path) -> None:
    mine = dict(MINE)
    mine["people"] = []  # the mine file knows nobody: the roster beside the recording does
    mine["zones"] = [
        {
            "id": "goaf",
            "name": "Goaf",
            "kind": "work",
            "allowed_roles": ["miner"],
            "spans": [{"tunnel": "drift", "from_m": 400, "to_m": 500}],
        },
    ]
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(mine))
    _recording(tmp_path / "rec.jsonl")
    args = ("replay", "--mine", str(tmp_path / "mine.yaml"), str(tmp_path / "rec.jsonl"))
    unknown = _minepos(*args)
    assert [json.loads(x)["kind"] for x in unknown.stdout.splitlines()] == ["forbidden_zone", "sos"]
    (tmp_path / "roster.csv").write_text("id,name,role,tag\np1,A,miner,t1\n")
    known = _minepos(*args)
    assert known.returncode == 0, known.stderr
    lines = [json.loads(x) for x in known.stdout.splitlines()]
    assert [(x["kind"], x["person"]) for x in lines] == [("sos", "p1")]
    assert "people from" in known.stderr
