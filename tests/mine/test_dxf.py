"""`minepos import-dxf` on plans the tests draw with ezdxf: every imported plan must pass check."""

from __future__ import annotations

import itertools
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ezdxf
import numpy as np
import pytest
import typer
import yaml
from typer.testing import CliRunner

from minepos.cli import main
from minepos.mine import load_mine_text
from minepos.mine.dxf import DxfOptions, import_dxf, register, to_yaml
from minepos.mine.dxf_read import parse_layer_map
from minepos.mine.model import Mine

Draw = Callable[[Any], None]


def write_plan(path: Path, draw: Draw, insunits: int = 6) -> Path:
    """A DXF file drawn by ``draw(modelspace)``, in the units ``insunits`` ($INSUNITS code)."""
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = insunits
    draw(doc.modelspace())
    doc.saveas(path)
    return path


def run(
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: str | None = None,
) -> tuple[int, str, str]:
    """Run the real entry point in-process: exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["minepos", *args])
    if stdin is not None:
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def imp(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[Mine, dict[str, Any], str]]:
    """Import a drawn plan through the CLI, run `mine check` on the output, return the mine."""

    def go(draw: Draw, *options: str, insunits: int = 6) -> tuple[Mine, dict[str, Any], str]:
        plan = write_plan(tmp_path / "plan.dxf", draw, insunits)
        code, out, err = run(["import-dxf", str(plan), *options], capsys, monkeypatch)
        assert code == 0, err
        check_code, check_out, check_err = run(["mine", "check", "-"], capsys, monkeypatch, out)
        assert check_code == 0, check_err
        assert "OK" in check_out
        return load_mine_text(out), yaml.safe_load(out), err

    return go


def degree(mine: Mine) -> dict[str, int]:
    """Number of tunnel ends at each node."""
    return {n.id: len(mine.junction(n.id)) for n in mine.nodes}


def node_at(mine: Mine, xyz: tuple[float, float, float], tol: float = 0.5) -> str:
    """The id of the node at ``xyz``."""
    found = [n.id for n in mine.nodes if np.linalg.norm(np.subtract(n.xyz, xyz)) <= tol]
    assert len(found) == 1, f"nodes at {xyz}: {found}"
    return found[0]


# -- geometry -----------------------------------------------------------------------------------


def test_single_line(imp: Callable[..., Any]) -> None:
    mine, data, err = imp(lambda m: m.add_line((0, 0, -320), (250, 0, -320)))
    assert [t.kind for t in mine.tunnels] == ["drift"]
    assert mine.tunnels[0].length_m == pytest.approx(250)
    assert [lv.z for lv in mine.levels] == [-320]
    assert data["mine"]["id"] == "plan"
    assert "1 LINE" in err


def test_polyline_with_bends_is_one_tunnel_with_via_points(imp: Callable[..., Any]) -> None:
    pts = [(0, 0), (100, 0), (150, 50), (150, 200), (300, 210)]
    mine, data, _ = imp(lambda m: m.add_lwpolyline(pts, dxfattribs={"elevation": -200}))
    assert len(mine.tunnels) == 1
    assert len(data["tunnels"][0]["via"]) == 3
    assert mine.tunnels[0].points[2] == (150, 50, -200)
    expected = sum(np.hypot(*np.subtract(b, a)) for a, b in itertools.pairwise(pts))
    assert mine.tunnels[0].length_m == pytest.approx(expected)


def test_bulge_is_flattened_onto_the_arc(imp: Callable[..., Any]) -> None:
    # a half circle of radius 50 from (0, 0) to (100, 0): bulge 1
    mine, _, _ = imp(lambda m: m.add_lwpolyline([(0, 0, 1), (100, 0, 0)], format="xyb"))
    assert len(mine.tunnels) == 1
    assert mine.tunnels[0].length_m == pytest.approx(np.pi * 50, rel=0.01)
    centre = np.array([50, 0, 0])
    radii = [np.linalg.norm(np.subtract(p, centre)) for p in mine.tunnels[0].points]
    assert max(radii) == pytest.approx(50, abs=0.05)  # ezdxf flattens via Bezier curves
    assert min(radii) == pytest.approx(50, abs=0.05)


def test_two_crossing_drifts_make_four_tunnels_and_a_junction(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        m.add_line((0, 0, -320), (200, 0, -320))
        m.add_line((80, -100, -320), (80, 100, -320))

    mine, _, _ = imp(draw)
    assert len(mine.tunnels) == 4
    assert sorted(t.length_m for t in mine.tunnels) == pytest.approx([80, 100, 100, 120])
    junction = node_at(mine, (80, 0, -320), tol=1e-6)
    assert degree(mine)[junction] == 4
    assert len(mine.nodes) == 5


def test_survey_coordinates_far_from_the_origin(imp: Callable[..., Any]) -> None:
    x0, y0, z0 = 512_345.678, 6_012_345.678, 850.0  # UTM-like metres, z above sea level

    def draw(m: Any) -> None:
        m.add_line((x0, y0, z0), (x0 + 200, y0, z0))
        m.add_line((x0 + 80, y0 - 100, z0), (x0 + 80, y0 + 100, z0))
        m.add_line((x0 + 200.2, y0, z0 + 0.1), (x0 + 200, y0 + 300, z0))

    mine, data, _ = imp(draw, "--timezone", "Asia/Almaty")
    assert len(mine.tunnels) == 4  # the third line goes on from the first: one tunnel, bent
    assert mine.total_length_m == pytest.approx(200 + 200 + 300, abs=0.3)
    assert degree(mine)[node_at(mine, (x0 + 80, y0, z0), tol=1e-6)] == 4
    assert [lv.id for lv in mine.levels] == ["h850"]
    assert mine.levels[0].z == pytest.approx(850, abs=0.1)
    assert data["mine"]["timezone"] == "Asia/Almaty"


def test_t_junction_splits_the_through_drift(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        m.add_line((0, 0, -320), (200, 0, -320))
        m.add_line((120, 90, -320), (120, 0.3, -320))  # stops 0.3 m short of the drift

    mine, _, _ = imp(draw)
    assert len(mine.tunnels) == 3
    junction = node_at(mine, (120, 0, -320))
    assert degree(mine)[junction] == 3
    assert max(d for d in degree(mine).values()) == 3


def test_ends_within_tolerance_become_one_node(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        m.add_line((0, 0, -320), (100, 0, -320))
        m.add_line((100.3, 0.2, -320), (100.3, 100, -320))
        m.add_line((100.1, -0.2, -320.1), (250, 0, -320))

    mine, _, _ = imp(draw)
    assert len(mine.tunnels) == 3
    assert len(mine.nodes) == 4
    assert sorted(degree(mine).values()) == [1, 1, 1, 3]


def test_ends_further_apart_than_snap_stay_apart(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        m.add_line((0, 0, -320), (100, 0, -320))
        m.add_line((100.3, 0, -320), (200, 0, -320))

    mine, _, err = imp(draw, "--snap", "0.1")
    assert len(mine.tunnels) == 2
    assert len(mine.nodes) == 4
    assert "warning: the tunnels form 2 separate networks" in err
    joined, _, _ = imp(draw)  # the default 0.5 m joins them into one straight tunnel
    assert len(joined.tunnels) == 1
    assert joined.tunnels[0].length_m == pytest.approx(200, abs=0.2)


def test_lines_drawn_end_to_end_on_one_layer_are_one_tunnel(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        for k in range(10):
            m.add_line((k * 50, 5 * (k % 2), -320), ((k + 1) * 50, 5 * ((k + 1) % 2), -320))

    mine, data, _ = imp(draw)
    assert len(mine.tunnels) == 1
    assert len(data["tunnels"][0]["via"]) == 9


def test_duplicates_and_overlaps_make_no_zero_length_tunnels(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        m.add_line((0, 0, -320), (100, 0, -320))
        m.add_line((0, 0, -320), (100, 0, -320))  # drawn twice
        m.add_line((100, 0, -320), (0, 0, -320))  # and backwards
        m.add_line((50, 0, -320), (150, 0, -320))  # overlapping and going on
        m.add_line((150, 0, -320), (150.2, 0.1, -320))  # a stub shorter than the snap

    mine, _, _ = imp(draw)
    assert min(t.length_m for t in mine.tunnels) > 0.5
    assert mine.total_length_m == pytest.approx(150, abs=0.3)


def test_lines_at_different_elevations_do_not_meet(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        m.add_lwpolyline([(0, 0), (200, 0)], dxfattribs={"elevation": -320})
        m.add_lwpolyline([(100, -100), (100, 100)], dxfattribs={"elevation": -400})
        m.add_line((0, 0, 0), (0, 0, -320), dxfattribs={"layer": "SHAFT1"})
        m.add_line((0, 0, -320), (100, -100, -400), dxfattribs={"layer": "RAMP"})

    mine, _, err = imp(draw)
    assert Counter(t.kind for t in mine.tunnels) == {"drift": 2, "shaft": 1, "ramp": 1}
    assert "separate networks" not in err
    assert max(degree(mine).values()) == 3  # the shaft bottom; no crossing of the two drifts


def test_closed_polyline_gives_no_tunnel_from_a_node_to_itself(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        m.add_lwpolyline([(0, 0), (100, 0), (100, 100), (0, 100)], close=True)
        m.add_line((100, 100), (200, 200))

    mine, _, _ = imp(draw)
    assert all(t.from_node != t.to_node for t in mine.tunnels)
    assert mine.total_length_m == pytest.approx(400 + 100 * np.sqrt(2))


def test_blocks_are_expanded_with_the_insert_layer(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        block = m.doc.blocks.new("PANEL")
        block.add_line((0, 0), (100, 0))  # layer 0: takes the INSERT's layer
        block.add_line((0, 0), (0, 50), dxfattribs={"layer": "XCUTS"})
        m.add_blockref("PANEL", (0, 0, -300), dxfattribs={"layer": "DRIFTS"})
        m.add_blockref("PANEL", (500, 0, -300), dxfattribs={"layer": "DRIFTS"})

    mine, _, _ = imp(draw, "--layers", "drift=DRIFTS,crosscut=XCUTS")
    assert Counter(t.kind for t in mine.tunnels) == {"drift": 2, "crosscut": 2}
    node_at(mine, (600, 0, -300))


def curves(m: Any) -> None:
    """A 2-D POLYLINE with an elevation, an ARC and a SPLINE joined end to end, and a 3-D loop."""
    m.add_polyline2d([(0, 0), (100, 0)], dxfattribs={"elevation": (0, 0, -250)})
    m.add_arc((100, 50, -250), 50, 270, 360)  # from (100, 0) to (150, 50)
    m.add_spline([(150, 50, -250), (160, 100, -250), (200, 120, -250)])
    m.add_ellipse((200, 170, -250), (0, -50, 0), 0.5, 0, np.pi)  # elliptic arc to (200, 220)
    m.add_ellipse((0, 300, -250), (20, 0, 0), 0.5)  # a whole ellipse: an outline, ignored
    m.add_polyline3d([(0, 0, -250), (0, -50, -250), (-50, -50, -250)], close=True)


@pytest.mark.parametrize(
    ("version", "fmt"),
    [("R12", "asc"), ("R2000", "asc"), ("R2018", "asc"), ("R2010", "bin")],
)
def test_entity_kinds_and_file_formats(tmp_path: Path, version: str, fmt: str) -> None:
    doc = ezdxf.new(version)
    m = doc.modelspace()
    if version == "R12":  # no SPLINE, no ARC elevation in R12: 3-D polylines and lines
        m.add_polyline2d([(0, 0), (100, 0)], dxfattribs={"elevation": (0, 0, -250)})
        m.add_arc((100, 50, -250), 50, 270, 360)
        m.add_line((150, 50, -250), (200, 120, -250))
        m.add_polyline3d([(0, 0, -250), (0, -50, -250), (-50, -50, -250)], close=True)
    else:
        curves(m)
    plan = tmp_path / "plan.dxf"
    doc.saveas(plan, fmt=fmt)
    result = import_dxf(plan)
    if version != "R12":
        assert "ignored entities: 1 ELLIPSE" in "\n".join(result.notes)
        assert [200.0, 220.0, -250.0] in [n["xyz"] for n in result.data["nodes"]]  # arc's end
    mine = load_mine_text(to_yaml(result.data))
    # the straight part, the arc (quarter circle), the spline (> chord), the loop
    assert mine.total_length_m > 100 + np.pi * 25 + np.hypot(50, 70) + 150
    assert [lv.z for lv in mine.levels] == [-250]
    # one layer: the arc and what follows it are one tunnel bending through the arc's end
    bends = [p for t in mine.tunnels for p in t.points]
    assert min(np.linalg.norm(np.subtract(bends, (150, 50, -250)), axis=1)) < 0.01
    assert degree(mine)[node_at(mine, (0, 0, -250))] == 3  # the loop meets the line there


def test_cyrillic_layer_names_in_an_old_ansi_1251_drawing(tmp_path: Path) -> None:
    doc = ezdxf.new("R12")
    doc.encoding = "cp1251"
    m = doc.modelspace()
    m.add_line((0, 0, -100), (300, 0, -100), dxfattribs={"layer": "ШТРЕК"})
    m.add_line((300, 0, -100), (300, 0, 0), dxfattribs={"layer": "СТВОЛ"})
    plan = tmp_path / "old.dxf"
    doc.saveas(plan)
    assert "ШТРЕК".encode("cp1251") in plan.read_bytes()
    result = import_dxf(plan, DxfOptions(layers=parse_layer_map(["drift=штрек,shaft=ствол"])))
    assert Counter(t["kind"] for t in result.data["tunnels"]) == {"drift": 1, "shaft": 1}


# -- levels ---------------------------------------------------------------------------------------


def several_levels(m: Any) -> None:
    """Surface collar, a shaft through -320 to -480, drifts on both, a ramp between them."""
    m.add_line((0, 0, 0), (0, 0, -480), dxfattribs={"layer": "SHAFTS"})
    m.add_lwpolyline(
        [(0, 0), (400, 0), (600, 150, 0.3), (900, 150)],
        format="xyb",
        dxfattribs={"layer": "DRIFTS", "elevation": -320},
    )
    m.add_lwpolyline([(0, 0), (700, 0)], dxfattribs={"layer": "DRIFTS", "elevation": -480})
    m.add_lwpolyline([(400, 0), (400, -300)], dxfattribs={"layer": "XCUTS", "elevation": -320})
    m.add_polyline3d(
        [(900, 150, -320), (1100, 150, -360), (1100, -50, -420), (700, 0, -480)],
        dxfattribs={"layer": "RAMP"},
    )
    m.add_text("Horizon -320", dxfattribs={"layer": "TEXT"})
    m.add_circle((0, 0), 4, dxfattribs={"layer": "SHAFTS"})


def test_plan_of_several_levels(imp: Callable[..., Any]) -> None:
    mine, data, err = imp(several_levels, "--id", "north", "--name", "North mine")
    assert [(lv.id, lv.z) for lv in mine.levels] == [
        ("surface", 0),
        ("h-320", -320),
        ("h-480", -480),
    ]
    assert [lv["name"] for lv in data["levels"]] == ["Surface", "Horizon -320", "Horizon -480"]
    kinds = Counter(t.kind for t in mine.tunnels)
    assert kinds == {"shaft": 2, "drift": 3, "crosscut": 1, "ramp": 1}
    # the shaft is cut at the -320 landing, and runs from the top down
    landing = node_at(mine, (0, 0, -320))
    shafts = [t for t in mine.tunnels if t.kind == "shaft"]
    assert {shafts[0].to_node, shafts[1].from_node} == {landing}
    assert shafts[0].points[0][2] == 0
    # one connected network: from the collar to the far end of -480 and round the ramp
    collar, far = node_at(mine, (0, 0, 0)), node_at(mine, (700, 0, -480))
    from minepos.mine import Place

    t_from = next(t for t in mine.tunnels if collar in (t.from_node, t.to_node))
    t_to = next(t for t in mine.tunnels if far in (t.from_node, t.to_node))
    assert np.isfinite(mine.distance(Place(t_from.id, 0), Place(t_to.id, 0)))
    assert data["mine"] == {"id": "north", "name": "North mine", "timezone": "UTC"}
    assert mine.level_at("ramp1", 1.0) == "h-320"
    assert "1 TEXT" in err
    assert "CIRCLE" in err


def test_exits_at_shaft_collars_and_portals(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        several_levels(m)
        m.add_polyline3d(
            [(-50, 0, 2), (-50, 200, -100), (0, 200, -320)], dxfattribs={"layer": "RAMP"}
        )
        m.add_line((0, 200, -320), (0, 0, -320), dxfattribs={"layer": "DRIFTS"})

    mine, data, _ = imp(draw, "--exits")
    exits = [z for z in mine.zones if z.kind == "exit"]
    assert [(z.spans[0].tunnel, z.spans[0].from_m, z.spans[0].to_m) for z in exits] == [
        ("shaft1", 0, 5),
        ("ramp2", 0, 5),
    ]
    assert [z["name"] for z in data["zones"]] == ["shaft1 collar", "ramp2 portal"]
    from minepos.mine import Place

    deep = Place("drift3", 10.0)  # on -480, reached by the shaft and by the ramps
    route = mine.nearest(deep, "exit")
    assert route is not None
    plain, _, err = imp(several_levels)
    assert plain.zones == []
    _, _, err = imp(lambda m: m.add_line((0, 0, -100), (100, 0, -100)), "--exits")
    assert "no exit zones" in err


def test_dipping_drifts_stay_one_level(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        m.add_polyline3d([(0, 0, -300), (500, 0, -310), (1000, 0, -322)])
        m.add_polyline3d([(0, 300, -500), (1000, 300, -512)])
        m.add_line((0, 0, -300), (0, 300, -500), dxfattribs={"layer": "ramp"})

    mine, _, _ = imp(draw)
    assert len(mine.levels) == 2
    assert -322 <= mine.levels[0].z <= -300
    assert -512 <= mine.levels[1].z <= -500


# -- layers, units ----------------------------------------------------------------------------


def layered(m: Any) -> None:
    """Drifts, a crosscut, a shaft, and a survey grid that is no tunnel."""
    m.add_line((0, 0, -100), (300, 0, -100), dxfattribs={"layer": "Drifts"})
    m.add_line((150, 0, -100), (150, 200, -100), dxfattribs={"layer": "XC-1"})
    m.add_line((300, 0, -100), (300, 0, 0), dxfattribs={"layer": "Vent"})
    for k in range(5):
        m.add_line((k * 100, -500, -100), (k * 100, 500, -100), dxfattribs={"layer": "GRID"})


def test_layer_map_sets_kinds_and_ignores_other_layers(imp: Callable[..., Any]) -> None:
    mine, _, err = imp(layered, "--layers", "drift=DRIFTS,crosscut=xc-*", "--layers", "shaft=VENT")
    assert Counter(t.kind for t in mine.tunnels) == {"drift": 2, "crosscut": 1, "shaft": 1}
    assert "ignored layers (not in --layers): 5 GRID" in err
    assert "switched off" not in err
    assert all(t.length_m < 500 for t in mine.tunnels)


def test_without_a_map_kinds_are_guessed_from_layer_names(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        m.add_line((0, 0, -100), (300, 0, -100), dxfattribs={"layer": "Откаточный штрек"})
        m.add_line((150, 0, -100), (150, 200, -100), dxfattribs={"layer": "КВЕРШЛАГ_2"})
        m.doc.layers.add("КВЕРШЛАГ_2").off()
        m.add_line((300, 0, -100), (300, 0, 0), dxfattribs={"layer": "Ствол Вент"})
        m.add_line((0, 0, -100), (0, 200, -100), dxfattribs={"layer": "LONGWALL FACE 7"})

    mine, _, err = imp(draw)
    assert "switched off or frozen in the drawing: КВЕРШЛАГ_2 (" in err
    assert Counter(t.kind for t in mine.tunnels) == {
        "drift": 2,
        "crosscut": 1,
        "shaft": 1,
        "face": 1,
    }
    assert "-> crosscut" in err


def test_vertical_lines_are_shafts_whatever_the_layer(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        m.add_line((0, 0, -100), (300, 0, -100), dxfattribs={"layer": "DRIFTS"})
        m.add_line((300, 0, -100), (300.5, 0, 0), dxfattribs={"layer": "DRIFTS"})

    mine, _, _ = imp(draw, "--layers", "drift=DRIFTS")
    assert Counter(t.kind for t in mine.tunnels) == {"drift": 1, "shaft": 1}


def test_millimetre_drawing_is_scaled_to_metres(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        m.add_line((0, 0, -320_000), (250_000, 0, -320_000))
        m.add_line((100_000, 0, -320_000), (100_000, 40_000, -320_000))

    mine, _, err = imp(draw, insunits=4)
    assert mine.total_length_m == pytest.approx(290)
    assert [lv.z for lv in mine.levels] == [-320]
    assert "mm" in err
    node_at(mine, (100, 0, -320))
    assert "warning" not in err
    forced, _, err = imp(draw, "--units", "m", insunits=4)  # --units wins over $INSUNITS
    assert forced.total_length_m == pytest.approx(290_000)
    assert "are the units right" in err


def test_elevations_put_flat_horizon_layers_at_their_depth(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:  # both horizons drawn flat at z 0, crossing in plan
        m.add_lwpolyline([(0, 0), (300, 0)], dxfattribs={"layer": "H320_DRIFTS"})
        m.add_lwpolyline([(100, -100), (100, 100)], dxfattribs={"layer": "H480_DRIFTS"})
        m.add_line((0, 0, -320), (0, 0, -480), dxfattribs={"layer": "H480_DRIFTS"})  # 3-D: kept

    flat, _, _ = imp(draw)
    assert max(degree(flat).values()) == 4  # without depths they cross
    mine, _, _ = imp(draw, "--elevations", "h320*=-320,H480*=-480")
    assert [lv.id for lv in mine.levels] == ["h-320", "h-480"]
    assert max(degree(mine).values()) == 2
    assert Counter(t.kind for t in mine.tunnels) == {"drift": 2, "shaft": 1}


def test_anchors_from_points_and_blocks(imp: Callable[..., Any]) -> None:
    def draw(m: Any) -> None:
        m.add_line((0, 0, -320), (300, 0, -320))
        m.add_point((100, 2, -319), dxfattribs={"layer": "ANCHORS"})
        block = m.doc.blocks.new("UWB")
        block.add_circle((0, 0), 0.2)
        block.add_attdef("ID", (0, 0))
        ref = m.add_blockref("UWB", (250, -1, -320), dxfattribs={"layer": "ANCHORS"})
        ref.add_auto_attribs({"ID": "a250"})

    mine, data, _ = imp(draw, "--anchors-layer", "anchors", "--anchor-tech", "ble")
    assert [(a.id, a.tech) for a in mine.anchors] == [("a1", "ble"), ("a250", "ble")]
    assert [round(a.offset_m) for a in mine.anchors] == [100, 250]
    assert data["anchors"][0]["at"] == {"xyz": [100.0, 2.0, -319.0]}


def test_output_is_deterministic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = write_plan(tmp_path / "levels.dxf", several_levels)
    outs = {run(["import-dxf", str(plan)], capsys, monkeypatch)[1] for _ in range(2)}
    assert len(outs) == 1
    json_code, json_out, _ = run(["import-dxf", str(plan), "--format", "json"], capsys, monkeypatch)
    assert json_code == 0
    assert yaml.safe_load(json_out) == yaml.safe_load(outs.pop())


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        pytest.param(None, [], "no such file", id="missing-file"),
        pytest.param("zero-bytes", [], "the file is empty", id="empty-file"),
        pytest.param("truncated", [], "plan.dxf", id="truncated-dxf"),
        pytest.param("text", [], "not a DXF file", id="not-a-dxf"),
        pytest.param("empty", [], "no tunnels", id="empty-plan"),
        pytest.param("layered", ["--layers", "drift=NOPE"], "no tunnels", id="map-matches-nothing"),
        pytest.param("tiny", [], "shorter than --snap", id="all-too-short"),
        pytest.param("zero", [], "shorter than --snap", id="zero-length"),
    ],
)
def test_user_errors_exit_1_with_a_message(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    make: str | None,
    args: list[str],
    message: str,
) -> None:
    plan = tmp_path / "plan.dxf"
    if make == "text":
        plan.write_text("this is not a drawing\n")
    elif make == "zero-bytes":
        plan.write_bytes(b"")
    elif make == "truncated":
        write_plan(plan, several_levels)
        plan.write_bytes(plan.read_bytes()[:3000])
    elif make == "empty":
        write_plan(plan, lambda m: m.add_text("nothing here"))
    elif make == "layered":
        write_plan(plan, layered)
    elif make == "tiny":
        write_plan(plan, lambda m: m.add_line((0, 0), (0.2, 0)))
    elif make == "zero":
        write_plan(plan, lambda m: m.add_line((5, 5, 5), (5, 5, 5)))
    code, out, err = run(["import-dxf", str(plan), *args], capsys, monkeypatch)
    assert code == 1
    assert message in err
    assert out == ""
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--layers", "DRIFTS"], "not kind=LAYER", id="no-equals"),
        pytest.param(["--layers", "tunnel=DRIFTS"], "not a tunnel kind", id="unknown-kind"),
        pytest.param(["--layers", "drift=A,shaft=a"], "two kinds", id="layer-twice"),
        pytest.param(["--units", "parsec"], "not one of", id="bad-units"),
        pytest.param(["--anchor-tech", "wifi"], "not one of", id="bad-tech"),
        pytest.param(["--id", "my mine"], "--id", id="bad-id"),
        pytest.param(["--snap", "-1"], "--snap", id="negative-snap"),
        pytest.param(["--snap", "0.001"], "--snap", id="snap-below-a-centimetre"),
        pytest.param(["--timezone", "Mars/Olympus"], "unknown time zone", id="bad-timezone"),
        pytest.param(["--elevations", "H320"], "not LAYER=Z", id="elevation-without-z"),
        pytest.param(["--elevations", "H320=deep"], "not LAYER=Z", id="elevation-not-a-number"),
    ],
)
def test_bad_usage_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    # typer's own runner: usage errors are click's, whatever cli.main does with them
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    plan = write_plan(tmp_path / "plan.dxf", layered)
    result = CliRunner().invoke(app, ["import-dxf", str(plan), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_plan_from_standard_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    plan = write_plan(tmp_path / "levels.dxf", several_levels)
    stdin = io.TextIOWrapper(io.BytesIO(plan.read_bytes()))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, err = run(["import-dxf", "-", "--id", "north"], capsys, monkeypatch)
    assert code == 0, err
    assert yaml.safe_load(out)["mine"]["id"] == "north"
    assert len(yaml.safe_load(out)["tunnels"]) == 7
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"junk")))
    code, out, err = run(["import-dxf", "-"], capsys, monkeypatch)
    assert code == 1
    assert "<stdin>: not a DXF file" in err


@pytest.mark.slow  # two fresh interpreters: the CLI's start-up dominates
def test_pipe_into_mine_check_as_the_contract_shows(tmp_path: Path) -> None:
    import subprocess

    plan = write_plan(tmp_path / "levels.dxf", several_levels)
    exe = Path(sys.executable).with_name("minepos")
    imported = subprocess.run(
        [exe, "import-dxf", plan], capture_output=True, text=True, check=False
    )
    assert imported.returncode == 0, imported.stderr
    checked = subprocess.run(
        [exe, "mine", "check", "-"],
        input=imported.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "tunnels: 7" in checked.stdout


def test_demo_mine_drawn_as_a_plan_comes_back_the_same(tmp_path: Path) -> None:
    from minepos.mine import mine_from_dict
    from minepos.mine.demo import demo_mine_dict

    demo = mine_from_dict(demo_mine_dict(0))
    doc = ezdxf.new()
    for t in demo.tunnels:  # every tunnel a 3-D polyline on a layer named by its kind
        doc.modelspace().add_polyline3d(list(t.points), dxfattribs={"layer": t.kind.upper()})
    doc.saveas(tmp_path / "demo.dxf")
    back = load_mine_text(to_yaml(import_dxf(tmp_path / "demo.dxf").data))

    def length_by_kind(mine: Mine) -> dict[str, float]:
        out: dict[str, float] = {}
        for t in mine.tunnels:
            out[t.kind] = out.get(t.kind, 0.0) + t.length_m
        return out

    assert length_by_kind(back) == pytest.approx(length_by_kind(demo), rel=1e-9)
    assert [lv.z for lv in back.levels] == [lv.z for lv in demo.levels]
    # the same junctions and dead ends (nodes where only the kind changes may merge away)
    for d in (1, 3, 4):
        assert list(degree(back).values()).count(d) == list(degree(demo).values()).count(d)
