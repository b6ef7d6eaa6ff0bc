"""Target engagement and its downstream states: the steady occupancy, exact steps, and states that lag it."""

import math

import pytest

from tumour_abm.therapy.pd import LaggedState, Xpo1Occupancy, Xpo1Params


@pytest.mark.parametrize("level", [30.0, 100.0, 1000.0])
def test_a_steady_level_binds_xpo1_as_c_over_c_plus_ec50(level):
    occupancy = Xpo1Occupancy(Xpo1Params())
    for _ in range(2000):
        occupancy.advance(level, 0.5)
    assert occupancy.value == pytest.approx(level / (level + 100.0), rel=1e-9)


def test_the_step_is_exact_whatever_dt():
    coarse, fine = Xpo1Occupancy(Xpo1Params()), Xpo1Occupancy(Xpo1Params())
    coarse.advance(800.0, 6.0)
    for _ in range(60):
        fine.advance(800.0, 0.1)
    assert coarse.value == pytest.approx(fine.value, rel=1e-12)
    state_coarse, state_fine = LaggedState(12.0), LaggedState(12.0)
    state_coarse.advance(0.7, 6.0)
    for _ in range(60):
        state_fine.advance(0.7, 0.1)
    assert state_coarse.value == pytest.approx(state_fine.value, rel=1e-12)
    assert state_coarse.value == pytest.approx(0.7 * (1.0 - math.exp(-6.0 / 12.0)))


def test_without_drug_xpo1_recovers_with_its_half_life():
    occupancy = Xpo1Occupancy(Xpo1Params(), value=0.8)
    occupancy.advance(0.0, 24.0)
    assert occupancy.value == pytest.approx(0.4)
