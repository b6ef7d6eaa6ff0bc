"""Selinexor pharmacokinetics: a two-compartment oral model (first-order absorption after a lag, a central and a
peripheral compartment, elimination from the central one), as in the published population PK model. The plasma level is an
exact, analytic function of time (doses superpose linearly), never integrated step by step.

Default parameters are a joint fit to the label's single-dose figures (`tools/fit_pk.py`, biology.md): Cmax, AUC,
Tmax, terminal half-life, CL/F and V/F at once. The label's own CL/F (17.9 L/h) and AUC (5,386 ng·h/mL for 80 mg,
i.e. D/AUC = 14.9 L/h) disagree by 20 %; the fit splits the difference (both within 10 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.optimize import minimize_scalar

from ..params import ASSUMED, Params, param

FIT = "joint fit to the label's 80 mg figures, tools/fit_pk.py (biology.md)"
# The closed form divides by differences of the three rate constants; where two coincide (a measure-zero choice of
# parameters) the absorption rate is moved by this relative amount, which changes the curve by as little.
DEGENERATE_RELATIVE = 1e-7


class PKParams(Params):
    ka_per_h: float = param(1.19, unit="1/h", source=FIT, gt=0)
    lag_h: float = param(1.48, unit="h", source=f"absorption lag (tablet to gut); {FIT}", ge=0, le=24)
    vc_l: float = param(64.3, unit="L", source=f"central volume V/F; {FIT}", gt=0)
    cl_l_per_h: float = param(16.3, unit="L/h", source=f"CL/F; {FIT}", gt=0)
    q_l_per_h: float = param(15.7, unit="L/h", source=f"intercompartmental clearance Q/F; {FIT}", gt=0)
    vp_l: float = param(60.7, unit="L", source=f"peripheral volume V/F; {FIT}", gt=0)
    mw_g_per_mol: float = param(443.3, unit="g/mol", source="selinexor molecular weight (1 ng/mL = 2.256 nM)", gt=0)
    cl_cv: float = param(0.30, unit="1", source=f"between-patient CV of CL/F, for cohorts; {ASSUMED}", ge=0)
    v_cv: float = param(0.25, unit="1", source=f"between-patient CV of central V/F, for cohorts; {ASSUMED}", ge=0)

    @property
    def nM_per_ng_per_ml(self) -> float:
        return 1e6 / self.mw_g_per_mol / 1e3  # ng/mL = µg/L; ÷ MW (g/mol) → µmol/L; × 1000 → nmol/L

    def rates_per_h(self) -> tuple[float, float, float]:
        """(ka, α, β): absorption and the two disposition rate constants (α > β), the exponents of the curve."""
        k10, k12, k21 = self.cl_l_per_h / self.vc_l, self.q_l_per_h / self.vc_l, self.q_l_per_h / self.vp_l
        total, product = k10 + k12 + k21, k10 * k21
        root = np.sqrt(total * total - 4.0 * product)
        return self.ka_per_h, (total + root) / 2.0, (total - root) / 2.0

    @property
    def terminal_half_life_h(self) -> float:
        """Half-life of the slowest exponent (absorption itself when it is slower: flip-flop kinetics)."""
        return float(np.log(2.0) / min(self.rates_per_h()))

    def for_patient(self, rng: np.random.Generator) -> PKParams:
        """One patient's CL/F and central V/F (the covariate-bearing parameters of the population model), lognormal
        around the population values with the given CVs."""
        cl = self.cl_l_per_h * _lognormal_factor(rng, self.cl_cv)
        vc = self.vc_l * _lognormal_factor(rng, self.v_cv)
        return self.model_copy(update={"cl_l_per_h": cl, "vc_l": vc})


def _lognormal_factor(rng: np.random.Generator, cv: float) -> float:
    sigma2 = np.log1p(cv**2)
    return float(rng.lognormal(-sigma2 / 2.0, np.sqrt(sigma2)))


def _unit_dose_terms(pk: PKParams) -> tuple[np.ndarray, np.ndarray]:
    """Exponents r and coefficients c (per mg, in ng/mL) with C(t) = Σ c·e^{−r·t} for one dose at t = 0."""
    ka, alpha, beta = pk.rates_per_h()
    for other in (alpha, beta):
        if abs(ka - other) <= DEGENERATE_RELATIVE * other:
            ka = other * (1.0 + 2.0 * DEGENERATE_RELATIVE)
    k21 = pk.q_l_per_h / pk.vp_l
    scale = 1e3 * ka / pk.vc_l  # per mg: mg → µg; ÷ L → µg/L = ng/mL
    rates = np.array([alpha, beta, ka])
    coefficients = scale * np.array([
        (k21 - alpha) / ((ka - alpha) * (beta - alpha)),
        (k21 - beta) / ((ka - beta) * (alpha - beta)),
        (k21 - ka) / ((alpha - ka) * (beta - ka)),
    ])
    return rates, coefficients


@dataclass(frozen=True)
class DoseSeries:
    """Oral doses (time in hours on the model's clock, amount in mg) and the PK that turns them into plasma levels."""

    times_h: np.ndarray
    doses_mg: np.ndarray
    pk: PKParams

    @cached_property
    def _unit_dose_terms(self) -> tuple[np.ndarray, np.ndarray]:
        return _unit_dose_terms(self.pk)  # the same for every dose, and read every step

    def ng_per_ml(self, t_h: float | np.ndarray) -> np.ndarray | float:
        """Plasma concentration at time(s) t: the sum of every earlier dose's curve."""
        if not len(self.times_h) and np.ndim(t_h) == 0:
            return 0.0  # no drug given (read every step of a drug-free run)
        t = np.atleast_1d(np.asarray(t_h, dtype=np.float64))
        if not len(self.times_h):
            out = np.zeros_like(t)
        else:
            rates, coefficients = self._unit_dose_terms
            since = t[:, None] - self.times_h[None, :] - self.pk.lag_h
            given = since >= 0
            since = np.where(given, since, 0.0)
            weight = given * self.doses_mg  # mg of each dose already given, for each time
            out = sum(c * (weight * np.exp(-r * since)).sum(axis=1) for r, c in zip(rates, coefficients))
        return out if np.ndim(t_h) else float(out[0])

    def nM(self, t_h: float | np.ndarray) -> np.ndarray | float:
        return self.ng_per_ml(t_h) * self.pk.nM_per_ng_per_ml


def single_dose_metrics(dose_mg: float, pk: PKParams) -> dict[str, float]:
    """Cmax, Tmax, AUC(0-∞) and terminal half-life of one oral dose. Tmax is found numerically (the curve has one
    peak); AUC is dose ÷ CL/F exactly."""
    one = DoseSeries(np.array([0.0]), np.array([dose_mg]), pk)
    # The peak lies before absorption is mostly done: within ten absorption half-lives of the lag.
    horizon = pk.lag_h + 10.0 * np.log(2.0) / pk.ka_per_h
    peak = minimize_scalar(lambda t: -one.ng_per_ml(t), bounds=(pk.lag_h, horizon), method="bounded",
                           options={"xatol": 1e-6})
    tmax = float(peak.x)
    cmax = one.ng_per_ml(tmax)
    return {
        "cmax_ng_per_ml": float(cmax),
        "cmax_nM": float(cmax * pk.nM_per_ng_per_ml),
        "tmax_h": tmax,
        "auc_ng_h_per_ml": dose_mg * 1e3 / pk.cl_l_per_h,
        "terminal_half_life_h": pk.terminal_half_life_h,
    }


def exposure(doses: DoseSeries, window_h: tuple[float, float], thresholds_nM: dict[str, float],
             resolution_h: float = 1.0 / 60.0) -> dict[str, float]:
    """First-dose metrics plus, for each threshold, the hours per week the plasma level spends above it over the
    window (sampled every minute: far finer than any change in the curve)."""
    if not len(doses.times_h):
        raise ValueError("no selinexor doses to summarise")
    out = single_dose_metrics(float(doses.doses_mg[0]), doses.pk)
    t = np.arange(window_h[0], window_h[1], resolution_h)
    level = doses.nM(t)
    weeks = (window_h[1] - window_h[0]) / (7 * 24.0)
    for name, threshold in thresholds_nM.items():
        out[f"hours_above_{name}_per_week"] = float((level > threshold).sum() * resolution_h / weeks)
    return out
