"""Geometry and graph properties: projection round-trips, metric distances, routes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minepos.mine import Mine, Place, Span

settings.register_profile("minepos", deadline=None, max_examples=150)
settings.load_profile("minepos")


def _place(mine: Mine, t: int, frac: float) -> Place:
    tunnel = mine.tunnels[t % len(mine.tunnels)]
    return Place(tunnel.id, frac * tunnel.length_m)


fractions = st.floats(min_value=0.0, max_value=1.0)
tunnel_idx = st.integers(min_value=0, max_value=10_000)


@given(t=tunnel_idx, frac=fractions)
def test_point_projects_back_to_itself(demo_mine: Mine, t: int, frac: float) -> None:
    p = _place(demo_mine, t, frac)
    xyz = demo_mine.point_at_one(p.tunnel, p.offset_m)
    ti, off, dist = demo_mine.project(xyz[None, :])
    assert dist[0] < 1e-6
    back = demo_mine.point_at(ti, off)[0]
    assert np.linalg.norm(back - xyz) < 1e-6
    # the same (tunnel, offset) unless the point is a node shared by several tunnels
    if demo_mine.tunnels[int(ti[0])].id != p.tunnel:
        # only a node, shared by the tunnels meeting there, may project onto another tunnel
        length = demo_mine.tunnels[demo_mine.tunnel_index[p.tunnel]].length_m
        assert min(p.offset_m, length - p.offset_m) < 1e-6
    else:
        assert off[0] == pytest.approx(p.offset_m, abs=1e-6)


@given(t=tunnel_idx, a=fractions, b=fractions)
def test_distance_along_one_tunnel_is_offset_difference(
    demo_mine: Mine, t: int, a: float, b: float
) -> None:
    pa, pb = _place(demo_mine, t, a), _place(demo_mine, t, b)
    d = demo_mine.distance(pa, pb)
    # never longer than walking the tunnel itself; shorter only through a loop of other tunnels
    assert d <= abs(pa.offset_m - pb.offset_m) + 1e-6
    if (
        demo_mine.tunnels[t % len(demo_mine.tunnels)].kind != "drift"
        or d < abs(pa.offset_m - pb.offset_m) - 1e-6
    ):
        return
    assert d == pytest.approx(abs(pa.offset_m - pb.offset_m), abs=1e-6)


@given(ta=tunnel_idx, fa=fractions, tb=tunnel_idx, fb=fractions, tc=tunnel_idx, fc=fractions)
def test_distances_are_a_metric(
    demo_mine: Mine, ta: int, fa: float, tb: int, fb: float, tc: int, fc: float
) -> None:
    a, b, c = _place(demo_mine, ta, fa), _place(demo_mine, tb, fb), _place(demo_mine, tc, fc)
    ab, ba = demo_mine.distance(a, b), demo_mine.distance(b, a)
    assert ab == pytest.approx(ba, abs=1e-6)
    assert ab <= demo_mine.distance(a, c) + demo_mine.distance(c, b) + 1e-6
    # never shorter than the straight line between the points
    straight = np.linalg.norm(
        demo_mine.point_at_one(a.tunnel, a.offset_m) - demo_mine.point_at_one(b.tunnel, b.offset_m)
    )
    assert ab >= straight - 1e-6


@given(ta=tunnel_idx, fa=fractions, tb=tunnel_idx, fb=fractions)
def test_route_legs_add_up_and_connect(
    demo_mine: Mine, ta: int, fa: float, tb: int, fb: float
) -> None:
    a, b = _place(demo_mine, ta, fa), _place(demo_mine, tb, fb)
    route = demo_mine.route(a, b)
    assert route is not None
    assert sum(leg.length_m for leg in route.legs) == pytest.approx(route.length_m, abs=1e-6)
    pts = [demo_mine.point_at_one(leg.tunnel, leg.from_m) for leg in route.legs]
    ends = [demo_mine.point_at_one(leg.tunnel, leg.to_m) for leg in route.legs]
    for end, start in zip(ends, pts[1:], strict=False):
        assert np.linalg.norm(end - start) < 1e-6  # each leg starts where the previous ended
    if route.legs:
        assert np.linalg.norm(pts[0] - demo_mine.point_at_one(a.tunnel, a.offset_m)) < 1e-6
        assert np.linalg.norm(ends[-1] - demo_mine.point_at_one(b.tunnel, b.offset_m)) < 1e-6


def test_projection_of_off_axis_points(demo_mine: Mine) -> None:
    rng = np.random.default_rng(3)
    t = rng.integers(0, len(demo_mine.tunnels), 500)
    off = rng.uniform(0, 1, 500) * demo_mine.geometry.lengths[t]
    base = demo_mine.point_at(t, off)
    noisy = base + rng.normal(0, 1.0, base.shape)
    _, _, dist = demo_mine.project(noisy)
    # exact nearest point: no segment of the network is nearer than the one found
    g = demo_mine.geometry
    for k in range(0, 500, 50):
        p = noisy[k]
        along = np.clip(np.einsum("ij,ij->i", p - g.seg_a, g.seg_dir), 0, g.seg_len)
        d_all = np.linalg.norm(p - (g.seg_a + g.seg_dir * along[:, None]), axis=1).min()
        assert dist[k] == pytest.approx(d_all, abs=1e-9)
    assert np.all(dist <= np.linalg.norm(noisy - base, axis=1) + 1e-9)


def test_zones_and_levels(demo_mine: Mine) -> None:
    assert demo_mine.zones_at("face42", 100) == ["lw42"]
    assert "goaf_old" in demo_mine.zones_at("old_workings", 300)
    assert demo_mine.zones_at("main480_600", 300) == []
    assert demo_mine.level_at("face42", 100) == "h320"
    assert demo_mine.level_at("main480_600", 10) == "h480"
    assert demo_mine.level_at("surface_walk", 10) == "surface"
    mask = demo_mine.zone_mask(np.array([demo_mine.tunnel_index["surface_walk"]]), np.array([10.0]))
    ids = {demo_mine.zones[k].id for k in np.flatnonzero(mask[0])}
    assert ids == {"lamp_room", "exit_shaft1"}


def test_junction_lists_meeting_tunnels(demo_mine: Mine) -> None:
    assert sorted(demo_mine.junction("s1_320")) == sorted(
        [
            ("shaft1_upper", "to"),
            ("shaft1_lower", "from"),
            ("main320_500", "from"),
            ("main320_west", "from"),
        ]
    )


def test_nearest_exit_and_refuge(demo_mine: Mine) -> None:
    face = Place("face42", 125)
    refuge = demo_mine.nearest(face, "refuge")
    assert refuge is not None and refuge.target == "refuge42"
    out = demo_mine.nearest(face, "exit")
    assert out is not None and out.target in {"exit_shaft1", "exit_shaft2"}
    assert out.length_m > refuge.length_m


def test_blocked_tunnel_changes_route(demo_mine: Mine) -> None:
    face = Place("face42", 10)  # near the head gate
    free = demo_mine.nearest(face, "refuge")
    assert free is not None and free.target == "refuge42"
    blocked = (Span("headgate42", 300, 320),)
    around = demo_mine.nearest(face, "refuge", blocked)
    assert around is not None
    assert all(
        leg.tunnel != "headgate42"
        or max(leg.from_m, leg.to_m) <= 300
        or min(leg.from_m, leg.to_m) >= 320
        for leg in around.legs
    )
    assert around.length_m > free.length_m


def test_cut_off_place_has_no_route(demo_mine: Mine) -> None:
    # the old workings are a dead end: block their only way out
    blocked = (Span("old_workings", 10, 20),)
    assert demo_mine.nearest(Place("old_workings", 600), "exit", blocked) is None
    assert demo_mine.nearest(Place("old_workings", 5), "exit", blocked) is not None


def test_vectorised_distances_match_routes(demo_mine: Mine) -> None:
    rng = np.random.default_rng(5)
    t = rng.integers(0, len(demo_mine.tunnels), 300)
    off = rng.uniform(0, 1, 300) * demo_mine.geometry.lengths[t]
    blocked = (
        Span("main320_1000", 100, 120),
        Span("tailgate42", 500, 505),
        Span("shaft1_lower", 10, 20),
    )
    for kind in ("exit", "refuge"):
        for blk in ((), blocked):
            field = demo_mine.field_to(kind, blk)
            d = field.distances(t, off)
            for k in range(300):
                route = field.route(int(t[k]), float(off[k]))
                if route is None:
                    assert np.isinf(d[k])
                else:
                    assert d[k] == pytest.approx(route.length_m, abs=1e-6)
