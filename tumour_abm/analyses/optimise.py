"""`tumour-abm optimise FILE`: search selinexor schedules around an anchor therapy with Optuna, then confirm the
best on fresh seeds against the standard schedule.

Candidates are asked in batches (Optuna's ask-and-tell, the TPE sampler with a constant liar so a batch spreads
out), each run on the same `replicates` seeds (common random numbers: candidates differ by their schedule, not by
their luck), their objectives the replicate means. The study lives in an append-only journal file beside the runs:
a killed search resumes with `--resume`, re-telling the candidates that were running from their finished run
folders, so nothing is lost or run twice. The search's best values are biased upwards (the winner's curse: the best
of many noisy candidates is partly the luckiest), so the `confirm.top` best — or, with several objectives, members
of the Pareto front — are re-run with `confirm.replicates` fresh seeds beside the standard schedule and reported as
paired differences with bootstrap CIs and Holm-adjusted Wilcoxon p.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import write_atomic, write_text_atomic
from ..batch import Job, default_workers, execute
from ..outdir import is_complete
from ..resources import check_memory, run_output_bytes
from ..rundir import manifest_base, write_json
from ..stats import bootstrap_ci, holm, paired_test
from .optimise_file import SCHEDULE_OBJECTIVES, Optimisation, load_optimisation, schedule_courses, schedule_doses
from .runs import AnalysisIncomplete, common_seeds, outcome_table, prepare_folder

KIND = "optimisation"
Evaluate = Callable[[list[dict[str, int]], str], list[tuple[float, ...]]]  # (schedules, tag) → objective values


def sampler_kind(opt_params) -> str:
    return opt_params.sampler or ("nsga2" if len(opt_params.objectives) > 1 else "tpe")


def generation_size(opt_params) -> int:
    """NSGA-II's population, TPE's random start-up trials: a batch larger than this would make them random."""
    if sampler_kind(opt_params) == "nsga2":
        return max(4, min(50, opt_params.trials // 4))
    return min(10, max(2, opt_params.trials // 4))


def make_study(opt_params, storage_path: Path | None):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = None
    if storage_path is not None:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(str(storage_path)))
    directions = [o.direction for o in opt_params.objectives]
    study = optuna.create_study(study_name="schedules", storage=storage, load_if_exists=True, directions=directions)
    # Seeded by the trials already in the study: a resumed search draws on, rather than repeating its first draws.
    seed = int(np.random.SeedSequence([opt_params.base_seed, len(study.trials)]).generate_state(1)[0])
    kind = sampler_kind(opt_params)
    if kind == "tpe":
        study.sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True,
                                                   n_startup_trials=generation_size(opt_params))
    elif kind == "nsga2":
        study.sampler = optuna.samplers.NSGAIISampler(seed=seed, population_size=generation_size(opt_params))
    else:
        study.sampler = optuna.samplers.RandomSampler(seed=seed)
    return study


def _suggest(trial, search) -> dict[str, int]:
    return {name: trial.suggest_int(name, r.low, r.high, step=r.step) for name, r in search.items()}


def search(study, search_space, trials: int, batch: int, evaluate: Evaluate, progress=None) -> None:
    """Run the study up to `trials` finished candidates, `batch` at a time; candidates left running by a killed
    search are evaluated first (their finished runs are reused by `evaluate`)."""
    from optuna.trial import TrialState

    pending = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if set(t.params) == set(search_space):
            pending.append((t.number, dict(t.params)))
        else:  # killed between asking and drawing its values: nothing to resume, a new candidate replaces it
            study.tell(t.number, state=TrialState.FAIL)
    while True:
        # Failed candidates (a run failed, or an objective undefined) use up the budget too: the search ends.
        done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)))
        if not pending:
            want = min(batch, trials - done)
            if want <= 0:
                return
            asked = [study.ask() for _ in range(want)]
            pending = [(t.number, _suggest(t, search_space)) for t in asked]
        values = evaluate([params for _, params in pending], "search")
        for (number, _), value in zip(pending, values):
            if all(np.isfinite(value)):
                study.tell(number, list(value))
            else:
                study.tell(number, state=TrialState.FAIL)
        if progress:
            progress(len(pending))
        pending = []


def schedule_folder(full: dict[str, int]) -> str:
    """A schedule's runs folder name, e.g. 60mg_2pw_pre21_wash0_maint0."""
    return (f"{full['dose_mg']}mg_{full['days_per_week']}pw_pre{full['pretreatment_d']}_wash{full['washout_d']}_"
            f"maint{full['maintenance_d']}")


