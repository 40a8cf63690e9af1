"""Anchor layouts for what-if runs."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from minepos.errors import InputError
from minepos.mine import mine_from_dict
from minepos.mine.demo import demo_mine_dict
from minepos.sim import Simulation
from minepos.sim.batch import RANGE
from minepos.sim.coverage import Coverage
from minepos.sim.layout import place_anchors

from .conftest import underground


def test_denser_uwb_layout_means_more_anchors_and_more_ranges_per_tag() -> None:
    base = demo_mine_dict(people=100)
    sparse = mine_from_dict(place_anchors(base, uwb_spacing_m=240))
    dense = mine_from_dict(place_anchors(base, uwb_spacing_m=60))
    n_sparse = Counter(a.tech for a in sparse.anchors)["uwb"]
    n_dense = Counter(a.tech for a in dense.anchors)["uwb"]
    assert n_dense > 3 * n_sparse
    per_tag, covered = [], []
    for mine in (sparse, dense):
        sim = Simulation(mine, underground(people=100, minutes=1.0), seed=1)
        cov = Coverage(mine, len(sim.people))
        n_range = n_truth = 0
        for tick in sim.run():
            cov.add(tick)
            n_range += int((tick.measurements.kind == RANGE).sum())
            n_truth += len(tick.truth)
        per_tag.append(n_range / n_truth)
        covered.append(cov.to_dict()["uwb_2_or_more"])
    assert per_tag[1] > 1.5 * per_tag[0]
    assert covered[1] > covered[0]
    assert covered[1] > 0.9


def test_layout_keeps_the_lamp_room_reader_and_puts_rfid_in_shafts() -> None:
    mine = mine_from_dict(
        place_anchors(demo_mine_dict(people=5), uwb_spacing_m=None, ble_spacing_m=40)
    )
    techs = Counter(a.tech for a in mine.anchors)
    assert techs["uwb"] == 0
    assert techs["ble"] > 300
    assert "r_lamp_room" in mine.anchor_index
    shafts = {t.id for t in mine.tunnels if t.kind == "shaft"}
    assert {a.tunnel for a in mine.anchors if a.tech == "rfid"} >= shafts
    offsets = np.sort([a.offset_m for a in mine.anchors if a.tunnel == "main320_500"])
    length = mine.tunnels[mine.tunnel_index["main320_500"]].length_m
    step = length / round(length / 40)
    assert np.diff(offsets) == pytest.approx(np.full(len(offsets) - 1, step), abs=0.02)
    assert offsets[0] == pytest.approx(step / 2, abs=0.01)


def test_bad_spacing_is_refused() -> None:
    with pytest.raises(InputError, match="uwb_spacing_m"):
        place_anchors(demo_mine_dict(people=1), uwb_spacing_m=0)
