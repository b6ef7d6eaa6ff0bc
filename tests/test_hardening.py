"""Every bad input a clear error, no run or foreign file lost: one regression test per finding of the hardening
review (numbered as there)."""

import errno
import json
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tumour_abm import batch as batch_module
from tumour_abm import cli
from tumour_abm.batch import run_batch
from tumour_abm.outdir import BatchWriteError
from tumour_abm.rundir import RUN_FILES

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SMALL = {"description": "small", "grid": {"width_sites": 30, "height_sites": 30}, "time": {"days": 2},
         "cancer": {"initial_cells": 150}, "nk": {"initial_count": 5}, "output": {"snapshot_days": []}}


def tumour_abm(capsys, *args) -> tuple[int, str, str]:
    """The command line, in this process (fast), as (exit code, stdout, stderr)."""
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def write(folder: Path, name: str, data) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def write_batch(folder: Path, **changes) -> Path:
    write(folder, "small.yaml", SMALL)
    spec = {"arms": {"a": {"scenario": "small.yaml"}, "b": {"scenario": "small.yaml",
                                                           "overrides": {"cancer.doubling_time_h": 24.0}}},
            "reference": "a", "replicates": 2, "outcomes": ["final_tumour", "time_to_progression_d"], **changes}
    return write(folder, "batch.yaml", spec)


# 1 -------------------------------------------------------------------------------------------------------------
def test_run_ending_before_the_response_baseline_writes_a_complete_folder(capsys, tmp_path):
    code, out, err = tumour_abm(capsys, "run", SCENARIOS / "car_t_alone.yaml", "--days", 3, "--out",
                                tmp_path / "short", "--quiet")
    assert code == 0, err
    assert all((tmp_path / "short" / name).is_file() for name in RUN_FILES)
    summary = json.loads((tmp_path / "short" / "summary.json").read_text())
    assert summary["best_response"] == "NE" and summary["best_change"] is None
    assert summary["time_to_progression_d"] is None and summary["progressed"] is None
    assert "before any measurement after the response baseline (day 0" in summary["response_not_evaluable"]
    assert "not evaluable" in out


def test_until_day_runs_on_the_scenarios_day_axis(capsys, tmp_path):
    # car_t_alone starts on day -21; --until-day 1 is 22 days, the infusion (day 0) included.
    code, _, err = tumour_abm(capsys, "run", SCENARIOS / "car_t_alone.yaml", "--until-day", "-20",
                              "--out", tmp_path / "r", "--quiet")
    assert code == 0, err
    assert pd.read_csv(tmp_path / "r" / "timeseries.csv")["day"].iloc[-1] == -20.0
    code, _, err = tumour_abm(capsys, "run", SCENARIOS / "car_t_alone.yaml", "--until-day", "-30", "--quiet",
                              "--out", tmp_path / "s")
    assert code == 2 and "not after the scenario's first day (time.start_day = -21" in err
    assert not (tmp_path / "s").exists()


def test_batch_shorter_than_the_baseline_reports_not_evaluable(tmp_path):
    path = write_batch(tmp_path, days=1.0, arms={"a": {"scenario": "small.yaml", "overrides": {
        "response.baseline_day": 1.5}}, "b": {"scenario": "small.yaml"}})
    done = run_batch(path, out=tmp_path / "out", workers=1)
    replicates = pd.read_parquet(done.out / "replicates.parquet")
    assert done.failed == 0
    a = replicates[replicates["arm"] == "a"]
    assert (a["best_response"] == "NE").all() and a["time_to_progression_d"].isna().all()
    progression = pd.read_csv(done.out / "progression.csv")
    assert progression.set_index("arm").loc["a", "not_evaluable"] == 2


# 2 -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, key",
    [
        ("therapy:\n  selinexor: {dose_mg: 60, every_days: 1.0e-6, start_day: 0, end_day: 10}\n",
         "therapy.selinexor.every_days"),
        ("therapy:\n  selinexor: {dose_mg: 60, every_days: 1, start_day: 0, end_day: 1.0e+9}\n",
         "therapy.selinexor.end_day"),
        ("therapy:\n  selinexor: {dose_mg: 60, every_days: 1, start_day: 0, end_day: 1.0e+308}\n",
         "therapy.selinexor.end_day"),
        ("therapy:\n  selinexor: {dose_mg: 60, every_days: 0.05, start_day: -3000, end_day: 3000}\n",
         "therapy.selinexor.end_day"),
        ("time: {dt_min: 1.0e-9}\n", "time.dt_min"),
        ("output: {snapshot_days: [" + ", ".join(["1"] * 500) + "]}\n", "output.snapshot_days"),
        ("therapy:\n  car_t: {day: 0, count: 1.0e+12}\n", "therapy.car_t.count"),
    ],
    ids=["every-days-tiny", "end-day-1e9", "end-day-1e308", "too-many-doses", "dt-tiny", "snapshots", "count"],
)
def test_work_scaling_keys_are_bounded_before_anything_is_built(capsys, tmp_path, text, key):
    t0 = time.perf_counter()
    code, _, err = tumour_abm(capsys, "check", write(tmp_path, "big.yaml", text))
    assert time.perf_counter() - t0 < 5
    assert code == 2 and "big.yaml:" in err and key in err and "Traceback" not in err