class ModelEvaluator:
    """Runs each schedule on the file's seeds (tag "search") or the confirmation's ("confirm"), each run in a folder
    named by the schedule, so a schedule met again — or a resumed search — reuses its finished runs."""

    def __init__(self, opt: Optimisation, out: Path, workers: int, dask: str | None):
        self.opt, self.out, self.workers, self.dask = opt, out, workers, dask
        own = schedule_doses(opt.schedule({}), opt.params.anchor)
        self.outcomes = tuple(o.outcome for o in opt.params.objectives if o.outcome not in own)

    def _groups(self, schedules: list[dict[str, int]], tag: str):
        p = self.opt.params
        n, base = (p.replicates, p.base_seed) if tag == "search" else (p.confirm.replicates, p.confirm.base_seed)
        patients = [self.opt.patient(base, i) for i in range(n)]  # the same patients for every candidate
        for k, searched in enumerate(schedules):
            full = self.opt.schedule(searched)
            yield full, [Job(tag, k, i, seed, self.opt.scenario_for(full, patients[i]), patients[i],
                             f"{tag}/{schedule_folder(full)}/r{i:03d}")
                         for i, seed in enumerate(common_seeds(base, n))]

    def per_replicate(self, schedules: list[dict[str, int]], tag: str) -> list[pd.DataFrame]:
        """Each schedule's objectives run by run (run first if not done)."""
        groups = list(self._groups(schedules, tag))
        todo = [job for _, group in groups for job in group if not is_complete(self.out / job.folder)]
        execute(todo, self.out, workers=self.workers, dask=self.dask, progress=False)
        tables = []
        for full, group in groups:
            runs = outcome_table(self.out, group, self.outcomes)  # a failed run's outcomes are NaN
            for name, value in schedule_doses(full, self.opt.params.anchor).items():
                runs[name] = value
            tables.append(runs)
        return tables

    def __call__(self, schedules: list[dict[str, int]], tag: str) -> list[tuple[float, ...]]:
        """Each schedule's objectives, the means over its replicates; NaN unless every replicate has a value (a
        mean over fewer would break the common seeds)."""
        def mean(values: pd.Series) -> float:
            return float(values.mean()) if np.isfinite(values.to_numpy(float)).all() else float("nan")

        return [tuple(mean(runs[o.outcome]) for o in self.opt.params.objectives)
                for runs in self.per_replicate(schedules, tag)]


def trials_table(study, search_space) -> pd.DataFrame:
    from optuna.trial import TrialState

    rows = []
    front = {t.number for t in study.best_trials}
    for t in study.get_trials(states=(TrialState.COMPLETE,)):
        rows.append({"trial": t.number, **{k: t.params[k] for k in search_space}, "pareto": t.number in front,
                     **{f"objective_{i}": v for i, v in enumerate(t.values)}})
    return pd.DataFrame(rows)


def pick(study, opt: Optimisation, top: int) -> list[dict[str, int]]:
    """The candidates to confirm: the best `top` distinct schedules (one objective) or, with several, up to `top`
    distinct Pareto-front schedules spread along the first objective. Schedules that differ only where nothing is
    given (a dose with no course) are one schedule."""
    from optuna.trial import TrialState

    if len(opt.params.objectives) == 1:
        sign = 1.0 if opt.params.objectives[0].direction == "minimize" else -1.0
        ranked = sorted(study.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: sign * t.values[0])
    else:
        ranked = sorted(study.best_trials, key=lambda t: t.values[0])
    distinct: list[dict[str, int]] = []
    given: list[list[dict]] = []
    for t in ranked:
        courses = schedule_courses(opt.schedule(dict(t.params)), opt.params.anchor)
        if courses not in given:
            distinct.append(dict(t.params))
            given.append(courses)
    if len(opt.params.objectives) == 1 or len(distinct) <= top:
        return distinct[:top]
    return [distinct[int(round(i))] for i in np.linspace(0, len(distinct) - 1, top)]


