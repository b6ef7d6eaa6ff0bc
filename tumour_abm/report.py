"""One self-contained HTML report of a batch: what differs between arms, outcome tables, comparisons, progression,
responses and the figures embedded as images, so the file can be mailed or archived on its own."""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime

import matplotlib.pyplot as plt
import pandas as pd

from .outcomes import OUTCOMES

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.note { color: #666; font-size: 0.9em; } .failed { color: #b03a2e; }
"""


def figure_tag(fig: plt.Figure, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(df: pd.DataFrame, floats: str = "{:.4g}") -> str:
    if df is None or not len(df):
        return '<p class="note">none</p>'
    return df.to_html(index=False, border=0, float_format=lambda v: floats.format(v), na_rep="–", escape=True)


def outcome_table(arm_stats: pd.DataFrame) -> pd.DataFrame:
    """One row per outcome × sweep point, one column per arm: mean [95 % CI], median, n."""
    if not len(arm_stats):
        return arm_stats
    cell = arm_stats.apply(
        lambda r: f"{r['mean']:.4g} [{r['ci_low']:.4g}, {r['ci_high']:.4g}]; median {r['median']:.4g}; n={r['n']}",
        axis=1,
    )
    table = arm_stats.assign(value=cell, outcome=arm_stats["outcome"].map(lambda o: OUTCOMES.get(o, (o, ""))[0]))
    return table.pivot_table(index=["point_label", "outcome"], columns="arm", values="value", aggfunc="first",
                             sort=False).reset_index()


SHOWN_COMPARISON_COLUMNS = ["point_label", "arm", "outcome", "mean_arm", "mean_reference", "mean_difference",
                      "relative_difference", "rank_biserial", "p", "p_holm"]


def _without_single_point(df: pd.DataFrame) -> pd.DataFrame:
    """Sweep columns only when there is a sweep."""
    if "point_label" in df and df["point_label"].nunique() <= 1:
        return df.drop(columns=[c for c in ("point", "point_label") if c in df])
    return df


def build_report(*, title: str, description: str, meta: dict, differences: pd.DataFrame, arm_stats: pd.DataFrame,
                 comparisons: pd.DataFrame, progression: pd.DataFrame, responses: pd.DataFrame,
                 failures: pd.DataFrame, figures: list[tuple[str, str]], warnings: pd.DataFrame | None = None,
                 arms_without_results: tuple[str, ...] = ()) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body>", f"<h1>{html.escape(title)}</h1>"]
    if description:
        parts.append(f"<p>{html.escape(description)}</p>")
    parts.append("<p class='note'>" + "; ".join(f"{html.escape(k)}: {html.escape(str(v))}" for k, v in meta.items())
                 + f"; report written {datetime.now(UTC).isoformat(timespec='seconds')}</p>")
    if arms_without_results:
        parts.append(f"<h2 class='failed'>No result for arm(s) {html.escape(', '.join(arms_without_results))}</h2>"
                     "<p>Every replicate of these arms failed (why: below), so they are in no table or test.</p>")
    if len(failures):
        parts.append(f"<h2 class='failed'>{len(failures)} replicate(s) failed</h2>" + _table(failures))
    if warnings is not None and len(warnings):
        parts.append("<h2>Warnings</h2><p class='note'>what runs could not do as asked, and in how many "
                     "replicates</p>" + _table(warnings))
    parts += ["<h2>What differs between the arms</h2>",
              "<p class='note'>Every scenario value that is not the reference arm's.</p>", _table(differences)]
    parts += ["<h2>Outcomes by arm</h2><p class='note'>mean [bootstrap 95 % CI]; median; replicates</p>",
              _table(_without_single_point(outcome_table(arm_stats)))]
    shown = comparisons[[c for c in SHOWN_COMPARISON_COLUMNS if c in comparisons]] if len(comparisons) else comparisons
    test = comparisons["test"].iloc[0] if len(comparisons) else ""
    parts += ["<h2>Comparisons with the reference arm</h2>",
              f"<p class='note'>{html.escape(test)}, two-sided; p_holm is adjusted over every comparison in this "
              "table; rank_biserial is positive when the arm is higher (all columns in comparisons.csv)</p>",
              _table(_without_single_point(shown))]
    parts += ["<h2>Time to progression</h2><p class='note'>median from the Kaplan-Meier curve; log-rank p and the "
              "hazard ratio of progression against the reference (Cox, Efron ties, Wald 95 % CI; undefined when an "
              "arm has no progression)</p>", _table(progression)]
    parts += ["<h2>Best response</h2><p class='note'>ORR = (CR + PR) / n with a Wilson 95 % CI; confirmed_orr counts "
              "a CR or PR only if seen again at least response.confirm_after_d later (RECIST 1.1)</p>",
              _table(responses)]
    parts.append("<h2>Figures</h2>")
    parts += [f"<h3>{html.escape(caption)}</h3>{tag}" for caption, tag in figures]
    parts.append("</body></html>")
    return "\n".join(parts)
