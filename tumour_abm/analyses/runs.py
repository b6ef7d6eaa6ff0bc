"""What the analyses share: common random numbers, an output folder that resumes only the same file, running a
design's jobs, and reading outcomes back from run folders."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import write_text_atomic
from ..batch import Job, default_workers, execute
from ..batchfile import OUTCOME_AT
from ..claims import series_outcome
from ..config_files import dump_yaml
from ..outdir import OutputFolderError, claim_folder, is_complete, owner_kind
from ..resources import check_memory, run_output_bytes
from ..scenario import Scenario


class AnalysisIncomplete(Exception):
    """Some runs have no outcome (they failed): the analysis needs every one."""


def common_seeds(base_seed: int, n: int) -> list[int]:
    """Replicate i's seed, the same at every point of an analysis (common random numbers)."""
    return [int(np.random.SeedSequence([base_seed, i]).generate_state(1)[0]) for i in range(n)]


def prepare_folder(out: Path, kind: str, source: Path, copy_name: str, scenario: Scenario, *, resume: bool,
                   needs_bytes: int, also: dict[str, str] | None = None) -> None:
    """A new output folder, or (with resume) one of the same kind made from the same file and the same resolved
    scenario (an edited scenario file would mix old runs with new ones), kept as `copy_name` and scenario.yaml, and
    the same `also` (name → text, e.g. the design a library drew)."""
    copies = {copy_name: source.read_text(encoding="utf-8"), "scenario.yaml": dump_yaml(scenario), **(also or {})}
    if owner_kind(out) == kind:
        for name, text in copies.items():
            if (out / name).is_file() and (out / name).read_text(encoding="utf-8") != text:
                what = {copy_name: source.name, "scenario.yaml": "the scenario it names (resolved)"}.get(name, name)
                raise OutputFolderError(f"{out} holds a {kind} of another {what}: resume only with the same files")
    claim_folder(out, kind, reuse=resume, reuse_flag="--resume", needs_bytes=needs_bytes)
    for name, text in copies.items():
        write_text_atomic(out / name, text)


def run_design(out: Path, kind: str, source: Path, copy_name: str, scenario: Scenario, jobs: list[Job],
               points: tuple[str, pd.DataFrame], *, workers: int | None, dask: str | None, resume: bool,
               progress: bool) -> tuple[int, float]:
    """Claim `out` (resuming only the same file, scenario and drawn `points`: (file name, table)) and run the jobs
    not yet done there on the batch executor: (runs made now, wall seconds)."""
    workers = default_workers() if workers is None else workers
    check_memory({kind: scenario}, processes=1 if dask else min(workers, len(jobs)), where=source)
    name, table = points
    prepare_folder(out, kind, source, copy_name, scenario, resume=resume,
                   also={name: table.to_csv(index_label="point")},
                   needs_bytes=len(jobs) * run_output_bytes(scenario, figures=False))
    todo = [job for job in jobs if not is_complete(out / job.folder)]
    t0 = time.perf_counter()
    execute(todo, out, workers=workers, dask=dask, progress=progress)
    return len(todo), time.perf_counter() - t0


def outcome_table(root: Path, jobs: list[Job], outcomes: tuple[str, ...]) -> pd.DataFrame:
    """One row per run (point, replicate, seed, status, each outcome), read back from the run folders."""
    rows = []
    for job in jobs:
        folder = root / job.folder
        row = {"point": job.point, "replicate": job.replicate, "seed": job.seed}
        if is_complete(folder):
            summary = json.loads((folder / "summary.json").read_text())
            series = None
            for expr in outcomes:
                if OUTCOME_AT.match(expr):
                    if series is None:
                        series = pd.read_csv(folder / "timeseries.csv").assign(replicate=0)
                    row[expr] = float(series_outcome(series, expr).iloc[0])
                else:
                    row[expr] = summary.get(expr, np.nan)
            row["status"] = "ok"
        else:
            row.update({expr: np.nan for expr in outcomes}, status="failed")
        rows.append(row)
    return pd.DataFrame(rows)
