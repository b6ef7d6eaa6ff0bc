"""Virtual patients: covariates keep their distributions, correlate as asked, set the scenario as documented, and
bad cohort sections are refused with the key named."""

import numpy as np
import pytest
from scipy import stats

from tumour_abm.batch import plan_jobs
from tumour_abm.batchfile import load_batch
from tumour_abm.cohort import COVARIATES, CohortParams, draw_patient
from tumour_abm.config_errors import ConfigError
from tumour_abm.scenario import load_scenario

from test_batch import ROOT, write_batch

TME = load_scenario(ROOT / "scenarios" / "tme_default.yaml")


def cohort(**sections) -> CohortParams:
    return CohortParams.model_validate(sections)


def draws(c: CohortParams, n: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    return [draw_patient(c, TME, rng) for _ in range(n)]


def test_each_covariate_keeps_its_distribution_and_correlations_hold():
    c = cohort(covariates={"growth_rate": {"kind": "lognormal", "mean": 1.0, "cv": 0.4},
                           "xpo1_dependence": {"kind": "uniform", "low": 0.5, "high": 2.0},
                           "antigen_negative_fraction": {"kind": "beta", "mean": 0.1, "sd": 0.05}},
               correlations=[{"between": ["growth_rate", "xpo1_dependence"], "rho": 0.6},
                             {"between": ["growth_rate", "antigen_negative_fraction"], "rho": -0.3}])
    patients = draws(c, 3000)
    values = {name: np.array([p.covariates[name] for p in patients]) for name in c.covariates}
    for name, dist in c.covariates.items():
        assert stats.kstest(values[name], dist.frozen().cdf).pvalue > 0.01, name
    scores = {name: stats.norm.ppf(dist.frozen().cdf(values[name])) for name, dist in c.covariates.items()}
    assert np.corrcoef(scores["growth_rate"], scores["xpo1_dependence"])[0, 1] == pytest.approx(0.6, abs=0.04)
    assert np.corrcoef(scores["growth_rate"], scores["antigen_negative_fraction"])[0, 1] == pytest.approx(-0.3,
                                                                                                           abs=0.04)
    assert abs(np.corrcoef(scores["xpo1_dependence"], scores["antigen_negative_fraction"])[0, 1]) < 0.3


def test_covariates_set_the_scenario_as_documented():
    names = list(COVARIATES)
    c = cohort(covariates={name: {"kind": "uniform", "low": 0.2, "high": 0.2} for name in names})
    (patient,) = draws(c, 1)
    scenario = TME.with_updates(patient.updates)
    assert patient.covariates == {name: pytest.approx(0.2) for name in names}
    assert scenario.cancer.doubling_time_h == pytest.approx(TME.cancer.doubling_time_h / 0.2)
    assert scenario.cancer.xpo1_sensitivity == pytest.approx(0.2 * TME.cancer.xpo1_sensitivity)
    assert scenario.cancer.hla_e_mean == pytest.approx(0.2 * TME.cancer.hla_e_mean)
    for name, antigen in TME.cancer.antigens.items():
        assert scenario.cancer.antigens[name].level == pytest.approx(0.2 * antigen.level)
    assert scenario.cancer.antigens[TME.car_t.target_antigen].positive_fraction == pytest.approx(0.8)
    # The infiltrate: × 0.2 for infiltration, × 0.2 again for a tumour a fifth the size (the same share of cells).
    assert scenario.nk.initial_count == round(0.04 * TME.nk.initial_count)
    assert scenario.macrophage.influx_per_d == pytest.approx(0.04 * TME.macrophage.influx_per_d)
    assert scenario.grid.vessel_fraction == pytest.approx(0.2 * TME.grid.vessel_fraction)
    assert scenario.cancer.initial_cells == round(0.2 * TME.cancer.initial_cells)


def test_files_without_covariates_draw_the_patients_they_drew_before():
    # Raw parameters are drawn as they always were (one generator call each, in order): earlier batch files keep
    # their patients.
    c = cohort(parameters={"cancer.doubling_time_h": {"kind": "lognormal", "mean": 36, "cv": 0.3}})
    rng = np.random.default_rng(5)
    sigma2 = np.log1p(0.3**2)
    expected = rng.lognormal(np.log(36) - sigma2 / 2, np.sqrt(sigma2))
    assert draws(c, 1, seed=5)[0].updates == {"cancer.doubling_time_h": expected}


@pytest.mark.parametrize("section, message", [
    ({"covariates": {"antigen_negative_fraction": {"kind": "lognormal", "mean": 0.1, "cv": 0.5}}}, "share"),
    ({"covariates": {"growth_rate": {"kind": "normal", "mean": 1, "sd": 0.3}}}, "multiplier"),
    ({"covariates": {"growth_rate": {"kind": "lognormal", "mean": 1, "cv": 0.3}},
      "correlations": [{"between": ["growth_rate", "hla_e"], "rho": 0.5}]}, "not a covariate of this cohort"),
    ({"covariates": {"tumour_speed": {"kind": "lognormal", "mean": 1, "cv": 0.3}}}, "growth_rate"),
    ({"covariates": {n: {"kind": "lognormal", "mean": 1, "cv": 0.3} for n in ("growth_rate", "hla_e", "tumour_size")},
      "correlations": [{"between": ["growth_rate", "hla_e"], "rho": 0.9},
                       {"between": ["growth_rate", "tumour_size"], "rho": 0.9},
                       {"between": ["hla_e", "tumour_size"], "rho": -0.9}]}, "positive definite"),
    ({"covariates": {"hla_e": {"kind": "beta", "mean": 0.5, "sd": 0.6}}}, "needs 0 < sd"),
], ids=["share", "multiplier", "unknown-in-correlation", "unknown-covariate", "not-positive-definite", "beta-sd"])
def test_bad_cohorts_name_the_key(tmp_path, section, message):
    with pytest.raises(ConfigError) as err:
        load_batch(write_batch(tmp_path, cohort=section))
    text = str(err.value)
    assert "cohort" in text and message in text


def test_a_batch_records_each_patients_covariates_and_pairs_them_across_arms(tmp_path):
    section = {"covariates": {"growth_rate": {"kind": "lognormal", "mean": 1.0, "cv": 0.3},
                              "tumour_size": {"kind": "lognormal", "mean": 1.0, "cv": 0.5}},
               "correlations": [{"between": ["growth_rate", "tumour_size"], "rho": 0.5}]}
    jobs = plan_jobs(load_batch(write_batch(tmp_path, cohort=section)), 3)
    untreated = [j for j in jobs if j.arm == "untreated"]
    treated = [j for j in jobs if j.arm == "selinexor"]
    assert [j.covariates for j in untreated] == [j.covariates for j in treated]
    assert len({j.covariates["growth_rate"] for j in untreated}) == 3
    for job in untreated:
        assert job.scenario.cancer.initial_cells == job.patient["cancer.initial_cells"]
        assert job.scenario.cancer.doubling_time_h == pytest.approx(36.0 / job.covariates["growth_rate"])


def test_a_larger_tumour_brings_its_infiltrate_and_infiltration_compounds_with_size(tmp_path):
    section = {"covariates": {"tumour_size": {"kind": "lognormal", "mean": 1.0, "cv": 0.5},
                              "immune_infiltration": {"kind": "lognormal", "mean": 1.0, "cv": 0.5}}}
    batch = load_batch(write_batch(tmp_path, cohort=section))
    base = batch.scenarios["untreated"]
    for job in [j for j in plan_jobs(batch, 4) if j.arm == "untreated"]:
        size, infiltration = job.covariates["tumour_size"], job.covariates["immune_infiltration"]
        s = job.scenario
        assert s.cancer.initial_cells == round(base.cancer.initial_cells * size)
        assert s.macrophage.influx_per_d == pytest.approx(base.macrophage.influx_per_d * size * infiltration)
        assert s.macrophage.initial_count == round(base.macrophage.initial_count * size * infiltration)
