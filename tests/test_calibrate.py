"""Calibration: recovers a parameter from data the model made, records what it did, and checks its files."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from tumour_abm.analyses.calibrate import run_calibration
from tumour_abm.analyses.calibrate_file import load_calibration, statistic
from tumour_abm.config_files import ConfigError
from tumour_abm.runner import run
from tumour_abm.scenario import load_scenario

WELL = {"description": "growth well", "setting": "coculture", "grid": {"width_sites": 40, "height_sites": 40},
        "cancer": {"initial_cells": 120, "layout": "scattered", "scattered_radius_um": 380},
        "coculture": {"hours": 48, "effector": "nk", "effector_to_target": 0, "growth": True,
                      "pretreatment": {"hours": 0, "selinexor_nM": 0}}}
TRUE_DIVISION_H = 30.0
STAT = "doubling_time_h@0..2"


def write_file(folder: Path, target: float, sd: float, **changes) -> Path:
    (folder / "well.yaml").write_text(yaml.safe_dump(WELL))
    spec = {"description": "test", "scenario": "well.yaml", "parameters": {"cancer.doubling_time_h": [15.0, 60.0]},
            "targets": [{"statistic": STAT, "value": target, "sd": sd, "source": "made by the model (test)"}],
            "samples": 24, "replicates": 2, "base_seed": 5, **changes}
    path = folder / "calibration.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_calibration_recovers_a_parameter_from_data_the_model_made(tmp_path):
    (tmp_path / "well.yaml").write_text(yaml.safe_dump(WELL))
    truth = load_scenario(tmp_path / "well.yaml").with_updates({"cancer.doubling_time_h": TRUE_DIVISION_H})
    observed = []
    for seed in (101, 102, 103, 104):  # the data's own seeds, none of the calibration's
        r = run(truth, seed)
        observed.append(statistic(STAT, r.summary, r.timeseries))
    done = run_calibration(write_file(tmp_path, float(np.mean(observed)), float(np.std(observed, ddof=1))),
                           out=tmp_path / "out", workers=1)
    fit = done.posterior.set_index("parameter").loc["cancer.doubling_time_h"]
    assert fit["ci_low"] <= TRUE_DIVISION_H <= fit["ci_high"], fit
    assert abs(fit["median"] - TRUE_DIVISION_H) < 5.0 and fit["ci_high"] - fit["ci_low"] < 30.0
    record = json.loads((done.out / "calibration.json").read_text())
    assert record["targets"][0]["source"] == "made by the model (test)" and "kernel ABC" in record["procedure"]
    fitted = yaml.safe_load((done.out / "fitted.yaml").read_text())
    assert fitted["cancer"]["doubling_time_h"] == pytest.approx(fit["median"], rel=1e-3)
    resolved = load_scenario(done.out / "fitted.yaml")  # the fragment is a scenario that extends the well
    assert resolved.cancer.doubling_time_h == fitted["cancer"]["doubling_time_h"]
    assert resolved.coculture.growth


@pytest.mark.parametrize("changes, fragment", [
    ({"parameters": {"cancer.doubling_tme_h": [15, 60]}}, "not a number"),
    ({"parameters": {"cancer.doubling_time_h": [-1, 60]}}, "outside what"),
    ({"targets": [{"statistic": "doubling_time_h@2..1", "value": 1, "sd": 1, "source": "abc"}]}, "before the second"),
    ({"targets": [{"statistic": STAT, "value": 1, "sd": 1}]}, "source"),
], ids=["unknown", "bounds", "days", "source"])
def test_bad_calibration_files_are_clear_errors(tmp_path, changes, fragment):
    with pytest.raises(ConfigError) as err:
        load_calibration(write_file(tmp_path, 36.0, 6.0, **changes))
    assert fragment in str(err.value) and "calibration.yaml" in str(err.value)


def test_a_resumed_calibration_runs_only_what_is_missing(tmp_path):
    import shutil

    path = write_file(tmp_path, 40.0, 5.0, samples=4)
    first = run_calibration(path, out=tmp_path / "out", workers=1)
    shutil.rmtree(tmp_path / "out" / "runs" / "p00002" / "r001")  # as if the run had been killed
    again = run_calibration(path, out=tmp_path / "out", workers=1, resume=True)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["skipped_as_done"] == 4 * 2 - 1
    assert again.posterior.equals(first.posterior)


def test_the_weighted_quantiles_ignore_points_without_weight():
    from tumour_abm.analyses.calibrate import weighted_quantile

    values, w = np.array([4.0, 5.0, 6.0]), np.array([0.0, 1.0, 0.0])
    assert [weighted_quantile(values, w, q) for q in (0.025, 0.5, 0.975)] == [5.0, 5.0, 5.0]
    assert weighted_quantile(np.array([1.0, 10.0]), np.array([0.5, 0.5]), 0.5) == 1.0
    rng = np.random.default_rng(0)
    sample = rng.normal(0, 1, 20_000)
    assert weighted_quantile(sample, np.ones_like(sample), 0.975) == pytest.approx(1.96, abs=0.05)


def test_a_cohort_calibration_fits_on_the_same_patients_at_every_point(tmp_path):
    from tumour_abm.analyses.calibrate import plan, prior_points

    cohort = {"covariates": {"xpo1_dependence": {"kind": "lognormal", "mean": 1.0, "cv": 0.5},
                             "tumour_size": {"kind": "lognormal", "mean": 1.0, "cv": 0.3}}}
    path = write_file(tmp_path, 36.0, 6.0, samples=4, replicates=3, cohort=cohort,
                      parameters={"cancer.xpo1_sensitivity": [0.5, 2.0]})
    c = load_calibration(path)
    points = prior_points(c)
    jobs = plan(c, points)
    assert len(jobs) == 4 * 3
    for i in range(3):
        same = [job for job in jobs if job.replicate == i]
        assert len({tuple(job.covariates.items()) for job in same}) == 1  # one patient across the points
        dependence = same[0].covariates["xpo1_dependence"]
        for job in same:  # the patient's trait multiplies the point's own value, not the scenario's
            assert job.scenario.cancer.xpo1_sensitivity == pytest.approx(points[job.point, 0] * dependence)
    sizes = [job.scenario.cancer.initial_cells for job in jobs if job.point == 0]
    assert len(set(sizes)) == 3  # patients differ

