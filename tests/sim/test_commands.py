"""`minepos simulate`: files written, formats, user errors as messages."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from minepos.errors import InputError
from minepos.mine.demo import demo_mine_dict
from minepos.sim.commands import parse_incidents, register


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("minepos")  # the console script of this environment
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, check=False, timeout=120
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("sim")
    mine = tmp / "mine.yaml"
    mine.write_text(yaml.safe_dump(demo_mine_dict(people=50)), encoding="utf-8")
    out = tmp / "out"
    r = _run(
        "simulate",
        "--mine",
        str(mine),
        "--people",
        "80",
        "--minutes",
        "15",
        "--out",
        str(out),
        "--seed",
        "4",
        "--incidents",
        "sos@600:60,man_down@700:200",
        "--shift-offset",
        "60",
        "--evacuate",
        "800",
    )
    assert r.returncode == 0, r.stderr
    assert "measurements/s" in r.stdout
    return out


def test_simulate_writes_the_documented_files(run_dir: Path) -> None:
    names = {p.name for p in run_dir.iterdir()}
    assert names == {
        "measurements.jsonl",
        "truth.jsonl",
        "incidents.jsonl",
        "roster.csv",
        "scenario.json",
        "coverage.json",
    }
    cov = json.loads((run_dir / "coverage.json").read_text())
    assert 0.5 < cov["uwb_2_or_more"] <= 1.0
    assert cov["tag_ticks"] == sum(1 for _ in (run_dir / "truth.jsonl").open())
    roster = (run_dir / "roster.csv").read_text().splitlines()
    assert roster[0] == "id,name,role,tag"
    assert len(roster) == 81  # 50 from the mine file, 30 made up


def test_measurement_lines_are_canonical_and_time_ordered(run_dir: Path) -> None:
    rows = [json.loads(x) for x in (run_dir / "measurements.jsonl").open()]
    assert len(rows) > 10_000
    ts = [r["ts"] for r in rows]
    assert ts == sorted(ts)
    allowed = {"ts", "anchor", "tag", "range_m", "rssi_dbm", "event", "motion", "battery_pct"}
    assert all(set(r) <= allowed and "tag" in r for r in rows)
    events = {r["event"] for r in rows if "event" in r}
    assert {"sos", "sos_cancel", "fall", "evac_ack"} <= events


def test_truth_is_one_row_per_tag_per_second(run_dir: Path) -> None:
    rows = [json.loads(x) for x in (run_dir / "truth.jsonl").open()]
    keys = {
        "ts",
        "tag",
        "person",
        "tunnel",
        "offset_m",
        "xyz",
        "zones",
        "level",
        "speed_mps",
        "mode",
    }
    assert set(rows[0]) == keys
    per_tag: dict[str, list[float]] = {}
    for r in rows:
        per_tag.setdefault(r["tag"], []).append(r["ts"])
    gaps = {round(b - a, 3) for ts in per_tag.values() for a, b in itertools.pairwise(ts)}
    assert gaps == {1.0}


def test_incidents_file_lists_the_staged_incidents(run_dir: Path) -> None:
    rows = [json.loads(x) for x in (run_dir / "incidents.jsonl").open()]
    kinds = [r["kind"] for r in rows]
    assert kinds[:2] == ["sos", "man_down"]
    assert kinds[2] == "evacuation"  # the --evacuate order, then each arrival
    assert set(kinds[3:]) == {"evacuated"}
    start = json.loads((run_dir / "scenario.json").read_text())["config"]["start"]
    assert start.startswith("2026-01-12T06:00")
    assert rows[0]["end_ts"] - rows[0]["ts"] == pytest.approx(60.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mine", "demo"], "give exactly one of --out"),
        (["--mine", "no-such.yaml", "--out", "x"], "no-such.yaml"),
        (["--mine", "demo", "--out", "x", "--incidents", "flood"], "unknown kind 'flood'"),
        (["--mine", "demo", "--out", "x", "--nlos", "2"], "uwb.p_nlos"),
        (["--mine", "demo", "--out", "x", "--start", "yesterday"], "--start"),
        (["--mine", "demo", "--http", "http://x"], "--key"),
        (["--mine", "demo", "--out", "x", "--minutes", "0"], "--minutes must be > 0"),
        (["--mine", "demo", "--mqtt", "mqtt://127.0.0.1:1"], "cannot connect"),
    ],
    ids=[
        "no-target",
        "no-file",
        "bad-incident",
        "bad-nlos",
        "bad-start",
        "http-no-key",
        "zero-minutes",
        "no-broker",
    ],
)
def test_user_errors_are_input_errors_naming_the_problem(args: list[str], message: str) -> None:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # keep `simulate` a sub-command
    result = CliRunner().invoke(app, ["simulate", "--minutes", "0.1", *args])
    assert isinstance(result.exception, InputError), result.output
    assert message in str(result.exception)


def test_the_command_line_prints_the_message_without_a_traceback(tmp_path: Path) -> None:
    r = _run("simulate", "--mine", "demo", "--out", str(tmp_path), "--incidents", "flood")
    assert r.returncode == 1
    assert "unknown kind 'flood'" in r.stderr
    assert "Traceback" not in r.stderr


def test_incident_option_syntax() -> None:
    specs = parse_incidents("sos@10:5,tag_silent", 1000.0)
    assert [(s.kind, s.at_s, s.duration_s) for s in specs] == [
        ("sos", 10.0, 5.0),
        ("tag_silent", 350.0, None),
    ]
    assert len(parse_incidents("all", 1000.0)) == 9
    assert parse_incidents("none", 1000.0) == ()
