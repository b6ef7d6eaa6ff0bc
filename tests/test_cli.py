"""The command line as a user meets it: run folders, reproducibility, clear errors, the parameter table."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tumour_abm.params import iter_params
from tumour_abm.reporters import TIMESERIES
from tumour_abm.rundir import RUN_FILES
from tumour_abm.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = """\
description: small test tumour
grid: {width_sites: 30, height_sites: 30}
time: {days: 2}
cancer: {initial_cells: 150}
output: {snapshot_days: [0, 1]}
"""


def tumour_abm(*args, cwd=None):
    """Run the installed command line exactly as a user would, in a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "tumour_abm.cli", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


def test_run_writes_a_complete_identical_run_folder(small_file, tmp_path):
    a, b = tmp_path / "A", tmp_path / "B"
    for out in (a, b):
        done = tumour_abm("run", small_file, "--seed", 1, "--out", out)
        assert done.returncode == 0, done.stderr
        assert str(out) in done.stdout and "final" in done.stdout
    for name in RUN_FILES:
        assert (a / name).is_file(), name
    assert (a / "timeseries.csv").read_bytes() == (b / "timeseries.csv").read_bytes()
    assert sorted(p.name for p in (a / "figures").iterdir()) == [
        "snapshot_day0.png", "snapshot_day1.png", "timeseries.png"
    ]
    ts = pd.read_csv(a / "timeseries.csv")
    assert list(ts.columns) == list(TIMESERIES)
    assert ts["day"].iloc[-1] == 2.0 and ts["cancer_alive"].iloc[0] == 150
    summary = json.loads((a / "summary.json").read_text())
    assert summary["final_tumour"] == ts["cancer_alive"].iloc[-1]
    manifest = json.loads((a / "manifest.json").read_text())
    assert manifest["seed"] == 1 and manifest["mesa_version"] == "3.5.1"
    assert {"package_version", "python_version", "git_commit", "started", "finished", "wall_s"} <= set(manifest)
    assert pd.read_csv(a / "events.csv").columns.tolist() == ["day", "time_h", "kind", "name", "detail"]
    # The written scenario is the fully resolved one and loads back to the same values.
    resolved = tumour_abm("check", a / "scenario.yaml")
    assert resolved.returncode == 0 and "doubling_time_h: 36.0" in resolved.stdout


def test_days_option_shortens_the_run(small_file, tmp_path):
    done = tumour_abm("run", small_file, "--days", 0.5, "--out", tmp_path / "short", "--quiet")
    assert done.returncode == 0, done.stderr
    assert pd.read_csv(tmp_path / "short" / "timeseries.csv")["day"].iloc[-1] == 0.5


@pytest.mark.parametrize(
    "text, expected",
    [
        ("cancer:\n  initial_cells: 10\n  doubling_tme_h: 30\n", ["bad.yaml:3", "cancer.doubling_tme_h",
                                                                  "did you mean 'doubling_time_h'"]),
        ("time:\n  days: 3\ncancer:\n  initial_cells: -5\n", ["bad.yaml:4", "cancer.initial_cells", "-5", ">= 0"]),
    ],
    ids=["misspelt-key", "negative-count"],
)
def test_check_reports_bad_files_clearly(tmp_path, text, expected):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    done = tumour_abm("check", bad)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    for fragment in expected:
        assert fragment in done.stderr, (fragment, done.stderr)


def test_bad_options_exit_2_without_traceback(small_file):
    for args in (["run", small_file, "--seed", "x"], ["run", small_file, "--days", "-1"], ["run", "missing.yaml"]):
        done = tumour_abm(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr


def test_params_lists_every_parameter_with_unit_and_source():
    done = tumour_abm("params")
    assert done.returncode == 0
    rows = list(iter_params(Scenario()))
    assert len(rows) > 40
    for row in rows:
        assert row.unit and row.source
        assert row.path in done.stdout
    assert "cancer.doubling_time_h" in done.stdout and "assumed" in done.stdout
    assert "cancer.antigens.CD19.positive_fraction" in done.stdout
    for cell_type in ("nk", "car_t", "macrophage", "neutrophil"):  # every cell type's parameters are listed
        assert sum(row.path.startswith(f"{cell_type}.") for row in rows) >= 5, cell_type
