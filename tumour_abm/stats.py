"""Statistics of a batch, from its replicates table (one row per arm × sweep point × replicate).

Per arm: mean, SD, median and a bootstrap 95 % CI of the mean. Against the reference arm: the paired Wilcoxon
signed-rank test when seeds are paired (replicate i of both arms shares its seed and patient), Mann-Whitney
otherwise, with the mean difference and the rank-biserial correlation as effect sizes and Holm's correction over
all comparisons. Time to progression: Kaplan-Meier curves with censoring, log-rank tests and the hazard ratio
against the reference (Cox proportional hazards, Efron's ties, with a Wald 95 % CI). Cohorts: response categories and the objective
response rate, best and confirmed, with Wilson intervals.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg

from .outcomes import NOT_EVALUABLE, OBJECTIVE_RESPONSES

CI_LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240601  # fixed: the same replicates always give the same interval
RESPONSES = ("CR", "PR", "SD", "PD")


def ok_rows(replicates: pd.DataFrame) -> pd.DataFrame:
    return replicates[replicates["status"] == "ok"]


def bootstrap_ci(values: np.ndarray) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean; degenerate samples give their single value, empty ones NaN."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    if len(values) == 1 or np.all(values == values[0]):
        return float(values[0]), float(values[0])
    res = stats.bootstrap((values,), np.mean, confidence_level=CI_LEVEL, n_resamples=BOOTSTRAP_RESAMPLES,
                          method="percentile", random_state=np.random.default_rng(BOOTSTRAP_SEED))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def arm_stats(replicates: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    rows = []
    for (point, arm), group in ok_rows(replicates).groupby(["point", "arm"], sort=False):
        for outcome in outcomes:
            v = pd.to_numeric(group[outcome], errors="coerce").to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            low, high = bootstrap_ci(v)
            rows.append({"point": point, "point_label": group["point_label"].iloc[0], "arm": arm, "outcome": outcome,
                         "n": len(v), "mean": v.mean() if len(v) else np.nan,
                         "sd": v.std(ddof=1) if len(v) > 1 else np.nan,
                         "median": np.median(v) if len(v) else np.nan, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjustment (controls the family-wise error rate); NaN p-values stay NaN."""
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    m, running = len(order), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def paired_test(a: np.ndarray, b: np.ndarray, alternative: str = "two-sided") -> tuple[float, float, float]:
    """Wilcoxon signed-rank test of a − b: (statistic, p, rank-biserial r in −1..1, positive when a > b)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    d = d[np.isfinite(d) & (d != 0)]
    if len(d) == 0:
        return 0.0, 1.0, 0.0  # no difference in any pair
    ranks = stats.rankdata(np.abs(d))
    r = (ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum()
    res = stats.wilcoxon(d, alternative=alternative)
    return float(res.statistic), float(res.pvalue), float(r)


def unpaired_test(a: np.ndarray, b: np.ndarray, alternative: str = "two-sided") -> tuple[float, float, float]:
    """Mann-Whitney U test of a vs b: (U, p, rank-biserial r = 2U/(n_a n_b) − 1, positive when a tends higher)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) == 0 or len(b) == 0:
        return float("nan"), float("nan"), float("nan")
    res = stats.mannwhitneyu(a, b, alternative=alternative)
    return float(res.statistic), float(res.pvalue), float(2 * res.statistic / (len(a) * len(b)) - 1)


COMPARISON_COLUMNS = ["point", "point_label", "arm", "reference", "outcome", "n_arm", "n_reference", "mean_arm",
                      "mean_reference", "mean_difference", "relative_difference", "rank_biserial", "test",
                      "statistic", "p"]


def compare(replicates: pd.DataFrame, outcomes: list[str], reference: str, paired: bool) -> pd.DataFrame:
    """Every arm against the reference, per sweep point and outcome, with Holm-adjusted p-values."""
    rows = []
    ok = ok_rows(replicates)
    for point, at_point in ok.groupby("point", sort=False):
        ref = at_point[at_point["arm"] == reference].set_index("replicate")
        for arm, group in at_point.groupby("arm", sort=False):
            if arm == reference:
                continue
            group = group.set_index("replicate")
            for outcome in outcomes:
                if paired:
                    common = group.index.intersection(ref.index)
                    a = pd.to_numeric(group.loc[common, outcome], errors="coerce").to_numpy(float)
                    b = pd.to_numeric(ref.loc[common, outcome], errors="coerce").to_numpy(float)
                    keep = np.isfinite(a) & np.isfinite(b)
                    a, b = a[keep], b[keep]
                    stat, p, r = paired_test(a, b)
                    test = "Wilcoxon signed-rank (paired)"
                else:
                    a = pd.to_numeric(group[outcome], errors="coerce").dropna().to_numpy(float)
                    b = pd.to_numeric(ref[outcome], errors="coerce").dropna().to_numpy(float)
                    stat, p, r = unpaired_test(a, b)
                    test = "Mann-Whitney U"
                diff = a.mean() - b.mean() if len(a) and len(b) else np.nan
                rows.append({"point": point, "point_label": at_point["point_label"].iloc[0], "arm": arm,
                             "reference": reference, "outcome": outcome, "n_arm": len(a), "n_reference": len(b),
                             "mean_arm": a.mean() if len(a) else np.nan, "mean_reference": b.mean() if len(b) else np.nan,
                             "mean_difference": diff,
                             "relative_difference": diff / abs(b.mean()) if len(b) and b.mean() else np.nan,
                             "rank_biserial": r, "test": test, "statistic": stat, "p": p})
    table = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    table["p_holm"] = holm(table["p"]) if len(table) else pd.Series(dtype=float)
    return table


