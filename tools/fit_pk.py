"""Fit the two-compartment selinexor PK (tumour_abm.therapy.pk) to the label's single-dose figures, all at once.

    .venv/bin/python tools/fit_pk.py

Each point figure's residual is log(model / label) over a 10 % tolerance (Cmax, AUC, CL/F, V/F); a range (Tmax 2-4
h, terminal half-life 6-8 h) is a near-hard wall outside (its log-distance to the range over a 1 % tolerance) and,
inside, pulls gently towards its (geometric) centre: the figures leave some parameter directions free, and this
picks, of the equally good fits, the one furthest from the ranges' edges. Even so the figures leave one direction
free (a longer absorption lag traded against faster absorption and distribution), so a small parsimony term pulls
the lag towards none: of the fits, the one that needs the least of it. V/F is read as the volume at
steady state, central + peripheral. Least squares over the six PK parameters (ka, lag, CL/F, Vc/F, Q/F, Vp/F), in log
space so that all stay positive. Prints the fitted values (the defaults in PKParams come from here) and each
figure beside its target. The label's CL/F (17.9 L/h) and its AUC (5,386 ng·h/mL for 80 mg, so D/AUC = 14.9 L/h)
cannot both hold; the fit meets them halfway.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from tumour_abm.therapy.pk import PKParams, single_dose_metrics

DOSE_MG = 80.0
# Label (XPOVIO prescribing information, 80 mg single dose): a figure or a (low, high) range.
TARGETS = {"cmax_ng_per_ml": 680.0, "auc_ng_h_per_ml": 5386.0, "cl_l_per_h": 17.9, "v_l": 125.0,
           "tmax_h": (2.0, 4.0), "half_life_h": (6.0, 8.0)}
POINT_TOLERANCE = np.log(1.10)
RANGE_WALL = np.log(1.01)
CENTRE_PULL = 0.1  # the pull's residual at a range's edge
LAG_PULL_PER_H = 0.01  # the parsimony term's residual per hour of lag
START = {"ka_per_h": 1.0, "lag_h": 0.5, "cl_l_per_h": 16.0, "vc_l": 60.0, "q_l_per_h": 10.0, "vp_l": 60.0}
NAMES = tuple(START)


def figures(pk: PKParams) -> dict[str, float]:
    m = single_dose_metrics(DOSE_MG, pk)
    return {"cmax_ng_per_ml": m["cmax_ng_per_ml"], "auc_ng_h_per_ml": m["auc_ng_h_per_ml"], "cl_l_per_h": pk.cl_l_per_h,
            "v_l": pk.vc_l + pk.vp_l, "tmax_h": m["tmax_h"], "half_life_h": m["terminal_half_life_h"]}


def residuals(log_values: np.ndarray) -> np.ndarray:
    pk = PKParams().model_copy(update=dict(zip(NAMES, np.exp(log_values))))
    got = figures(pk)
    return np.array([_miss(got[k], target) for k, target in TARGETS.items()] + [LAG_PULL_PER_H * pk.lag_h])


def _miss(value: float, target) -> float:
    if isinstance(target, tuple):
        low, high = target
        outside = max(0.0, np.log(low / value), np.log(value / high)) / RANGE_WALL
        return outside + CENTRE_PULL * np.log(value / np.sqrt(low * high)) / np.log(np.sqrt(high / low))
    return np.log(value / target) / POINT_TOLERANCE


def fit() -> dict[str, float]:
    """The fitted parameters: from a neutral start (not the current defaults), to a tight tolerance (the one free
    direction is shallow)."""
    found = least_squares(residuals, np.log(list(START.values())), xtol=1e-12, ftol=1e-12, gtol=1e-12)
    return dict(zip(NAMES, np.exp(found.x)))


def main() -> None:
    values = fit()
    pk = PKParams().model_copy(update=values)
    print("fitted:", ", ".join(f"{k} {v:.4g}" for k, v in values.items()))
    for k, got in figures(pk).items():
        target = TARGETS[k]
        if isinstance(target, tuple):
            print(f"  {k:<16} {got:>9.4g}   label {target[0]:g}-{target[1]:g}")
        else:
            print(f"  {k:<16} {got:>9.4g}   label {target:>8.4g}   ({100 * (got / target - 1):+.1f} %)")


if __name__ == "__main__":
    main()
