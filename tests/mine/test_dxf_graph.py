"""The DXF graph builder on its own: the pair sweep, the junction rules, random plans, big plans."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import ezdxf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from minepos.errors import InputError
from minepos.mine import mine_from_dict
from minepos.mine.dxf import DxfOptions, import_dxf
from minepos.mine.dxf_graph import build_graph, candidate_pairs
from minepos.mine.dxf_read import guess_kind, parse_layer_map

coords = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(0, 40), st.just(2), st.just(3)), elements=coords))
def test_sweep_finds_exactly_the_overlapping_boxes(pts: np.ndarray) -> None:
    lo, hi = pts.min(axis=1), pts.max(axis=1)
    found = {tuple(sorted(p)) for p in candidate_pairs(lo, hi).tolist()}
    n = len(lo)
    brute = {
        (i, j)
        for i in range(n)
        for j in range(i + 1, n)
        if np.all(lo[i] <= hi[j]) and np.all(lo[j] <= hi[i])
    }
    assert found == brute
    assert len(candidate_pairs(lo, hi)) == len(brute)  # no pair twice


def test_crossing_splits_both_segments_at_the_crossing() -> None:
    ends = np.array([[[0, 0, 0], [10, 0, 0]], [[4, -5, 0], [4, 5, 0]]], dtype=float)
    graph = build_graph(ends, np.array([0, 0]), 0.5)
    assert len(graph.chains) == 4
    centre = [i for i, p in enumerate(graph.xyz) if np.allclose(p, [4, 0, 0])]
    assert len(centre) == 1
    assert sum(centre[0] in (c.points[0], c.points[-1]) for c in graph.chains) == 4


def test_segments_passing_above_each_other_do_not_meet() -> None:
    ends = np.array([[[0, 0, 0], [10, 0, 0]], [[4, -5, 3], [4, 5, 3]]], dtype=float)
    graph = build_graph(ends, np.array([0, 0]), 0.5)
    assert len(graph.chains) == 2


def test_change_of_style_ends_a_tunnel() -> None:
    ends = np.array([[[0, 0, 0], [10, 0, 0]], [[10, 0, 0], [20, 0, 0]], [[20, 0, 0], [30, 0, 0]]])
    assert len(build_graph(ends.astype(float), np.array([0, 0, 0]), 0.5).chains) == 1
    assert len(build_graph(ends.astype(float), np.array([0, 1, 1]), 0.5).chains) == 2


@pytest.mark.parametrize(
    ("layer", "kind"),
    [
        ("SHAFT_MAIN", "shaft"),
        ("ствол-2", "shaft"),
        ("Ramp 4", "ramp"),
        ("УКЛОН", "ramp"),
        ("LAVA", "drift"),
        ("лава 12", "face"),
        ("XCUT", "crosscut"),
        ("Квершлаг", "crosscut"),
        ("Chamber", "chamber"),
        ("0", "drift"),
    ],
)
def test_kind_guessed_from_layer(layer: str, kind: str) -> None:
    assert guess_kind(layer) == kind


def test_layer_map_matches_case_insensitively_with_wildcards() -> None:
    layers = parse_layer_map(["drift=Drifts, crosscut=XC*", "shaft=shafts"])
    assert layers.kind_of("DRIFTS") == "drift"
    assert layers.kind_of("xc-12") == "crosscut"
    assert layers.kind_of("SHAFTS") == "shaft"
    assert layers.kind_of("GRID") is None


# -- random plans: import without crashing, and either a good mine file or a clean error --------

segment = st.tuples(
    st.integers(0, 2),  # level
    st.tuples(st.integers(0, 40), st.integers(0, 40)),
    st.tuples(st.integers(0, 40), st.integers(0, 40)),
    st.sampled_from(["DRIFTS", "XCUTS", "FACE"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(segment, min_size=1, max_size=25),
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=3),
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40)), max_size=2),
    st.floats(0.05, 3.0),
)
def test_random_plans_import_or_fail_cleanly(
    segments: list[tuple[int, tuple[int, int], tuple[int, int], str]],
    shafts: list[tuple[int, int]],
    ramps: list[tuple[int, int, int]],
    snap: float,
) -> None:
    doc = ezdxf.new()
    msp = doc.modelspace()
    for level, a, b, layer in segments:
        z = -100.0 * level
        # coordinates on a 2.5 m grid: many exact touches, overlaps and near misses
        msp.add_line(
            (a[0] * 2.5, a[1] * 2.5, z), (b[0] * 2.5, b[1] * 2.5, z), dxfattribs={"layer": layer}
        )
    for x, y in shafts:
        msp.add_line((x * 2.5, y * 2.5, 0), (x * 2.5, y * 2.5, -200), dxfattribs={"layer": "SHAFT"})
    ramp_pts = [
        [(x * 2.5, 0.0, 0.0), (x * 2.5, y * 2.5, -50.0), (w * 2.5, 100.0, -100.0)]
        for x, y, w in ramps
    ]
    for pts in ramp_pts:  # 3-D polylines from level 0 down to level 1
        msp.add_polyline3d(pts, dxfattribs={"layer": "RAMP"})
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / "random.dxf"
        doc.saveas(plan)
        try:
            result = import_dxf(plan, DxfOptions(snap_m=snap))
        except InputError as exc:
            error = str(exc)
        else:
            error = ""
    if error:  # the only clean refusal of such a plan: everything was shorter than the snap
        assert "no tunnels" in error
        return
    mine = mine_from_dict(result.data)  # import_dxf checked it; the model builds from it
    assert all(t.length_m > 0 for t in mine.tunnels)
    assert all(t.from_node != t.to_node for t in mine.tunnels)
    # no length is invented: at most what was drawn, plus what snapping can stretch
    drawn = sum(np.hypot(b[0] - a[0], b[1] - a[1]) * 2.5 for _, a, b, _ in segments)
    drawn += 200 * len(shafts) + sum(
        np.linalg.norm(np.diff(p, axis=0), axis=1).sum() for p in ramp_pts
    )
    assert mine.total_length_m <= drawn + 1e-6 + 2 * snap * (len(segments) + 3 * len(ramps))
    # no two nodes closer than the snap tolerance: they would have been one
    xyz = np.array([n.xyz for n in mine.nodes])
    gaps = np.linalg.norm(xyz[:, None] - xyz[None, :], axis=2) + np.eye(len(xyz)) * 1e9
    assert gaps.min() > snap * 0.999 or len(xyz) < 2


# -- a plan of thousands of lines --------------------------------------------------------------


def big_plan(path: Path, n: int) -> int:
    """A grid of ``n`` x ``n`` drifts 50 m apart on two levels, every drift drawn as ``n`` LINEs."""
    doc = ezdxf.new()
    msp = doc.modelspace()
    lines = 0
    for z in (-300.0, -500.0):
        for k in range(n):
            for piece in range(n):
                x0, x1 = piece * 50.0, (piece + 1) * 50.0
                msp.add_line(
                    (x0, k * 50.0 + 3, z), (x1, k * 50.0 + 3, z), dxfattribs={"layer": "D"}
                )
                msp.add_line(
                    (k * 50.0 + 3, x0, z), (k * 50.0 + 3, x1, z), dxfattribs={"layer": "X"}
                )
                lines += 2
    msp.add_line((3, 3, -300), (3, 3, -500), dxfattribs={"layer": "SHAFT"})
    doc.saveas(path)
    return lines + 1


def test_thousands_of_lines_import_in_seconds(tmp_path: Path) -> None:
    plan = tmp_path / "big.dxf"
    lines = big_plan(plan, 30)
    assert lines > 3000
    t0 = time.perf_counter()
    result = import_dxf(plan)
    elapsed = time.perf_counter() - t0
    mine = mine_from_dict(result.data)
    # 30 x 30 crossings per level; the one at the shaft has a fifth tunnel
    degrees = [len(mine.junction(n.id)) for n in mine.nodes]
    assert degrees.count(4) == 2 * 30 * 30 - 2
    assert degrees.count(5) == 2
    assert elapsed < 10.0, f"{lines} lines took {elapsed:.1f} s"
