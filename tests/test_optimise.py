"""Schedule optimisation: the search finds a known optimum, a real search runs, confirms on fresh seeds and resumes
without re-running anything; files are checked like every other."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tumour_abm.analyses.optimise import make_study, run_optimisation, search
from tumour_abm.analyses.optimise_file import OptimiseParams, load_optimisation, schedule_courses
from tumour_abm.config_files import ConfigError

SMALL = {"description": "small", "grid": {"width_sites": 30, "height_sites": 30},
         "time": {"start_day": -7, "days": 10}, "cancer": {"initial_cells": 150}, "nk": {"initial_count": 5},
         "therapy": {"car_t": {"day": 0, "count": 5}}, "output": {"snapshot_days": []}}


def write_file(folder: Path, **changes) -> Path:
    (folder / "small.yaml").write_text(yaml.safe_dump(SMALL))
    spec = {"description": "test", "scenario": "small.yaml", "anchor": "car_t",
            "search": {"dose_mg": {"low": 40, "high": 100, "step": 20}, "pretreatment_d": {"low": 0, "high": 7}},
            "objectives": [{"outcome": "final_tumour", "direction": "minimize"}],
            "trials": 4, "batch": 2, "replicates": 1, "confirm": {"top": 1, "replicates": 2}, **changes}
    path = folder / "optimise.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_the_search_finds_the_optimum_of_a_known_objective():
    params = OptimiseParams(scenario="-", trials=60, batch=4, base_seed=3,
                            search={"dose_mg": {"low": 20, "high": 160, "step": 10},
                                    "pretreatment_d": {"low": 0, "high": 28}},
                            objectives=[{"outcome": "total_dose_mg", "direction": "minimize"}])
    study = make_study(params, None)

    def bowl(schedules, tag):  # minimum at 90 mg, 12 days
        return [(((s["dose_mg"] - 90) / 10) ** 2 + (s["pretreatment_d"] - 12) ** 2,) for s in schedules]

    search(study, params.search, params.trials, params.batch, bowl)
    assert len(study.trials) == 60
    best = study.best_trial.params
    assert abs(best["dose_mg"] - 90) <= 10 and abs(best["pretreatment_d"] - 12) <= 1, best


def test_schedules_become_courses_relative_to_the_anchor():
    s = {"dose_mg": 60, "days_per_week": 2, "pretreatment_d": 14, "washout_d": 3, "maintenance_d": 21}
    pre, maintenance = schedule_courses(s, "car_t")
    assert (pre["start_day"], pre["end_day"], pre["days_of_week"]) == (-17, -4, [1, 3])
    assert (maintenance["start_day"], maintenance["end_day"]) == (0, 20)
    assert schedule_courses({**s, "pretreatment_d": 0, "maintenance_d": 0}, "car_t") == []


def test_an_optimisation_runs_confirms_and_resumes_without_rerunning(tmp_path):
    path = write_file(tmp_path)
    done = run_optimisation(path, out=tmp_path / "out", workers=1)
    assert len(done.trials) == 4 and set(done.confirmed["n"]) == {2}
    assert (done.out / "report.html").is_file() and (done.out / "figures" / "calendars.png").is_file()
    confirm_runs = list((done.out / "confirm").glob("*/*/manifest.json"))
    assert len(confirm_runs) == 2 * 2  # the standard and one candidate, on 2 fresh seeds each
    before = {p: p.stat().st_mtime_ns for p in done.out.glob("*/*/*/manifest.json")}
    again = run_optimisation(path, out=tmp_path / "out", workers=1, resume=True)
    assert len(again.trials) == 4  # the study was complete: nothing more asked
    assert {p: p.stat().st_mtime_ns for p in done.out.glob("*/*/*/manifest.json")} == before
    pd.testing.assert_frame_equal(again.confirmed, done.confirmed)
    assert json.loads((done.out / "best.json").read_text())[0]["n"] == 2


def test_a_killed_search_resumes_the_candidates_it_was_running(tmp_path):
    path = write_file(tmp_path, trials=2, batch=2)
    opt = load_optimisation(path)
    study = make_study(opt.params, tmp_path / "study.journal")
    asked = [study.ask() for _ in range(2)]  # asked, never told: what a kill mid-batch leaves
    for t in asked:
        t.suggest_int("dose_mg", 40, 100, step=20)
        t.suggest_int("pretreatment_d", 0, 7)
    study.ask()  # killed before its values were drawn: replaced, not evaluated
    seen = []

    def record(schedules, tag):
        seen.extend(schedules)
        return [(1.0,) for _ in schedules]

    search(make_study(opt.params, tmp_path / "study.journal"), opt.params.search, 2, 2, record)
    assert seen == [dict(t.params) for t in asked]  # the running candidates, re-evaluated, and nothing new


@pytest.mark.parametrize("changes, fragment", [
    ({"search": {"dose_mg": {"low": 40, "high": 200}}}, "outside the doses studied"),
    ({"search": {"pretreatment_d": {"low": 0, "high": 14}}}, "starts before the run does"),
    ({"anchor": "nk_cells"}, "gives no nk_cells"),
    ({"objectives": [{"outcome": "final_tumor", "direction": "minimize"}]}, "not an outcome"),
    ({"search": {"days_per_week": {"low": 0, "high": 3}}}, "administrations"),
], ids=["dose", "too-early", "anchor", "objective", "weekdays"])
def test_bad_optimisation_files_are_clear_errors(tmp_path, changes, fragment):
    with pytest.raises(ConfigError) as err:
        load_optimisation(write_file(tmp_path, **changes))
    assert fragment in str(err.value) and "optimise.yaml" in str(err.value)


def test_a_cohort_gives_each_replicate_its_patient_and_every_candidate_the_same_ones(tmp_path):
    cohort = {"parameters": {"cancer.doubling_time_h": {"kind": "lognormal", "mean": 36, "cv": 0.2}}}
    opt = load_optimisation(write_file(tmp_path, cohort=cohort, replicates=3))
    patients = [opt.patient(opt.params.base_seed, i)["cancer.doubling_time_h"] for i in range(3)]
    assert len(set(patients)) == 3
    for schedule in ({}, {"dose_mg": 100, "pretreatment_d": 7}):
        assert opt.scenario_for(opt.schedule(schedule), opt.patient(opt.params.base_seed, 1)) \
            .cancer.doubling_time_h == patients[1]
    fresh = opt.patient(opt.params.confirm.base_seed, 1)["cancer.doubling_time_h"]
    assert fresh not in patients  # the confirmation draws patients of its own


def test_the_schedule_counts_its_administrations():
    from tumour_abm.analyses.optimise_file import schedule_doses

    twice_10d = {"dose_mg": 60, "days_per_week": 2, "pretreatment_d": 10, "washout_d": 0, "maintenance_d": 0}
    assert schedule_doses(twice_10d)["total_dose_mg"] == 60 * 4  # days 1, 3, 8, 10 of the course
    one_day = {**twice_10d, "pretreatment_d": 1}
    assert schedule_doses(one_day)["total_dose_mg"] == 60
    assert schedule_doses({**twice_10d, "pretreatment_d": 0})["total_dose_mg"] == 0


def test_a_search_whose_objective_is_undefined_ends(tmp_path):
    params = OptimiseParams(scenario="-", trials=6, batch=2, search={"dose_mg": {"low": 40, "high": 100, "step": 20}},
                            objectives=[{"outcome": "final_tumour", "direction": "minimize"}])
    study = make_study(params, None)
    search(study, params.search, params.trials, params.batch, lambda schedules, tag: [(float("nan"),)] * len(schedules))
    assert len(study.trials) == 6 and all(t.state.name == "FAIL" for t in study.trials)


@pytest.mark.parametrize("changes, fragment", [
    ({"confirm": {"top": 1, "replicates": 2, "base_seed": 1}}, "equals base_seed"),
    ({"objectives": [{"outcome": "cancer_alive@0..30", "direction": "minimize"}]}, "outside the run"),
    ({"search": {"dose_mg": {"low": 40, "high": 100, "step": 25}}}, "does not divide"),
    ({"overrides": {"therapy.selinexor": []}}, "writes selinexor"),
], ids=["confirm-seed", "window", "step", "selinexor"])
def test_more_bad_optimisation_files(tmp_path, changes, fragment):
    with pytest.raises(ConfigError) as err:
        load_optimisation(write_file(tmp_path, **changes))
    assert fragment in str(err.value)
