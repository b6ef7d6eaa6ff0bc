"""Equivalence hypotheses (`expected: equivalent`): two one-sided tests against ± a margin of the versus arm's mean."""

import numpy as np
import pytest
from pydantic import ValidationError

from tumour_abm.batchfile import HypothesisParams
from tumour_abm.claims import FAIL, PASS, UNDER_POWERED, equivalence_margin, signed_differences, verdict
from tumour_abm.claims import test_hypothesis as tost_or_one_sided
from tumour_abm.power import effect_dz

H = {"id": "X", "outcome": "final_tumour", "arm": "a", "versus": "b", "expected": "equivalent", "margin": 0.2}


def test_equal_arms_are_equivalent_and_shifted_ones_are_not():
    rng = np.random.default_rng(1)
    y = 100 + rng.normal(0, 5, 40)
    margin = equivalence_margin(H, y)
    assert margin == pytest.approx(0.2 * y.mean())
    same = y + rng.normal(0, 3, 40)
    result = tost_or_one_sided(same, y, same - y, "equivalent", margin)
    assert result["p"] < 1e-6 and verdict(result["p"], result["effect"], "equivalent", 0.9, margin) == PASS
    shifted = y * 1.3 + rng.normal(0, 3, 40)  # 30 % more: outside a 20 % margin
    result = tost_or_one_sided(shifted, y, shifted - y, "equivalent", margin)
    assert result["p"] > 0.5 and verdict(result["p"], result["effect"], "equivalent", 0.9, margin) == FAIL


def test_too_few_pairs_inside_the_margin_are_under_powered_and_the_pilot_sizes_the_binding_side():
    y, d = np.full(3, 100.0), np.array([5.0, -4.0, 12.0])
    result = tost_or_one_sided(y + d, y, d, "equivalent", 20.0)
    assert verdict(min(1.0, result["p"] * 5), result["effect"], "equivalent", 0.3, 20.0) == UNDER_POWERED
    dz = effect_dz(signed_differences(H, y, d))  # the upper side binds: (20 − mean d) / sd
    assert dz == pytest.approx((20 - d.mean()) / d.std(ddof=1))


@pytest.mark.parametrize("fields, message", [
    ({"expected": "equivalent"}, "needs a margin"),
    ({"expected": "less", "margin": 0.1}, "needs a margin"),
    ({"expected": "equivalent", "margin": 0.2, "versus": None, "value": 3.0}, "compares an arm with a versus arm"),
])
def test_an_equivalence_needs_its_margin_and_a_versus_arm(fields, message):
    with pytest.raises(ValidationError) as err:
        HypothesisParams.model_validate({**H, "margin": None, **fields})
    assert message in str(err.value)
