"""Selinexor pharmacokinetics against the label (biology.md), and dose superposition."""

import numpy as np
import pytest

from tumour_abm.therapy.pk import DoseSeries, PKParams, exposure, single_dose_metrics

LABEL_80MG = {"cmax_ng_per_ml": 680.0, "auc_ng_h_per_ml": 5386.0, "cl_l_per_h": 17.9, "v_l": 125.0}  # label


def test_80_mg_single_dose_matches_the_label():
    pk = PKParams()
    m = single_dose_metrics(80.0, pk)
    assert m["cmax_ng_per_ml"] == pytest.approx(LABEL_80MG["cmax_ng_per_ml"], rel=0.10)
    assert m["auc_ng_h_per_ml"] == pytest.approx(LABEL_80MG["auc_ng_h_per_ml"], rel=0.10)
    assert 2.0 <= m["tmax_h"] <= 4.0  # label: Tmax 2-4 h
    assert 6.0 <= m["terminal_half_life_h"] <= 8.0  # label: mean half-life 6-8 h
    assert pk.cl_l_per_h == pytest.approx(LABEL_80MG["cl_l_per_h"], rel=0.10)
    assert pk.vc_l + pk.vp_l == pytest.approx(LABEL_80MG["v_l"], rel=0.10)
    assert m["cmax_nM"] == pytest.approx(m["cmax_ng_per_ml"] * 2.256, rel=1e-3)  # 1 ng/mL = 2.256 nM


def test_terminal_half_life_is_what_the_curve_shows():
    one = DoseSeries(np.array([0.0]), np.array([80.0]), PKParams())
    late = one.ng_per_ml(np.array([48.0, 72.0]))  # long after absorption and distribution
    assert 24.0 * np.log(2.0) / np.log(late[0] / late[1]) == pytest.approx(PKParams().terminal_half_life_h, rel=1e-3)


def test_no_accumulation_on_the_labelled_twice_weekly_schedule():
    pk = PKParams()
    weeks = 4
    times = np.sort(np.concatenate([np.array([0.0, 48.0]) + 168.0 * w for w in range(weeks)]))
    doses = DoseSeries(times, np.full(len(times), 80.0), pk)
    first = single_dose_metrics(80.0, pk)["cmax_ng_per_ml"]
    t = np.arange(times[-1], times[-1] + 12.0, 0.01)
    assert doses.ng_per_ml(t).max() == pytest.approx(first, rel=0.02)  # label: no relevant accumulation


def test_a_degenerate_absorption_rate_gives_a_finite_curve():
    pk = PKParams()
    _, _, beta = pk.rates_per_h()
    same = pk.model_copy(update={"ka_per_h": beta})
    c = DoseSeries(np.array([0.0]), np.array([80.0]), same).ng_per_ml(np.linspace(0.0, 96.0, 200))
    near = DoseSeries(np.array([0.0]), np.array([80.0]), pk.model_copy(update={"ka_per_h": beta * 1.001}))
    assert np.all(np.isfinite(c))
    np.testing.assert_allclose(c, near.ng_per_ml(np.linspace(0.0, 96.0, 200)), rtol=5e-3, atol=1e-6)


def test_curve_peaks_where_the_closed_form_says_and_integrates_to_the_auc():
    pk = PKParams()
    one = DoseSeries(np.array([0.0]), np.array([80.0]), pk)
    t = np.arange(0.0, 200.0, 0.005)
    c = one.ng_per_ml(t)
    assert t[np.argmax(c)] == pytest.approx(single_dose_metrics(80.0, pk)["tmax_h"], abs=0.01)
    assert np.trapezoid(c, t) == pytest.approx(80e3 / pk.cl_l_per_h, rel=1e-3)
    assert one.ng_per_ml(-1.0) == 0.0  # nothing before the dose
    assert one.ng_per_ml(pk.lag_h) == 0.0  # nor during the absorption lag


def test_doses_superpose_linearly_and_scale_with_dose():
    pk = PKParams()
    t = np.linspace(0, 120, 500)
    both = DoseSeries(np.array([0.0, 48.0]), np.array([60.0, 40.0]), pk).nM(t)
    first = DoseSeries(np.array([0.0]), np.array([60.0]), pk).nM(t)
    second = DoseSeries(np.array([48.0]), np.array([40.0]), pk).nM(t)
    np.testing.assert_allclose(both, first + second, rtol=1e-12)
    np.testing.assert_allclose(DoseSeries(np.array([0.0]), np.array([120.0]), pk).nM(t), 2 * first, rtol=1e-12)


def test_exposure_counts_hours_above_thresholds_per_week():
    pk = PKParams()
    doses = DoseSeries(np.array([0.0, 48.0]), np.array([60.0, 60.0]), pk)
    out = exposure(doses, (0.0, 168.0), {"100nM": 100.0, "never": 1e6})
    # Above 100 nM from shortly after each dose until the level decays below it again.
    t = np.arange(0, 48, 1e-3)
    per_dose = (DoseSeries(np.array([0.0]), np.array([60.0]), pk).nM(t) > 100).sum() * 1e-3
    assert out["hours_above_100nM_per_week"] == pytest.approx(2 * per_dose, rel=0.01)
    assert out["hours_above_never_per_week"] == 0.0


def test_patient_variability_has_the_declared_spread():
    pk = PKParams()
    rng = np.random.default_rng(0)
    cls = np.array([pk.for_patient(rng).cl_l_per_h for _ in range(4000)])
    assert cls.mean() == pytest.approx(pk.cl_l_per_h, rel=0.03)
    assert cls.std() / cls.mean() == pytest.approx(pk.cl_cv, rel=0.1)


def test_the_defaults_are_the_fit_of_tools_fit_pk():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("fit_pk", Path(__file__).parents[1] / "tools" / "fit_pk.py")
    fit_pk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fit_pk)
    defaults = PKParams()
    for name, value in fit_pk.fit().items():
        assert getattr(defaults, name) == pytest.approx(value, rel=0.01), name  # the defaults are rounded to 3 digits