def kaplan_meier(times: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Survival (free of progression) at each distinct time; censored times count only as at risk."""
    times, events = np.asarray(times, float), np.asarray(events, bool)
    if not len(times):
        return np.array([0.0]), np.array([1.0])
    if not events.any():
        return np.array([0.0, times.max()]), np.array([1.0, 1.0])
    data = stats.CensoredData(uncensored=times[events], right=times[~events])
    sf = stats.ecdf(data).sf
    return np.concatenate([[0.0], sf.quantiles]), np.concatenate([[1.0], sf.probabilities])


def time_to_progression(group: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Times and progression flags of the replicates whose response could be evaluated (NaN times are not)."""
    t = pd.to_numeric(group["time_to_progression_d"], errors="coerce").to_numpy(float)
    evaluable = np.isfinite(t)
    return t[evaluable], group["progressed"].to_numpy()[evaluable].astype(bool)


def progression(replicates: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per arm and sweep point: events, median time to progression, and the log-rank test against the reference."""
    rows = []
    ok = ok_rows(replicates)
    for point, at_point in ok.groupby("point", sort=False):
        rt, re_ = time_to_progression(at_point[at_point["arm"] == reference])
        for arm, group in at_point.groupby("arm", sort=False):
            t, e = time_to_progression(group)
            km_t, km_s = kaplan_meier(t, e)
            below = np.flatnonzero(km_s <= 0.5)
            row = {"point": point, "arm": arm, "n": len(t), "not_evaluable": len(group) - len(t),
                   "progressed": int(e.sum()), "median_ttp_d": float(km_t[below[0]]) if len(below) else np.nan,
                   "logrank_p": np.nan, **dict.fromkeys(HAZARD_COLUMNS, np.nan)}
            if arm != reference and len(t) and len(rt) and (e.any() or re_.any()):
                with np.errstate(invalid="ignore", divide="ignore"):  # one replicate each: no variance, no test
                    res = stats.logrank(stats.CensoredData(uncensored=t[e], right=t[~e]),
                                        stats.CensoredData(uncensored=rt[re_], right=rt[~re_]))
                row["logrank_p"] = float(res.pvalue) if np.isfinite(res.pvalue) else np.nan
                row.update(hazard_ratio(t, e, rt, re_))
            rows.append(row)
    return pd.DataFrame(rows)


HAZARD_COLUMNS = ("hazard_ratio", "hr_ci_low", "hr_ci_high")


def hazard_ratio(t: np.ndarray, e: np.ndarray, ref_t: np.ndarray, ref_e: np.ndarray) -> dict[str, float]:
    """The arm's hazard of progression relative to the reference's (Cox, one binary covariate). Undefined (NaN)
    when one of the two has no event, where the partial likelihood has no maximum."""
    out = dict.fromkeys(HAZARD_COLUMNS, np.nan)
    if not (e.any() and ref_e.any()):
        return out
    times = np.concatenate([t, ref_t])
    status = np.concatenate([e, ref_e]).astype(float)
    in_arm = np.concatenate([np.ones(len(t)), np.zeros(len(ref_t))])[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes on tiny samples: the finiteness check below decides
        fit = PHReg(times, in_arm, status=status, ties="efron").fit(disp=False)
    beta, (low, high) = float(fit.params[0]), fit.conf_int(alpha=1 - CI_LEVEL)[0]
    if np.isfinite([beta, low, high]).all():
        out.update(hazard_ratio=float(np.exp(beta)), hr_ci_low=float(np.exp(low)), hr_ci_high=float(np.exp(high)))
    return out


def response_rates(replicates: pd.DataFrame) -> pd.DataFrame:
    """Best-response categories per arm and point, and the objective response rate (CR + PR) with a Wilson CI,
    over the replicates whose response could be evaluated (the others are counted as NE); and the same rate for
    confirmed responses when the replicates have them."""
    rows = []
    for (point, arm), group in ok_rows(replicates).groupby(["point", "arm"], sort=False):
        counts = group["best_response"].value_counts()
        n = int(sum(counts.get(c, 0) for c in RESPONSES))
        row = {"point": point, "arm": arm, "n": n, **{c: int(counts.get(c, 0)) for c in RESPONSES},
               NOT_EVALUABLE: int(counts.get(NOT_EVALUABLE, 0)), **_rate(counts, n, "orr")}
        if "confirmed_response" in group:
            confirmed = group["confirmed_response"].value_counts()
            row.update(_rate(confirmed, n, "confirmed_orr"))
        rows.append(row)
    return pd.DataFrame(rows)


def _rate(counts: pd.Series, n: int, name: str) -> dict[str, float]:
    """(CR + PR) / n with its Wilson interval, NaN without evaluable replicates."""
    if not n:
        return {name: np.nan, f"{name}_ci_low": np.nan, f"{name}_ci_high": np.nan}
    responders = int(sum(counts.get(c, 0) for c in OBJECTIVE_RESPONSES))
    ci = stats.binomtest(responders, n).proportion_ci(confidence_level=CI_LEVEL, method="wilson")
    return {name: responders / n, f"{name}_ci_low": float(ci.low), f"{name}_ci_high": float(ci.high)}
