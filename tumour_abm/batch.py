"""Running a batch: every arm × sweep point × replicate as an independent job, on one process, a process pool or a
Dask cluster, each writing its own run folder atomically. Results are assembled from those folders, so they are
the same whichever executor ran them, and a killed batch resumes without redoing finished replicates."""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from .atomic import write_atomic, write_text_atomic
from .batchfile import Batch, updated_scenario
from .cohort import Patient, patient_for
from .outdir import BatchWriteError, OutputFolderError, claim_folder, is_complete, owner_kind
from .resources import check_memory, run_output_bytes
from .rundir import manifest_base, write_json, write_run
from .runner import run
from .scenario import Scenario

UNWRITABLE = "unwritable"  # a replicate's status when its folder could not be written


@dataclass(frozen=True)
class Job:
    arm: str
    point: int
    replicate: int
    seed: int
    scenario: Scenario
    patient: dict[str, Any]  # the virtual patient's scenario updates
    folder: str  # relative to the batch folder
    covariates: dict[str, float] = field(default_factory=dict)  # the virtual patient's traits

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.arm, self.point, self.replicate)


def plan_jobs(batch: Batch, replicates: int) -> list[Job]:
    """Every job of the batch in a fixed order. Paired seeds: replicate i has the same seed — and, in a cohort,
    the same virtual patient — in every arm and sweep point (common random numbers)."""
    p = batch.params
    jobs = []
    for a, (arm, base) in enumerate(batch.scenarios.items()):
        n = p.arms[arm].replicates or replicates  # an arm's own count wins; paired seeds make it the first n
        for k, point in enumerate(batch.params.sweep_points()):
            scenario = updated_scenario(base, point, batch.path, "sweep.parameters") if point else base
            for i in range(n):
                stream = [p.base_seed, i] if p.seeds == "paired" else [p.base_seed, a, k, i]
                seed = int(np.random.SeedSequence(stream).generate_state(1)[0])
                patient = Patient()
                if p.cohort:
                    patient = patient_for(p.cohort, scenario, *stream)
                if patient.updates:
                    scenario_i = updated_scenario(scenario, patient.updates, batch.path, "cohort.parameters",
                                                  f" (drawn for replicate {i} of arm {arm})")
                else:
                    scenario_i = scenario
                jobs.append(Job(arm, k, i, seed, scenario_i, patient.updates, f"replicates/{arm}/p{k}/r{i:03d}",
                                patient.covariates))
    return jobs


def run_job(job: Job, root: str) -> tuple[tuple[str, int, int], str, str]:
    """Run one replicate into its folder: (key, status, detail). A replicate that raises leaves error.json with its
    traceback ("failed"; the others go on); one that cannot be written ("unwritable") stops the batch, since the
    next would fail the same way, and leaves no manifest, so --resume runs it again."""
    folder = Path(root) / job.folder
    try:
        result = run(job.scenario, job.seed)
    except Exception:  # recorded, not raised: the other replicates go on
        try:
            write_json(folder / "error.json", {"arm": job.arm, "point": job.point, "replicate": job.replicate,
                                               "seed": job.seed, "traceback": traceback.format_exc()})
        except OSError as exc:
            return job.key, UNWRITABLE, _os_error(exc)
        return job.key, "failed", ""
    try:
        (folder / "error.json").unlink(missing_ok=True)
        write_run(result, folder, figures=False, extra={"arm": job.arm, "point": job.point,
                                                        "replicate": job.replicate, "patient": job.patient,
                                                        "covariates": job.covariates})
    except OSError as exc:
        return job.key, UNWRITABLE, _os_error(exc)
    return job.key, "ok", ""


def _os_error(exc: OSError) -> str:
    return f"{exc.filename}: {exc.strerror or exc}" if exc.filename else str(exc.strerror or exc)


def is_done(root: Path, job: Job) -> bool:
    return is_complete(root / job.folder)


