"""The figures and HTML page of a calibration: each target's statistic against each parameter with the observed
value's band, and each parameter's weighted posterior against its prior range."""

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
from .calibrate_file import MIN_ESS, PROCEDURE  # noqa: E402

POSTERIOR_BINS = 20


def fit_figure(c, table: pd.DataFrame, post: pd.DataFrame) -> plt.Figure:
    names, targets = list(c.params.parameters), c.params.targets
    fig, axes = plt.subplots(len(targets) + 1, len(names), figsize=(4.4 * len(names), 3.2 * (len(targets) + 1)),
                             squeeze=False, constrained_layout=True)
    for j, name in enumerate(names):
        for i, t in enumerate(targets):
            ax = axes[i, j]
            ax.axhspan(t.value - t.sd, t.value + t.sd, color="#f5b7b1", alpha=0.6, label="target ± 1 SD")
            ax.axhline(t.value, color="#c0392b", lw=1)
            y = table[f"mean:{t.statistic}"].replace([np.inf, -np.inf], np.nan)
            ax.scatter(table[name], y, c=table["weight"], cmap="Greys", s=16, edgecolors="#555", linewidths=0.3)
            ax.set(xlabel=name, ylabel=t.statistic)
            ax.legend(fontsize="x-small")
        ax = axes[-1, j]
        row = post[post["parameter"] == name].iloc[0]
        ax.hist(table[name], bins=POSTERIOR_BINS, range=(row.prior_low, row.prior_high), weights=table["weight"],
                color="#5d6d7e")
        ax.axvline(row["median"], color="#c0392b", label=f"median {row['median']:.4g}")
        ax.axvspan(row.ci_low, row.ci_high, color="#c0392b", alpha=0.15, label="95 % interval")
        ax.set(xlabel=f"{name} (prior range shown)", ylabel="posterior weight")
        ax.legend(fontsize="x-small")
    return fig


def write_report(out: Path, c, table: pd.DataFrame, post: pd.DataFrame, ess: float, wall_s: float) -> Path:
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    fig = fit_figure(c, table, post)
    fig.savefig(figures / "calibration.png", dpi=110)
    targets = pd.DataFrame([t.model_dump() for t in c.params.targets])
    warning = (f"<p class='failed'>Only {ess:.1f} effective points (fewer than {MIN_ESS:g}): the interval rests on "
               "too few runs; raise samples.</p>" if ess < MIN_ESS else "")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>tumour_abm calibration</title>"
            f"<style>{STYLE}</style></head><body><h1>Calibration: {html.escape(c.path.name)}</h1>"
            f"<p>{html.escape(c.params.description)}</p><p class='note'>{html.escape(PROCEDURE)}; "
            f"{c.params.samples} points × {c.params.replicates} seeds; effective sample size {ess:.1f}; wall time "
            f"{wall_s:.0f} s; {datetime.now(UTC).isoformat(timespec='seconds')}</p>{warning}"
            f"<h2>Targets</h2>{_table(targets)}<h2>Posterior</h2>{_table(post)}"
            + figure_tag(fig, "calibration") + "</body></html>")
    write_text_atomic(out / "report.html", page)
    return out / "report.html"
