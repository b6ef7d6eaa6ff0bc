"""Statistics against values computed by hand on known inputs."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from tumour_abm import stats


def test_holm_adjusts_step_down_and_keeps_order():
    # Hand: sorted 0.01, 0.02, 0.04, 0.30 → ×4, ×3, ×2, ×1 = 0.04, 0.06, 0.08, 0.30 (monotone already).
    adjusted = stats.holm([0.04, 0.01, 0.30, 0.02])
    np.testing.assert_allclose(adjusted, [0.08, 0.04, 0.30, 0.06])
    # Monotonicity: a larger p never gets a smaller adjusted value; capped at 1.
    np.testing.assert_allclose(stats.holm([0.01, 0.011, 0.9]), [0.03, 0.03, 0.9])
    assert np.isnan(stats.holm([np.nan, 0.5])[0]) and stats.holm([np.nan, 0.5])[1] == 0.5


def test_paired_test_matches_hand_ranks():
    a = np.array([10.0, 12.0, 9.0, 15.0, 11.0])
    b = np.array([8.0, 12.0, 10.0, 11.0, 7.0])
    # d = 2, 0, −1, 4, 4 → zero dropped; |d| ranks 2, 1, 3.5, 3.5 → W+ = 9, W− = 1, r = (9 − 1)/10 = 0.8
    stat, p, r = stats.paired_test(a, b)
    assert r == pytest.approx(0.8)
    assert p == pytest.approx(sps.wilcoxon([2.0, -1.0, 4.0, 4.0]).pvalue)
    assert stats.paired_test(a, a) == (0.0, 1.0, 0.0)


def test_unpaired_rank_biserial_is_the_probability_of_superiority_rescaled():
    a, b = np.array([5.0, 6.0, 7.0]), np.array([1.0, 2.0, 6.0])
    # pairs (a > b): 5>1,5>2,6>1,6>2,7>1,7>2,7>6 = 7, ties 6=6 count ½ → U = 7.5; r = 2·7.5/9 − 1 = 0.667
    stat, p, r = stats.unpaired_test(a, b)
    assert stat == 7.5 and r == pytest.approx(2 * 7.5 / 9 - 1)


def test_bootstrap_ci_brackets_the_mean_and_is_reproducible():
    values = np.random.default_rng(3).normal(10, 2, 40)
    low, high = stats.bootstrap_ci(values)
    assert low < values.mean() < high
    assert (high - low) == pytest.approx(2 * 1.96 * values.std(ddof=1) / np.sqrt(40), rel=0.25)
    assert stats.bootstrap_ci(values) == (low, high)
    assert stats.bootstrap_ci(np.array([4.0, 4.0])) == (4.0, 4.0)


def test_kaplan_meier_matches_the_product_limit_by_hand():
    t, s = stats.kaplan_meier(np.array([1, 2, 3, 4, 5.0]), np.array([1, 1, 0, 1, 0], bool))
    # at 1: 4/5 = 0.8; at 2: 0.8·3/4 = 0.6; 3 censored; at 4: 0.6·1/2 = 0.3; 5 censored
    curve = dict(zip(t, s))
    assert curve[0.0] == 1.0 and curve[1.0] == pytest.approx(0.8) and curve[2.0] == pytest.approx(0.6)
    assert curve[4.0] == pytest.approx(0.3)


def test_response_rates_with_wilson_interval():
    reps = pd.DataFrame({"status": "ok", "point": 0, "arm": "a",
                         "best_response": ["CR", "PR", "PR", "SD", "PD", "PD", "PD", "SD", "PD", "PD"]})
    row = stats.response_rates(reps).iloc[0]
    assert (row["CR"], row["PR"], row["SD"], row["PD"], row["orr"]) == (1, 2, 2, 5, 0.3)
    # Wilson 95 % for 3/10, by hand: (0.3 + z²/20 ± z·sqrt(0.021 + z²/400)) / (1 + z²/10), z = 1.96
    z = 1.959964
    centre, half = (0.3 + z**2 / 20) / (1 + z**2 / 10), z * np.sqrt(0.3 * 0.7 / 10 + z**2 / 400) / (1 + z**2 / 10)
    assert row["orr_ci_low"] == pytest.approx(centre - half, abs=1e-4)
    assert row["orr_ci_high"] == pytest.approx(centre + half, abs=1e-4)


def test_confirmed_response_rate_beside_the_best():
    reps = pd.DataFrame({"status": "ok", "point": 0, "arm": "a",
                         "best_response": ["CR", "PR", "PR", "SD", "PD"],
                         "confirmed_response": ["CR", "SD", "PR", "SD", "PD"]})
    row = stats.response_rates(reps).iloc[0]
    assert row["orr"] == 0.6 and row["confirmed_orr"] == 0.4
    assert row["confirmed_orr_ci_low"] < 0.4 < row["confirmed_orr_ci_high"]


def _cox_by_hand(times, events, in_arm):
    """Breslow partial likelihood of one binary covariate, maximised over a fine grid (no ties in the data, so
    Efron's and Breslow's agree), and its curvature for the Wald interval."""
    order = np.argsort(times)
    e, x = events[order], in_arm[order]

    def loglik(beta):
        risk = np.exp(beta * x)
        at_risk = np.cumsum(risk[::-1])[::-1]  # sum over everyone still followed at each time
        return float(np.sum(e * (beta * x - np.log(at_risk))))

    grid = np.linspace(-4, 4, 80001)
    beta = grid[np.argmax([loglik(b) for b in grid])]
    h = 1e-3
    info = -(loglik(beta + h) - 2 * loglik(beta) + loglik(beta - h)) / h**2
    return beta, 1.96 / np.sqrt(info)


def test_hazard_ratio_matches_the_partial_likelihood_maximised_independently():
    rng = np.random.default_rng(4)
    arm_t, ref_t = rng.exponential(20.0, 60), rng.exponential(10.0, 60)
    arm_e, ref_e = arm_t < 30, ref_t < 30
    arm_t, ref_t = np.minimum(arm_t, 30), np.minimum(ref_t, 30)  # censored at the end of follow-up
    hr = stats.hazard_ratio(arm_t, arm_e, ref_t, ref_e)
    beta, half = _cox_by_hand(np.concatenate([arm_t, ref_t]), np.concatenate([arm_e, ref_e]).astype(float),
                              np.concatenate([np.ones(60), np.zeros(60)]))
    assert hr["hazard_ratio"] == pytest.approx(np.exp(beta), rel=1e-3)
    assert hr["hr_ci_low"] == pytest.approx(np.exp(beta - half), rel=1e-2)
    assert hr["hr_ci_high"] == pytest.approx(np.exp(beta + half), rel=1e-2)
    assert hr["hazard_ratio"] < 1  # the arm progresses more slowly
    none = stats.hazard_ratio(arm_t, np.zeros(60, bool), ref_t, ref_e)
    assert np.isnan(none["hazard_ratio"])  # no progression in one arm: no finite estimate


def test_compare_pairs_replicates_and_reports_effects():
    rows = []
    for i, (ref, arm) in enumerate([(100, 80), (120, 95), (90, 70), (110, 92), (105, 80), (98, 77)]):
        rows += [{"status": "ok", "point": 0, "point_label": "-", "arm": "ref", "replicate": i, "x": ref},
                 {"status": "ok", "point": 0, "point_label": "-", "arm": "drug", "replicate": i, "x": arm}]
    reps = pd.DataFrame(rows)
    paired = stats.compare(reps, ["x"], "ref", paired=True).iloc[0]
    assert paired["mean_difference"] == pytest.approx(-21.5)
    assert paired["rank_biserial"] == -1.0  # lower in every pair
    assert paired["p"] == pytest.approx(sps.wilcoxon([-20, -25, -20, -18, -25, -21]).pvalue)
    unpaired = stats.compare(reps, ["x"], "ref", paired=False).iloc[0]
    # Unpaired, by hand: arm values beat reference values only in 95 > 90 and 92 > 90 → U = 2 of 36 pairs.
    assert unpaired["test"] == "Mann-Whitney U" and unpaired["statistic"] == 2.0
    assert unpaired["rank_biserial"] == pytest.approx(2 * 2 / 36 - 1)
    assert unpaired["p"] == pytest.approx(sps.mannwhitneyu([80, 95, 70, 92, 80, 77], [100, 120, 90, 110, 105, 98]).pvalue)
    summary = stats.arm_stats(reps, ["x"]).set_index("arm")
    assert summary.loc["drug", "mean"] == pytest.approx(82.333, abs=1e-3)
    assert summary.loc["drug", "median"] == pytest.approx(80.0)
