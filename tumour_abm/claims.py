"""Testing expected directions (the review's claims) on a batch's replicates: paired one-sided Wilcoxon tests of
arm − versus, of arm − value, or of one difference against another (an interaction), Holm's correction over every
hypothesis tested together.

An equivalence (`expected: equivalent`) is two one-sided tests of the differences against ± its margin (TOST).

Verdicts: PASS when the adjusted p is below 0.05 and the effect points the expected way (an equivalence: lies
within its margin); FAIL when the effect points the other way, or when it does not reach significance although the
replicates gave the pilot's effect the target power; UNDER-POWERED when it points the expected way without
significance and the replicates run (capped) give the pilot's effect less than the target power."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .batchfile import OUTCOME_AT
from .power import TARGET_POWER, power_at
from .stats import bootstrap_ci, holm, ok_rows, paired_test

ALPHA = 0.05  # claims.md: p < 0.05 after Holm correction across the suite
PASS, FAIL, UNDER_POWERED = "PASS", "FAIL", "UNDER-POWERED"


def outcome_values(replicates: pd.DataFrame, timeseries: pd.DataFrame, expr: str, arm: str,
                   n: int | None = None) -> pd.Series:
    """One value per replicate of `arm` (its first `n`, if given): a summary outcome, or a time-series column on a
    day / its mean over days."""
    ok = ok_rows(replicates)
    ok = ok[(ok["arm"] == arm) & (ok["point"] == 0)]
    if n is not None:
        ok = ok[ok["replicate"] < n]
    if OUTCOME_AT.match(expr) is None:
        return pd.to_numeric(ok.set_index("replicate")[expr], errors="coerce")
    ts = timeseries[(timeseries["arm"] == arm) & (timeseries["point"] == 0)
                    & timeseries["replicate"].isin(ok["replicate"])]
    return series_outcome(ts, expr)


def series_outcome(ts: pd.DataFrame, expr: str) -> pd.Series:
    """A `column@day` outcome (the recorded row nearest the day) or `column@start..end` (its mean over the days)
    of stacked time series, one value per `replicate`."""
    match = OUTCOME_AT.match(expr)
    start = float(match["start"])
    if match["end"]:
        window = ts[(ts["day"] >= start - 1e-9) & (ts["day"] <= float(match["end"]) + 1e-9)]
    else:
        window = ts.loc[(ts["day"] - start).abs().groupby(ts["replicate"]).idxmin()]
    return window.groupby("replicate")[match["column"]].mean()


def paired_differences(h: dict, values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the arm's side, the comparator's side, their differences) over the replicates every arm has. The sides are
    the arm and versus values, or arm − versus and than.arm − than.versus for an interaction; `values(arm)` gives one
    arm's values by replicate."""
    if not h.get("versus"):
        a = values(h["arm"]).dropna().to_numpy(float)
        return a, np.array([h["value"]], dtype=float), a - h["value"]
    names = [h["arm"], h["versus"]] + ([h["than"]["arm"], h["than"]["versus"]] if h.get("than") else [])
    both = pd.concat([values(name).rename(str(i)) for i, name in enumerate(names)], axis=1).dropna()
    cols = both.to_numpy(float).T
    x, y = (cols[0] - cols[1], cols[2] - cols[3]) if h.get("than") else (cols[0], cols[1])
    return x, y, x - y


def equivalence_margin(h: dict, y: np.ndarray) -> float:
    """An equivalence hypothesis's margin in the outcome's unit: its share of the versus arm's mean (NaN if none)."""
    return h["margin"] * abs(float(y.mean())) if h.get("margin") and len(y) else float("nan")


