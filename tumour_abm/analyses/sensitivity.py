"""`tumour-abm sensitivity FILE`: Morris screening or Sobol indices of a scenario's outcomes over its parameters.

SALib draws the points (seeded by the file's base seed) and estimates the indices; every point runs `replicates`
seeds, the same seeds at every point (common random numbers): runs share their noise as long as their draws stay
aligned, and a parameter that cannot act has an index of exactly 0 (one that changes any draw sends its run down
another random path, so its effects still carry some seed noise, which replicates average out). Each run is a job of
the batch executor (processes or Dask) writing its own folder atomically, so a killed analysis resumes with
`--resume` and runs only what is missing. The indices' 95 % CIs are SALib's bootstrap over the points.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import write_atomic
from ..batch import Job
from ..rundir import manifest_base, write_json
from .runs import AnalysisIncomplete, common_seeds, outcome_table, run_design
from .sensitivity_file import Sensitivity, load_sensitivity

KIND = "sensitivity"


def design(s: Sensitivity) -> np.ndarray:
    """The points to run, one row each, in the order SALib's estimators read them."""
    p = s.params
    if p.method == "morris":
        from SALib.sample import morris

        return morris.sample(s.problem(), p.samples, num_levels=p.levels, seed=p.base_seed)
    from SALib.sample import sobol

    return sobol.sample(s.problem(), p.samples, calc_second_order=False, seed=p.base_seed)


def plan(s: Sensitivity, points: np.ndarray) -> list[Job]:
    """Every run: point k × replicate i, replicate i with the same seed at every point."""
    jobs = []
    for k, row in enumerate(points):
        scenario = s.file.updated(s.updates(row), "parameters", note=f" (at design point {k}: {s.updates(row)})")
        for i, seed in enumerate(common_seeds(s.params.base_seed, s.params.replicates)):
            jobs.append(Job("point", k, i, seed, scenario, {}, f"runs/p{k:05d}/r{i:03d}"))
    return jobs


def indices(s: Sensitivity, points: np.ndarray, runs: pd.DataFrame) -> pd.DataFrame:
    """Each outcome's indices per parameter from the points' replicate means: Morris μ*, μ, σ (with μ*'s CI) or
    Sobol S1 and ST (with their CIs)."""
    p = s.params
    tables = []
    for outcome in p.outcomes:
        # A point counts only if every replicate has a value: a mean over fewer would break the common seeds.
        y = runs.groupby("point")[outcome].agg(lambda v: v.mean() if np.isfinite(v).all() else np.nan)
        y = y.reindex(range(len(points))).to_numpy(float)
        if not np.all(np.isfinite(y)):
            missing = int(np.sum(~np.isfinite(y)))
            raise AnalysisIncomplete(f"{outcome}: {missing} of {len(y)} points lack a value in some replicate (a "
                                     "failed run, or an outcome undefined there, e.g. a ratio with no "
                                     "denominator): the indices need every point; see runs.csv and each failed "
                                     "run's error.json")
        if p.method == "morris":
            from SALib.analyze import morris

            r = morris.analyze(s.problem(), points, y, num_resamples=p.bootstrap, conf_level=0.95,
                               num_levels=p.levels, seed=p.base_seed)
            table = pd.DataFrame({"mu_star": r["mu_star"], "mu_star_ci": r["mu_star_conf"], "mu": r["mu"],
                                  "sigma": r["sigma"]})
            rank_by = "mu_star"
        else:
            from SALib.analyze import sobol

            # seed + 1: SALib's Sobol analysis treats a seed of 0 as none (unseeded bootstrap)
            r = sobol.analyze(s.problem(), y, calc_second_order=False, num_resamples=p.bootstrap, conf_level=0.95,
                              seed=p.base_seed + 1)
            table = pd.DataFrame({"S1": r["S1"], "S1_ci": r["S1_conf"], "ST": r["ST"], "ST_ci": r["ST_conf"]})
            rank_by = "ST"
        table.insert(0, "parameter", [f.name for f in s.factors])
        table.insert(0, "outcome", outcome)
        table["low"] = [f.low for f in s.factors]
        table["high"] = [f.high for f in s.factors]
        table["rank"] = table[rank_by].rank(ascending=False, method="min").astype(int)
        tables.append(table.sort_values("rank", kind="stable"))
    return pd.concat(tables, ignore_index=True)


@dataclass(frozen=True)
class SensitivityRun:
    out: Path
    runs: int
    skipped: int
    wall_s: float
    indices: pd.DataFrame
    report: Path


def run_sensitivity(path: str | Path, *, out: str | Path, workers: int | None = None, dask: str | None = None,
                    resume: bool = False, progress: bool = False) -> SensitivityRun:
    """Run (or, with `resume`, complete) a sensitivity analysis and write its design, runs, indices and report."""
    from .sensitivity_report import write_report

    s = load_sensitivity(path)
    out = Path(out)
    points = design(s)
    jobs = plan(s, points)
    names = [f.name for f in s.factors]
    made, wall_s = run_design(out, KIND, s.path, "analysis.yaml", s.scenario, jobs,
                              ("design.csv", pd.DataFrame(points, columns=names)), workers=workers, dask=dask,
                              resume=resume, progress=progress)
    runs = outcome_table(out, jobs, s.params.outcomes)
    write_atomic(out / "runs.csv", lambda tmp: runs.to_csv(tmp, index=False))
    table = indices(s, points, runs)
    write_atomic(out / "indices.csv", lambda tmp: table.to_csv(tmp, index=False))
    report = write_report(out, s, table, {"runs": len(jobs), "run this time": made, "wall time (s)": wall_s})
    manifest = {**manifest_base(KIND), "analysis_file": str(s.path), "method": s.params.method,
                "parameters": names, "points": len(points), "runs": len(jobs), "skipped_as_done": len(jobs) - made,
                "wall_s": round(wall_s, 2)}
    write_json(out / "manifest.json", manifest)  # last: the folder is complete
    return SensitivityRun(out, len(jobs), len(jobs) - made, wall_s, table, report)
