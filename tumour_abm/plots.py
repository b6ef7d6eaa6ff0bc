"""Figures of one run: DataFrames and snapshots in, matplotlib Figures out (no drawing inside the model)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files, not windows: runs happen on servers and in batches

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from .model import SITE_CODES
from .reporters import KILLS, POPULATIONS, TIMESERIES, label

# Colour and legend label of each site code of model.occupancy(), in SITE_CODES order.
SITE_STYLES = {
    "empty": ("#ffffff", "empty"),
    "vessel": ("#c0392b", "vessel"),
    "cancer": ("#95a5a6", "cancer"),
    "nk_nkg2a_pos": ("#1f4e9c", "NK NKG2A+"),
    "nk_nkg2a_neg": ("#6fa8dc", "NK NKG2A−"),
    "car_t": ("#8e44ad", "CAR-T"),
    "car_t_exhausted": ("#d7bde2", "CAR-T exhausted"),
    "macrophage_m1": ("#27ae60", "M1"),
    "macrophage_m2": ("#e67e22", "M2"),
    "neutrophil": ("#f1c40f", "neutrophil"),
    "cd8": ("#16a085", "CD8 T"),
    "cd8_exhausted": ("#a2d9ce", "CD8 T exhausted"),
    "treg": ("#c2185b", "Treg"),
    "mdsc": ("#5d4037", "MDSC"),
}
SITE_CMAP = ListedColormap([SITE_STYLES[name][0] for name in SITE_CODES])


def site_legend(codes: np.ndarray) -> list[Patch]:
    """Legend entries for the site codes present (empty sites have none)."""
    present = sorted(set(np.unique(codes).tolist()) - {0})
    return [Patch(color=SITE_STYLES[SITE_CODES[c]][0], label=SITE_STYLES[SITE_CODES[c]][1]) for c in present]


def _lines(ax, df: pd.DataFrame, names, title: str, ylabel: str) -> None:
    drawn = False
    for name in names:
        if name in df and df[name].notna().any() and df[name].abs().sum() > 0:
            ax.plot(df["day"], df[name], label=TIMESERIES[name].label)
            drawn = True
    ax.set(xlabel="day", ylabel=ylabel, title=title)
    if drawn:
        ax.legend(fontsize="x-small")
    else:
        ax.text(0.5, 0.5, "none in this run", ha="center", va="center", transform=ax.transAxes, color="grey")


def plot_timeseries(df: pd.DataFrame, title: str = "") -> plt.Figure:
    """Tumour, immune populations, kills by source, selinexor, surface markers and cytokines over days."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5), constrained_layout=True)
    _lines(axes[0, 0], df, POPULATIONS[:1], "tumour", "cells")
    _lines(axes[0, 1], df, POPULATIONS[1:], "immune cells", "cells")
    _lines(axes[0, 2], df, KILLS, "cancer cells killed, by cause (cumulative)", "cells")
    ax = axes[1, 0]
    ax.plot(df["day"], df["selinexor_nM"], color="#8e44ad")
    ax.set(xlabel="day", ylabel=label("selinexor_nM"), title="selinexor")
    ax.set_ylim(0, max(1.0, float(df["selinexor_nM"].max()) * 1.05))
    _lines(axes[1, 1], df, ("hla_e_mean", "trail_r_mean"), "surface markers on cancer cells", "relative level")
    _lines(axes[1, 2], df, ("il10_mean", "tgfb_mean", "ifng_mean"), "cytokines (grid mean)", "a.u.")
    if title:
        fig.suptitle(title)
    return fig


def plot_snapshot(snapshot, field_name: str = "il10", site_um: float = 20.0) -> plt.Figure:
    """The tissue on one day: every cell by type (left), cancer cells by HLA-E (middle), one field (right)."""
    fig, (cells, hla, fld) = plt.subplots(1, 3, figsize=(16, 4.9), constrained_layout=True)
    w, h = snapshot.occupancy.shape
    extent = (0, h * site_um / 1000.0, 0, w * site_um / 1000.0)
    common = dict(origin="lower", extent=extent, interpolation="nearest")
    cells.imshow(snapshot.occupancy, cmap=SITE_CMAP, vmin=0, vmax=len(SITE_CODES) - 1, **common)
    cells.legend(handles=site_legend(snapshot.occupancy), fontsize="x-small", loc="upper right", framealpha=0.8)
    cells.set(title=f"day {snapshot.day:g}: cells", xlabel="mm", ylabel="mm")
    im = hla.imshow(np.ma.masked_invalid(snapshot.hla_e), cmap="viridis", **common)
    fig.colorbar(im, ax=hla, label="HLA-E (relative)")
    hla.set(title=f"day {snapshot.day:g}: HLA-E on cancer cells", xlabel="mm")
    im = fld.imshow(snapshot.fields[field_name], cmap="magma", **common)
    fig.colorbar(im, ax=fld, label=f"{field_name} (a.u.)")
    fld.set(title=f"day {snapshot.day:g}: {field_name}", xlabel="mm")
    return fig


def plot_pk(doses, window_h: tuple[float, float], thresholds_nM: dict[str, float], start_day: float = 0.0) -> plt.Figure:
    """Selinexor plasma level over days, with dose markers and effect thresholds."""
    t = np.linspace(window_h[0], window_h[1], 4000)
    fig, ax = plt.subplots(figsize=(9, 4), constrained_layout=True)
    ax.plot(start_day + t / 24.0, doses.nM(t), color="#8e44ad", label="plasma selinexor")
    for i, (t_dose, mg) in enumerate(zip(doses.times_h, doses.doses_mg)):
        ax.axvline(start_day + t_dose / 24.0, color="grey", lw=0.8, ls=":", label="dose" if i == 0 else None)
        ax.annotate(f"{mg:g} mg", (start_day + t_dose / 24.0, 0), xytext=(2, 2), textcoords="offset points",
                    fontsize="x-small", color="grey")
    for (name, level), colour in zip(thresholds_nM.items(), ("#c0392b", "#e67e22", "#27ae60")):
        ax.axhline(level, color=colour, lw=1, ls="--", label=f"{name.replace('_', ' ')} ({level:g} nM)")
    ax.set(xlabel="day", ylabel="selinexor (nM)", title="selinexor pharmacokinetics")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    return fig


MARKER_LABELS = {"hla_e": "surface HLA-E (relative)", "trail_r": "surface TRAIL-R (DR4/DR5, relative)"}
HISTOGRAM_BINS = 40


def plot_marker_histograms(markers: dict[str, np.ndarray], title: str = "") -> plt.Figure:
    """The targets' surface markers when the effectors were added, one histogram each, as flow cytometry shows."""
    fig, axes = plt.subplots(1, len(markers), figsize=(4.5 * len(markers), 3.4), squeeze=False, constrained_layout=True)
    for ax, (name, values) in zip(axes[0], markers.items()):
        ax.hist(values, bins=HISTOGRAM_BINS, color="#5d6d7e")
        if len(values):
            ax.axvline(float(np.median(values)), color="#c0392b", lw=1, label=f"median {np.median(values):.3g}")
            ax.legend(fontsize="small")
        ax.set(xlabel=MARKER_LABELS.get(name, name), ylabel="targets")
    fig.suptitle(f"{title}\ntargets when the effectors were added" if title else "targets when the effectors were added",
                 fontsize="small")
    return fig
