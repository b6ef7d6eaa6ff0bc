"""Sensitivity analyses: Morris and Sobol rank what acts above what cannot, resume after a kill, and files are
checked like every other."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tumour_abm.analyses.sensitivity import run_sensitivity
from tumour_abm.analyses.sensitivity_file import load_sensitivity
from tumour_abm.config_files import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"description": "small", "grid": {"width_sites": 30, "height_sites": 30}, "time": {"days": 2},
         "cancer": {"initial_cells": 150}, "nk": {"initial_count": 5}, "output": {"snapshot_days": []}}
# Doubling time drives growth over two days; CAR-T IFN-γ cannot act in a run without CAR-T cells.
PARAMETERS = {"cancer.doubling_time_h": [18.0, 54.0], "nk.granzyme_kill_per_h": [1.0, 4.0],
              "car_t.ifng_per_h": [300.0, 900.0]}


def write_analysis(folder: Path, **changes) -> Path:
    (folder / "small.yaml").write_text(yaml.safe_dump(SMALL))
    spec = {"description": "test", "scenario": "small.yaml", "method": "morris", "samples": 4,
            "outcomes": ["final_tumour", "cancer_alive@1..2"], "parameters": PARAMETERS, "bootstrap": 50, **changes}
    path = folder / "analysis.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_morris_ranks_a_parameter_that_cannot_act_last(tmp_path):
    done = run_sensitivity(write_analysis(tmp_path), out=tmp_path / "out", workers=1)
    assert done.runs == 4 * (3 + 1)
    for outcome in ("final_tumour", "cancer_alive@1..2"):
        table = done.indices[done.indices["outcome"] == outcome].set_index("parameter")
        assert table.loc["car_t.ifng_per_h", "mu_star"] == 0.0  # common random numbers: exactly no effect
        assert table.loc["car_t.ifng_per_h", "rank"] == 3
        assert table.loc["cancer.doubling_time_h", "rank"] == 1 and table.loc["cancer.doubling_time_h", "mu"] < 0
    assert (done.out / "report.html").is_file() and len(list((done.out / "figures").glob("*.png"))) == 2
    assert pd.read_csv(done.out / "indices.csv").shape[0] == 6


def test_sobol_gives_no_share_to_a_parameter_that_cannot_act(tmp_path):
    done = run_sensitivity(write_analysis(tmp_path, method="sobol", samples=8, outcomes=["final_tumour"]),
                           out=tmp_path / "out", workers=1)
    assert done.runs == 8 * (3 + 2)
    table = done.indices.set_index("parameter")
    assert table.loc["car_t.ifng_per_h", "ST"] == 0.0 and table.loc["car_t.ifng_per_h", "S1"] == 0.0
    assert table.loc["cancer.doubling_time_h", "rank"] == 1 and table.loc["cancer.doubling_time_h", "ST"] > 0.1


def test_default_parameters_are_the_assumed_ones_of_the_sections_used(tmp_path):
    s = load_sensitivity(write_analysis(tmp_path, parameters=None))
    names = {f.name for f in s.factors}
    assert "nk.granzyme_kill_per_h" in names and not any(n.startswith("car_t.") for n in names)  # no CAR-T here
    for f in s.factors:
        assert f.low < f.value < f.high or f.value in (f.low, f.high)
    screened = load_sensitivity(write_analysis(tmp_path, parameters=None, screen=["nk"], spread=0.25))
    assert {f.name.split(".")[0] for f in screened.factors} == {"nk"}
    rate = next(f for f in screened.factors if f.name == "nk.granzyme_kill_per_h")
    assert (rate.low, rate.high) == pytest.approx((0.75 * rate.value, 1.25 * rate.value))


@pytest.mark.parametrize("changes, fragment", [
    ({"parameters": {"nk.granzyme_kil_per_h": [1, 2], "cancer.doubling_time_h": [18, 54]}}, "not a number"),
    ({"parameters": {"nk.granzyme_kill_per_h": [2, 1], "cancer.doubling_time_h": [18, 54]}}, "below high"),
    ({"parameters": {"nk.granzyme_kill_per_h": [-1, 2], "cancer.doubling_time_h": [18, 54]}}, "outside what"),
    ({"parameters": {"cancer.doubling_time_h": [18, 54]}}, "at least 2"),
    ({"screen": ["nk_cells"]}, "not a section"),
    ({"method": "fast"}, "method"),
], ids=["unknown", "order", "bounds", "one", "section", "method"])
def test_bad_sensitivity_files_are_clear_errors(tmp_path, changes, fragment):
    with pytest.raises(ConfigError) as err:
        load_sensitivity(write_analysis(tmp_path, **changes))
    assert fragment in str(err.value) and "analysis.yaml" in str(err.value)


def test_killed_analysis_resumes_without_loss_or_rerun(tmp_path):
    path = write_analysis(tmp_path, samples=6)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "tumour_abm.cli", "sensitivity", str(path), "--out", str(out), "--workers", "2",
           "--quiet"]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("runs/*/*/manifest.json"))) < 4:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.parent: p.stat().st_mtime_ns for p in out.glob("runs/*/*/manifest.json")}
    assert 4 <= len(before) < 24, "the kill should land mid-analysis"
    resumed = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"24 runs ({len(before)} already done)" in resumed.stdout
    for folder, mtime in before.items():
        assert (folder / "manifest.json").stat().st_mtime_ns == mtime
    clean = run_sensitivity(path, out=tmp_path / "clean", workers=1)
    pd.testing.assert_frame_equal(pd.read_csv(out / "indices.csv"), clean.indices.reset_index(drop=True),
                                  check_dtype=False)


def test_check_validates_the_example_analysis_files(capsys):
    from tumour_abm.cli import main

    for path in sorted((ROOT / "scenarios" / "analyses").glob("*.yaml")):
        assert main(["check", str(path)]) == 0, path
        err = capsys.readouterr().err
        assert "an analysis file" in err and "runs" in err, err


@pytest.mark.parametrize("changes, fragment", [
    ({"method": "sobol", "samples": 10}, "power of 2"),
    ({"levels": 5}, "even number"),
    ({"outcomes": ["cancer_alive@1..5"]}, "outside the run"),
], ids=["sobol-samples", "levels", "window"])
def test_more_bad_sensitivity_files(tmp_path, changes, fragment):
    with pytest.raises(ConfigError) as err:
        load_sensitivity(write_analysis(tmp_path, **changes))
    assert fragment in str(err.value)


def test_every_design_point_must_be_a_valid_scenario(tmp_path):
    from tumour_abm.analyses.sensitivity import design, plan

    path = write_analysis(tmp_path, parameters={"grid.width_sites": [12, 40], "grid.height_sites": [12, 40],
                                                "cancer.initial_cells": [100, 900]}, samples=6)
    s = load_sensitivity(path)  # both corners are valid: 12 x 12 with 100 cells, 40 x 40 with 900
    with pytest.raises(ConfigError) as err:
        plan(s, design(s))
    assert "analysis.yaml" in str(err.value) and "design point" in str(err.value)
