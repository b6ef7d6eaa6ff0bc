"""The figures and HTML page of a schedule optimisation: the search (Pareto front, or the objective by candidate
with the running best), the confirmed schedules drawn as dose calendars, and the confirmation table."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..atomic import write_text_atomic  # noqa: E402
from ..report import STYLE, _table, figure_tag  # noqa: E402
from .optimise_file import DIMENSIONS, dose_days  # noqa: E402


def search_figure(trials: pd.DataFrame, objectives) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.4, 4.4), constrained_layout=True)
    if len(objectives) == 1:
        o = objectives[0]
        values = trials["objective_0"].to_numpy(float)
        best = np.minimum.accumulate(values) if o.direction == "minimize" else np.maximum.accumulate(values)
        ax.scatter(trials["trial"], values, s=14, color="#5d6d7e", label="candidate (search seeds)")
        ax.plot(trials["trial"], best, color="#c0392b", label="best so far")
        ax.set(xlabel="candidate", ylabel=o.outcome, title=f"search: {o.outcome} ({o.direction})")
    else:
        front = trials[trials["pareto"]].sort_values("objective_0")
        ax.scatter(trials["objective_0"], trials["objective_1"], s=14, color="#aab7b8", label="candidate")
        ax.plot(front["objective_0"], front["objective_1"], "o-", color="#c0392b", ms=5, label="Pareto front")
        ax.set(xlabel=f"{objectives[0].outcome} ({objectives[0].direction})",
               ylabel=f"{objectives[1].outcome} ({objectives[1].direction})", title="search: Pareto front")
    ax.legend(fontsize="small")
    return fig


def calendar_figure(schedules: list[tuple[str, dict[str, int]]], anchor: str, days: tuple[int, int]) -> plt.Figure:
    """One row per schedule, one column per day relative to the anchor, coloured by the selinexor dose given."""
    span = np.arange(days[0], days[1] + 1)
    grid = np.zeros((len(schedules), len(span)))
    for row, (_, s) in enumerate(schedules):
        for day, mg in dose_days(s, anchor):
            if days[0] <= day <= days[1]:
                grid[row, int(round(day)) - days[0]] = mg
    fig, ax = plt.subplots(figsize=(max(7.0, 0.12 * len(span)), 0.45 * len(schedules) + 1.4),
                           constrained_layout=True)
    image = ax.imshow(np.ma.masked_equal(grid, 0), aspect="auto", cmap="Reds", vmin=0,
                      extent=(days[0] - 0.5, days[1] + 0.5, len(schedules) - 0.5, -0.5))
    ax.axvline(-0.5, color="#2e86c1", lw=2, label=f"{anchor} (day 0)")
    ax.set_yticks(range(len(schedules)), [label for label, _ in schedules], fontsize=7)
    ax.set(xlabel=f"day relative to {anchor}", title="selinexor dose calendars")
    fig.colorbar(image, ax=ax, label="mg")
    ax.legend(fontsize="small", loc="upper right")
    return fig


def write_report(out: Path, opt, trials: pd.DataFrame, confirmed: pd.DataFrame, wall_s: float) -> Path:
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    p = opt.params
    fig = search_figure(trials, p.objectives)
    fig.savefig(figures / "search.png", dpi=110)
    parts = [figure_tag(fig, "search")]
    shown = [("standard", opt.schedule({}))]
    if len(confirmed):
        for k, rows in confirmed.groupby("candidate"):
            shown.append((f"candidate {k}", {d: int(rows.iloc[0][d]) for d in DIMENSIONS}))
    first = min([-(s["pretreatment_d"] + s["washout_d"]) for _, s in shown] + [0])
    last = max([s["maintenance_d"] for _, s in shown] + [7])
    fig = calendar_figure(shown, p.anchor, (first, last))
    fig.savefig(figures / "calendars.png", dpi=110)
    parts.append(figure_tag(fig, "dose calendars"))
    parts.append("<h2>Confirmed on fresh seeds, against the standard schedule</h2>"
                 f"<p class='note'>{p.confirm.replicates} paired seeds (base seed {p.confirm.base_seed}, not the "
                 f"search's); difference = candidate − standard with its 95 % bootstrap CI; Wilcoxon signed-rank, "
                 f"Holm-adjusted over the table</p>" + _table(confirmed))
    best = trials.sort_values("objective_0", ascending=p.objectives[0].direction == "minimize").head(10)
    parts.append("<h2>Search (the search's own seeds: optimistic)</h2>" + _table(best))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>tumour_abm optimisation</title>"
            f"<style>{STYLE}</style></head><body><h1>Optimisation: {html.escape(opt.path.name)}</h1>"
            f"<p>{html.escape(p.description)}</p><p class='note'>{len(trials)} candidates × {p.replicates} seeds; "
            f"wall time {wall_s:.0f} s; {datetime.now(UTC).isoformat(timespec='seconds')}</p>{''.join(parts)}"
            "</body></html>")
    write_text_atomic(out / "report.html", page)
    return out / "report.html"
