"""Burden outcomes against hand-computed values."""

import numpy as np
import pytest

from tumour_abm.outcomes import summarise_burden
from tumour_abm.scenario import ResponseParams

R = ResponseParams()
DAYS = np.arange(6, dtype=float)


def test_growing_tumour_progresses_when_it_passes_the_threshold():
    burden = np.array([100, 120, 140, 150, 200, 300])
    s = summarise_burden(DAYS, burden, 0.0, R)
    assert s["best_response"] == "PD" and s["progressed"]
    assert s["time_to_progression_d"] == 3.0  # first burden >= 1.44 x nadir (100) is 150, on day 3
    assert s["final_tumour"] == 300 and s["min_tumour"] == 100 and s["nadir_day"] == 0.0
    assert s["tumour_auc_cell_days"] == pytest.approx(np.trapezoid(burden, DAYS))


def test_partial_response_then_regrowth_is_still_a_partial_response():
    burden = np.array([100, 60, 40, 45, 70, 90])
    s = summarise_burden(DAYS, burden, 0.0, R)
    assert s["best_response"] == "PR" and s["best_change"] == pytest.approx(-0.6)
    assert s["progressed"] and s["time_to_progression_d"] == 4.0  # 70 >= 1.44 x 40
    assert s["min_tumour"] == 40 and s["nadir_day"] == 2.0


def test_elimination_is_complete_response_and_censored():
    s = summarise_burden(DAYS, np.array([100, 50, 10, 0, 0, 0]), 0.0, R)
    assert s["best_response"] == "CR" and s["eliminated"] and not s["progressed"]
    assert s["time_to_progression_d"] == 5.0  # censored at the end of follow-up


def test_stable_disease_and_treatment_start():
    burden = np.array([100, 130, 120, 110, 125, 140])
    s = summarise_burden(DAYS, burden, 1.0, R)  # measured from day 1 (130)
    assert s["best_response"] == "SD" and not s["progressed"]
    assert s["time_to_progression_d"] == 4.0 and s["best_change"] == pytest.approx(110 / 130 - 1)
