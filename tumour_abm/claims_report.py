"""The claims' results as a text table (the terminal) and as one HTML page with a figure per claim: each hypothesis's
paired differences, replicate by replicate, against zero, with the mean and its 95 % CI."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .claims import FAIL, PASS, outcome_values, paired_differences  # noqa: E402
from .power import TARGET_POWER  # noqa: E402
from .report import STYLE, _table, figure_tag  # noqa: E402

VERDICT_COLOURS = {PASS: "#1e8449", FAIL: "#b03a2e"}  # anything else (under-powered): amber
UNDECIDED_COLOUR = "#b9770e"


def _ci(pair) -> str:
    return f"[{pair[0]:.3g}, {pair[1]:.3g}]"


def shown_table(table: pd.DataFrame) -> pd.DataFrame:
    """The columns a reader needs, formatted: claim, setting's comparison, n, means, effect [CI], p, power, verdict."""
    return pd.DataFrame({
        "claim": table["id"], "outcome": table["outcome"], "arm": table["arm"], "versus": table["versus"],
        "expected": table["expected"], "n": table["n"],
        "arm mean": table["mean_arm"].map(lambda v: f"{v:.4g}"),
        "versus mean": table["mean_versus"].map(lambda v: f"{v:.4g}"),
        "effect [95% CI]": [f"{e:+.4g} {_ci(c)}" for e, c in zip(table["effect"], table["ci_effect"])],
        "p (Holm)": table["p_holm"].map(lambda v: f"{v:.3g}"),
        "power": table["power"].map(lambda v: "–" if np.isnan(v) else f"{v:.2f}"),
        "verdict": table["verdict"],
    })


def format_table(table: pd.DataFrame) -> str:
    return shown_table(table).to_string(index=False)


def _claim_figure(rows: list[tuple[dict, pd.Series]], replicates: pd.DataFrame, timeseries: pd.DataFrame):
    fig, axes = plt.subplots(1, len(rows), figsize=(4.2 * len(rows), 3.2), squeeze=False)
    for ax, (h, row) in zip(axes[0], rows):
        _, _, d = paired_differences(
            h, lambda arm, h=h: outcome_values(replicates, timeseries, h["outcome"], arm, h.get("replicates")))
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(d))  # fixed: the same page for the same data
        ax.scatter(jitter, d, s=14, alpha=0.7, color="#555")
        colour = VERDICT_COLOURS.get(row["verdict"], UNDECIDED_COLOUR)
        low, high = row["ci_effect"]
        # (clipped: rounding can put a degenerate interval's bound a hair inside the mean)
        yerr = [[max(0.0, row["effect"] - low)], [max(0.0, high - row["effect"])]]
        ax.errorbar([0.4], [row["effect"]], yerr=yerr, fmt="o", color=colour, capsize=4)
        ax.axhline(0.0, color="#999", lw=0.8, ls="--")
        ax.set_xlim(-0.5, 0.8)
        ax.set_xticks([])
        ax.set_ylabel("paired difference")
        ax.set_title(f"{h['outcome']}\n{h['arm']} − {row['versus']}\n{row['verdict']} (n={row['n']})", fontsize=8)
    fig.tight_layout()
    return fig


def claims_report(table: pd.DataFrame, hypotheses: list[tuple[dict, str]], replicates: pd.DataFrame,
                  timeseries: pd.DataFrame, wall_s: float) -> str:
    sections = []
    for claim_id, rows in table.groupby("id", sort=False):
        picked = [(hypotheses[i][0], table.loc[i]) for i in rows.index]
        verdicts = ", ".join(rows["verdict"])
        sections.append(
            f"<h2>{html.escape(claim_id)}</h2><p>{html.escape(rows['claim'].iloc[0])}</p>"
            f"<p class='note'>hypotheses: {html.escape(verdicts)}</p>{_table(shown_table(rows))}"
            + figure_tag(_claim_figure(picked, replicates, timeseries), f"{claim_id}: paired differences"))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>tumour_abm claims</title><style>{STYLE}</style>"
            f"</head><body><h1>What the model reproduces</h1><p class='note'>Each hypothesis on its own paired "
            f"replicates (n, sized from a pilot for "
            f"{TARGET_POWER:.0%} power); one-sided Wilcoxon signed-rank tests, Holm-adjusted "
            f"over the {len(table)} hypotheses; the figures show every pair's difference, the mean and its 95 % "
            f"bootstrap CI; wall time {wall_s:.0f} s; {datetime.now(UTC).isoformat(timespec='seconds')}</p>"
            f"{_table(shown_table(table))}{''.join(sections)}</body></html>")
