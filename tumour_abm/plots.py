"""Figures of one run: DataFrames and snapshots in, matplotlib Figures out (no drawing inside the model)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files, not windows: runs happen on servers and in batches

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap

from .reporters import POPULATIONS, label

# Colours of the site codes in model.occupancy(): empty, vessel, cancer.
SITE_COLOURS = ListedColormap(["#ffffff", "#c0392b", "#7f8c8d"])
SITE_NAMES = ("empty", "vessel", "cancer")


def plot_timeseries(df: pd.DataFrame, title: str = "") -> plt.Figure:
    """Populations, selinexor concentration and mean surface markers over days."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    ax = axes[0]
    for name in POPULATIONS:
        if name in df:
            ax.plot(df["day"], df[name], label=label(name))
    ax.set(xlabel="day", ylabel="cells", title="populations")
    ax.legend(fontsize="small")
    axes[1].plot(df["day"], df["selinexor_nM"], color="#8e44ad")
    axes[1].set(xlabel="day", ylabel=label("selinexor_nM"), title="selinexor")
    axes[1].set_ylim(0, max(1.0, float(df["selinexor_nM"].max()) * 1.05))
    for name in ("hla_e_mean", "trail_r_mean"):
        axes[2].plot(df["day"], df[name], label=label(name))
    axes[2].set(xlabel="day", ylabel="relative level", title="surface markers")
    axes[2].legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def plot_snapshot(snapshot, field_name: str = "chemokine", site_um: float = 20.0) -> plt.Figure:
    """The tissue on one day: cancer cells coloured by HLA-E over vessels, and one field beside it."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8), constrained_layout=True)
    w, h = snapshot.occupancy.shape
    extent = (0, h * site_um / 1000.0, 0, w * site_um / 1000.0)
    left.imshow(snapshot.occupancy, cmap=SITE_COLOURS, vmin=0, vmax=len(SITE_NAMES) - 1, origin="lower",
                extent=extent, interpolation="nearest")
    im = left.imshow(np.ma.masked_invalid(snapshot.hla_e), cmap="viridis", origin="lower", extent=extent,
                     interpolation="nearest")
    fig.colorbar(im, ax=left, label="HLA-E (relative)")
    left.set(title=f"day {snapshot.day:g}: cancer cells by HLA-E, vessels red", xlabel="mm", ylabel="mm")
    im = right.imshow(snapshot.fields[field_name], cmap="magma", origin="lower", extent=extent)
    fig.colorbar(im, ax=right, label=f"{field_name} (a.u.)")
    right.set(title=f"day {snapshot.day:g}: {field_name}", xlabel="mm", ylabel="mm")
    return fig
