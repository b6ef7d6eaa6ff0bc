"""Batches: the same results on every executor, crash safety (kill and resume), failures recorded, valid files."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tumour_abm import batch as batch_module
from tumour_abm.batch import plan_jobs, run_batch
from tumour_abm.batchfile import load_batch
from tumour_abm.config_files import ConfigError
from tumour_abm.outdir import OutputFolderError

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"description": "small", "grid": {"width_sites": 30, "height_sites": 30}, "time": {"days": 2},
         "cancer": {"initial_cells": 150}, "nk": {"initial_count": 5}, "output": {"snapshot_days": []}}
SELINEXOR = [{"dose_mg": 60, "days_of_week": [1, 3], "start_day": 0, "end_day": 1}]


def write_batch(folder: Path, **changes) -> Path:
    (folder / "small.yaml").write_text(yaml.safe_dump(SMALL))
    spec = {"description": "test batch", "arms": {"untreated": {"scenario": "small.yaml"},
                                                  "selinexor": {"scenario": "small.yaml",
                                                                "overrides": {"therapy.selinexor": SELINEXOR}}},
            "reference": "untreated", "replicates": 3, "outcomes": ["final_tumour", "killed_nk"], **changes}
    path = folder / "batch.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.slow
def test_serial_processes_and_dask_give_identical_results(tmp_path):
    path = write_batch(tmp_path)
    runs = {name: run_batch(path, out=tmp_path / name, **kw)
            for name, kw in {"serial": {"workers": 1}, "processes": {"workers": 2},
                             "dask": {"workers": 2, "dask": "local"}}.items()}
    tables = {name: pd.read_parquet(r.out / "replicates.parquet") for name, r in runs.items()}
    assert len(tables["serial"]) == 6 and (tables["serial"]["status"] == "ok").all()
    pd.testing.assert_frame_equal(tables["serial"], tables["processes"])
    pd.testing.assert_frame_equal(tables["serial"], tables["dask"])
    series = {name: pd.read_parquet(r.out / "timeseries.parquet") for name, r in runs.items()}
    pd.testing.assert_frame_equal(series["serial"], series["dask"])
    for name in ("stats.csv", "comparisons.csv", "report.html"):
        assert (runs["dask"].out / name).is_file()


def test_paired_seeds_share_seed_and_patient_across_arms(tmp_path):
    cohort = {"parameters": {"cancer.doubling_time_h": {"kind": "lognormal", "mean": 36, "cv": 0.3},
                             "nk.initial_count": {"kind": "poisson", "mean": 6}}, "pk_variability": True}
    batch = load_batch(write_batch(tmp_path, cohort=cohort))
    jobs = plan_jobs(batch, 4)
    by_arm = {arm: [j for j in jobs if j.arm == arm] for arm in ("untreated", "selinexor")}
    for a, b in zip(by_arm["untreated"], by_arm["selinexor"]):
        assert a.seed == b.seed and a.patient == b.patient
    patients = [j.patient for j in by_arm["untreated"]]
    assert len({p["cancer.doubling_time_h"] for p in patients}) == 4  # patients differ from each other
    assert all(isinstance(p["nk.initial_count"], int) for p in patients)
    assert jobs[0].scenario.cancer.doubling_time_h == patients[0]["cancer.doubling_time_h"]
    independent = plan_jobs(load_batch(write_batch(tmp_path, seeds="independent")), 4)
    assert independent[0].seed != independent[4].seed


def test_an_arm_with_its_own_replicates_runs_its_first_n_paired_seeds(tmp_path):
    path = write_batch(tmp_path)
    spec = yaml.safe_load(path.read_text())
    spec["arms"]["selinexor"]["replicates"] = 5
    path.write_text(yaml.safe_dump(spec))
    jobs = plan_jobs(load_batch(path), 3)
    untreated = [j.seed for j in jobs if j.arm == "untreated"]
    selinexor = [j.seed for j in jobs if j.arm == "selinexor"]
    assert len(untreated) == 3 and len(selinexor) == 5 and selinexor[:3] == untreated


def test_sweep_runs_the_full_grid(tmp_path):
    sweep = {"parameters": {"cancer.doubling_time_h": [24, 48], "therapy.selinexor.0.dose_mg": [40, 80]}}
    path = write_batch(tmp_path, sweep=sweep, replicates=1)
    arms = yaml.safe_load(path.read_text())
    arms["arms"]["untreated"]["overrides"] = {"therapy.selinexor": SELINEXOR}  # the swept dose needs a course
    path.write_text(yaml.safe_dump(arms))
    done = run_batch(path, out=tmp_path / "out", workers=1)
    table = pd.read_parquet(done.out / "replicates.parquet")
    assert len(table) == 2 * 4
    assert sorted(set(zip(table["sweep:cancer.doubling_time_h"], table["sweep:therapy.selinexor.0.dose_mg"]))) == [
        (24, 40), (24, 80), (48, 40), (48, 80)]
    assert (done.out / "figures" / "sweep_final_tumour.png").is_file()


def test_a_failing_replicate_is_recorded_and_the_others_finish(tmp_path, monkeypatch):
    real_run = batch_module.run

    def flaky(scenario, seed):
        if seed == plan_jobs(load_batch(path), 3)[1].seed:
            raise RuntimeError("deliberate failure for the test")
        return real_run(scenario, seed)

    path = write_batch(tmp_path)
    monkeypatch.setattr(batch_module, "run", flaky)
    done = run_batch(path, out=tmp_path / "out", workers=1)
    table = pd.read_parquet(done.out / "replicates.parquet")
    failed = table[table["status"] == "failed"]
    assert len(failed) == 2 and set(failed["replicate"]) == {1}  # replicate 1 of both arms (paired seed)
    assert "deliberate failure" in failed["error"].iloc[0]
    assert (table["status"] == "ok").sum() == 4 and done.failed == 2
    error = json.loads((done.out / "replicates" / "untreated" / "p0" / "r001" / "error.json").read_text())
    assert "RuntimeError: deliberate failure" in error["traceback"]
    assert "2 replicate(s) failed" in (done.out / "report.html").read_text()
    # Fixed, a resume completes just the failed ones.
    monkeypatch.setattr(batch_module, "run", real_run)
    again = run_batch(path, out=tmp_path / "out", workers=1, resume=True)
    assert again.skipped == 4 and again.failed == 0


def test_killed_batch_resumes_without_loss_or_duplication(tmp_path):
    path = write_batch(tmp_path, replicates=8)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "tumour_abm.cli", "batch", str(path), "--out", str(out), "--workers", "2", "--quiet"]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("replicates/*/p0/*/manifest.json"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its workers, mid-run
    proc.wait()
    before = {p.parent: p.stat().st_mtime_ns for p in out.glob("replicates/*/p0/*/manifest.json")}
    assert 3 <= len(before) < 16, "the kill should land mid-batch"
    assert not (out / "replicates.parquet").exists()

    resumed = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    table = pd.read_parquet(out / "replicates.parquet")
    assert len(table) == 16 and (table["status"] == "ok").all()
    assert not table.duplicated(["arm", "point", "replicate"]).any()
    for folder, mtime in before.items():  # finished replicates were not run again
        assert (folder / "manifest.json").stat().st_mtime_ns == mtime
    assert not list(out.rglob(".*.tmp"))
    assert f"{len(before)} already done" in resumed.stdout
    # And the results are those of an uninterrupted batch.
    clean = run_batch(path, out=tmp_path / "clean", workers=1)
    pd.testing.assert_frame_equal(table, pd.read_parquet(clean.out / "replicates.parquet"))


def test_an_existing_folder_needs_resume(tmp_path):
    path = write_batch(tmp_path, replicates=1)
    run_batch(path, out=tmp_path / "out", workers=1)
    with pytest.raises(OutputFolderError, match="--resume"):
        run_batch(path, out=tmp_path / "out", workers=1)


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"reference": "nothing"}, "reference = 'nothing': not an arm"),
        ({"outcomes": ["final_tumor"]}, "final_tumour"),
        ({"arms": {"a": {"scenario": "small.yaml", "overrides": {"cancer.doubling_tme_h": 3}}}, "reference": "a"},
         "arms.a.overrides.cancer.doubling_tme_h"),
        ({"arms": {"a": {"scenario": "missing.yaml"}}, "reference": "a"}, "missing.yaml"),
        ({"cohort": {"parameters": {"cancer.doubling_time_h": {"kind": "lognormal", "mean": 36}}}}, "needs mean, cv"),
        ({"seeds": "pairs"}, "paired"),
    ],
    ids=["reference", "outcome", "override", "scenario-file", "distribution", "seeds"],
)
def test_bad_batch_files_are_clear_errors(tmp_path, changes, fragment):
    with pytest.raises(ConfigError) as err:
        load_batch(write_batch(tmp_path, **changes))
    assert fragment in str(err.value)


def test_compare_rebuilds_the_report_of_a_finished_batch(tmp_path):
    done = run_batch(write_batch(tmp_path, replicates=2), out=tmp_path / "out", workers=1)
    for name in ("report.html", "stats.csv"):
        (done.out / name).unlink()
    rebuilt = subprocess.run([sys.executable, "-m", "tumour_abm.cli", "compare", str(done.out)], capture_output=True,
                             text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (done.out / "report.html").is_file() and len(pd.read_csv(done.out / "stats.csv")) == 2 * 2
    not_a_batch = subprocess.run([sys.executable, "-m", "tumour_abm.cli", "compare", str(tmp_path)],
                                 capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert not_a_batch.returncode == 2 and "not a finished batch folder" in not_a_batch.stderr
