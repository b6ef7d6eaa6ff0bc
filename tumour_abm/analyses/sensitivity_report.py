"""The figures and HTML page of a sensitivity analysis: per outcome, Morris μ* with its CI beside the μ*–σ plane
(Campolongo 2007: σ large against μ* means interactions or a non-linear effect), or Sobol S1 and ST bars with their
CIs; and the table of every index."""

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

SHOWN = 15  # parameters drawn per figure, the highest ranked: a screen of dozens is read from its top


def morris_figure(table: pd.DataFrame, outcome: str) -> plt.Figure:
    top = table.nsmallest(SHOWN, "rank").iloc[::-1]
    fig, (bars, plane) = plt.subplots(1, 2, figsize=(11, 0.35 * len(top) + 1.8), constrained_layout=True)
    # SALib's CI is ± a bootstrap half-width; μ* is a mean of absolute values, so the interval is cut at 0.
    low = np.minimum(top["mu_star_ci"], top["mu_star"])
    bars.barh(top["parameter"], top["mu_star"], xerr=[low, top["mu_star_ci"]], color="#5d6d7e", capsize=3)
    bars.set(xlabel="μ* (mean |elementary effect|)", title=f"{outcome}: Morris μ* with 95 % CI")
    bars.tick_params(axis="y", labelsize=7)
    plane.scatter(table["mu_star"], table["sigma"], color="#c0392b", s=16)
    for row in top.itertuples():
        plane.annotate(row.parameter, (row.mu_star, row.sigma), fontsize=6, xytext=(3, 2), textcoords="offset points")
    plane.set(xlabel="μ*", ylabel="σ (spread of the effects)", title="μ*–σ: σ ≫ μ* means interactions")
    return fig


def sobol_figure(table: pd.DataFrame, outcome: str) -> plt.Figure:
    top = table.nsmallest(SHOWN, "rank")
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(top) + 2), 4.2), constrained_layout=True)
    x = np.arange(len(top))
    ax.bar(x - 0.2, top["S1"], 0.4, yerr=top["S1_ci"], label="S1 (first order)", color="#5d6d7e", capsize=3)
    ax.bar(x + 0.2, top["ST"], 0.4, yerr=top["ST_ci"], label="ST (total)", color="#c0392b", capsize=3)
    ax.set_xticks(x, top["parameter"], rotation=60, ha="right", fontsize=7)
    ax.axhline(0.0, color="#999", lw=0.8)
    ax.set(ylabel="share of the outcome's variance", title=f"{outcome}: Sobol indices with 95 % CI")
    ax.legend(fontsize="small")
    return fig


def write_report(out: Path, s, table: pd.DataFrame, meta: dict) -> Path:
    """report.html (and figures/<outcome>.png) of an analysis."""
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    method = s.params.method
    sections = []
    for outcome, rows in table.groupby("outcome", sort=False):
        fig = (morris_figure if method == "morris" else sobol_figure)(rows, outcome)
        fig.savefig(figures / f"{outcome.replace('@', '_at_').replace('..', '_to_')}.png", dpi=110)
        shown = rows.drop(columns=["outcome"])
        sections.append(f"<h2>{html.escape(outcome)}</h2>" + figure_tag(fig, f"{outcome}: {method} indices")
                        + _table(shown))
    facts = "; ".join(f"{k}: {v:.0f}" if isinstance(v, float) else f"{k}: {v}" for k, v in meta.items())
    what = (f"Morris screening, {s.params.samples} trajectories over {s.params.levels} levels"
            if method == "morris"
            else f"Sobol indices, base sample {s.params.samples} (Saltelli, first and total order)")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>tumour_abm sensitivity</title>"
            f"<style>{STYLE}</style></head><body><h1>Sensitivity: {html.escape(s.path.name)}</h1>"
            f"<p>{html.escape(s.params.description)}</p><p class='note'>{html.escape(what)}; {len(s.factors)} "
            f"parameters; {s.params.replicates} seed(s) per point, the same at every point; {html.escape(facts)}; "
            f"{datetime.now(UTC).isoformat(timespec='seconds')}</p>{''.join(sections)}</body></html>")
    write_text_atomic(out / "report.html", page)
    return out / "report.html"
