"""`minepos locate` (CONTRACT section 5): output lines, bad input, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minepos.engine import Tracker
from minepos.engine.commands import locate, read_measurements
from minepos.measurement import write_jsonl

from .scenarios import ranges, straight_mine, walk

MINE_YAML = """
mine: {id: t, name: test, timezone: UTC}
levels: [{id: l0, name: L0, z: 0}]
nodes:
  - {id: w, xyz: [0, 0, 0]}
  - {id: e, xyz: [600, 0, 0]}
tunnels:
  - {id: d1, from: w, to: e, kind: drift}
anchors:
""" + "".join(
    f"  - {{id: a{i}, tech: uwb, at: {{xyz: [{x}, 1.5, 2.0]}}}}\n"
    for i, x in enumerate(range(0, 601, 60))
)

KEYS = {"ts", "tag", "tunnel", "offset_m", "xyz", "interval", "uncertainty_m"}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from minepos.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("locate")
    mine_path = d / "mine.yaml"
    mine_path.write_text(MINE_YAML)
    mine = straight_mine()
    truth = walk(mine, [("d1", 30, 90, 1.2)])
    ms = ranges(mine, truth, np.random.default_rng(1))
    meas = d / "m.jsonl"
    with meas.open("w") as f:
        write_jsonl(ms[:40], f)
        f.write("this is not json\n")
        f.write('{"ts": 1010.5, "tag": "t1", "anchor": "nowhere", "range_m": 3}\n')
        f.write('{"ts": 1011, "tag": "t1", "anchor": "a1", "range_m": -4}\n')
        write_jsonl(ms[40:], f)
    return mine_path, meas


def test_locate_writes_one_contract_line_per_tag_per_tick(files: tuple[Path, Path]) -> None:
    mine_path, meas = files
    res = _cli("locate", "--mine", str(mine_path), str(meas))
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) >= 45
    assert len({r["ts"] for r in rows}) == len(rows)  # one tag: one line per tick
    for r in rows:
        assert r.keys() >= KEYS
        assert r["tunnel"] == "d1"
        assert len(r["xyz"]) == 3
        assert r["interval"]
        assert all({"tunnel", "from_m", "to_m"} == s.keys() for s in r["interval"])
        total = sum(s["to_m"] - s["from_m"] for s in r["interval"])
        assert r["uncertainty_m"] == pytest.approx(total, abs=0.01)
    last = rows[-1]
    assert abs(last["offset_m"] - 90.0) < 1.0


def test_locate_particles_only_gives_the_same_lines_near_the_same_places(
    files: tuple[Path, Path],
) -> None:
    mine_path, meas = files
    both = _cli("locate", "--mine", str(mine_path), str(meas))
    pf = _cli("locate", "--mine", str(mine_path), "--particles-only", str(meas))
    assert pf.returncode == 0, pf.stderr
    a = [json.loads(line) for line in both.stdout.splitlines()]
    b = [json.loads(line) for line in pf.stdout.splitlines()]
    assert [r["ts"] for r in a] == [r["ts"] for r in b]
    assert max(abs(x["offset_m"] - y["offset_m"]) for x, y in zip(a[5:], b[5:], strict=True)) < 0.5
    assert a != b  # the fast path did follow the tag


def test_locate_reports_bad_lines_with_numbers_and_goes_on(files: tuple[Path, Path]) -> None:
    mine_path, meas = files
    res = _cli("locate", "--mine", str(mine_path), str(meas))
    assert res.returncode == 0
    assert "line 41: skipped: not JSON" in res.stderr
    assert "line 42: skipped: unknown anchor 'nowhere'" in res.stderr
    assert "line 43: skipped: range_m" in res.stderr
    assert "Traceback" not in res.stderr


def test_locate_refuses_a_bad_mine_with_its_problems(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINE_YAML.replace("to: e,", "to: nowhere,"))
    res = _cli("locate", "--mine", str(bad), str(files[1]))
    assert res.returncode == 1
    assert "nowhere" in res.stderr
    assert "Traceback" not in res.stderr


def test_locate_missing_measurements_file_is_a_clear_error(files: tuple[Path, Path]) -> None:
    res = _cli("locate", "--mine", str(files[0]), "/no/such/file.jsonl")
    assert res.returncode == 1
    assert "no such measurements file" in res.stderr


def test_locate_function_ticks_on_multiples_of_the_tick() -> None:
    mine = straight_mine()
    truth = walk(mine, [("d1", 30, 60, 1.2)])
    ms = ranges(mine, truth, np.random.default_rng(2))
    ticks = list(locate(ms, Tracker(mine, rng=np.random.default_rng(0)), 2.0))
    stamps = [est[0].ts for est in ticks if est]
    assert all(ts % 2.0 == 0.0 for ts in stamps)
    assert stamps == sorted(stamps)


def test_read_measurements_accepts_rfc3339_timestamps() -> None:
    import io

    mine = straight_mine()
    err = io.StringIO()
    lines = ['{"ts": "2026-11-22T06:00:00Z", "tag": "t1", "anchor": "a1", "range_m": 5}']
    (m,) = list(read_measurements(lines, mine, err))
    assert m.ts == pytest.approx(1795327200.0)
    assert err.getvalue() == ""


def test_locate_takes_engine_settings(files: tuple[Path, Path]) -> None:
    mine_path, meas = files
    base = _cli("locate", "--mine", str(mine_path), "--particles-only", str(meas))
    wide = _cli(
        "locate",
        "--mine",
        str(mine_path),
        "--particles-only",
        "--set",
        "interval_mass=0.999",
        "--set",
        "bandwidth=3",
        str(meas),
    )
    assert wide.returncode == 0, wide.stderr
    a = [json.loads(line)["uncertainty_m"] for line in base.stdout.splitlines()]
    b = [json.loads(line)["uncertainty_m"] for line in wide.stdout.splitlines()]
    assert len(a) == len(b)
    assert np.median(b) > 1.5 * np.median(a)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("no_such_field=1", "expected FIELD=VALUE with FIELD one of"),
        ("switch_s", "expected FIELD=VALUE"),
        ("switch_s=soon", "switch_s: 'soon' is not a finite number"),
        ("particles=0", "particles: '0' is not a whole number >= 1"),
        ("kalman=perhaps", "kalman: 'perhaps' is not true or false"),
    ],
)
def test_locate_refuses_a_bad_engine_setting(
    files: tuple[Path, Path], setting: str, message: str
) -> None:
    res = _cli("locate", "--mine", str(files[0]), "--set", setting, str(files[1]))
    assert res.returncode != 0
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    assert res.stdout == ""
