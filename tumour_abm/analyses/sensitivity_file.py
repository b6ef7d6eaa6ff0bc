"""A sensitivity file: which scenario, which parameters over which ranges, which method (Morris screening or Sobol
indices), which outcomes; validated like every other file, and resolved into the parameter space SALib samples.

By default the parameters are every number marked *assumed* in the sections the scenario uses (the cancer cells,
the fields, each cell type that is present at the start, recruited or infused, and each product it schedules),
over value × (1 ± spread) within the bounds the declaration allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from ..batchfile import check_outcome_expression
from ..config_files import KeyProblems
from ..params import ASSUMED, Params, iter_params, param
from ..scenario import Scenario
from .analysis_file import AnalysisFile, check_window, declared_bounds, read_analysis_file

OutcomeExpr = Annotated[str, AfterValidator(check_outcome_expression)]
ALWAYS_USED = ("cancer", "fields", "microenvironment")  # what every tissue run steps, whatever else is present
CELL_SECTIONS = {"nk": ("nk_cells",), "car_t": ("car_t",), "macrophage": (), "neutrophil": ()}  # → their infusions


class SensitivityParams(Params):
    description: str = Field("", description="what the analysis asks")
    scenario: str = param(..., unit="-", source="sensitivity file: a scenario file, relative to this file")
    overrides: Annotated[dict[str, Any], Field(strict=False)] = param(
        {}, unit="-", source="sensitivity file: dotted scenario paths → values, applied before sampling"
    )
    days: float | None = param(None, unit="d", source="sensitivity file: simulated days (default: the scenario's)",
                               gt=0, le=3650)
    method: Literal["morris", "sobol"] = param("morris", unit="-", source="sensitivity file: Morris elementary "
                                               "effects (screening) or Sobol indices (variance shares)")
    samples: int = param(10, unit="-", source="sensitivity file: Morris trajectories r (r·(k+1) points) or the "
                                              "Sobol base sample N (N·(k+2) points)", ge=2, le=100_000)
    levels: int = param(4, unit="-", source="sensitivity file: Morris grid levels (Morris 1991: 4 is usual)",
                        ge=2, le=100)
    replicates: int = param(1, unit="runs per point", source="sensitivity file: seeds per point, the same seeds at "
                                                             "every point (common random numbers)", ge=1, le=1000)
    base_seed: int = param(1, unit="-", source="sensitivity file: seeds the runs and the sampling", ge=0,
                           le=2**32 - 1)
    outcomes: Annotated[tuple[OutcomeExpr, ...], Field(strict=False, min_length=1)] = param(
        ("tumour_auc_cell_days",), unit="-", source="sensitivity file: summary outcomes or column@day(s)"
    )
    parameters: Annotated[dict[str, Annotated[list[float], Field(min_length=2, max_length=2)]] | None,
                          Field(strict=False)] = param(
        None, unit="as each parameter", source="sensitivity file: dotted path → [low, high]; with `screen`, "
                                               "these ranges replace the default ones")
    screen: Annotated[tuple[str, ...] | None, Field(strict=False)] = param(
        None, unit="-", source="sensitivity file: sections whose assumed parameters are varied, e.g. [nk, car_t] "
                               "(default without `parameters`: every section the scenario uses)")
    exclude: Annotated[tuple[str, ...], Field(strict=False)] = param(
        (), unit="-", source="sensitivity file: parameters (dotted paths) left at their values")
    spread: float = param(0.5, unit="1", source="sensitivity file: default range value × (1 ± spread); assumed "
                                                "±50 %, as a screen of uncertain rates usually takes", gt=0, lt=1)
    bootstrap: int = param(1000, unit="resamples", source="sensitivity file: bootstrap resamples of each index's "
                                                          "95 % CI", ge=10, le=100_000)

    @model_validator(mode="after")
    def _ranges_in_order(self) -> SensitivityParams:
        bad = [(("parameters", name), f"low {lo:g} must be below high {hi:g}")
               for name, (lo, hi) in (self.parameters or {}).items() if not lo < hi]
        if self.method == "sobol" and self.samples & (self.samples - 1):
            bad.append((("samples",), f"{self.samples}: Sobol's sequence keeps its balance only for a power of 2 "
                                      "(e.g. 64, 128, 256)"))
        if self.method == "morris" and self.levels % 2:
            bad.append((("levels",), f"{self.levels}: Morris's design is unbiased only for an even number of levels"))
        if bad:
            raise KeyProblems(bad)
        return self


@dataclass(frozen=True)
class Factor:
    """One varied parameter: its dotted path, range, value in the scenario and whether it is a whole number."""

    name: str
    low: float
    high: float
    value: float
    whole: bool


@dataclass(frozen=True)
class Sensitivity:
    path: Path
    params: SensitivityParams
    scenario: Scenario
    factors: tuple[Factor, ...]
    file: AnalysisFile

    def problem(self) -> dict:
        """The parameter space as SALib describes it."""
        return {"num_vars": len(self.factors), "names": [f.name for f in self.factors],
                "bounds": [[f.low, f.high] for f in self.factors]}

    def updates(self, row) -> dict[str, Any]:
        """A sampled point as scenario updates (whole numbers rounded)."""
        return {f.name: (int(round(v)) if f.whole else float(v)) for f, v in zip(self.factors, row)}


def used_sections(scenario: Scenario) -> list[str]:
    """The scenario's sections a run steps: those always stepped, each cell type with cells at the start, recruited
    or infused, and each product with a course."""
    used = list(ALWAYS_USED)
    for section, infusions in CELL_SECTIONS.items():
        cells = getattr(scenario, section)
        present = getattr(cells, "initial_count", 0) > 0 or getattr(cells, "influx_per_d", 0) > 0
        if present or any(getattr(scenario.therapy, name) for name in infusions):
            used.append(section)
    used += [f"products.{name}" for name in type(scenario.therapy).model_fields
             if getattr(scenario.therapy, name) and name in type(scenario.products).model_fields]
    if scenario.therapy.selinexor:
        used += ["products.selinexor_pk", "products.selinexor_target"]
    c = scenario.coculture
    if scenario.setting == "coculture" and c is not None:  # the well's effectors, co-treatments and drug
        used.append(c.effector)
        used += [f"products.{name}" for name in c.cotreatments if name in type(scenario.products).model_fields]
        if c.selinexor_nM > 0 or c.pretreatment.selinexor_nM > 0:
            used.append("products.selinexor_target")
    return sorted(set(used), key=used.index)


def default_factors(scenario: Scenario, sections: list[str], spread: float) -> dict[str, tuple[float, float]]:
    """Every nonzero number marked assumed in `sections`, over value × (1 ± spread) within its bounds (a zero has no
    relative range: give it one under `parameters`)."""
    ranges = {}
    for row in iter_params(scenario):
        if not any(row.path == s or row.path.startswith(s + ".") for s in sections):
            continue
        if ASSUMED not in row.source.lower() or isinstance(row.value, bool):
            continue
        if not isinstance(row.value, (int, float)) or row.value == 0:
            continue
        low, high = sorted(float(f"{row.value * (1 + sign * spread):.12g}") for sign in (-1, 1))
        allowed = declared_bounds(row.path)
        ranges[row.path] = (max(low, allowed[0]), min(high, allowed[1]))
    return ranges


def load_sensitivity(path: str | Path) -> Sensitivity:
    """Read and validate a sensitivity file, its scenario, and every varied parameter's range."""
    f = read_analysis_file(path, SensitivityParams)
    path, params, scenario, problem = f.path, f.params, f.scenario, f.problem
    known = {row.path: row for row in iter_params(scenario)}
    sections = sorted({p.rsplit(".", 1)[0] for p in known} | {p.split(".", 1)[0] for p in known})
    for i, name in enumerate(params.screen or ()):
        if name not in sections:
            raise problem(("screen", i), name, "not a section of the scenario", f"one of {', '.join(sections)}")
    ranges: dict[str, tuple[float, float]] = {}
    if params.screen or params.parameters is None:
        ranges = default_factors(scenario, list(params.screen or used_sections(scenario)), params.spread)
    for name, (low, high) in (params.parameters or {}).items():
        f.check_range(name, low, high, known[name].value if name in known else None)
        ranges[name] = (low, high)
    for i, name in enumerate(params.exclude):
        if name not in known:
            raise problem(("exclude", i), name, "not a parameter of the scenario")
        ranges.pop(name, None)
    if len(ranges) < 2:
        raise problem(("parameters",), None, f"{len(ranges)} parameter(s) to vary; a sensitivity analysis needs at "
                                             "least 2", "`parameters` or `screen` naming more")
    factors = tuple(Factor(name, lo, hi, float(known[name].value), isinstance(known[name].value, int))
                    for name, (lo, hi) in ranges.items())
    # Every corner must be a valid scenario (e.g. a fraction pair that must sum below 1): check both ends now.
    for end in (0, 1):
        point = {f.name: (int(round((f.low, f.high)[end])) if f.whole else (f.low, f.high)[end]) for f in factors}
        f.updated(point, "parameters", note=" (at the ends of the ranges)")
    for i, expr in enumerate(params.outcomes):
        check_window(f, expr, ("outcomes", i))
    return Sensitivity(path, params, scenario, factors, f)
