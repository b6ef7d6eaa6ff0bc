"""Figures of the browser view, drawn from a live model: the tissue with a chosen field, and the run so far."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from .model import CANCER, EMPTY, SITE_CODES
from .plots import SITE_CMAP, site_legend
from .reporters import KILLS, TIMESERIES

def _t_cell_suppression(model) -> np.ndarray:
    """What Tregs and MDSCs take from a T cell's killing and division at each site (0 without them)."""
    suppression = model.suppression_now()
    return np.zeros(model.vessels.shape) if suppression is None else suppression.t_cells


# Field overlays a user can choose: label → how to read it from the model (a 2-D array).
FIELD_OVERLAYS = {
    "IL-10": lambda m: m.fields["il10"],
    "TGF-β": lambda m: m.fields["tgfb"],
    "IFN-γ": lambda m: m.fields["ifng"],
    "chemokine": lambda m: m.fields["chemokine"],
    "NETs": lambda m: m.fields["nets"],
    "T-cell suppression": _t_cell_suppression,
    "selinexor": lambda m: np.full(m.vessels.shape, m.drug_nM, dtype=np.float32),
}
FIELD_UNITS = {"selinexor": "nM", "T-cell suppression": "0-1, by Tregs and MDSCs"}
FIGURE_DPI = 80  # the page's grid cells are about 500 px wide

KILL_LABELS = {"killed_nk_granzyme": "NK granzyme", "killed_nk_adcc": "NK ADCC", "killed_nk_trail": "NK death receptors",
               "killed_car_t": "CAR-T", "killed_cd8": "CD8 T", "killed_macrophage": "macrophage",
               "died_drug": "selinexor"}


def tissue_figure(model, field: str) -> plt.Figure:
    """One panel: the chosen field as a heat map, cancer cells on it coloured by current HLA-E, immune cells by
    type and state, vessels in red; a colour bar for each scale."""
    fig, ax = plt.subplots(figsize=(6.4, 5.2), dpi=FIGURE_DPI, constrained_layout=True)
    site_um = model.spec.grid.site_um
    w, h = model.vessels.shape
    common = dict(origin="lower", extent=(0, h * site_um / 1000, 0, w * site_um / 1000), interpolation="nearest")
    values = FIELD_OVERLAYS[field](model)
    im = ax.imshow(values, cmap="Greys", **common)
    fig.colorbar(im, ax=ax, label=f"{field} ({FIELD_UNITS.get(field, 'a.u.')})", shrink=0.7, pad=0.01)
    rows = model.cancer.rows()
    hla = np.full((w, h), np.nan, dtype=np.float32)
    hla[model.cancer.x[rows], model.cancer.y[rows]] = model.cancer.hla_e(rows)
    im = ax.imshow(np.ma.masked_invalid(hla), cmap="viridis", vmin=0.0, vmax=2.0, **common)
    fig.colorbar(im, ax=ax, label="HLA-E on cancer cells (relative)", shrink=0.7, pad=0.01)
    # Vessels and immune cells on top; cancer sites stay transparent here, drawn by HLA-E above.
    sites = model.occupancy()
    over = np.ma.masked_where((sites == EMPTY) | (sites == CANCER), sites)
    ax.imshow(over, cmap=SITE_CMAP, vmin=0, vmax=len(SITE_CODES) - 1, **common)
    ax.legend(handles=site_legend(over.compressed()), fontsize="small", loc="upper left", framealpha=0.85)
    ax.set(title=f"day {model.day:.2f}: {len(rows)} cancer cells; {field} mean {float(values.mean()):.3g}",
           xlabel="mm", ylabel="mm")
    return fig


def run_figure(model) -> plt.Figure:
    """Populations; selinexor with dose and infusion markers; HLA-E and TRAIL-R; kills by source."""
    df = model.datacollector.get_model_vars_dataframe()
    fig, axes = plt.subplots(2, 2, figsize=(6.4, 5.6), dpi=FIGURE_DPI, constrained_layout=True)
    ax = axes[0, 0]
    ax.plot(df["day"], df["cancer_alive"], color="black", label="cancer")
    ax.set(title="populations", xlabel="day", ylabel="cancer cells")
    twin = ax.twinx()
    for column in ("nk_total", "car_t_total", "macrophage_m1", "macrophage_m2", "neutrophils"):
        if df[column].abs().sum() > 0:
            twin.plot(df["day"], df[column], label=TIMESERIES[column].label)
    twin.set_ylabel("immune cells")
    lines = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(lines, [h.get_label() for h in lines], fontsize="x-small", loc="upper left")
    ax = axes[0, 1]
    ax.plot(df["day"], df["selinexor_nM"], color="#8e44ad")
    for event in model.plan.events:
        if df["day"].iloc[0] <= event.day <= model.spec.time.end_day:
            style = dict(color="grey", ls=":") if event.kind == "dose" else dict(color="#c0392b", ls="--")
            ax.axvline(event.day, lw=0.8, **style)
    ax.set(title="selinexor; doses, infusions", xlabel="day", ylabel="nM",
           xlim=(model.spec.time.start_day, model.spec.time.end_day))
    ax = axes[1, 0]
    for column in ("hla_e_mean", "trail_r_mean"):
        ax.plot(df["day"], df[column], label=TIMESERIES[column].label)
    ax.set(title="surface markers", xlabel="day", ylabel="relative")
    ax.legend(fontsize="x-small")
    ax = axes[1, 1]
    for column in KILLS:
        ax.plot(df["day"], df[column], label=KILL_LABELS[column])
    ax.set(title="kills by source (cumulative)", xlabel="day", ylabel="cells")
    ax.legend(fontsize="xx-small")
    return fig