def test_a_run_too_big_for_the_machine_is_refused_with_the_numbers(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("tumour_abm.resources.available_memory_bytes", lambda: 2_000_000_000)
    path = write(tmp_path, "huge.yaml", {"grid": {"width_sites": 2000, "height_sites": 2000}})
    code, _, err = tumour_abm(capsys, "run", path, "--out", tmp_path / "out", "--quiet")
    assert code == 2 and "huge.yaml" in err and "2000 x 2000 sites" in err and "2.0 GB available" in err
    assert not (tmp_path / "out").exists()


# 3 -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1.0e+300"])
@pytest.mark.parametrize(
    "key",
    ["output.record_every_h", "time.start_day", "grid.site_um", "cancer.hla_e_cv", "nk.influx_per_d",
     "neutrophil.influx_per_d", "macrophage.influx_per_d", "products.selinexor_pk.vc_l"],
)
def test_non_finite_and_huge_numbers_are_refused_at_their_key(capsys, tmp_path, key, value):
    section, name = key.rsplit(".", 1)
    text = "".join(f"{'  ' * i}{part}:\n" for i, part in enumerate(section.split("."))) + \
        f"{'  ' * (section.count('.') + 1)}{name}: {value}\n"
    code, _, err = tumour_abm(capsys, "check", write(tmp_path, "bad.yaml", text))
    assert code == 2 and f"bad.yaml:{section.count('.') + 2}: {key} = " in err, err


def test_dose_and_cohort_parameters_are_refused_when_not_finite_or_impossible(capsys, tmp_path):
    code, _, err = tumour_abm(capsys, "check", write(tmp_path, "dose.yaml",
                                                     "therapy:\n  selinexor: {dose_mg: .inf, start_day: 0}\n"))
    assert code == 2 and "therapy.selinexor.dose_mg" in err
    for dist, key in [({"kind": "poisson", "mean": -3.0}, "mean"), ({"kind": "lognormal", "mean": 36.0, "cv": 1e300}, "cv"),
                      ({"kind": "normal", "mean": float("nan"), "sd": 1.0}, "mean"),
                      ({"kind": "uniform", "low": 5.0, "high": 1.0}, "high")]:
        path = write_batch(tmp_path, cohort={"parameters": {"cancer.doubling_time_h": dist}})
        code, _, err = tumour_abm(capsys, "check", path)
        assert code == 2 and f"cohort.parameters.cancer.doubling_time_h.{key}" in err, (dist, err)


# 4 -------------------------------------------------------------------------------------------------------------
def test_an_arm_without_a_successful_replicate_is_reported_and_exits_non_zero(capsys, tmp_path, monkeypatch):
    real_run = batch_module.run

    def fails_for_faster_tumours(scenario, seed):
        if scenario.cancer.doubling_time_h == 24.0:
            raise RuntimeError("simulated failure of arm b")
        return real_run(scenario, seed)

    monkeypatch.setattr(batch_module, "run", fails_for_faster_tumours)
    code, out, err = tumour_abm(capsys, "batch", write_batch(tmp_path), "--out", tmp_path / "out", "--workers", 1,
                                "--quiet")
    assert code == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: no replicate of arm(s) b succeeded (first error: "
                                                   "RuntimeError: simulated failure of arm b)")
    report = (tmp_path / "out" / "report.html").read_text()
    assert "No result for arm(s) b" in report and "simulated failure of arm b" in report


# 5 -------------------------------------------------------------------------------------------------------------
def test_resume_refuses_a_folder_this_tool_did_not_make_and_deletes_nothing(capsys, tmp_path):
    foreign = tmp_path / "foreign"
    (foreign / "deep").mkdir(parents=True)
    keep = [foreign / ".notes.tmp", foreign / "deep" / ".draft.txt.tmp", foreign / "data.csv"]
    for path in keep:
        path.write_text("not ours")
    code, _, err = tumour_abm(capsys, "batch", write_batch(tmp_path), "--out", foreign, "--resume", "--quiet")
    assert code == 2 and "was not made by tumour-abm" in err
    assert all(path.read_text() == "not ours" for path in keep)
    assert sorted(p.name for p in foreign.rglob("*")) == [".draft.txt.tmp", ".notes.tmp", "data.csv", "deep"]


def test_run_never_writes_into_a_foreign_or_earlier_folder(capsys, tmp_path):
    scenario = write(tmp_path, "small.yaml", SMALL)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "summary.json").write_text("precious")
    code, _, err = tumour_abm(capsys, "run", scenario, "--out", foreign, "--quiet")
    assert code == 2 and "not made by tumour-abm" in err and (foreign / "summary.json").read_text() == "precious"
    assert tumour_abm(capsys, "run", scenario, "--out", tmp_path / "mine", "--quiet")[0] == 0
    code, _, err = tumour_abm(capsys, "run", scenario, "--out", tmp_path / "mine", "--quiet")
    assert code == 2 and "already holds a run: add --overwrite" in err
    assert tumour_abm(capsys, "run", scenario, "--out", tmp_path / "mine", "--quiet", "--overwrite")[0] == 0
    code, _, err = tumour_abm(capsys, "batch", write_batch(tmp_path), "--out", tmp_path / "mine", "--resume")
    assert code == 2 and "holds a run, not a batch" in err


