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


def test_response_counts_only_what_happens_before_progression():
    # A tiny tumour grows past the progression threshold, then is cleared: best response is PD, not CR.
    s = summarise_burden(DAYS, np.array([3, 5, 2, 1, 0, 0]), 0.0, R)
    assert s["progressed"] and s["time_to_progression_d"] == 1.0
    assert s["best_response"] == "PD" and s["best_change"] == pytest.approx(2 / 3)
    assert s["eliminated"] and s["response_not_evaluable"] is None


@pytest.mark.parametrize(
    "burden, baseline_day, reason",
    [
        (np.array([100, 120, 140, 150, 200, 300]), 5.0, "before any measurement after the response baseline"),
        (np.array([100, 120, 140, 150, 200, 300]), 9.0, "before any measurement after the response baseline"),
        (np.zeros(6), 0.0, "no tumour at the response baseline"),
    ],
    ids=["ends-at-baseline", "ends-before-baseline", "no-tumour"],
)
def test_responses_without_a_baseline_are_not_evaluable(burden, baseline_day, reason):
    s = summarise_burden(DAYS, burden, baseline_day, R)
    assert s["best_response"] == "NE" and s["progressed"] is None
    assert np.isnan(s["best_change"]) and np.isnan(s["time_to_progression_d"])
    assert reason in s["response_not_evaluable"]
    # Outcomes that need no baseline are still given.
    assert s["final_tumour"] == int(burden[-1]) and s["tumour_auc_cell_days"] == pytest.approx(np.trapezoid(burden, DAYS))


def test_every_kill_column_has_a_label_in_the_browser_view():
    from tumour_abm.reporters import KILLS, TIMESERIES
    from tumour_abm.view_figures import KILL_LABELS

    assert set(KILL_LABELS) == set(KILLS) and set(KILLS) <= set(TIMESERIES)


def test_a_response_counts_as_confirmed_only_when_seen_again_four_weeks_later():
    weeks = np.arange(0, 85, 7.0)  # weekly measurements for 12 weeks
    short = np.array([100, 60, 40, 40, 45, 70, 90, 100, 110, 120, 130, 140, 150])  # PR for 3 weeks, then PD
    s = summarise_burden(weeks, short, 0.0, R)
    assert s["best_response"] == "PR" and s["confirmed_response"] == "PD"  # unconfirmed: it progressed
    assert s["time_to_response_d"] == 14.0  # the first assessment at -51 % or below (40)
    held = np.array([100, 60, 40, 40, 45, 40, 42, 45, 45, 45, 46, 47, 48])  # PR from day 14 to day 84
    assert summarise_burden(weeks, held, 0.0, R)["confirmed_response"] == "PR"
    brief_cr = np.array([100, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    assert summarise_burden(weeks, brief_cr, 0.0, R)["confirmed_response"] == "CR"
    ends_early = np.array([100, 60, 40, 40, 45])  # PR first seen on day 14, follow-up ends on day 28
    s = summarise_burden(weeks[:5], ends_early, 0.0, R)
    assert s["best_response"] == "PR" and s["confirmed_response"] == "SD"
    assert summarise_burden(weeks[:5], ends_early, 0.0, ResponseParams(confirm_after_d=14))["confirmed_response"] == "PR"


def test_scans_see_the_tumour_only_on_their_days():
    days = np.arange(0, 13, 1.0)
    # a dip below -51 % between scans (days 2-4) is not seen by scans every 6 days (days 0, 6, 12)
    burden = np.array([100, 70, 40, 40, 45, 60, 70, 80, 100, 120, 130, 140, 150])
    every_day = summarise_burden(days, burden, 0.0, R)
    scanned = summarise_burden(days, burden, 0.0, ResponseParams(assessment_every_d=6))
    assert every_day["best_response"] == "PR" and every_day["time_to_progression_d"] == 5.0
    assert scanned["best_response"] == "PD" and scanned["time_to_progression_d"] == 12.0  # 150 >= 1.44 x 70
    assert scanned["best_change"] == pytest.approx(-0.3)


def test_responded_flags_objective_responses_confirmed_or_not():
    day = np.arange(0.0, 57.0)
    shrinking, growing = 1000.0 * np.exp(-day / 20.0), 1000.0 * np.exp(day / 40.0)
    late = np.where(day < 50, 1000.0, 300.0)  # a PR seen only at the last scan: not confirmed
    scans = ResponseParams(assessment_every_d=28)
    out = [summarise_burden(day, b, 0.0, scans) for b in (shrinking, growing, late)]
    assert [o["responded"] for o in out] == [1.0, 0.0, 1.0]
    assert [o["responded_confirmed"] for o in out] == [1.0, 0.0, 0.0]
    assert np.isnan(summarise_burden(day[:1], shrinking[:1], 0.0, scans)["responded"])  # not evaluable
