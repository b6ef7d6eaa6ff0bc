"""The real scenario and batch files every case derives from (read once), and the copy of scenarios/ that cases
are written into (beside the real files, so `extends:` and arm paths in a case still resolve)."""

from __future__ import annotations

import os.path
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
CASE_NAME = "_fuzz_case.yaml"  # the _fuzz prefix keeps a case (or its helper files) out of the real-file lists


def _classify_real_files(src: Path) -> tuple[list[str], list[str]]:
    scenarios, batches = [], []
    for path in sorted(src.rglob("*.yaml")):
        if path.name.startswith("_fuzz"):
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        # Analysis files (sensitivity, optimisation, calibration) are not fuzzed: the mutations here are those of
        # scenarios and batches; tests/test_sensitivity.py, test_optimise.py and test_calibrate.py check their errors.
        if isinstance(data, dict) and "analyses" not in path.relative_to(src).parts:
            (batches if "arms" in data else scenarios).append(path.relative_to(src).as_posix())
    return scenarios, batches


SCENARIO_FILES, BATCH_FILES = _classify_real_files(SCENARIOS)
TEXT = {rel: (SCENARIOS / rel).read_text(encoding="utf-8") for rel in SCENARIO_FILES + BATCH_FILES}
DATA = {rel: yaml.safe_load(text) for rel, text in TEXT.items()}


def make_root(tmp: Path) -> Path:
    """Copy scenarios/ into tmp once per session; cases are written into the copy. Returns the copy's path."""
    dest = Path(tmp) / "scenarios"
    if not dest.exists():
        shutil.copytree(SCENARIOS, dest, ignore=shutil.ignore_patterns("_fuzz*"))
    return dest


def beside(rel: str, name: str) -> str:
    parent = Path(rel).parent
    return (parent / name).as_posix() if parent != Path(".") else name


def relative_path(frm: str, to: str) -> str:
    """Path of scenarios-relative file `to` as written in file `frm` (relative to frm's folder)."""
    return os.path.relpath(to, start=str(Path(frm).parent) or ".").replace("\\", "/")
