"""Escape routes: around blocked stretches, never through a shaft without a cage."""

from __future__ import annotations

import numpy as np
import pytest

from minepos.mine import Mine, Span, mine_from_dict
from minepos.mine.demo import demo_mine_dict
from minepos.safety.emergency import EscapeFields, closed_shafts


def _idx(mine: Mine, tunnel: str) -> np.ndarray:
    return np.array([mine.tunnel_index[tunnel]], dtype=np.intp)


def test_route_goes_to_the_near_shaft_when_nothing_is_blocked(mine: Mine) -> None:
    esc = EscapeFields(mine)
    (route,) = esc.routes("exit", _idx(mine, "main320_1000"), np.array([250.0]))
    assert route is not None
    assert route.target == "exit_shaft1"
    assert route.length_m == pytest.approx(250 + 500 + 315, abs=1.0)
    assert [leg.tunnel for leg in route.legs] == ["main320_1000", "main320_500", "shaft1_upper"]


def test_a_fire_in_the_main_drift_sends_people_the_other_way(mine: Mine) -> None:
    esc = EscapeFields(mine, [Span("main320_500", 100, 200)])
    (route,) = esc.routes("exit", _idx(mine, "main320_1000"), np.array([250.0]))
    assert route is not None
    assert route.target == "exit_shaft2"
    assert "main320_500" not in {leg.tunnel for leg in route.legs}
    assert route.length_m == pytest.approx(250 + 500 + 250 + 450 + 400 + 517 + 315, abs=2.0)


def test_trapped_between_two_blockages_only_a_refuge_is_open(mine: Mine) -> None:
    esc = EscapeFields(mine, [Span("main320_500", 100, 200), Span("main320_2200", 0, 50)])
    i, s = _idx(mine, "main320_1000"), np.array([250.0])
    assert np.isinf(esc.distances("exit", i, s)[0])
    assert esc.routes("exit", i, s) == [None]
    (refuge,) = esc.routes("refuge", i, s)
    assert refuge is not None
    assert refuge.target == "refuge320"


def test_a_shaft_without_a_cage_is_no_way_out() -> None:
    d = demo_mine_dict(people=0)
    for t in d["tunnels"]:
        if t["id"] == "shaft2":
            t["cage"] = False
    mine = mine_from_dict(d)
    assert closed_shafts(mine)[mine.tunnel_index["shaft2"]]
    esc = EscapeFields(mine)
    (route,) = esc.routes("exit", _idx(mine, "main320_east"), np.array([500.0]))
    assert route is not None
    assert route.target == "exit_shaft1"
    assert "shaft2" not in {leg.tunnel for leg in route.legs}


def test_cached_routes_equal_a_search_per_person(mine: Mine) -> None:
    rng = np.random.default_rng(3)
    blocked = [Span("main320_1500", 200, 260), Span("main480_1200", 0, 30)]
    esc = EscapeFields(mine, blocked)
    t = rng.integers(0, len(mine.tunnels), 300)
    s = rng.uniform(0, 1, 300) * mine.network.lengths[t]
    for kind in ("exit", "refuge"):
        fast = esc.route_dicts(kind, t, s)
        dist = esc.distances(kind, t, s)
        for i in range(len(t)):
            slow = esc.fields[kind].route(int(t[i]), float(s[i]))
            if slow is None:
                assert fast[i] is None
                assert np.isinf(dist[i])
                continue
            got = fast[i]
            assert got is not None
            assert got["length_m"] == pytest.approx(slow.length_m, abs=0.06)
            assert got["length_m"] == pytest.approx(dist[i], abs=0.06)
            assert got["target"] == slow.target
            walked = sum(abs(g["to_m"] - g["from_m"]) for g in got["legs"])
            assert walked == pytest.approx(slow.length_m, abs=0.1 * len(got["legs"]) + 0.01)
            assert [g["tunnel"] for g in got["legs"]] == [g.tunnel for g in slow.legs]
