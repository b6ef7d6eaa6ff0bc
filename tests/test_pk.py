"""Selinexor pharmacokinetics against the label (biology.md), and dose superposition."""

import numpy as np
import pytest

from tumour_abm.therapy.pk import DoseSeries, PKParams, exposure, single_dose_metrics

LABEL_80MG = {"cmax_ng_per_ml": 680.0, "auc_ng_h_per_ml": 5386.0}  # label means


def test_80_mg_single_dose_matches_the_label():
    m = single_dose_metrics(80.0, PKParams())
    assert m["cmax_ng_per_ml"] == pytest.approx(LABEL_80MG["cmax_ng_per_ml"], rel=0.10)
    assert m["auc_ng_h_per_ml"] == pytest.approx(LABEL_80MG["auc_ng_h_per_ml"], rel=0.10)
    assert 0 < m["tmax_h"] <= 4.0  # label: Tmax within 4 h
    assert m["cmax_nM"] == pytest.approx(m["cmax_ng_per_ml"] * 2.256, rel=1e-3)  # 1 ng/mL = 2.256 nM


def test_curve_peaks_where_the_closed_form_says_and_integrates_to_the_auc():
    pk = PKParams()
    one = DoseSeries(np.array([0.0]), np.array([80.0]), pk)
    t = np.arange(0.0, 200.0, 0.005)
    c = one.ng_per_ml(t)
    assert t[np.argmax(c)] == pytest.approx(single_dose_metrics(80.0, pk)["tmax_h"], abs=0.01)
    assert np.trapezoid(c, t) == pytest.approx(80e3 / pk.cl_l_per_h, rel=1e-3)
    assert one.ng_per_ml(-1.0) == 0.0  # nothing before the dose


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
    # Above 100 nM from shortly after each dose until the level decays below it again (t½ 3.8 h).
    ka, ke = pk.ka_per_h, pk.ke_per_h
    t = np.arange(0, 48, 1e-3)
    per_dose = (DoseSeries(np.array([0.0]), np.array([60.0]), pk).nM(t) > 100).sum() * 1e-3
    assert out["hours_above_100nM_per_week"] == pytest.approx(2 * per_dose, rel=0.01)
    assert out["hours_above_never_per_week"] == 0.0
    assert ka > ke


def test_patient_variability_has_the_declared_spread():
    pk = PKParams()
    rng = np.random.default_rng(0)
    cls = np.array([pk.for_patient(rng).cl_l_per_h for _ in range(4000)])
    assert cls.mean() == pytest.approx(pk.cl_l_per_h, rel=0.03)
    assert cls.std() / cls.mean() == pytest.approx(pk.cl_cv, rel=0.1)
