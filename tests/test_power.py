"""Sample sizes for the claims: the power the formula promises is the power the Wilcoxon test has, no fewer pairs
than can ever pass, and degenerate pilots."""

import math

import numpy as np
import pytest
from scipy import stats

from tumour_abm.power import effect_dz, minimum_pairs, power_at, replicates_for


def test_the_paired_t_size_matches_the_textbook_before_the_wilcoxon_correction():
    # Cohen 1988 table 2.4.1: d = 0.5, one-sided alpha 0.05, 80 % power -> 26-27 pairs for the paired t-test;
    # the signed-rank test needs about 1/(3/pi) = 1.047 times as many.
    n = replicates_for(0.5, 0.05, 0.8, cap=1000)
    assert 27 <= n <= 29
    assert power_at(0.5, n, 0.05) >= 0.8 > power_at(0.5, n - 1, 0.05)


def test_the_promised_power_is_what_the_wilcoxon_test_delivers_on_normal_differences():
    rng = np.random.default_rng(7)
    alpha, dz = 0.05 / 26, 1.0
    n = replicates_for(dz, alpha, 0.8, cap=1000)
    hits = [stats.wilcoxon(rng.normal(dz, 1.0, n), alternative="greater").pvalue < alpha for _ in range(2000)]
    assert np.mean(hits) == pytest.approx(power_at(dz, n, alpha), abs=0.04)


def test_fewer_pairs_than_can_ever_pass_have_no_power():
    alpha = 0.05 / 26
    low = minimum_pairs(alpha)
    assert 2.0 ** -low < alpha <= 2.0 ** -(low - 1)  # the smallest exact p of low pairs passes, of low - 1 not
    assert power_at(10.0, low - 1, alpha) == 0.0 and replicates_for(10.0, alpha) == low


def test_wrong_way_or_no_effect_gets_the_cap_and_degenerate_pilots_are_named():
    assert replicates_for(-0.8, 0.01, cap=40) == 40 and replicates_for(float("nan"), 0.01, cap=40) == 40
    assert replicates_for(0.1, 0.01, cap=40) == 40  # would need hundreds
    assert math.isnan(effect_dz(np.zeros(5))) and math.isnan(effect_dz(np.array([1.0])))
    assert effect_dz(np.full(4, -2.0)) == -math.inf
    assert effect_dz(np.array([1.0, 2.0, 3.0])) == pytest.approx(2.0)
