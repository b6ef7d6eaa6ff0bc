"""Neutrophil production in the marrow and the blood count it gives: Friberg's semi-mechanistic myelosuppression
model (J Clin Oncol 2002;20:4713), the standard description of drug-induced neutropenia.

A proliferating pool makes cells that mature through a chain of transit compartments into the circulating pool.
The drug inhibits proliferation; a low blood count feeds back on it, (ANC₀/ANC)^γ. In units of the baseline
(every compartment is 1 at steady state, where the run starts):

    dP/dt = k·P·(1 − E(C))·(1/N)^γ − k·P,   dTᵢ/dt = k·(Tᵢ₋₁ − Tᵢ),   dN/dt = k·T₃ − k·N,
    k = (n + 1)/MTT

with E(C) = Emax·C/(EC50 + C) of the plasma level. Because the plasma curve of a run is known in advance (the
doses are resolved before it starts), the count is computed once for the whole run (classic fourth-order
Runge-Kutta, compiled, on sub-steps of at most MARROW_STEP_H, the drug effect at each sub-step's ends and
midpoint) and read per model step.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..params import ASSUMED, Params, param
from ..rules import drug_effect

FRIBERG = "Friberg 2002 J Clin Oncol 20:4713"
# The integration's sub-step (h): the plasma curve's fastest feature, absorption over about an hour, is then
# sampled every few minutes, and the count is converged (to 1e-5 of baseline) whatever the model's dt.
MARROW_STEP_H = 0.125
# How long after the last dose a report follows the count (h): its nadir comes one to two mean transit times later
# (5-9 days) and three weeks hold most of the recovery.
NADIR_FOLLOW_UP_H = 21 * 24.0


class MarrowParams(Params):
    """Neutrophil production (Friberg model) and selinexor's inhibition of it."""

    mean_transit_time_h: float = param(
        110.0, unit="h", source=f"{FRIBERG}: 89-135 h across six drugs (system parameters consistent across drugs)", gt=0
    )
    transit_compartments: int = param(3, unit="compartments", source=FRIBERG, ge=1, le=20)
    feedback_gamma: float = param(0.17, unit="1", source=f"{FRIBERG}: 0.14-0.23 across drugs", ge=0, le=2)
    baseline_anc_1e9_per_l: float = param(
        4.0, unit="10⁹ cells/L", source=f"blood ANC before treatment; {ASSUMED} (a typical adult value)", gt=0, le=100
    )
    lower_limit_anc_1e9_per_l: float = param(
        2.0, unit="10⁹ cells/L", source=f"lower limit of normal ANC for grading (CTCAE v5 grade 1 is below it); "
                                       f"{ASSUMED} (laboratories use 1.5-2.0)", gt=0, le=100
    )
    drug_max_inhibition: float = param(
        0.5, unit="1", source=f"selinexor neutropenia after 1-2 weeks, review [63,113]; size {ASSUMED}", ge=0, le=1
    )
    drug_ec50_nM: float = param(100.0, unit="nM", source=ASSUMED, gt=0)


def relative_anc(params: MarrowParams, concentration_nM, n_steps: int, dt_h: float) -> np.ndarray:
    """Blood ANC relative to baseline at the end of each step 0..n_steps (entry 0: the start, 1), for a plasma
    level `concentration_nM(t_h)` (vectorised over times on the model's clock)."""
    p = params
    sub = max(1, math.ceil(dt_h / MARROW_STEP_H))
    h = dt_h / sub
    t = np.arange(2 * sub * n_steps + 1) * (h / 2.0)  # every sub-step's start, midpoint and end
    effect = p.drug_max_inhibition * drug_effect(np.asarray(concentration_nM(t), dtype=np.float64), p.drug_ec50_nM, 1.0)
    if not effect.any():
        return np.ones(n_steps + 1)
    k = (p.transit_compartments + 1) / p.mean_transit_time_h
    count = _friberg_rk4(effect, k, p.feedback_gamma, p.transit_compartments + 2, h)
    return count[::sub].copy()


@njit(cache=True)
def _rates(y, e, k, gamma, out):
    """d/dt of (proliferating, transits..., circulating) at drug effect e."""
    n = len(y)
    out[0] = k * y[0] * ((1.0 - e) * y[n - 1] ** -gamma - 1.0)
    for j in range(1, n):
        out[j] = k * (y[j - 1] - y[j])


@njit(cache=True)
def _friberg_rk4(effect, k, gamma, n, h):
    """The circulating count at every sub-step end (entry 0: the start), from the steady state; effect[2i],
    effect[2i+1], effect[2i+2] are the drug effect at sub-step i's start, midpoint and end."""
    steps = (len(effect) - 1) // 2
    out = np.ones(steps + 1)
    y = np.ones(n)
    k1, k2, k3, k4, z = np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for i in range(steps):
        _rates(y, effect[2 * i], k, gamma, k1)
        z[:] = y + 0.5 * h * k1
        _rates(z, effect[2 * i + 1], k, gamma, k2)
        z[:] = y + 0.5 * h * k2
        _rates(z, effect[2 * i + 1], k, gamma, k3)
        z[:] = y + h * k3
        _rates(z, effect[2 * i + 2], k, gamma, k4)
        y += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        out[i + 1] = y[n - 1]
    return out

