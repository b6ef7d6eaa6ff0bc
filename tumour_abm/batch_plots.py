"""Figures of a batch: DataFrames in, matplotlib Figures out."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .outcomes import OUTCOMES
from .reporters import TIMESERIES
from .stats import ok_rows

RIBBON_COLUMNS = ("cancer_alive", "car_t_total", "nk_total", "macrophage_m1", "macrophage_m2", "neutrophils",
                  "selinexor_nM", "hla_e_mean")
BAND = (0.05, 0.95)  # the 90 % band


def _colours(arms) -> dict[str, str]:
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {arm: cycle[i % len(cycle)] for i, arm in enumerate(arms)}


def ribbons(timeseries: pd.DataFrame, arms: list[str], point: int = 0) -> plt.Figure:
    """Median and 90 % band over replicates, per arm, for the tumour, each immune population and the drug."""
    ts = timeseries[timeseries["point"] == point]
    columns = [c for c in RIBBON_COLUMNS if c in ts and ts[c].abs().sum() > 0]
    ncols = 3
    nrows = max(1, -(-len(columns) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.4 * nrows), squeeze=False, constrained_layout=True)
    colour = _colours(arms)
    for ax, column in zip(axes.flat, columns):
        for arm in arms:
            by_day = ts[ts["arm"] == arm].groupby("day")[column]
            if not len(by_day):
                continue
            q = by_day.quantile([BAND[0], 0.5, BAND[1]]).unstack()
            ax.fill_between(q.index, q[BAND[0]], q[BAND[1]], color=colour[arm], alpha=0.2, lw=0)
            ax.plot(q.index, q[0.5], color=colour[arm], label=arm)
        r = TIMESERIES[column]
        ax.set(title=r.label, xlabel="day", ylabel=r.unit)
    for ax in list(axes.flat)[len(columns):]:
        ax.axis("off")
    if columns:
        axes.flat[0].legend(fontsize="small", title="median, 90 % band")
    return fig


def outcome_boxes(replicates: pd.DataFrame, outcomes: list[str], arms: list[str], point: int = 0) -> plt.Figure:
    """Each outcome by arm: a box of the replicates with every replicate drawn as a point."""
    ok = ok_rows(replicates)
    ok = ok[ok["point"] == point]
    width = max(3.6, 0.5 * len(arms))  # room for every arm's label when many arms are run (e.g. validate)
    fig, axes = plt.subplots(1, len(outcomes), figsize=(width * len(outcomes), 3.8 + 0.08 * len(arms)),
                             squeeze=False, constrained_layout=True)
    rng = np.random.default_rng(0)  # jitter only
    for ax, outcome in zip(axes.flat, outcomes):
        data = [pd.to_numeric(ok.loc[ok["arm"] == arm, outcome], errors="coerce").dropna().to_numpy() for arm in arms]
        ax.boxplot(data, tick_labels=arms, showfliers=False)
        for i, values in enumerate(data, start=1):
            ax.scatter(i + rng.uniform(-0.12, 0.12, len(values)), values, s=10, alpha=0.6, color="#34495e")
        label, unit = OUTCOMES.get(outcome, (outcome, ""))
        ax.set(title=label, ylabel=unit)
        ax.tick_params(axis="x", rotation=30)
    return fig


def sweep_plot(replicates: pd.DataFrame, outcome: str, arms: list[str]) -> plt.Figure | None:
    """Median outcome over the sweep: a heatmap per arm for two swept parameters, lines for one."""
    swept = [c for c in replicates.columns if c.startswith("sweep:")]
    if not swept or len(swept) > 2:
        return None
    ok = ok_rows(replicates)
    label, unit = OUTCOMES.get(outcome, (outcome, ""))
    if len(swept) == 1:
        fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
        for arm in arms:
            med = ok[ok["arm"] == arm].groupby(swept[0])[outcome].median()
            ax.plot(med.index, med.values, marker="o", label=arm)
        ax.set(xlabel=swept[0][6:], ylabel=f"median {label} ({unit})", title=f"sweep: {label}")
        ax.legend(fontsize="small")
        return fig
    fig, axes = plt.subplots(1, len(arms), figsize=(4.6 * len(arms), 4), squeeze=False, constrained_layout=True)
    for ax, arm in zip(axes.flat, arms):
        grid = ok[ok["arm"] == arm].pivot_table(index=swept[0], columns=swept[1], values=outcome, aggfunc="median")
        im = ax.imshow(grid.values, origin="lower", aspect="auto", cmap="viridis")
        ax.set(xticks=range(len(grid.columns)), xticklabels=[f"{v:g}" for v in grid.columns],
               yticks=range(len(grid.index)), yticklabels=[f"{v:g}" for v in grid.index],
               xlabel=swept[1][6:], ylabel=swept[0][6:], title=arm)
        fig.colorbar(im, ax=ax, label=f"median {label}")
    return fig
