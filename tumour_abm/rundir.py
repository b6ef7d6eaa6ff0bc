"""Writing one run to its folder: manifest, resolved scenario, tables, summary and figures, each atomically."""

from __future__ import annotations

import json
import math
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.pyplot as plt
import mesa
import pandas as pd

from . import __version__
from .atomic import write_atomic, write_text_atomic
from .config_files import dump_yaml
from .outdir import PACKAGE
from .plots import plot_marker_histograms, plot_snapshot
from .runner import Result

RUN_FILES = ("manifest.json", "scenario.yaml", "timeseries.csv", "events.csv", "summary.json")


def default_run_dir(root: Path, name: str, seed: int) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{name}-seed{seed}-{stamp}"


def git_commit() -> str | None:
    """The commit of the source tree the package runs from, if it is a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def manifest_base(kind: str) -> dict:
    """Provenance shared by run and batch manifests: what the folder holds, versions, commit and command. Written
    at the end, so its status says the folder is complete (outdir.claim_folder marks it running at the start)."""
    return {
        "package": PACKAGE,
        "kind": kind,
        "status": "complete",
        "package_version": __version__,
        "mesa_version": mesa.__version__,
        "python_version": platform.python_version(),
        "git_commit": git_commit(),
        "command": sys.argv,
    }


def manifest(result: Result, scenario_file: str | None) -> dict:
    return {
        **manifest_base("run"),
        "scenario_file": scenario_file,
        "seed": result.seed,
        "started": result.started,
        "finished": result.finished,
        "wall_s": round(result.wall_s, 3),
        "agent_steps": result.agent_steps,
        "warnings": result.warnings,
    }


def _json_safe(value):
    """NaN (an undefined outcome, e.g. a ratio with no denominator) becomes null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_json(path: Path, data: dict) -> Path:
    text = json.dumps(_json_safe(data), indent=2, ensure_ascii=False, allow_nan=False)
    return write_text_atomic(path, text + "\n")


def write_run(result: Result, out_dir: Path, scenario_file: str | None = None, *, figures: bool = True,
              extra: dict | None = None) -> Path:
    """Write every output of one run into `out_dir` (created if needed) and return it. Batches skip the per-run
    figures (they draw their own) and add their identifiers to the manifest through `extra`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "scenario.yaml", dump_yaml(result.scenario))
    write_atomic(out / "timeseries.csv", lambda tmp: result.timeseries.to_csv(tmp, index=False))
    write_atomic(out / "events.csv", lambda tmp: result.events.to_csv(tmp, index=False))
    write_json(out / "summary.json", result.summary)
    if result.assay_markers is not None:  # a co-culture: the targets' markers as a flow cytometer exports them
        markers = pd.DataFrame(result.assay_markers)
        write_atomic(out / "assay_markers.csv", lambda tmp: markers.to_csv(tmp, index=False, float_format="%.4g"))
    if figures:
        _write_figures(result, out / "figures")
    # Written last: a folder with a manifest is a complete run.
    write_json(out / "manifest.json", {**manifest(result, scenario_file), **(extra or {})})
    return out


def _save(fig: plt.Figure, path: Path) -> None:
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)


def _write_figures(result: Result, figures: Path) -> None:
    figures.mkdir(parents=True, exist_ok=True)
    _save(result.plot(), figures / "timeseries.png")
    site_um = result.scenario.grid.site_um
    for snap in result.snapshots:
        _save(plot_snapshot(snap, site_um=site_um), figures / f"snapshot_day{snap.day:g}.png")
    if result.assay_markers is not None:
        _save(plot_marker_histograms(result.assay_markers, result.scenario.description),
              figures / "assay_markers.png")
