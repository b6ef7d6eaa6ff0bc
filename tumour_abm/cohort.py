"""Virtual patients: what differs between the replicates of a cohort.

A cohort names *covariates* — patient traits with a distribution (growth rate, XPO1 dependence, HLA-E, antigen
density and loss, immune infiltration, vessel density, tumour size), optionally correlated — and raw scenario
*parameters* with a distribution of their own. Each patient is one draw of all of them; the draw is recorded
beside the replicate's outcomes.

Covariates are relative to the arm's scenario (a multiplier of 1 is the scenario's own tumour), so one cohort
section fits every tumour-type preset; the antigen-negative share is absolute. Correlated covariates share a
Gaussian copula: standard normals correlated through the Cholesky factor of the correlation matrix, each mapped
onto its own distribution by its quantile function, so every covariate keeps its marginal distribution exactly.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator
from scipy import stats

from .config_files import KeyProblems
from .params import LARGEST_NUMBER, Params, param
from .scenario import Scenario

COHORT_STREAM = 7  # keeps patient draws apart from the models' own seeds (any fixed number would do)
_ANY_NUMBER = {"ge": -LARGEST_NUMBER, "le": LARGEST_NUMBER}  # the bound every number without its own gets


class DistributionParams(Params):
    """One patient parameter's distribution: lognormal (mean, cv), normal (mean, sd), uniform (low, high),
    poisson (mean, for counts) or beta (mean, sd, for shares)."""

    kind: Literal["lognormal", "normal", "uniform", "poisson", "beta"] = param(..., unit="-", source="batch file")
    mean: float | None = param(None, unit="as the parameter", source="batch file", **_ANY_NUMBER)
    cv: float | None = param(None, unit="1", source="batch file", ge=0, le=LARGEST_NUMBER)
    sd: float | None = param(None, unit="as the parameter", source="batch file", ge=0, le=LARGEST_NUMBER)
    low: float | None = param(None, unit="as the parameter", source="batch file", **_ANY_NUMBER)
    high: float | None = param(None, unit="as the parameter", source="batch file", **_ANY_NUMBER)

    @model_validator(mode="after")
    def _complete(self) -> DistributionParams:
        needs = {"lognormal": ("mean", "cv"), "normal": ("mean", "sd"), "uniform": ("low", "high"),
                 "poisson": ("mean",), "beta": ("mean", "sd")}
        missing = [k for k in needs[self.kind] if getattr(self, k) is None]
        if missing:
            raise KeyProblems([((k,), f"a {self.kind} distribution needs {', '.join(needs[self.kind])}")
                               for k in missing])
        unused = [k for k in ("mean", "cv", "sd", "low", "high")
                  if k not in needs[self.kind] and getattr(self, k) is not None]
        if unused:
            raise KeyProblems([((k,), f"not a parameter of a {self.kind} distribution (it takes "
                                      f"{', '.join(needs[self.kind])})") for k in unused])
        if self.kind in ("lognormal", "poisson") and self.mean <= 0:
            raise KeyProblems([(("mean",), f"a {self.kind} distribution needs mean > 0")])
        if self.kind == "uniform" and self.high < self.low:
            raise KeyProblems([(("high",), f"is below low {self.low:g}")])
        if self.kind == "beta":
            if not 0 < self.mean < 1:
                raise KeyProblems([(("mean",), "a beta distribution (a share) needs 0 < mean < 1")])
            if not 0 < self.sd**2 < self.mean * (1 - self.mean):
                raise KeyProblems([(("sd",), f"a beta distribution with mean {self.mean:g} needs 0 < sd < "
                                             f"{np.sqrt(self.mean * (1 - self.mean)):.3g}")])
        return self

    def draw(self, rng: np.random.Generator) -> float:
        """One independent draw (the raw parameters' way, kept so that their draws stay those of earlier files)."""
        if self.kind == "lognormal":
            sigma2 = np.log1p(self.cv**2)
            return float(rng.lognormal(np.log(self.mean) - sigma2 / 2.0, np.sqrt(sigma2)))
        if self.kind == "normal":
            return float(rng.normal(self.mean, self.sd))
        if self.kind == "uniform":
            return float(rng.uniform(self.low, self.high))
        if self.kind == "beta":
            return float(self.frozen().rvs(random_state=rng))
        return float(rng.poisson(self.mean))

    def frozen(self):
        """The distribution as a scipy.stats frozen distribution (for its quantile function in the copula)."""
        if self.kind == "lognormal":
            sigma2 = np.log1p(self.cv**2)
            return stats.lognorm(s=np.sqrt(sigma2), scale=self.mean * np.exp(-sigma2 / 2.0))
        if self.kind == "normal":
            return stats.norm(self.mean, self.sd)
        if self.kind == "uniform":
            return stats.uniform(self.low, self.high - self.low)
        if self.kind == "beta":
            k = self.mean * (1 - self.mean) / self.sd**2 - 1
            return stats.beta(self.mean * k, (1 - self.mean) * k)
        return stats.poisson(self.mean)

    def support(self) -> tuple[float, float]:
        if self.kind == "uniform":  # also a fixed value (low = high), which scipy cannot freeze
            return self.low, self.high
        return tuple(float(v) for v in self.frozen().support())

    def quantile(self, u: float) -> float:
        """The value below which a share `u` of patients lies."""
        if self.kind == "uniform":
            return self.low + u * (self.high - self.low)
        return float(self.frozen().ppf(u))


@dataclass(frozen=True)
class Covariate:
    """A patient trait and how it sets the scenario: `apply(scenario_dump, value)` → dotted updates."""

    meaning: str
    unit: str
    apply: Callable[[dict, float], dict[str, Any]]
    share: bool = False  # an absolute share in [0, 1] rather than a multiplier (> 0)


IMMUNE_TYPES = ("nk", "macrophage", "neutrophil")


def _times(path: str) -> Callable[[dict, float], dict[str, Any]]:
    def apply(current: dict, value: float) -> dict[str, Any]:
        return {path: _get(current, path) * value}
    return apply


def _growth(current: dict, value: float) -> dict[str, Any]:
    return {"cancer.doubling_time_h": current["cancer"]["doubling_time_h"] / value}


def _antigen_density(current: dict, value: float) -> dict[str, Any]:
    return {f"cancer.antigens.{name}.level": a["level"] * value for name, a in current["cancer"]["antigens"].items()
            if a["level"] > 0}


def _antigen_negative(current: dict, value: float) -> dict[str, Any]:
    return {f"cancer.antigens.{current['car_t']['target_antigen']}.positive_fraction": 1.0 - value}


def _infiltration(current: dict, value: float) -> dict[str, Any]:
    updates: dict[str, Any] = {}
    for kind in IMMUNE_TYPES:
        updates[f"{kind}.initial_count"] = current[kind]["initial_count"] * value
        updates[f"{kind}.influx_per_d"] = current[kind]["influx_per_d"] * value
    return updates


def _size(current: dict, value: float) -> dict[str, Any]:
    """More cancer cells, and the infiltrate with them: the sources give immune cells as shares of the tumour's
    cells, so a larger tumour keeps its effector-to-target ratio (immune_infiltration alone changes that)."""
    return {"cancer.initial_cells": current["cancer"]["initial_cells"] * value, **_infiltration(current, value)}


COVARIATES: dict[str, Covariate] = {
    "growth_rate": Covariate("cancer cells divide this many times faster (cancer.doubling_time_h ÷ it)", "x",
                             _growth),
    "xpo1_dependence": Covariate("XPO1 expression / dependence: drug-induced apoptosis × it "
                                 "(cancer.xpo1_sensitivity)", "x", _times("cancer.xpo1_sensitivity")),
    "hla_e": Covariate("baseline HLA-E × it (cancer.hla_e_mean)", "x", _times("cancer.hla_e_mean")),
    "antigen_density": Covariate("every expressed antigen's surface level × it (cancer.antigens.*.level)", "x",
                                 _antigen_density),
    "antigen_negative_fraction": Covariate("share of cancer cells without the CAR's target antigen "
                                           "(car_t.target_antigen's positive_fraction = 1 − it)", "1",
                                           _antigen_negative, share=True),
    "immune_infiltration": Covariate("NK cells, macrophages and neutrophils present and entering × it "
                                     "(initial_count, influx_per_d)", "x", _infiltration),
    "vessel_density": Covariate("share of sites that are vessels × it (grid.vessel_fraction)", "x",
                                _times("grid.vessel_fraction")),
    "tumour_size": Covariate("cancer cells at the start × it (cancer.initial_cells), and the innate infiltrate "
                             "with them (initial_count, influx_per_d), at the same share of the cells", "x", _size),
}
CovariateName = Literal[tuple(COVARIATES)]  # type: ignore[valid-type]


class CorrelationParams(Params):
    between: Annotated[tuple[CovariateName, CovariateName], Field(strict=False)] = param(
        ..., unit="-", source="batch file: two covariates of the cohort")
    rho: float = param(..., unit="1", source="batch file: correlation of their normal scores (Gaussian copula)",
                       gt=-1, lt=1)


class CohortParams(Params):
    covariates: Annotated[dict[CovariateName, DistributionParams], Field(strict=False)] = param(
        {}, unit="-", source="batch file: patient traits → distributions (multipliers of the scenario's value, "
                             "except antigen_negative_fraction, a share)")
    correlations: Annotated[tuple[CorrelationParams, ...], Field(strict=False)] = param(
        (), unit="-", source="batch file: pairwise correlations between covariates")
    parameters: Annotated[dict[str, DistributionParams], Field(strict=False)] = param(
        {}, unit="-", source="batch file: dotted scenario paths → distributions, drawn once per virtual patient"
    )
    pk_variability: bool = param(
        False, unit="-", source="batch file: each patient's selinexor CL/F and V/F drawn with the PK's CVs"
    )

    @model_validator(mode="after")
    def _consistent(self) -> CohortParams:
        problems = []
        for name, dist in self.covariates.items():
            low, high = dist.support()
            if COVARIATES[name].share and not (low >= 0 and high <= 1):
                problems.append((("covariates", name), "is a share: its distribution must lie within [0, 1] "
                                                       "(uniform with 0 <= low <= high <= 1, or beta)"))
            elif not COVARIATES[name].share and low <= 0 and dist.kind != "lognormal":
                problems.append((("covariates", name), "is a multiplier: its distribution must stay above 0 "
                                                       "(lognormal, or uniform with low > 0)"))
        seen = set()
        for i, c in enumerate(self.correlations):
            pair = frozenset(c.between)
            if len(pair) < 2:
                problems.append((("correlations", i, "between"), "names one covariate twice"))
            elif pair in seen:
                problems.append((("correlations", i, "between"), "this pair is correlated twice"))
            seen.add(pair)
            for name in c.between:
                if name not in self.covariates:
                    problems.append((("correlations", i, "between"), f"'{name}' is not a covariate of this cohort; "
                                                                     f"covariates: {', '.join(self.covariates) or 'none'}"))
        if problems:
            raise KeyProblems(problems)
        if self.correlations and not _positive_definite(self.correlation_matrix()):
            raise KeyProblems([(("correlations",), "these correlations cannot hold together (the matrix is not "
                                                   "positive definite): weaken some")])
        return self

    def correlation_matrix(self) -> np.ndarray:
        names = list(self.covariates)
        matrix = np.eye(len(names))
        for c in self.correlations:
            i, j = names.index(c.between[0]), names.index(c.between[1])
            matrix[i, j] = matrix[j, i] = c.rho
        return matrix


def _positive_definite(matrix: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


@dataclass(frozen=True)
class Patient:
    """One virtual patient: its covariate values and the scenario updates they and the raw parameters make."""

    covariates: dict[str, float] = field(default_factory=dict)
    updates: dict[str, Any] = field(default_factory=dict)


def draw_patient(cohort: CohortParams, scenario: Scenario, rng: np.random.Generator) -> Patient:
    """One virtual patient of the cohort for this scenario. Raw parameters are drawn first, as before covariates
    existed, so files without covariates draw the same patients; covariate updates win where both set a path."""
    current = scenario.model_dump()
    updates: dict[str, Any] = {}
    for dotted, dist in cohort.parameters.items():
        value = dist.draw(rng)
        updates[dotted] = _as(_get(current, dotted), value)
    if cohort.pk_variability:
        pk = scenario.products.selinexor_pk.for_patient(rng)
        updates["products.selinexor_pk.cl_l_per_h"] = pk.cl_l_per_h
        updates["products.selinexor_pk.vc_l"] = pk.vc_l
    covariates: dict[str, float] = {}
    if cohort.covariates:
        scores = np.linalg.cholesky(cohort.correlation_matrix()) @ rng.standard_normal(len(cohort.covariates))
        work, touched = copy.deepcopy(current), []  # covariates that set one path (size, infiltration) compound
        for (name, dist), score in zip(cohort.covariates.items(), scores):
            value = dist.quantile(float(stats.norm.cdf(score)))
            covariates[name] = value
            for path, scaled in COVARIATES[name].apply(work, value).items():
                _set(work, path, scaled)
                touched.append(path)
        for path in dict.fromkeys(touched):  # counts are rounded once, at the end
            updates[path] = _as(_get(current, path), _get(work, path))
    return Patient(covariates, updates)


def patient_for(cohort: CohortParams, scenario: Scenario, *stream: int) -> Patient:
    """The virtual patient of a replicate's stream (batches, optimisations and calibrations pair patients by it)."""
    return draw_patient(cohort, scenario, np.random.default_rng([COHORT_STREAM, *stream]))


def _as(before: Any, value: float) -> Any:
    """A drawn value in the type of the scenario's: counts rounded, and never below 0."""
    return max(0, int(round(value))) if isinstance(before, int) and not isinstance(before, bool) else value


def _set(tree: dict, dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for key in parents:
        tree = tree[key]
    tree[leaf] = value


def _get(tree: Any, dotted: str) -> Any:
    node = tree
    for key in dotted.split("."):
        node = node[int(key)] if isinstance(node, (list, tuple)) else node.get(key) if isinstance(node, dict) else None
    return node