# 6 -------------------------------------------------------------------------------------------------------------
def test_an_unusable_output_folder_is_found_before_simulating(capsys, tmp_path, monkeypatch):
    scenario = write(tmp_path, "small.yaml", SMALL)
    (tmp_path / "a-file").write_text("")
    code, _, err = tumour_abm(capsys, "run", scenario, "--out", tmp_path / "a-file" / "run", "--quiet")
    assert code == 2 and "cannot write to" in err and "Not a directory" in err
    simulated = []
    monkeypatch.setattr("tumour_abm.runner.TumourModel", lambda *a: simulated.append(a))
    monkeypatch.setattr("tumour_abm.outdir.shutil.disk_usage", lambda _: type("U", (), {"free": 1000})())
    code, _, err = tumour_abm(capsys, "run", scenario, "--out", tmp_path / "full", "--quiet")
    assert code == 2 and "MB free; the outputs need about" in err and not simulated


def test_a_full_disk_mid_batch_stops_cleanly_and_resume_finishes(capsys, tmp_path, monkeypatch):
    path = write_batch(tmp_path)
    real_write = batch_module.write_run
    written = []

    def disk_fills_after_two(result, folder, **kw):
        if len(written) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(folder / "timeseries.csv"))
        written.append(folder)
        return real_write(result, folder, **kw)

    monkeypatch.setattr(batch_module, "write_run", disk_fills_after_two)
    with pytest.raises(BatchWriteError, match="No space left on device.*--resume"):
        run_batch(path, out=tmp_path / "out", workers=1)
    code, _, err = tumour_abm(capsys, "batch", path, "--out", tmp_path / "out2", "--workers", 1, "--quiet")
    assert code == 1 and err.startswith("error: cannot write into") and "Traceback" not in err
    monkeypatch.setattr(batch_module, "write_run", real_write)
    done = run_batch(path, out=tmp_path / "out", workers=1, resume=True)
    assert (done.jobs, done.skipped, done.failed) == (4, 2, 0)


# 7 -------------------------------------------------------------------------------------------------------------
def test_no_tumour_is_not_a_complete_response(capsys, tmp_path):
    path = write(tmp_path, "empty.yaml", {**SMALL, "cancer": {"initial_cells": 0}})
    code, _, err = tumour_abm(capsys, "run", path, "--out", tmp_path / "r", "--quiet")
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert code == 0 and summary["best_response"] == "NE" and not summary["progressed"]
    assert "no tumour at the response baseline" in summary["response_not_evaluable"]


def test_fewer_infused_cells_than_asked_is_a_warning_with_the_numbers(capsys, tmp_path):
    path = write(tmp_path, "flood.yaml", {**SMALL, "time": {"days": 0.1},
                                          "therapy": {"car_t": {"day": 0, "count": 10_000}}})
    code, _, err = tumour_abm(capsys, "run", path, "--out", tmp_path / "r", "--quiet")
    assert code == 0
    warning = next(line for line in err.splitlines() if "therapy.car_t infusion" in line)
    asked, placed = 10_000, pd.read_csv(tmp_path / "r" / "timeseries.csv")["car_t_total"].iloc[0]
    assert f"{asked:,} cells asked for, {placed:,} placed" in warning and 0 < placed < asked
    assert warning.removeprefix("warning: ") in json.loads((tmp_path / "r" / "manifest.json").read_text())["warnings"]


