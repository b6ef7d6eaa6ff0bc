"""Selinexor pharmacokinetics: a one-compartment oral model whose plasma concentration is an exact, analytic
function of time (doses superpose linearly), never integrated step by step.

Default parameters fit the label (80 mg: Cmax 679 ng/mL at 2.0 h, AUC 5,387 ng·h/mL); see biology.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import ASSUMED, Params, param


class PKParams(Params):
    ka_per_h: float = param(1.07, unit="1/h", source="fit to label Cmax 679 ng/mL at 2.0 h (biology.md)", gt=0)
    v_l: float = param(82.0, unit="L", source="V/F fit to label Cmax (biology.md; label Vd/F 125 L)", gt=0)
    cl_l_per_h: float = param(14.85, unit="L/h", source="CL/F fit to label AUC 5,387 ng·h/mL for 80 mg (biology.md)", gt=0)
    mw_g_per_mol: float = param(443.3, unit="g/mol", source="selinexor molecular weight (1 ng/mL = 2.256 nM)", gt=0)
    cl_cv: float = param(0.30, unit="1", source=f"between-patient CV of CL/F, for cohorts; {ASSUMED}", ge=0)
    v_cv: float = param(0.25, unit="1", source=f"between-patient CV of V/F, for cohorts; {ASSUMED}", ge=0)

    @property
    def ke_per_h(self) -> float:
        return self.cl_l_per_h / self.v_l

    @property
    def nM_per_ng_per_ml(self) -> float:
        return 1e6 / self.mw_g_per_mol / 1e3  # ng/mL = µg/L; ÷ MW (g/mol) → µmol/L; × 1000 → nmol/L

    def for_patient(self, rng: np.random.Generator) -> PKParams:
        """One patient's CL/F and V/F, lognormal around the population values with the given CVs."""
        cl = self.cl_l_per_h * _lognormal_factor(rng, self.cl_cv)
        v = self.v_l * _lognormal_factor(rng, self.v_cv)
        return self.model_copy(update={"cl_l_per_h": cl, "v_l": v})


def _lognormal_factor(rng: np.random.Generator, cv: float) -> float:
    sigma2 = np.log1p(cv**2)
    return float(rng.lognormal(-sigma2 / 2.0, np.sqrt(sigma2)))


@dataclass(frozen=True)
class DoseSeries:
    """Oral doses (time in hours on the model's clock, amount in mg) and the PK that turns them into plasma levels."""

    times_h: np.ndarray
    doses_mg: np.ndarray
    pk: PKParams

    def ng_per_ml(self, t_h: float | np.ndarray) -> np.ndarray | float:
        """Plasma concentration at time(s) t: the sum of every earlier dose's Bateman curve."""
        t = np.atleast_1d(np.asarray(t_h, dtype=np.float64))
        if not len(self.times_h):
            out = np.zeros_like(t)
        else:
            p = self.pk
            ka, ke = p.ka_per_h, p.ke_per_h
            since = t[:, None] - self.times_h[None, :]
            given = since >= 0
            since = np.where(given, since, 0.0)
            scale = self.doses_mg * 1e3 / p.v_l * ka / (ka - ke)  # mg → µg; ÷ L → µg/L = ng/mL
            out = (given * scale * (np.exp(-ke * since) - np.exp(-ka * since))).sum(axis=1)
        return out if np.ndim(t_h) else float(out[0])

    def nM(self, t_h: float | np.ndarray) -> np.ndarray | float:
        return self.ng_per_ml(t_h) * self.pk.nM_per_ng_per_ml


def single_dose_metrics(dose_mg: float, pk: PKParams) -> dict[str, float]:
    """Cmax, Tmax and AUC(0-∞) of one oral dose, from the closed forms of the one-compartment model."""
    ka, ke = pk.ka_per_h, pk.ke_per_h
    tmax = np.log(ka / ke) / (ka - ke)
    cmax = DoseSeries(np.array([0.0]), np.array([dose_mg]), pk).ng_per_ml(tmax)
    return {
        "cmax_ng_per_ml": float(cmax),
        "cmax_nM": float(cmax * pk.nM_per_ng_per_ml),
        "tmax_h": float(tmax),
        "auc_ng_h_per_ml": dose_mg * 1e3 / pk.cl_l_per_h,
        "half_life_h": float(np.log(2.0) / ke),
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
