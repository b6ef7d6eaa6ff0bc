"""Adoptive cells in the blood (CAR-T, NK): the step's exact solution against an independent integration and the
closed form, the course a dose gives in a run against the published window, egress from the section, and the dose
route's scenario keys."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from tumour_abm.config_files import ConfigError
from tumour_abm.host.blood import BloodParams, BloodPool
from tumour_abm.runner import run
from tumour_abm.scenario import Scenario

DT_H = 0.5


def stimulus_at(t_d: float) -> float:
    """A relative antigen burden that falls as a tumour is killed, then regrows."""
    return 1.0 if t_d < 6 else max(0.02, math.exp(-(t_d - 6) / 2.0)) + 0.01 * max(0.0, t_d - 15)


def test_each_step_is_the_exact_solution_of_the_blood_odes():
    """Stepped with the antigen held over each step, the pool equals scipy's integration of the same equations
    (a different, adaptive method) to 1e-6 of its values, over the lag, the expansion and the contraction."""
    blood = BloodParams()
    pool = BloodPool(blood.car_t, blood)
    pool.infuse(2e6, now_h=0.0)
    p = blood.car_t
    rho, alpha = math.log(2) / p.expansion_doubling_d, math.log(2) / p.contraction_half_life_d
    beta, f = math.log(2) / p.memory_half_life_d, p.memory_fraction
    e0 = pool.effector
    steps = int(40 * 24 / DT_H)
    held = [pool.stimulus(stimulus_at(i * DT_H / 24.0)) for i in range(steps)]
    values = []
    for i in range(steps):
        pool.advance(i * DT_H, DT_H, stimulus_at(i * DT_H / 24.0))
        values.append((pool.effector, pool.memory))

    def rhs(t, y):
        s = held[min(int(t * 24 / DT_H), steps - 1)]
        expanding = p.expansion_lag_d <= t <= p.time_to_peak_d
        leaving = alpha * ((1 - s) if expanding else 1.0)
        growth = rho * s if expanding else 0.0
        return [(growth - leaving) * y[0], f * leaving * y[0] - beta * y[1]]

    # Integrate piece by piece between step ends and phase ends, where the right-hand side jumps.
    ends = sorted({*(np.arange(1, steps + 1) * DT_H / 24.0), p.expansion_lag_d, p.time_to_peak_d})
    y, t, reference = [e0, 0.0], 0.0, {}
    for end in ends:
        y = solve_ivp(rhs, (t, end), y, rtol=1e-11, atol=1e-14, method="DOP853").y[:, -1]
        t = end
        reference[round(end * 24 / DT_H, 6)] = y
    for i, (e, m) in enumerate(values):
        want = reference[float(i + 1)]
        assert e == pytest.approx(want[0], rel=1e-6) and m == pytest.approx(want[1], rel=1e-6, abs=1e-12)


def stepped_course(pool, start_h, days, stimulus, impairment=0.0):
    """The pool stepped from `start_h` for `days`: (days at the end of each step, cells/µL then)."""
    course = []
    for i in range(int(days * 24 / DT_H)):
        pool.advance(start_h + i * DT_H, DT_H, stimulus, impairment)
        course.append(pool.per_ul)
    return (np.arange(len(course)) + 1) * DT_H / 24.0, np.array(course)


def closed_form_course(e0, p, t, rho):
    """E(t) = E0·e^{−α·min(t, lag)}·e^{ρ·(min(t, Tmax) − lag)⁺}·e^{−α·(t − Tmax)⁺} with α from the contraction
    half-life, for a pool without memory cells."""
    alpha, lag, tmax = math.log(2) / p.contraction_half_life_d, p.expansion_lag_d, p.time_to_peak_d
    return e0 * np.exp(-alpha * np.minimum(t, lag) + rho * np.clip(t - lag, 0, tmax - lag)
                       - alpha * np.maximum(t - tmax, 0))


@pytest.mark.parametrize("impairment", [0.0, 0.5])
def test_full_stimulus_gives_the_closed_form_course(impairment):
    """With antigen to spare, the effectors fall over the lag, expand until Tmax, then contract:
    E(t) = E0·e^{−α·lag}·e^{ρ·(1 − I)·(Tmax − lag)}·e^{−α·(t − Tmax)}, the peak at Tmax; selinexor's impairment I of
    proliferation slows the expansion."""
    blood = BloodParams().model_copy(update={"car_t": BloodParams().car_t.model_copy(
        update={"antigen_half_max": 1e-12, "memory_fraction": 0.0})})
    p = blood.car_t
    pool = BloodPool(blood.car_t, blood)
    pool.infuse(1e6, now_h=12.0)
    e0 = pool.effector
    assert e0 == pytest.approx(1e6 * blood.body_weight_kg * p.blood_fraction_at_infusion / (blood.volume_l * 1e6))
    rho = math.log(2) / p.expansion_doubling_d * (1 - impairment)
    t, course = stepped_course(pool, 12.0, 30, 1.0, impairment)
    assert np.allclose(course, closed_form_course(e0, p, t, rho), rtol=1e-9)
    assert t[int(np.argmax(course))] == pytest.approx(p.time_to_peak_d, abs=DT_H / 24.0)
    assert pool.doublings == pytest.approx(rho * (p.time_to_peak_d - p.expansion_lag_d) / math.log(2), rel=1e-9)


def test_a_dose_into_the_blood_peaks_and_contracts_in_the_clinical_window():
    """An axi-cel dose (2e6/kg) into a default section's patient: the blood level peaks on day 7-14 at 10-70
    cells/µL and falls below 40 % of its peak by day 28 (ZUMA-1: median peaks 12-66 cells/µL by response group at
    5 years, Neelapu 2023; day 7 27.5, day 28 2.1 cells/µL, Kimmel 2021; liso-cel Tmax 9.3 d); cells home into the
    section only from the blood."""
    scenario = Scenario().with_updates({"therapy.car_t": {"day": 0, "dose_per_kg": 2e6}, "time.days": 28})
    result = run(scenario, 3)
    s, ts = result.summary, result.timeseries
    assert 7 <= s["blood_car_t_peak_day"] <= 14
    assert 10 <= s["blood_car_t_peak_per_ul"] <= 70
    assert ts["blood_car_t_per_ul"].iloc[-1] < 0.4 * s["blood_car_t_peak_per_ul"]
    assert s["car_t_homed"] > 0 and ts["car_t_total"].iloc[0] == 0 and ts["car_t_total"].max() > 0
    assert s["blood_car_t_auc_28d"] > 0
    assert "into the blood" in result.events["detail"].iloc[0]


def test_without_antigen_the_blood_level_only_contracts():
    """No antigen left (e.g. a tumour cleared, or antigen-negative): nothing drives the expansion programme."""
    pool = BloodPool(BloodParams().car_t, BloodParams())
    pool.infuse(2e6, now_h=0.0)
    levels = [pool.per_ul]
    for i in range(int(20 * 24 / DT_H)):
        pool.advance(i * DT_H, DT_H, 0.0)
        levels.append(pool.per_ul)
    assert all(b < a for a, b in zip(levels, levels[1:])) and pool.doublings == 0


def test_lymphodepletion_raises_the_expansion():
    def peak(lymphodepleted: bool) -> float:
        sc = Scenario().with_updates({"therapy.car_t": {"day": 0, "dose_per_kg": 2e6}, "time.days": 14,
                                      "output.snapshot_days": [], "blood.car_t.lymphodepleted": lymphodepleted})
        return run(sc, 2).summary["blood_car_t_peak_per_ul"]

    assert peak(True) > 3 * peak(False)


def test_a_run_without_a_dose_into_the_blood_reports_no_blood_course():
    result = run(Scenario().with_updates({"time.days": 1, "output.snapshot_days": []}), 1)
    s, ts = result.summary, result.timeseries
    assert s["blood_car_t_peak_per_ul"] == 0 and math.isnan(s["blood_car_t_peak_day"]) and s["car_t_homed"] == 0
    assert (ts["blood_car_t_per_ul"] == 0).all()
    baseline = Scenario().neutrophil.marrow.baseline_anc_1e9_per_l
    assert np.allclose(ts["blood_anc_1e9_per_l"], ts["blood_anc_relative"] * baseline)


@pytest.mark.parametrize("product", ["car_t", "nk_cells"])
def test_count_and_dose_per_kg_together_are_a_clear_error(product):
    with pytest.raises(ConfigError) as err:
        Scenario().with_updates({f"therapy.{product}": {"day": 0, "count": 10, "dose_per_kg": 2e6}})
    message = str(err.value)
    assert f"therapy.{product}" in message and "count" in message and "dose_per_kg" in message
    assert "not both" in message


def test_a_dose_route_scenario_takes_updates_as_any_other():
    # Batches, sweeps and cohorts update scenarios by dumping and validating them again: the dose route must
    # survive that, and a course naming neither route places the default count in the section.
    dosed = Scenario().with_updates({"therapy.car_t": {"day": 0, "dose_per_kg": 2e6}})
    again = dosed.with_updates({"time.days": 7, "output.snapshot_days": []})
    assert again.therapy.car_t[0].dose_per_kg == 2e6 and again.therapy.car_t[0].count is None
    plain = Scenario().with_updates({"therapy.car_t": {"day": 0}})
    assert plain.therapy.car_t[0].count == 10 and not plain.therapy.car_t[0].into_blood
    nk = Scenario().with_updates({"therapy.nk_cells": {"day": 0, "dose_per_kg": 1e7}}).with_updates(
        {"time.days": 7, "output.snapshot_days": []})
    assert nk.therapy.nk_cells[0].dose_per_kg == 1e7 and nk.therapy.nk_cells[0].into_blood
    assert Scenario().with_updates({"therapy.nk_cells": {"day": 0}}).therapy.nk_cells[0].count == 50


def nk_blood(**kinetics) -> BloodParams:
    blood = BloodParams()
    return blood.model_copy(update={"nk": blood.nk.model_copy(update=kinetics)})


def test_nk_cells_in_the_blood_follow_the_closed_form_without_antigen():
    """NK expansion is driven by cytokines, not antigen (s = 1 whatever the tumour holds): without a memory pool,
    E(t) = E0·e^{−α·lag}·e^{ρ·(Tmax − lag)}·e^{−α·(t − Tmax)}, the peak at Tmax."""
    blood = nk_blood(memory_fraction=0.0)
    p = blood.nk
    pool = BloodPool(p, blood)
    pool.infuse(2e7, now_h=0.0)
    e0 = pool.effector
    t, course = stepped_course(pool, 0.0, 40, None)
    assert np.allclose(course, closed_form_course(e0, p, t, math.log(2) / p.expansion_doubling_d), rtol=1e-9)
    assert t[int(np.argmax(course))] == pytest.approx(p.time_to_peak_d, abs=DT_H / 24.0)


def test_a_persisting_nk_memory_pool_matches_an_independent_integration():
    """Memory-like NK cells (memory_fraction > 0): the stepped pool against scipy's integration of
    dE/dt = (ρ·[lag ≤ t ≤ Tmax] − α·[outside])·E, dM/dt = f·α·E·[outside] − β·M."""
    blood = nk_blood(memory_fraction=0.05)
    p = blood.nk
    pool = BloodPool(p, blood)
    pool.infuse(1e7, now_h=0.0)
    y0 = [pool.effector, 0.0]
    steps = int(60 * 24 / DT_H)
    for i in range(steps):
        pool.advance(i * DT_H, DT_H, None)
    rho, alpha = math.log(2) / p.expansion_doubling_d, math.log(2) / p.contraction_half_life_d
    beta, f = math.log(2) / p.memory_half_life_d, p.memory_fraction

    def rhs(t, y):
        expanding = p.expansion_lag_d <= t <= p.time_to_peak_d
        leaving = 0.0 if expanding else alpha
        return [((rho if expanding else 0.0) - leaving) * y[0], f * leaving * y[0] - beta * y[1]]

    y, t = y0, 0.0
    for end in (p.expansion_lag_d, p.time_to_peak_d, steps * DT_H / 24.0):
        y = solve_ivp(rhs, (t, end), y, rtol=1e-11, atol=1e-14, method="DOP853").y[:, -1]
        t = end
    assert pool.effector == pytest.approx(y[0], rel=1e-6) and pool.memory == pytest.approx(y[1], rel=1e-6)
    assert pool.memory > pool.effector  # two months on, the persisting cells are most of what is left


def test_an_nk_dose_into_the_blood_expands_and_homes_into_the_section():
    """Haploidentical NK cells after Cy/Flu (2e7/kg): the blood level peaks on day 14 at the order of the 1,000
    cells/µL of Bachanova 2014's expanding patients and contracts after; NK cells reach the section only from the
    blood, carrying the product's NKG2A+ fraction (here all positive; IL-10 only turns cells positive)."""
    scenario = Scenario().with_updates({"therapy.nk_cells": {"day": 0, "dose_per_kg": 2e7,
                                                             "nkg2a_positive_fraction": 1.0},
                                        "time.days": 28, "output.snapshot_days": []})
    result = run(scenario, 4)
    s, ts = result.summary, result.timeseries
    assert 13 <= s["blood_nk_peak_day"] <= 15 and 300 <= s["blood_nk_peak_per_ul"] <= 3000
    assert ts["blood_nk_per_ul"].iloc[-1] < 0.5 * s["blood_nk_peak_per_ul"]
    assert ts["nk_total"].iloc[0] == 0 and s["nk_homed"] > 0 and ts["nk_total"].max() > 0
    assert (ts["nk_nkg2a_pos"] == ts["nk_total"]).all()
    assert s["blood_car_t_peak_per_ul"] == 0 and s["car_t_homed"] == 0
    without = run(scenario.with_updates({"blood.nk.lymphodepleted": False}), 4).summary
    assert without["blood_nk_peak_per_ul"] < 0.1 * s["blood_nk_peak_per_ul"]


def test_cells_leave_the_section_for_the_blood_only_when_egress_is_on():
    """CAR-T cells placed in the section: with egress, cells on vessel-side sites leave and are counted in the blood
    (one cell in 5 L, then contracting); without it (the default) none leave and the blood stays empty."""
    base = Scenario().with_updates({"therapy.car_t": {"day": 0, "count": 200}, "time.days": 4,
                                    "output.snapshot_days": []})
    off = run(base, 5)
    assert off.summary["car_t_egressed"] == 0 and (off.timeseries["blood_car_t_per_ul"] == 0).all()
    on = run(base.with_updates({"blood.car_t.egress_per_d": 2.0}), 5)
    left = on.summary["car_t_egressed"]
    assert left > 0
    level = on.timeseries["blood_car_t_per_ul"]
    assert 0 < level.max() <= left / (BloodParams().volume_l * 1e6) + 1e-15
    assert on.timeseries["car_t_total"].iloc[1] < off.timeseries["car_t_total"].iloc[1]
