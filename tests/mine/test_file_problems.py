"""A broken mine file is refused whole, with every problem as `path: message`."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from minepos.cli import _register, app
from minepos.errors import MineFileError
from minepos.mine import load_mine_text, mine_from_dict, parse_mine_file

SMALL: dict[str, Any] = {
    "mine": {"id": "m", "name": "Small"},
    "levels": [{"id": "top", "name": "Top", "z": 0}, {"id": "h100", "name": "-100", "z": -100}],
    "nodes": [
        {"id": "a", "xyz": [0, 0, 0]},
        {"id": "b", "xyz": [0, 0, -100]},
        {"id": "c", "xyz": [500, 0, -100]},
    ],
    "tunnels": [
        {"id": "s", "from": "a", "to": "b", "kind": "shaft"},
        {"id": "d", "from": "b", "to": "c", "kind": "drift", "via": [[250, 10, -100]]},
    ],
    "zones": [
        {
            "id": "x",
            "name": "Exit",
            "kind": "exit",
            "spans": [{"tunnel": "s", "from_m": 0, "to_m": 5}],
        }
    ],
    "anchors": [{"id": "u1", "tech": "uwb", "at": {"tunnel": "d", "offset_m": 100}}],
    "people": [{"id": "p1", "name": "A", "role": "miner", "tag": "t1"}],
}


def _edit(fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(SMALL)
    fn(data)
    return data


def _problems(data: Any) -> list[str]:
    with pytest.raises(MineFileError) as info:
        parse_mine_file(data)
    return info.value.problems


def test_small_file_is_accepted() -> None:
    mine = mine_from_dict(SMALL)
    assert [t.id for t in mine.tunnels] == ["s", "d"]
    assert mine.tunnels[1].length_m == pytest.approx(2 * (250**2 + 10**2) ** 0.5)


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown-node", lambda d: d["tunnels"][1].update(to="n9"), "tunnels[1].to: unknown node 'n9'"),
    (
        "duplicate-node",
        lambda d: d["nodes"].append({"id": "a", "xyz": [1, 1, 1]}),
        "nodes[3].id: duplicate id 'a'",
    ),
    (
        "duplicate-tunnel",
        lambda d: d["tunnels"].append({"id": "d", "from": "a", "to": "c", "kind": "drift"}),
        "tunnels[2].id: duplicate id 'd'",
    ),
    (
        "span-past-end",
        lambda d: d["zones"][0]["spans"][0].update(tunnel="d", to_m=900),
        "zones[0].spans[0].to_m: 900 m is past the end of tunnel 'd'",
    ),
    (
        "span-reversed",
        lambda d: d["zones"][0]["spans"][0].update(from_m=5, to_m=1),
        "zones[0].spans[0]: from_m 5 is after to_m 1",
    ),
    (
        "span-unknown-tunnel",
        lambda d: d["zones"][0]["spans"][0].update(tunnel="zz"),
        "zones[0].spans[0].tunnel: unknown tunnel 'zz'",
    ),
    (
        "anchor-off-tunnel",
        lambda d: d["anchors"][0]["at"].update(offset_m=700),
        "anchors[0].at.offset_m: 700 m is off tunnel 'd'",
    ),
    (
        "anchor-negative",
        lambda d: d["anchors"][0]["at"].update(offset_m=-3),
        "anchors[0].at.offset_m: -3 m is off tunnel 'd'",
    ),
    (
        "anchor-unknown-tunnel",
        lambda d: d["anchors"][0]["at"].update(tunnel="q"),
        "anchors[0].at.tunnel: unknown tunnel 'q'",
    ),
    (
        "anchor-far-xyz",
        lambda d: d["anchors"].append({"id": "b9", "tech": "ble", "at": {"xyz": [250, 900, -100]}}),
        "anchors[1].at.xyz: 890 m from the nearest tunnel",
    ),
    (
        "zero-length",
        lambda d: d["tunnels"].append({"id": "z", "from": "c", "to": "c", "kind": "drift"}),
        "tunnels[2]: zero-length tunnel 'z'",
    ),
    (
        "empty-level",
        lambda d: d["levels"].append({"id": "h900", "name": "-900", "z": -900}),
        "levels[2]: level 'h900' (z -900) has no tunnels",
    ),
    (
        "bad-kind",
        lambda d: d["tunnels"][1].update(kind="tunnel"),
        "tunnels[1].kind: 'tunnel' is not one of",
    ),
    (
        "bad-tech",
        lambda d: d["anchors"][0].update(tech="wifi"),
        "anchors[0].tech: 'wifi' is not one of",
    ),
    (
        "unknown-field",
        lambda d: d["nodes"][0].update(colour="red"),
        "nodes[0].colour: unknown field",
    ),
    (
        "missing-field",
        lambda d: d["tunnels"][0].pop("kind"),
        "tunnels[0].kind: required field is missing",
    ),
    (
        "duplicate-tag",
        lambda d: d["people"].append({"id": "p2", "name": "B", "role": "miner", "tag": "t1"}),
        "people[1].tag: duplicate tag 't1'",
    ),
    ("no-levels", lambda d: d.update(levels=[]), "levels: needs at least 1 item(s)"),
    ("bad-occupancy", lambda d: d["zones"][0].update(max_occupancy=0), "zones[0].max_occupancy:"),
    (
        "nan-coordinate",
        lambda d: d["nodes"][2].update(xyz=[float("nan"), 0, 0]),
        "nodes[2].xyz[0]: Input should be a finite number",
    ),
    (
        "unknown-tunnel-level",
        lambda d: d["tunnels"][1].update(level="h7"),
        "tunnels[1].level: unknown level 'h7'",
    ),
]


@pytest.mark.parametrize(
    ("edit", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_broken_file_names_the_problem(
    edit: Callable[[dict[str, Any]], None], expected: str
) -> None:
    problems = _problems(_edit(edit))
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_is_listed_at_once() -> None:
    def many(d: dict[str, Any]) -> None:
        d["tunnels"][1].update(to="n9")
        d["tunnels"][0].update(kind="pipe")
        d["zones"][0]["spans"][0].update(tunnel="zz")
        d["nodes"].append({"id": "a", "xyz": [0, 0, 0]})

    problems = _problems(_edit(many))
    assert len(problems) == 4, problems


def test_malformed_item_is_not_reported_again_as_unknown() -> None:
    # node 'c' is malformed; the tunnel that uses it must not also say "unknown node 'c'"
    problems = _problems(_edit(lambda d: d["nodes"][2].update(xyz=[1, 2])))
    assert problems == [
        "nodes[2].xyz: Tuple should have at most 3 items after validation, not 2"
    ] or (len(problems) == 1 and problems[0].startswith("nodes[2].xyz"))


def test_survey_rounding_past_end_is_clipped() -> None:
    mine = mine_from_dict(
        _edit(lambda d: d["zones"][0]["spans"][0].update(tunnel="d", to_m=500.5 + 0.3))
    )
    span = mine.zones[0].spans[0]
    assert span.to_m == pytest.approx(mine.tunnels[1].length_m)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: [", "line 2 column 1"),
        ("[1, 2]", "must hold a mapping"),
        ('{"mine": ', "line 1 column"),
    ],
    ids=["yaml-syntax", "not-a-mapping", "json-syntax"],
)
def test_unreadable_text(text: str, expected: str) -> None:
    with pytest.raises(MineFileError) as info:
        load_mine_text(text)
    assert expected in str(info.value)


def test_json_and_yaml_give_the_same_mine() -> None:
    import yaml

    a = load_mine_text(json.dumps(SMALL))
    b = load_mine_text(yaml.safe_dump(SMALL))
    assert [t.length_m for t in a.tunnels] == [t.length_m for t in b.tunnels]


def test_cli_check_exit_codes(tmp_path: Any) -> None:
    _register()
    runner = CliRunner()
    good = tmp_path / "good.yaml"
    good.write_text(json.dumps(SMALL))
    result = runner.invoke(app, ["mine", "check", str(good)])
    assert result.exit_code == 0
    assert "tunnels: 2" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_edit(lambda d: d["tunnels"][1].update(to="n9"))))
    result = runner.invoke(app, ["mine", "check", str(bad)])
    assert result.exit_code != 0
    assert isinstance(result.exception, MineFileError)
    assert "tunnels[1].to: unknown node 'n9'" in str(result.exception)
