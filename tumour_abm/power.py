"""Sample sizes for the claims' paired one-sided tests, from a pilot's effect.

The effect of a paired comparison is Cohen's d_z: the mean of the paired differences over their SD, signed so that a
positive value points the expected way. The replicates needed for a power at a level come from the noncentral t
distribution of the paired t-test (Cohen 1988, ch. 2), divided by the Wilcoxon signed-rank test's asymptotic relative
efficiency against it under normality, 3/π (Lehmann 2006, Nonparametrics, ch. 3): the claims are tested with the
Wilcoxon test. An exact one-sided Wilcoxon test of n pairs cannot give p below 2⁻ⁿ, so fewer pairs than
log₂(1/level) can never pass, whatever the effect.
"""

from __future__ import annotations

import math

import numpy as np

WILCOXON_ARE = 3.0 / math.pi  # efficiency of the signed-rank test relative to the t-test for normal differences
TARGET_POWER = 0.8  # issue spec: 80 % power at the Holm-adjusted level
PILOT_REPLICATES = 10  # pairs per arm in a pilot: enough for a first d_z, cheap next to the runs it sizes
PILOT_BASE_SEED = 1_000_001  # the pilot's seeds are not the validation's (base seed 1): n is not sized on its data
MAX_REPLICATES = 60  # cap on a claim's replicates: a cost limit; a claim that needs more is reported under-powered


def effect_dz(differences: np.ndarray) -> float:
    """Cohen's d_z of paired differences (already signed the expected way); ±inf when they are all alike and not
    zero, NaN with fewer than two or all zero."""
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d)]
    if len(d) < 2 or not np.any(d):
        return float("nan")
    sd = d.std(ddof=1)
    return float(math.copysign(math.inf, d.mean())) if sd == 0 else float(d.mean() / sd)


def minimum_pairs(alpha: float) -> int:
    """The fewest pairs with which an exact one-sided Wilcoxon test can reach p < alpha."""
    return max(2, math.ceil(math.log2(1.0 / alpha) + 1e-12))


def power_at(dz: float, n: int, alpha: float) -> float:
    """Power of the one-sided Wilcoxon signed-rank test of n pairs at level alpha for an effect d_z (via the t-test
    at the efficiency-reduced size); 0 below the fewest pairs that can pass, NaN for an unknown effect."""
    if not math.isfinite(dz):
        return float("nan") if math.isnan(dz) else (1.0 if dz > 0 and n >= minimum_pairs(alpha) else 0.0)
    if n < minimum_pairs(alpha):
        return 0.0
    from scipy import stats  # here: the command line reads this module's constants and should start fast

    n_t = n * WILCOXON_ARE
    df = n_t - 1.0
    critical = stats.t.ppf(1.0 - alpha, df)
    return float(stats.nct.sf(critical, df, dz * math.sqrt(n_t)))


def replicates_for(dz: float, alpha: float, power: float = TARGET_POWER, cap: int = MAX_REPLICATES) -> int:
    """The fewest pairs giving `power` at `alpha` for the effect d_z, at most `cap` (which an effect the wrong way,
    none or an unknown one also gets)."""
    low = minimum_pairs(alpha)
    if not (dz > 0):
        return cap
    if power_at(dz, cap, alpha) < power:
        return cap
    n = low
    while power_at(dz, n, alpha) < power:
        n += 1
    return min(n, cap)
