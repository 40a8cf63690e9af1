"""The demo mine is what the issue asks for, and the CLI writes a file that checks."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import numpy as np

from minepos.mine import Mine, load_mine_text


def test_demo_mine_has_the_parts_of_a_coal_mine(demo_mine: Mine) -> None:
    kinds = Counter(t.kind for t in demo_mine.tunnels)
    assert (
        kinds["shaft"] >= 2 and kinds["ramp"] >= 1 and kinds["face"] >= 1 and kinds["crosscut"] >= 2
    )
    zones = Counter(z.kind for z in demo_mine.zones)
    assert (
        zones["exit"] >= 2
        and zones["refuge"] >= 2
        and zones["restricted"] >= 1
        and zones["lamp_room"] == 1
    )
    assert len(demo_mine.levels) >= 3
    assert any(z.max_occupancy for z in demo_mine.zones)
    assert any(z.allowed_roles for z in demo_mine.zones)
    assert demo_mine.total_length_m > 10_000


def test_demo_anchor_spacing(demo_mine: Mine) -> None:
    by_tunnel: dict[str, list[float]] = {}
    for a in demo_mine.anchors:
        if a.tech == "uwb":
            by_tunnel.setdefault(a.tunnel, []).append(a.offset_m)
    for tunnel_id, offs in by_tunnel.items():
        tunnel = demo_mine.tunnels[demo_mine.tunnel_index[tunnel_id]]
        gaps = np.diff(sorted(offs))
        if len(gaps):
            limit = 40 if tunnel.kind == "face" else 150
            assert gaps.max() <= limit, tunnel_id
    techs = Counter(a.tech for a in demo_mine.anchors)
    assert techs["rfid"] >= 3 and techs["ble"] >= 5


def test_cli_demo_output_passes_check() -> None:
    demo = subprocess.run(
        [sys.executable, "-m", "minepos", "mine", "demo"],
        capture_output=True,
        text=True,
        check=True,
    )
    mine = load_mine_text(demo.stdout)
    assert mine.id == "demo"
    check = subprocess.run(
        [sys.executable, "-m", "minepos", "mine", "check", "-"],
        check=False,
        input=demo.stdout,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    assert "OK" in check.stdout


def test_cli_check_of_broken_file_has_no_traceback() -> None:
    check = subprocess.run(
        [sys.executable, "-m", "minepos", "mine", "check", "-"],
        check=False,
        input="mine: {id: m, name: M}\nlevels: [{id: a, name: A, z: 0}]\nnodes: []\ntunnels: []\n",
        capture_output=True,
        text=True,
    )
    assert check.returncode == 1
    assert "Traceback" not in check.stderr
    assert "nodes: needs at least 2 item(s)" in check.stderr