def signed_differences(h: dict, y: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Paired differences signed so that positive points the expected way; for an equivalence, how far each lies
    inside the margin on the side the mean difference leans to (the binding one of the two one-sided tests)."""
    if h["expected"] == "equivalent":
        return equivalence_margin(h, y) - np.sign(np.mean(d)) * d
    return d if h["expected"] == "greater" else -d


def test_hypothesis(x: np.ndarray, y: np.ndarray, d: np.ndarray, expected: str, margin: float = np.nan) -> dict:
    """The one-sided test and effect of one hypothesis from its paired differences d = x − y; for an equivalence,
    two one-sided tests of d against ± margin (TOST: p is the larger)."""
    if expected == "equivalent":
        p = max(paired_test(d + margin, np.zeros_like(d), alternative="greater")[1],
                paired_test(d - margin, np.zeros_like(d), alternative="less")[1])
    else:
        _, p, _ = paired_test(d, np.zeros_like(d), alternative=expected)
    return {"margin": margin, "n": len(d), "mean_arm": x.mean() if len(x) else np.nan, "ci_arm": bootstrap_ci(x),
            "mean_versus": y.mean() if len(y) else np.nan, "ci_versus": bootstrap_ci(y),
            "effect": float(np.mean(d)) if len(d) else np.nan, "ci_effect": bootstrap_ci(d), "p": p}


def evaluate(hypotheses: list[tuple[dict, str]], replicates: pd.DataFrame, timeseries: pd.DataFrame) -> pd.DataFrame:
    """`hypotheses`: (hypothesis fields with arm names of this batch, the claim's statement). One row each. A
    hypothesis's `replicates` (if set) limits it to its first n pairs, and its pilot `effect_dz` gives the power."""
    rows = []
    for h, statement in hypotheses:
        n = h.get("replicates")

        def values(arm: str, outcome=h["outcome"], n=n) -> pd.Series:
            return outcome_values(replicates, timeseries, outcome, arm, n)

        x, y, d = paired_differences(h, values)
        versus = h["versus"] or f"value {h['value']:g}"
        if h.get("than"):
            versus = f"{h['versus']}, than {h['than']['arm']} − {h['than']['versus']}"
        rows.append({"id": h["id"], "claim": statement, "outcome": h["outcome"], "arm": h["arm"], "versus": versus,
                     "expected": h["expected"], "pilot_dz": h.get("effect_dz", np.nan),
                     **test_hypothesis(x, y, d, h["expected"], equivalence_margin(h, y))})
    table = pd.DataFrame(rows)
    if len(table):
        table["p_holm"] = holm(table["p"])
        level = ALPHA / len(table)  # Holm's first, strictest step: what the pilot sized the replicates for
        table["power"] = [power_at(dz, n, level) if dz is not None else np.nan
                          for dz, n in zip(table["pilot_dz"], table["n"])]
        table["verdict"] = [verdict(*row) for row in zip(table["p_holm"], table["effect"], table["expected"],
                                                           table["power"], table["margin"])]
        table["passed"] = table["verdict"] == PASS
    return table


def verdict(p_holm: float, effect: float, expected: str, power: float, margin: float = np.nan) -> str:
    """For an equivalence, "the wrong way" is a mean difference outside its margin."""
    if expected == "equivalent":
        right_way, wrong_way = abs(effect) < margin, abs(effect) >= margin
    else:
        right_way = effect < 0 if expected == "less" else effect > 0
        wrong_way = effect > 0 if expected == "less" else effect < 0
    if right_way and p_holm < ALPHA:
        return PASS
    if not wrong_way and power < TARGET_POWER:  # NaN power (no pilot) is not "under": the test counts as run
        return UNDER_POWERED
    return FAIL


def claim_verdict(verdicts) -> str:
    verdicts = list(verdicts)
    return PASS if all(v == PASS for v in verdicts) else FAIL if FAIL in verdicts else UNDER_POWERED


def by_claim(table: pd.DataFrame) -> list[dict]:
    """One entry per claim: passed only if every hypothesis of the claim passed; its largest adjusted p."""
    out = []
    for claim_id, rows in table.groupby("id", sort=False):
        first = rows.iloc[0]
        out.append({"id": claim_id, "passed": bool(rows["passed"].all()), "verdict": claim_verdict(rows["verdict"]),
                    "p": float(rows["p_holm"].max()), "effect": float(first["effect"]), "outcome": first["outcome"],
                    "hypotheses": [{"outcome": r.outcome, "arm": r.arm, "versus": r.versus, "expected": r.expected,
                                    "n": int(r.n), "effect": float(r.effect), "ci_effect": list(r.ci_effect),
                                    "p_holm": float(r.p_holm), "power": float(r.power), "verdict": r.verdict,
                                    "passed": bool(r.passed)}
                                   for r in rows.itertuples()]})
    return out
