"""A calibration file: a scenario, the parameters to fit with their prior ranges, and the target statistics with
their value, uncertainty and data source; validated like every other file.

A target's statistic is any outcome a batch reads (a summary outcome or column@day(s)) or a doubling time,
`doubling_time_h@a..b`: ln 2 · (b − a) · 24 / ln(N_b / N_a) of the living cancer cells between days a and b.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import AfterValidator, Field, model_validator

from ..batchfile import OUTCOME_AT, check_outcome_expression
from ..claims import series_outcome
from ..cohort import CohortParams, Patient, patient_for
from ..config_files import KeyProblems
from ..params import Params, iter_params, param
from ..scenario import Scenario
from .analysis_file import AnalysisFile, check_window, read_analysis_file

MIN_ESS = 10.0  # fewer effective points than this: the interval rests on too few runs to mean much
PROCEDURE = ("kernel ABC: Latin-hypercube sample of the uniform prior; common random numbers across points; "
             "Gaussian likelihood of each target's value, with its sd, at the point's replicate mean; "
             "posterior = the weighted sample (median, 2.5-97.5 % weighted quantiles, ESS = 1/sum(w^2))")
DOUBLING = "doubling_time_h"  # a statistic of the living cancer cells, written like a column over days


def _doubling(expr: str):
    """The days match of `doubling_time_h@a..b` (the batch files' column@days form), else None."""
    match = OUTCOME_AT.match(expr)
    return match if match and match["column"] == DOUBLING and match["end"] else None


def _statistic(expr: str) -> str:
    match = _doubling(expr)
    if match:
        if not float(match["start"]) < float(match["end"]):
            raise ValueError(f"'{expr}': the first day must be before the second")
        return expr
    return check_outcome_expression(expr)


def statistic(expr: str, summary: dict, series: pd.DataFrame) -> float:
    """One run's value of a target statistic (`series`: its time series); NaN where it is undefined."""
    match = _doubling(expr)
    if match:
        # The recorded rows nearest the two days, and the days they were recorded on.
        rows = [series.loc[(series["day"] - float(match[k])).abs().idxmin()] for k in ("start", "end")]
        first, last = float(rows[0]["cancer_alive"]), float(rows[1]["cancer_alive"])
        days = float(rows[1]["day"]) - float(rows[0]["day"])
        if first <= 0 or last <= first or days <= 0:
            return math.inf  # no growth: no finite doubling time
        return math.log(2.0) * days * 24.0 / math.log(last / first)
    if "@" in expr:
        return float(series_outcome(series.assign(replicate=0), expr).iloc[0])
    value = summary.get(expr)
    return float("nan") if value is None else float(value)


class TargetParams(Params):
    statistic: Annotated[str, AfterValidator(_statistic)] = param(
        ..., unit="-", source="calibration file: an outcome, column@day(s) or doubling_time_h@a..b")
    value: float = param(..., unit="as the statistic", source="calibration file: the observed value")
    sd: float = param(..., unit="as the statistic", source="calibration file: its uncertainty (1 SD)", gt=0)
    source: str = param(..., unit="-", source="calibration file: where the value comes from (required: the "
                                              "calibration must be auditable)", min_length=3)


class CalibrateParams(Params):
    description: str = Field("", description="what is calibrated, to what")
    scenario: str = param(..., unit="-", source="calibration file: a scenario file, relative to this file")
    overrides: Annotated[dict[str, Any], Field(strict=False)] = param({}, unit="-", source="calibration file")
    days: float | None = param(None, unit="d", source="calibration file: simulated days", gt=0, le=3650)
    parameters: Annotated[dict[str, Annotated[list[float], Field(min_length=2, max_length=2)]],
                          Field(strict=False, min_length=1)] = param(
        ..., unit="as each parameter", source="calibration file: dotted path → [low, high], a uniform prior")
    targets: Annotated[tuple[TargetParams, ...], Field(strict=False, min_length=1)] = param(
        ..., unit="-", source="calibration file")
    samples: int = param(64, unit="points", source="calibration file: prior points (a Latin hypercube)",
                         ge=4, le=100_000)
    replicates: int = param(2, unit="runs per point", source="calibration file: the same seeds at every point",
                            ge=1, le=1000)
    base_seed: int = param(1, unit="-", source="calibration file", ge=0, le=2**32 - 1)
    cohort: CohortParams | None = param(
        None, unit="-", source="calibration file: virtual patients as in a batch file; replicate i is the same "
                               "patient at every point, and a target's replicate mean is over patients (the mean of "
                               "`responded` is the ORR)")

    @model_validator(mode="after")
    def _ranges_in_order(self) -> CalibrateParams:
        bad = [(("parameters", name), f"low {lo:g} must be below high {hi:g}")
               for name, (lo, hi) in self.parameters.items() if not lo < hi]
        if bad:
            raise KeyProblems(bad)
        return self


@dataclass(frozen=True)
class Calibration:
    path: Path
    params: CalibrateParams
    scenario: Scenario
    whole: dict[str, bool]
    file: AnalysisFile

    def updates(self, row) -> dict[str, Any]:
        return {name: (int(round(v)) if self.whole[name] else float(v)) for name, v in zip(self.params.parameters, row)}

    def patient(self, scenario: Scenario, replicate: int) -> Patient:
        """Virtual patient `replicate` for a point's scenario: the same draw (stream) at every point, so a covariate
        that multiplies a fitted value multiplies the point's own value; no patient without a cohort."""
        if self.params.cohort is None:
            return Patient()
        return patient_for(self.params.cohort, scenario, self.params.base_seed, replicate)


def load_calibration(path: str | Path) -> Calibration:
    f = read_analysis_file(path, CalibrateParams)
    path, params, scenario = f.path, f.params, f.scenario
    known = {row.path: row.value for row in iter_params(scenario)}
    for name, (low, high) in params.parameters.items():
        f.check_range(name, low, high, known.get(name))
    for i, t in enumerate(params.targets):
        check_window(f, t.statistic, ("targets", i, "statistic"))
    whole = {name: isinstance(known[name], int) for name in params.parameters}
    c = Calibration(path, params, scenario, whole, f)
    if params.cohort is not None:
        f.updated(c.patient(scenario, 0).updates, "cohort", note=" (drawn for the first patient)")
    return c
