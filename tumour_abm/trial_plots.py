"""Figures of a trial-like batch: Kaplan-Meier curves with censoring ticks and numbers at risk, a waterfall of
best burden change per patient and a swimmer plot of each patient's course. DataFrames in, Figures out."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .stats import kaplan_meier, ok_rows, time_to_progression

RESPONSE_COLOURS = {"CR": "#1a7f37", "PR": "#74c476", "SD": "#bdbdbd", "PD": "#c0392b", "NE": "#ffffff"}
AT_RISK_TICKS = 6  # numbers at risk are shown at this many evenly spaced times
SWIMMERS_SHOWN = 40  # patients per arm in the swimmer plot; a larger arm shows its first ones


def _colours(arms) -> dict[str, str]:
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {arm: cycle[i % len(cycle)] for i, arm in enumerate(arms)}


def _at_point(replicates: pd.DataFrame, point: int) -> pd.DataFrame:
    ok = ok_rows(replicates)
    return ok[ok["point"] == point]


def km_curves(replicates: pd.DataFrame, arms: list[str], point: int = 0) -> plt.Figure:
    """Kaplan-Meier curves of time to progression, a tick at each censored time, and the numbers still at risk
    under the axis."""
    ok = _at_point(replicates, point)
    fig, (ax, table) = plt.subplots(2, 1, figsize=(7, 4.6 + 0.22 * len(arms)), constrained_layout=True,
                                    gridspec_kw={"height_ratios": [4, 0.5 + 0.3 * len(arms)]}, sharex=True)
    colour = _colours(arms)
    by_arm = {arm: time_to_progression(ok[ok["arm"] == arm]) for arm in arms}
    horizon = max((t.max() for t, _ in by_arm.values() if len(t)), default=1.0)
    ticks = np.linspace(0.0, horizon, AT_RISK_TICKS)
    for row, arm in enumerate(arms):
        times, events = by_arm[arm]
        t, s = kaplan_meier(times, events)
        ax.step(t, s, where="post", color=colour[arm], label=f"{arm} (n={len(times)})")
        censored = times[~events]
        if len(censored):  # a tick on the curve where each patient left follow-up without progressing
            ax.plot(censored, s[np.searchsorted(t, censored, side="right") - 1], "|", color=colour[arm], ms=9)
        at_risk = [int((times >= tick).sum()) for tick in ticks]
        for tick, n in zip(ticks, at_risk):
            table.text(tick, row, str(n), ha="center", va="center", color=colour[arm], fontsize="small")
    ax.set(ylabel="free of progression", ylim=(-0.02, 1.02), title="time to progression (Kaplan-Meier; | censored)")
    ax.legend(fontsize="small")
    table.set(yticks=range(len(arms)), yticklabels=arms, ylim=(len(arms) - 0.5, -0.5), xlabel="days from baseline",
              title="number at risk")
    table.title.set_fontsize("small")
    table.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        table.spines[side].set_visible(False)
    return fig


def waterfall(replicates: pd.DataFrame, arms: list[str], point: int = 0) -> plt.Figure:
    """Each patient's best burden change from baseline, sorted, one panel per arm, coloured by confirmed
    response (best response where runs have no confirmation)."""
    ok = _at_point(replicates, point)
    category = "confirmed_response" if "confirmed_response" in ok else "best_response"
    fig, axes = plt.subplots(1, len(arms), figsize=(3.6 * len(arms), 3.6), squeeze=False, sharey=True,
                             constrained_layout=True)
    for ax, arm in zip(axes.flat, arms):
        group = ok[ok["arm"] == arm].assign(change=lambda g: pd.to_numeric(g["best_change"], errors="coerce"))
        group = group.dropna(subset=["change"]).sort_values("change", ascending=False)
        colours = [RESPONSE_COLOURS.get(c, "#ffffff") for c in group[category]]
        ax.bar(np.arange(len(group)), 100.0 * group["change"].to_numpy(), color=colours, width=0.9,
               edgecolor="#555555", linewidth=0.2)
        ax.axhline(0, color="black", lw=0.6)
        ax.set(title=f"{arm} (n={len(group)})", xlabel="patients", xticks=[])
    axes.flat[0].set_ylabel("best change in burden (%)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, ec="#555555", lw=0.3) for c in RESPONSE_COLOURS.values()]
    axes.flat[-1].legend(handles, list(RESPONSE_COLOURS), fontsize="small", title=category.replace("_", " "))
    return fig


def swimmer(replicates: pd.DataFrame, arms: list[str], point: int = 0) -> plt.Figure:
    """One bar per patient, from baseline to progression or the end of follow-up; a triangle where the first
    response was seen, a cross at progression, an arrow where follow-up ended without it."""
    ok = _at_point(replicates, point)
    category = "confirmed_response" if "confirmed_response" in ok else "best_response"
    shown = {arm: ok[ok["arm"] == arm].head(SWIMMERS_SHOWN) for arm in arms}
    rows = sum(len(g) for g in shown.values())
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.12 * max(rows, 10)), constrained_layout=True)
    y, labels, centres = 0, [], []
    for arm in arms:
        group = shown[arm].assign(ttp=lambda g: pd.to_numeric(g["time_to_progression_d"], errors="coerce"))
        group = group.dropna(subset=["ttp"]).sort_values("ttp")
        first = y
        for _, patient in group.iterrows():
            ax.barh(y, patient["ttp"], color=RESPONSE_COLOURS.get(patient[category], "#ffffff"), height=0.8,
                    edgecolor="#555555", linewidth=0.2)
            response_at = pd.to_numeric(patient.get("time_to_response_d"), errors="coerce")
            if np.isfinite(response_at):
                ax.plot(response_at, y, marker="^", color="black", ms=3.5)
            ax.plot(patient["ttp"], y, marker="x" if patient["progressed"] else ">", color="black", ms=3.5)
            y += 1
        if y > first:
            labels.append(f"{arm} ({len(group)}"
                          + (f" of {int((ok['arm'] == arm).sum())})" if len(ok[ok['arm'] == arm]) > len(group)
                             else ")"))
            centres.append((first + y - 1) / 2.0)
            y += 1.5  # a gap between arms
    ax.set(yticks=centres, yticklabels=labels, xlabel="days from baseline", ylim=(y - 1, -1),
           title=f"patients: ^ first response, x progression, > follow-up ends (colour: {category.replace('_', ' ')})")
    ax.title.set_fontsize("small")
    return fig
