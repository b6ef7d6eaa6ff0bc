"""From a batch folder's tables to statistics, figures and the report (used by `batch` and by `compare`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import batch_plots, stats, trial_plots
from .atomic import write_atomic, write_text_atomic
from .batchfile import BatchParams
from .config_files import load_model
from .report import build_report, figure_tag
from .scenario import Scenario, load_scenario


def flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(value, (list, tuple)) and not value:
        return {}  # no courses: nothing to list (an arm that has some lists them)
    if isinstance(value, (list, tuple)) and isinstance(value[0], dict):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}{i}."))
        return out
    return {prefix[:-1]: value}


def differences(scenarios: dict[str, Scenario], reference: str) -> pd.DataFrame:
    """Every parameter whose value differs from the reference arm's, per arm."""
    ref = flatten(scenarios[reference].model_dump(mode="json"))
    rows = []
    for arm, scenario in scenarios.items():
        if arm == reference:
            continue
        mine = flatten(scenario.model_dump(mode="json"))
        for key in sorted(set(ref) | set(mine)):
            if ref.get(key) != mine.get(key):
                rows.append({"arm": arm, "parameter": key, "reference value": ref.get(key),
                             "arm value": mine.get(key)})
    return pd.DataFrame(rows)


def warning_counts(replicates: pd.DataFrame) -> pd.DataFrame:
    """Each distinct warning of the replicates, per arm, with the number of replicates that gave it."""
    if "warnings" not in replicates:
        return pd.DataFrame(columns=["arm", "warning", "replicates"])
    lines = replicates[["arm", "warnings"]].assign(warning=replicates["warnings"].fillna("").str.split("\n"))
    lines = lines.explode("warning")
    lines = lines[lines["warning"].str.len() > 0]
    return (lines.groupby(["arm", "warning"], sort=False).size().rename("replicates").reset_index())


def arms_without_results(replicates: pd.DataFrame, arms: list[str]) -> tuple[str, ...]:
    ok = set(replicates.loc[replicates["status"] == "ok", "arm"])
    return tuple(arm for arm in arms if arm not in ok)


def arm_scenarios(out: Path) -> dict[str, Scenario]:
    return {p.stem: load_scenario(p) for p in sorted((out / "arms").glob("*.yaml"))}


def analyse(out: Path, meta: dict) -> Path:
    """Write stats.csv, comparisons.csv, progression.csv, responses.csv, figures/ and report.html into `out`."""
    params = load_model(BatchParams, out / "batch.yaml")
    replicates = pd.read_parquet(out / "replicates.parquet")
    timeseries = pd.read_parquet(out / "timeseries.parquet")
    outcomes = list(params.outcomes)
    arms = list(params.arms)
    arm_table = stats.arm_stats(replicates, outcomes)
    comparisons = stats.compare(replicates, outcomes, params.reference, paired=params.seeds == "paired")
    ok = stats.ok_rows(replicates)
    progression = stats.progression(replicates, params.reference) if len(ok) else pd.DataFrame()
    responses = stats.response_rates(replicates) if len(ok) else pd.DataFrame()
    for name, table in (("stats", arm_table), ("comparisons", comparisons), ("progression", progression),
                        ("responses", responses)):
        write_atomic(out / f"{name}.csv", lambda tmp, t=table: t.to_csv(tmp, index=False))

    figures_dir = out / "figures"
    figures_dir.mkdir(exist_ok=True)
    made = []
    if len(timeseries):
        made.append(("time series: median and 90 % band over replicates", "ribbons", batch_plots.ribbons(timeseries, arms)))
    if len(ok):
        made.append(("outcomes by arm", "outcomes", batch_plots.outcome_boxes(replicates, outcomes, arms)))
        made.append(("time to progression", "progression", trial_plots.km_curves(replicates, arms)))
        if "best_change" in ok and pd.to_numeric(ok["best_change"], errors="coerce").notna().any():
            made.append(("best change in burden per patient (waterfall)", "waterfall",
                         trial_plots.waterfall(replicates, arms)))
            made.append(("each patient's course (swimmer plot)", "swimmer", trial_plots.swimmer(replicates, arms)))
        for outcome in outcomes[:2]:
            fig = batch_plots.sweep_plot(replicates, outcome, arms)
            if fig is not None:
                made.append((f"sweep: {outcome}", f"sweep_{outcome}", fig))
    tags = []
    for caption, name, fig in made:
        write_atomic(figures_dir / f"{name}.png", lambda tmp, f=fig: f.savefig(tmp, format="png", dpi=110))
        tags.append((caption, figure_tag(fig, caption)))

    failures = replicates.loc[replicates["status"] != "ok", ["arm", "point", "replicate", "seed", "error"]]
    html_text = build_report(
        warnings=warning_counts(replicates), arms_without_results=arms_without_results(replicates, arms),
        title=f"tumour_abm batch: {out.name}", description=params.description, meta=meta,
        differences=differences(arm_scenarios(out), params.reference), arm_stats=arm_table, comparisons=comparisons,
        progression=progression, responses=responses, failures=failures, figures=tags,
    )
    return write_text_atomic(out / "report.html", html_text)