def execute(jobs: list[Job], root: Path, *, workers: int, dask: str | None, progress: bool) -> int:
    """Run the jobs on the chosen executor, with a progress bar over replicates; returns how many failed. Stops at
    the first replicate that cannot be written, raising BatchWriteError once the running ones are done."""
    failed, done = 0, 0
    with tqdm(total=len(jobs), desc="replicates", unit="run", disable=not progress) as bar:
        results = _results(jobs, str(root), workers, dask)
        for _key, status, detail in results:
            if status == UNWRITABLE:
                results.close()  # cancels what has not started
                raise BatchWriteError(f"cannot write into {root} ({detail}); {done} replicates of this session were "
                                      f"kept: make room and complete the batch with --resume")
            done += status == "ok"
            failed += status != "ok"
            bar.update(1)
            if failed:
                bar.set_postfix(failed=failed, refresh=False)
    return failed


def _results(jobs: list[Job], root: str, workers: int, dask: str | None) -> Iterator[tuple[Any, str, str]]:
    if dask:
        yield from _dask_results(jobs, root, dask, workers)
    elif workers <= 1:
        for job in jobs:
            yield run_job(job, root)
    else:
        # Fresh interpreters, not forks: nothing of the parent's state (threads, RNGs) leaks into workers.
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(run_job, job, root) for job in jobs]
            try:
                for future in as_completed(futures):
                    yield future.result()
            finally:  # stopped early: drop the queued jobs, let the running ones finish
                pool.shutdown(wait=True, cancel_futures=True)


def _dask_results(jobs: list[Job], root: str, address: str, workers: int) -> Iterator[tuple[Any, str, str]]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed as dask_completed
    except ImportError:
        raise SystemExit("Dask is not installed: pip install 'tumour_abm[dist]'") from None
    if address == "local":
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        cluster, client = None, Client(address)
    try:
        futures = client.map(run_job, jobs, [root] * len(jobs), pure=False)
        try:
            for future in dask_completed(futures):
                yield future.result()
        finally:
            client.cancel(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def collect(root: Path, jobs: Iterable[Job], batch: Batch) -> tuple[pd.DataFrame, pd.DataFrame]:
    """replicates (one row per job: identifiers, sweep values, patient, status and every outcome) and the stacked
    time series, read back from the run folders in job order."""
    rows, series = [], []
    labels = [point_label(pt) for pt in batch.params.sweep_points()]
    points = batch.params.sweep_points()
    for job in jobs:
        folder = root / job.folder
        row: dict[str, Any] = {"arm": job.arm, "point": job.point, "point_label": labels[job.point],
                               "replicate": job.replicate, "seed": job.seed}
        row.update({f"sweep:{k}": v for k, v in points[job.point].items()})
        row.update({f"covariate:{k}": v for k, v in job.covariates.items()})
        row.update({f"patient:{k}": v for k, v in job.patient.items()})
        if is_done(root, job):
            row["status"], row["error"] = "ok", ""
            row["warnings"] = "\n".join(json.loads((folder / "manifest.json").read_text()).get("warnings", []))
            row.update(json.loads((folder / "summary.json").read_text()))
            ts = pd.read_csv(folder / "timeseries.csv")
            ts.insert(0, "replicate", job.replicate)
            ts.insert(0, "point", job.point)
            ts.insert(0, "arm", job.arm)
            series.append(ts)
        else:
            error = json.loads((folder / "error.json").read_text()) if (folder / "error.json").is_file() else {}
            row["status"], row["error"] = "failed", error.get("traceback", "not run").strip().splitlines()[-1]
            row["warnings"] = ""
        rows.append(row)
    replicates = pd.DataFrame(rows)
    timeseries = pd.concat(series, ignore_index=True) if series else pd.DataFrame()
    return replicates, timeseries


def point_label(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items()) or "-"


def prepare_folder(out: Path, batch: Batch, resume: bool, needs_bytes: int) -> None:
    """A new batch folder, or (with resume) one this tool made for the same batch file."""
    batch_copy = out / "batch.yaml"
    text = batch.path.read_text(encoding="utf-8")
    if owner_kind(out) == "batch" and batch_copy.is_file() and batch_copy.read_text(encoding="utf-8") != text:
        raise OutputFolderError(f"{out} holds a different batch file: resume only with the same {batch.path.name}")
    claim_folder(out, "batch", reuse=resume, reuse_flag="--resume", needs_bytes=needs_bytes)
    write_text_atomic(batch_copy, text)


def write_tables(out: Path, replicates: pd.DataFrame, timeseries: pd.DataFrame) -> None:
    write_atomic(out / "replicates.parquet", lambda tmp: replicates.to_parquet(tmp, index=False))
    write_atomic(out / "timeseries.parquet", lambda tmp: timeseries.to_parquet(tmp, index=False))


def write_batch_manifest(out: Path, batch: Batch, *, started: str, wall_s: float, executor: str, workers: int,
                         jobs: int, skipped: int, failed: int) -> None:
    data = manifest_base("batch")
    data.update({"batch_file": str(batch.path), "started": started,
                 "finished": datetime.now(UTC).isoformat(timespec="seconds"), "wall_s": round(wall_s, 2),
                 "executor": executor, "workers": workers, "jobs": jobs, "skipped_as_done": skipped,
                 "failed": failed})
    write_json(out / "manifest.json", data)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)



