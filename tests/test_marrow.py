"""The marrow (Friberg) model of the blood neutrophil count: steady state, the analytic equilibrium under a constant
drug level, the maturation delay, the step's accuracy, and CTCAE grading."""

import numpy as np
import pytest

from tumour_abm.host.marrow import MarrowParams, _friberg_rk4, relative_anc
from tumour_abm.outcomes import neutropenia_grade
from tumour_abm.therapy.pk import DoseSeries, PKParams

DT_H = 0.5


def constant(level_nM):
    return lambda t: np.full(np.shape(t), level_nM, dtype=np.float64)


def test_without_drug_the_count_stays_at_baseline():
    assert np.array_equal(relative_anc(MarrowParams(), constant(0.0), 500, DT_H), np.ones(501))
    # The integrator itself, from the steady state with no drug effect, stays there (not only the no-drug short-cut).
    p = MarrowParams()
    k = (p.transit_compartments + 1) / p.mean_transit_time_h
    count = _friberg_rk4(np.zeros(2 * 1000 + 1), k, p.feedback_gamma, p.transit_compartments + 2, 0.125)
    np.testing.assert_allclose(count, 1.0, rtol=0, atol=1e-12)


def test_a_constant_level_settles_where_the_feedback_balances_the_inhibition():
    p = MarrowParams()
    level = 300.0
    effect = p.drug_max_inhibition * level / (p.drug_ec50_nM + level)
    anc = relative_anc(p, constant(level), int(120 * 24 / DT_H), DT_H)  # 120 days
    # dP/dt = 0 needs (1 − E)·N^−γ = 1
    assert anc[-1] == pytest.approx((1.0 - effect) ** (1.0 / p.feedback_gamma), rel=1e-3)


def test_the_nadir_of_one_dose_comes_after_the_maturation_delay():
    p = MarrowParams()
    one = DoseSeries(np.array([0.0]), np.array([80.0]), PKParams())
    anc = relative_anc(p, one.nM, int(30 * 24 / DT_H), DT_H)
    nadir_h = np.argmin(anc) * DT_H
    assert anc.min() < 1.0
    assert p.mean_transit_time_h < nadir_h < 3 * p.mean_transit_time_h
    assert anc[int(24 / DT_H)] > 0.99  # a day after the dose the blood count has hardly moved


def test_the_step_is_converged_at_the_models_dt():
    doses = DoseSeries(np.array([0.0, 48.0, 168.0, 216.0]), np.full(4, 60.0), PKParams())
    coarse = relative_anc(MarrowParams(), doses.nM, int(21 * 24 / DT_H), DT_H)
    fine = relative_anc(MarrowParams(), doses.nM, int(21 * 24 / (DT_H / 4)), DT_H / 4)
    np.testing.assert_allclose(coarse, fine[::4], atol=1e-5)


@pytest.mark.parametrize("anc, grade", [(4.0, 0), (2.0, 0), (1.99, 1), (1.5, 1), (1.49, 2), (1.0, 2), (0.99, 3),
                                        (0.5, 3), (0.49, 4)])
def test_ctcae_grades(anc, grade):
    assert neutropenia_grade(anc, lower_limit=2.0) == grade
