"""The shared rule forms: Hill signals, drug effects, rate → per-step probability."""

import numpy as np
import pytest

from tumour_abm.rules import drug_effect, hill, modulate, per_step_probability


def test_per_step_probability_is_exponential_waiting_time():
    assert per_step_probability(0.0, 0.5) == 0.0
    assert per_step_probability(np.log(2), 1.0) == pytest.approx(0.5)
    # Two half steps give the same chance as one full step: results do not depend on dt.
    p_half = per_step_probability(0.3, 0.25)
    assert 1 - (1 - p_half) ** 2 == pytest.approx(per_step_probability(0.3, 0.5))


def test_per_step_probability_matches_simulated_event_times():
    rng = np.random.default_rng(0)
    rate, dt = 0.2, 0.5
    n_steps_until_event = rng.geometric(per_step_probability(rate, dt), size=200_000)
    mean_time = (n_steps_until_event * dt).mean()
    # Discrete steps make the event time at most one step late on average.
    assert 1 / rate <= mean_time <= 1 / rate + dt


def test_hill_and_drug_effect():
    assert hill(0.0, 1.0) == 0.0
    assert hill(2.0, 2.0, 3.0) == pytest.approx(0.5)
    assert drug_effect(100.0, 100.0, 1.5) == pytest.approx(0.5)
    assert drug_effect(1000.0, 100.0, 1.5) > 0.95
    assert hill(-1.0, 1.0) == 0.0  # a negative signal is no signal


def test_modulate_follows_the_rule_form():
    assert modulate(1.0, up_to=3.0, up_signal=0.5) == pytest.approx(2.0)
    assert modulate(1.0, down_to=0.0, down_signal=0.25) == pytest.approx(0.75)
    assert modulate(1.0, up_to=3.0, up_signal=1.0, down_to=0.0, down_signal=0.5) == pytest.approx(1.5)
