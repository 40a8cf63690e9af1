"""Link tables: cells stay on their tunnel; link classes follow the geometry."""

from __future__ import annotations

import numpy as np

from minepos.mine import Mine
from minepos.sim.radio import CELL_M, CORNER, JUNCTION, LOS, _cells, build_link_table, cell_of


def test_every_place_maps_to_a_cell_centre_next_to_it(demo_mine: Mine) -> None:
    t = np.repeat(np.arange(len(demo_mine.tunnels)), 3)
    lengths = demo_mine.geometry.lengths[t]
    offsets = np.tile([0.0, 0.5, 1.0], len(demo_mine.tunnels)) * lengths
    c_tunnel, _, c_xyz = _cells(demo_mine)
    cells = cell_of(demo_mine, t, offsets)
    assert (c_tunnel[cells] == t).all()
    d = np.linalg.norm(c_xyz[cells] - demo_mine.point_at(t, offsets), axis=1)
    assert d.max() <= CELL_M


def test_link_classes_on_a_straight_drift_and_round_a_corner(demo_mine: Mine) -> None:
    reach = dict.fromkeys(range(len(demo_mine.anchors)), 130.0)
    tab = build_link_table(demo_mine, "uwb", reach, 2.5)
    a = int(np.flatnonzero(tab.anchors == demo_mine.anchor_index["u_headgate42_outby_0"])[0])
    c_tunnel, c_off, _ = _cells(demo_mine)
    cell = np.repeat(np.arange(len(tab.ptr) - 1), np.diff(tab.ptr))
    mine_links = tab.anchor == a
    own = demo_mine.tunnel_index["headgate42_outby"]
    main = demo_mine.tunnel_index["main320_1500"]
    on_own = mine_links & (c_tunnel[cell] == own)
    assert (tab.link_class[on_own] == LOS).all()
    # the anchor sits 55 m up a side road at right angles to the main drift: past the
    # junction mouth there is no direct path; right at the mouth the line of sight holds
    on_main = mine_links & (c_tunnel[cell] == main)
    from_mouth = np.abs(c_off[cell] - demo_mine.geometry.lengths[main])
    assert on_main.sum() > 20
    assert (tab.link_class[on_main & (from_mouth > 10.0)] == CORNER).all()
    assert (tab.link_class[on_main & (from_mouth < 1.5)] == JUNCTION).all()
    assert (tab.path_m[mine_links] <= 130.0).all()