# 8 -------------------------------------------------------------------------------------------------------------
def test_check_validates_batch_files(capsys, tmp_path):
    for path in [SCENARIOS / "batches" / "demo.yaml", SCENARIOS / "trials" / "car_t_scheduling.yaml",
                 *sorted((SCENARIOS / "claims").glob("[CH]*.yaml"))]:
        code, out, err = tumour_abm(capsys, "check", path)
        assert code == 0 and "arms:" in out and "each scenario valid" in err, (path, err)
    path = write_batch(tmp_path, arms={"a": {"scenario": "small.yaml", "overrides": {"nk.initial_count": -1}}},
                       reference="a")
    code, _, err = tumour_abm(capsys, "check", path)
    # Located on the override's own line, as any other key of the batch file.
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "nk.initial_count" in text)
    assert code == 2 and f"batch.yaml:{line}: arms.a.overrides.nk.initial_count = -1" in err


def test_per_run_warnings_reach_the_console_and_the_report(capsys, tmp_path):
    late = {"therapy.selinexor": [{"dose_mg": 60.0, "start_day": 5.0}]}  # after the 2-day run: never given
    path = write_batch(tmp_path, arms={"a": {"scenario": "small.yaml"},
                                       "b": {"scenario": "small.yaml", "overrides": late}})
    code, _, err = tumour_abm(capsys, "batch", path, "--out", tmp_path / "out", "--workers", 1, "--quiet")
    assert code == 0
    assert "warning: arm b, 2 replicate(s): 1 therapy event(s) after the last simulated day (2) never happen" in err
    assert "never happen" in (tmp_path / "out" / "report.html").read_text()
    code, _, err = tumour_abm(capsys, "check", path)
    assert code == 0 and "(arm b): 1 therapy event(s) after the last simulated day" in err


def test_a_rule_over_keys_of_several_files_names_each_where_it_is_set(capsys, tmp_path):
    child = write(tmp_path, "child.yaml", f"extends: {SCENARIOS / 'car_t_alone.yaml'}\ntime: {{days: 10}}\n")
    code, _, err = tumour_abm(capsys, "check", child)
    assert code == 2 and "car_t_alone.yaml:8: output.snapshot_days: [0.0, 14.0, 28.0] are outside the run" in err
    assert "child.yaml:2: time.days = 10: the run (days -21 to -11) misses output.snapshot_days" in err
    assert "car_t_alone.yaml:5: time.start_day = -21" in err


@pytest.mark.parametrize("expr", ["il10_mean@21..7", "il10_mean@-99999999999999999999", "hla_e_mean@4000"])
def test_outcome_windows_are_in_order_and_on_the_day_axis(capsys, tmp_path, expr):
    hypothesis = {"id": "H", "outcome": expr, "arm": "b", "versus": "a", "expected": "less"}
    code, _, err = tumour_abm(capsys, "check", write_batch(tmp_path, hypotheses=[hypothesis]))
    assert code == 2 and "hypotheses.0.outcome" in err and "in order and within ±3650" in err


# 9 -------------------------------------------------------------------------------------------------------------
def test_deep_nesting_is_an_error_of_the_file(capsys, tmp_path):
    block = "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 300))
    flow = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    for name, text in (("block.yaml", block), ("flow.yaml", flow)):
        code, _, err = tumour_abm(capsys, "check", write(tmp_path, name, text))
        assert code == 2 and f"{name}:" in err and "nested more than 20 levels" in err


def test_oversized_files_and_alias_bombs_are_refused_quickly(capsys, tmp_path):
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{k}: &{k} [{', '.join(['*' + p] * 10)}]\n" for p, k in zip("abcdef", "bcdefg"))
    cases = {"huge.yaml": ("a: [" + ", ".join(["1"] * 300_000) + "]\n", "a parameter file is at most 512 KiB"),
             "long.yaml": ("a: [" + ", ".join(["1"] * 60_000) + "]\n", "holds more than 50,000 values"),
             "bomb.yaml": (bomb, "expands to more than 50,000 values")}
    for name, (text, message) in cases.items():
        t0 = time.perf_counter()
        code, _, err = tumour_abm(capsys, "check", write(tmp_path, name, text))
        assert code == 2 and f"{name}" in err and message in err and time.perf_counter() - t0 < 5, err


def test_viz_on_all_interfaces_warns_that_it_has_no_authentication(capsys, monkeypatch):
    monkeypatch.setattr("subprocess.call", lambda *a, **k: 0)
    code, _, err = tumour_abm(capsys, "viz", SCENARIOS / "nk.yaml", "--host", "0.0.0.0")
    assert code == 0 and "no authentication" in err
    code, _, err = tumour_abm(capsys, "viz", SCENARIOS / "nk.yaml")
    assert code == 0 and "no authentication" not in err
