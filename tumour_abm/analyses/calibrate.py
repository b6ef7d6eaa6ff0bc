"""`tumour-abm calibrate FILE`: fit named parameters to observed statistics by approximate Bayesian computation.

Procedure (written into every output so the calibration can be audited): a Latin-hypercube sample of `samples`
points from the uniform prior ranges; each point run on the same `replicates` seeds (common random numbers); each
point's replicate mean weighted by the likelihood of the targets under their Gaussian errors, exp(−½ Σ (mean −
value)² / sd²) (a kernel ABC whose kernel is the observation error: Beaumont 2019 Annu Rev Stat Appl). The model's
own seed noise is not added to the kernel: estimated from a few replicates it is itself noisy, and largest far from
the target (a slow tumour's doubling time), where it would lend weight to points that do not fit; more replicates
shrink it instead. The posterior is the weighted sample: its median is the fitted value, its 2.5-97.5 % weighted
quantiles the 95 % credible interval, 1/Σw² its effective sample size (too few points near the targets: raise
`samples`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..atomic import write_atomic, write_text_atomic
from ..batch import Job
from ..outdir import is_complete
from ..rundir import manifest_base, write_json
from .calibrate_file import MIN_ESS, PROCEDURE, Calibration, load_calibration, statistic
from .runs import AnalysisIncomplete, common_seeds, run_design

KIND = "calibration"


def prior_points(c: Calibration) -> np.ndarray:
    from scipy.stats import qmc

    ranges = np.array(list(c.params.parameters.values()), dtype=float)
    unit = qmc.LatinHypercube(d=len(ranges), seed=c.params.base_seed).random(c.params.samples)
    return qmc.scale(unit, ranges[:, 0], ranges[:, 1])


def plan(c: Calibration, points: np.ndarray) -> list[Job]:
    """Every run: point k × replicate i on the common seeds (and, with a cohort, the same virtual patient i);
    each point, and each patient at it, must be a valid scenario."""
    seeds = common_seeds(c.params.base_seed, c.params.replicates)
    jobs = []
    for k, row in enumerate(points):
        point = c.updates(row)
        scenario = c.file.updated(point, "parameters", note=f" (at prior point {k}: {point})")
        for i, seed in enumerate(seeds):
            patient = c.patient(scenario, i)
            scenario_i = (c.file.updated({**point, **patient.updates}, "cohort",
                                         note=f" (patient {i} at prior point {k})") if patient.updates else scenario)
            jobs.append(Job("point", k, i, seed, scenario_i, patient.updates, f"runs/p{k:05d}/r{i:03d}",
                            patient.covariates))
    return jobs


def point_statistics(out: Path, jobs: list[Job], c: Calibration) -> pd.DataFrame:
    rows = []
    for job in jobs:
        folder = out / job.folder
        if not is_complete(folder):
            raise AnalysisIncomplete(f"run {folder} failed: see its error.json")
        summary = json.loads((folder / "summary.json").read_text())
        series = pd.read_csv(folder / "timeseries.csv")
        rows.append({"point": job.point, "replicate": job.replicate,
                     **{t.statistic: statistic(t.statistic, summary, series) for t in c.params.targets}})
    return pd.DataFrame(rows)


def weights(c: Calibration, runs: pd.DataFrame, n_points: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Each point's normalised posterior weight, and its statistics' means."""
    means = runs.groupby("point").mean().drop(columns="replicate").reindex(range(n_points))
    log_w = np.zeros(n_points)
    for t in c.params.targets:
        m = means[t.statistic].to_numpy(float)
        log_w += np.where(np.isfinite(m), -0.5 * (m - t.value) ** 2 / t.sd**2, -np.inf)
    if not np.isfinite(log_w).any() or not np.any(np.exp(log_w - np.max(log_w)) > 0):
        raise AnalysisIncomplete("no point of the prior gives every target a value (e.g. no growth, so no doubling "
                                 "time): widen the prior ranges or check the targets")
    w = np.exp(log_w - np.max(log_w))
    return w / w.sum(), means


def weighted_quantile(values: np.ndarray, w: np.ndarray, q: float) -> float:
    """The q-quantile of the weighted sample: the smallest value whose cumulative weight reaches q (points of no
    weight take no part)."""
    keep = w > 0
    order = np.argsort(values[keep])
    v, cum = values[keep][order], np.cumsum(w[keep][order]) / w[keep].sum()
    return float(v[min(np.searchsorted(cum, q - 1e-12), len(v) - 1)])