@dataclass(frozen=True)
class BatchRun:
    out: Path
    jobs: int
    skipped: int
    failed: int
    wall_s: float
    report: Path
    replicates: pd.DataFrame  # as written to replicates.parquet


def run_batch(path: str | Path, *, out: str | Path | None = None, replicates: int | None = None,
              workers: int | None = None, dask: str | None = None, resume: bool = False,
              progress: bool = False) -> BatchRun:
    """Run (or complete, with `resume`) a batch and write its tables, statistics, figures and report."""
    from .batch_analysis import analyse
    from .batchfile import load_batch
    from .config_files import dump_yaml

    batch = load_batch(path)
    n = replicates or batch.params.replicates
    workers = default_workers() if workers is None else workers
    check_memory(batch.scenarios, processes=1 if dask else min(workers, n * len(batch.scenarios)), where=batch.path)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = Path(out) if out else Path("runs") / f"{Path(path).stem}-{stamp}"
    jobs = plan_jobs(batch, n)
    prepare_folder(out, batch, resume, needs_bytes=sum(run_output_bytes(job.scenario, figures=False) for job in jobs))
    for arm, scenario in batch.scenarios.items():
        write_text_atomic(out / "arms" / f"{arm}.yaml", dump_yaml(scenario))
    todo = [job for job in jobs if not is_done(out, job)]
    executor = f"dask ({dask})" if dask else ("serial" if workers <= 1 else "processes")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    execute(todo, out, workers=workers, dask=dask, progress=progress)
    wall_s = time.perf_counter() - t0
    replicates_table, timeseries = collect(out, jobs, batch)
    failed = int((replicates_table["status"] != "ok").sum())
    meta = {"arms": len(batch.params.arms), "replicates per arm": n, "seeds": batch.params.seeds,
            "sweep points": len(batch.params.sweep_points()), "executor": executor, "wall time (s)": round(wall_s, 1),
            "failed": failed}
    try:
        write_tables(out, replicates_table, timeseries)
        report = analyse(out, meta)
        # Last: the manifest says the folder is complete.
        write_batch_manifest(out, batch, started=started, wall_s=wall_s, executor=executor, workers=workers,
                             jobs=len(jobs), skipped=len(jobs) - len(todo), failed=failed)
    except OSError as exc:
        raise BatchWriteError(f"cannot write the batch's tables and report into {out} ({exc.strerror or exc}); every "
                              "replicate is kept: make room and run again with --resume") from None
    return BatchRun(out, len(jobs), len(jobs) - len(todo), failed, wall_s, report, replicates_table)
