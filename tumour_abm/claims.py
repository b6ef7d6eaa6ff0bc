"""Testing expected directions (the review's claims) on a batch's replicates: paired one-sided Wilcoxon tests of
arm − versus (or arm − value), Holm's correction over every hypothesis tested together, PASS when the adjusted p is
below 0.05 and the difference points the expected way."""

from __future__ import annotations

import numpy as np
import pandas as pd
from .batchfile import OUTCOME_AT
from .stats import bootstrap_ci, holm, ok_rows, paired_test

ALPHA = 0.05  # claims.md: p < 0.05 after Holm correction across the suite


def outcome_values(replicates: pd.DataFrame, timeseries: pd.DataFrame, expr: str, arm: str) -> pd.Series:
    """One value per replicate of `arm`: a summary outcome, or a time-series column on a day / over days."""
    ok = ok_rows(replicates)
    ok = ok[(ok["arm"] == arm) & (ok["point"] == 0)]
    match = OUTCOME_AT.match(expr)
    if match is None:
        return pd.to_numeric(ok.set_index("replicate")[expr], errors="coerce")
    ts = timeseries[(timeseries["arm"] == arm) & (timeseries["point"] == 0)
                    & timeseries["replicate"].isin(ok["replicate"])]
    start = float(match["start"])
    end = float(match["end"]) if match["end"] else start
    if match["end"]:
        window = ts[(ts["day"] >= start - 1e-9) & (ts["day"] <= end + 1e-9)]
    else:  # the recorded row nearest the day
        nearest = ts.loc[(ts["day"] - start).abs().groupby(ts["replicate"]).idxmin()]
        window = nearest
    return window.groupby("replicate")[match["column"]].mean()


def test_hypothesis(a: pd.Series, b: pd.Series | None, value: float | None, expected: str) -> dict:
    """The one-sided test and effect of one hypothesis (paired by replicate when against an arm)."""
    if b is not None:
        both = pd.concat([a.rename("a"), b.rename("b")], axis=1).dropna()
        x, y = both["a"].to_numpy(float), both["b"].to_numpy(float)
        _, p, _ = paired_test(x, y, alternative=expected)
        ci_versus = bootstrap_ci(y)
    else:
        x = a.dropna().to_numpy(float)
        y = np.array([value], dtype=float)
        _, p, _ = paired_test(x, np.full_like(x, value), alternative=expected)  # one-sample: against the value
        ci_versus = (value, value)
    d = x - y if b is not None else x - value
    return {"n": len(d), "mean_arm": x.mean() if len(x) else np.nan, "ci_arm": bootstrap_ci(x),
            "mean_versus": y.mean() if len(y) else np.nan, "ci_versus": ci_versus,
            "effect": float(np.mean(d)) if len(d) else np.nan, "p": p}


def evaluate(hypotheses: list[tuple[dict, str]], replicates: pd.DataFrame, timeseries: pd.DataFrame) -> pd.DataFrame:
    """`hypotheses`: (hypothesis fields with arm names of this batch, the claim's statement). One row each."""
    rows = []
    for h, statement in hypotheses:
        a = outcome_values(replicates, timeseries, h["outcome"], h["arm"])
        b = outcome_values(replicates, timeseries, h["outcome"], h["versus"]) if h.get("versus") else None
        result = test_hypothesis(a, b, h.get("value"), h["expected"])
        rows.append({"id": h["id"], "claim": statement, "outcome": h["outcome"], "arm": h["arm"],
                     "versus": h.get("versus") or f"value {h['value']:g}", "expected": h["expected"], **result})
    table = pd.DataFrame(rows)
    if len(table):
        table["p_holm"] = holm(table["p"])
        right_way = np.where(table["expected"] == "less", table["effect"] < 0, table["effect"] > 0)
        table["passed"] = (table["p_holm"] < ALPHA) & right_way
    return table


def by_claim(table: pd.DataFrame) -> list[dict]:
    """One entry per claim: passed only if every hypothesis of the claim passed; its largest adjusted p."""
    out = []
    for claim_id, rows in table.groupby("id", sort=False):
        first = rows.iloc[0]
        out.append({"id": claim_id, "passed": bool(rows["passed"].all()), "p": float(rows["p_holm"].max()),
                    "effect": float(first["effect"]), "outcome": first["outcome"],
                    "hypotheses": [{"outcome": r.outcome, "arm": r.arm, "versus": r.versus, "expected": r.expected,
                                    "effect": float(r.effect), "p_holm": float(r.p_holm), "passed": bool(r.passed)}
                                   for r in rows.itertuples()]})
    return out