def confirm(opt: Optimisation, evaluate: ModelEvaluator, candidates: list[dict[str, int]]) -> pd.DataFrame:
    """Each candidate against the standard schedule on fresh seeds: paired differences per objective."""
    tables = evaluate.per_replicate([{}, *candidates], "confirm")  # {}: every dimension at the standard's value
    base, rows = tables[0], []
    for k, (cand, table) in enumerate(zip(candidates, tables[1:]), start=1):
        full = opt.schedule(cand)
        for o in opt.params.objectives:
            a, b = table[o.outcome].to_numpy(float), base[o.outcome].to_numpy(float)
            if not (np.isfinite(a).all() and np.isfinite(b).all()):
                raise AnalysisIncomplete(f"{o.outcome} is undefined in some confirmation run of candidate {k} "
                                         f"({full}) or of the standard schedule: see {evaluate.out / 'confirm'}")
            d = a - b
            exact = o.outcome in SCHEDULE_OBJECTIVES  # read off the schedule: an exact difference, no test
            p = np.nan if exact else paired_test(a, b)[1] if np.any(d) else 1.0
            low, high = bootstrap_ci(d)
            better = d.mean() < 0 if o.direction == "minimize" else d.mean() > 0
            rows.append({"candidate": k, **full, "objective": o.outcome, "direction": o.direction,
                         "mean_candidate": a.mean(), "mean_standard": b.mean(), "difference": d.mean(),
                         "ci_low": low, "ci_high": high, "p": p, "better": bool(better), "n": len(d)})
    table = pd.DataFrame(rows)
    if len(table):
        tested = table["p"].notna()
        table["p_holm"] = np.nan
        if tested.any():
            table.loc[tested, "p_holm"] = holm(table.loc[tested, "p"])
    return table


@dataclass(frozen=True)
class OptimisationRun:
    out: Path
    trials: pd.DataFrame
    confirmed: pd.DataFrame
    wall_s: float
    report: Path


def run_optimisation(path: str | Path, *, out: str | Path, workers: int | None = None, dask: str | None = None,
                     resume: bool = False, progress: bool = False) -> OptimisationRun:
    from tqdm import tqdm

    from .optimise_report import write_report

    opt = load_optimisation(path)
    p = opt.params
    out = Path(out)
    workers = default_workers() if workers is None else workers
    check_memory({"candidate": opt.scenario_for(opt.schedule({}))}, processes=1 if dask else workers, where=opt.path)
    runs = p.trials * p.replicates + (p.confirm.top + 1) * p.confirm.replicates
    prepare_folder(out, KIND, opt.path, "optimise.yaml", opt.scenario, resume=resume,
                   needs_bytes=runs * run_output_bytes(opt.scenario, figures=False))
    study = make_study(p, out / "study.journal")
    evaluate = ModelEvaluator(opt, out, workers, dask)
    t0 = time.perf_counter()
    with tqdm(total=p.trials, desc="candidates", unit="schedule", disable=not progress) as bar:
        bar.update(len([t for t in study.trials if t.state.name == "COMPLETE"]))
        search(study, p.search, p.trials, p.batch or min(workers, generation_size(p)), evaluate, progress=bar.update)
    trials = trials_table(study, p.search)
    if not len(trials):
        raise AnalysisIncomplete(f"none of the {p.trials} candidates gave every objective a value on every seed (a "
                                 f"run failed, or an objective is undefined there): see {out / 'search'}")
    write_atomic(out / "trials.csv", lambda tmp: trials.to_csv(tmp, index=False))
    confirmed = confirm(opt, evaluate, pick(study, opt, p.confirm.top))
    wall_s = time.perf_counter() - t0
    write_atomic(out / "confirmed.csv", lambda tmp: confirmed.to_csv(tmp, index=False))
    report = write_report(out, opt, trials, confirmed, wall_s)
    write_json(out / "manifest.json", {**manifest_base(KIND), "optimisation_file": str(opt.path),
                                       "trials": len(trials), "wall_s": round(wall_s, 2)})
    write_text_atomic(out / "best.json", json.dumps(confirmed.to_dict(orient="records"), indent=2, default=float))
    return OptimisationRun(out, trials, confirmed, wall_s, report)
