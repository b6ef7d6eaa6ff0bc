"""Tumour growth as the docs state it: the doubling of each layout and division rule, and pushing that keeps the
site maps consistent."""

import numpy as np
import pytest

from tumour_abm.model import TumourModel
from tumour_abm.scenario import Scenario
from tumour_abm.space import push_free_neighbours


def hours_to_double(layout: str, rule: str, seed: int) -> float:
    scenario = Scenario().with_updates({
        "cancer.layout": layout, "cancer.division_rule": rule, "cancer.initial_cells": 1000, "time.days": 60.0,
        "output.snapshot_days": (), "nk.initial_count": 0, "macrophage.initial_count": 0,
        "neutrophil.initial_count": 0})
    m = TumourModel(scenario, seed)
    while m.running and m.cancer.n_alive < 2000:
        m.step()
    return m.steps * m.dt_h


def net_doubling_h() -> float:
    """The doubling of cells with room: division (ln 2 / doubling_time_h) less basal death."""
    p = Scenario().cancer
    return np.log(2.0) / (np.log(2.0) / p.doubling_time_h - p.basal_death_per_d / 24.0)


@pytest.mark.parametrize("layout, rule, low, high", [
    ("scattered", "room", 0.85, 1.15),  # cells with room double at the net rate (≈ 2.3 d)
    ("disc", "push", 0.85, 1.3),        # a disc thinner than twice the push reach: close to it
    ("disc", "room", 4.0, 10.0),        # a contact-inhibited disc grows from its rim: about 15 days
])
def test_measured_doubling_of_each_layout_is_what_the_docs_say(layout, rule, low, high):
    doubling = np.median([hours_to_double(layout, rule, seed) for seed in (1, 2, 3)])
    assert low * net_doubling_h() <= doubling <= high * net_doubling_h(), doubling


def test_pushing_moves_a_chain_of_cells_outward_and_keeps_the_maps_consistent():
    # A column of five cells in a 1-wide corridor (walls: not free, not cells); the open end is at y = 6.
    row_at = np.full((3, 8), -1, dtype=np.int64)
    free = np.zeros((3, 8), dtype=bool)
    row_at[1, 1:6] = np.arange(5)
    free[1, 6] = True
    sites, moved, to = push_free_neighbours(np.array([[1, 1]]), row_at, free, reach=10,
                                            rng=np.random.default_rng(0))
    assert sites.tolist() == [[1, 2]]  # the daughter takes the mother's neighbour
    assert sorted(zip(moved.tolist(), to[:, 1].tolist())) == [(1, 3), (2, 4), (3, 5), (4, 6)]
    assert row_at[1].tolist() == [-1, 0, -1, 1, 2, 3, 4, -1] and not free.any()
    # Out of reach: no division, nothing moves.
    row_at[1, 2] = 9
    free[1, 7] = True
    sites, moved, _ = push_free_neighbours(np.array([[1, 1]]), row_at, free, reach=3, rng=np.random.default_rng(0))
    assert sites.tolist() == [[-1, -1]] and len(moved) == 0


def test_a_pushing_tumour_keeps_every_cell_on_its_own_site():
    scenario = Scenario().with_updates({"cancer.division_rule": "push", "time.days": 3.0, "output.snapshot_days": ()})
    m = TumourModel(scenario, 5)
    for _ in range(m.n_steps):
        m.step()
    rows = m.cancer.rows()
    assert (m.cancer.row_at[m.cancer.x[rows], m.cancer.y[rows]] == rows).all()
    assert (m.cancer.row_at >= 0).sum() == len(rows)
    occupied = sum(p.count() for p in m.immune) + len(rows)
    assert (~m.grid.empty.data & ~m.vessels).sum() == occupied and not (~m.grid.empty.data & m.vessels).any()