def posterior(c: Calibration, points: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    rows = []
    for j, (name, (low, high)) in enumerate(c.params.parameters.items()):
        v = points[:, j]
        mean = float(np.sum(w * v))
        rows.append({"parameter": name, "prior_low": low, "prior_high": high,
                     "median": weighted_quantile(v, w, 0.5), "ci_low": weighted_quantile(v, w, 0.025),
                     "ci_high": weighted_quantile(v, w, 0.975), "mean": mean,
                     "sd": float(np.sqrt(np.sum(w * (v - mean) ** 2)))})
    return pd.DataFrame(rows)


def fragment(c: Calibration, out: Path, post: pd.DataFrame, ess: float) -> str:
    """A scenario that extends the calibrated one with the fitted values (and the file's overrides)."""
    nested: dict = {}
    values = {**c.params.overrides, **{r.parameter: float(f"{r.median:.4g}") for r in post.itertuples()}}
    for dotted, value in values.items():
        node = nested
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = int(round(value)) if c.whole.get(dotted) else value
    scenario = os.path.relpath((c.path.parent / c.params.scenario).resolve(), out.resolve())
    header = [f"# Calibrated by `tumour-abm calibrate {c.path.name}` on {datetime.now(UTC).date()}: "
              f"{PROCEDURE}; {c.params.samples} points x {c.params.replicates} seeds; ESS {ess:.1f}.",
              *[f"# target: {t.statistic} = {t.value:g} ± {t.sd:g} ({t.source})" for t in c.params.targets],
              *[f"# {r.parameter}: median {r.median:.4g}, 95 % CI [{r.ci_low:.4g}, {r.ci_high:.4g}]"
                for r in post.itertuples()]]
    body = yaml.safe_dump({"description": f"{c.params.description} (calibrated)", "extends": scenario, **nested},
                          sort_keys=False, allow_unicode=True)
    return "\n".join(header) + "\n" + body


@dataclass(frozen=True)
class CalibrationRun:
    out: Path
    posterior: pd.DataFrame
    ess: float
    wall_s: float
    report: Path


def run_calibration(path: str | Path, *, out: str | Path, workers: int | None = None, dask: str | None = None,
                    resume: bool = False, progress: bool = False) -> CalibrationRun:
    from .calibrate_report import write_report

    c = load_calibration(path)
    out = Path(out)
    points = prior_points(c)
    jobs = plan(c, points)
    made, wall_s = run_design(out, KIND, c.path, "calibration.yaml", c.scenario, jobs,
                              ("prior.csv", pd.DataFrame(points, columns=list(c.params.parameters))),
                              workers=workers, dask=dask, resume=resume, progress=progress)
    runs = point_statistics(out, jobs, c)
    w, means = weights(c, runs, len(points))
    ess = float(1.0 / np.sum(w**2))
    post = posterior(c, points, w)
    table = pd.DataFrame(points, columns=list(c.params.parameters)).assign(weight=w)
    table = pd.concat([table, means.add_prefix("mean:")], axis=1)
    write_atomic(out / "points.csv", lambda tmp: table.to_csv(tmp, index_label="point"))
    write_atomic(out / "posterior.csv", lambda tmp: post.to_csv(tmp, index=False))
    write_text_atomic(out / "fitted.yaml", fragment(c, out, post, ess))
    record = {"calibration_file": str(c.path), "scenario": c.params.scenario, "procedure": PROCEDURE,
              "targets": [t.model_dump() for t in c.params.targets], "prior": c.params.parameters,
              "samples": c.params.samples, "replicates": c.params.replicates,
              "seeds": [job.seed for job in jobs[:c.params.replicates]],
              "effective_sample_size": ess, "too_few_effective_points": ess < MIN_ESS,
              "posterior": post.to_dict(orient="records")}
    write_json(out / "calibration.json", record)
    report = write_report(out, c, table, post, ess, wall_s)
    write_json(out / "manifest.json", {**manifest_base(KIND), "calibration_file": str(c.path), "runs": len(jobs),
                                       "skipped_as_done": len(jobs) - made, "wall_s": round(wall_s, 2)})
    return CalibrationRun(out, post, ess, wall_s, report)
