"""A scenario: everything one run needs, read from YAML into frozen, validated parameter groups.

Keys carry their unit in their name (`dt_min`, `doubling_time_h`, `site_um`), times are in days or hours,
never in steps. Every default comes from the parameter declarations of the module that uses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, model_validator

from .cells.cancer import CancerParams, MicroenvironmentParams
from .cells.car_t import CarTParams
from .cells.macrophage import MacrophageParams
from .cells.neutrophil import NeutrophilParams
from .cells.nk import NKParams
from .config_files import load_model
from .fields import AllFieldParams
from .params import Params, param, section
from .space import GridParams


class TimeParams(Params):
    dt_min: float = param(30.0, unit="min", source="biology.md: dt 30 min default", gt=0, le=240)
    days: float = param(28.0, unit="d", source="scenario: simulated duration", gt=0, le=3650)

    @property
    def dt_h(self) -> float:
        return self.dt_min / 60.0

    @property
    def n_steps(self) -> int:
        return int(round(self.days * 24 * 60 / self.dt_min))


class OutputParams(Params):
    record_every_h: float = param(6.0, unit="h", source="scenario: time-series sampling interval", gt=0)
    snapshot_days: Annotated[tuple[float, ...], Field(strict=False)] = param(
        (0.0, 14.0, 28.0), unit="d", source="scenario: days of the spatial snapshot figures"
    )


class ResponseParams(Params):
    """Tumour-burden response thresholds. Burden is a cell count on a 2-D section, i.e. an area, so RECIST 1.1's
    diameter thresholds (−30 % for PR, +20 % for PD) become area thresholds by squaring."""

    partial_response_change: float = param(
        -0.51, unit="1 (fractional change)", source="RECIST 1.1 −30 % diameter, squared for area", gt=-1, lt=0
    )
    progression_change: float = param(
        0.44, unit="1 (fractional change from nadir)", source="RECIST 1.1 +20 % diameter, squared for area", gt=0
    )


class Scenario(Params):
    description: str = Field("", description="one line saying what the scenario is for")
    grid: GridParams = section(GridParams, "the tissue grid and its vessels")
    time: TimeParams = section(TimeParams, "time step and duration")
    cancer: CancerParams = section(CancerParams, "the cancer cells")
    microenvironment: MicroenvironmentParams = section(MicroenvironmentParams, "niche signals")
    nk: NKParams = section(NKParams, "NK cells")
    car_t: CarTParams = section(CarTParams, "CAR-T cells")
    macrophage: MacrophageParams = section(MacrophageParams, "macrophages (M1/M2)")
    neutrophil: NeutrophilParams = section(NeutrophilParams, "neutrophils and NETs")
    fields: AllFieldParams = section(AllFieldParams, "diffusing signals")
    response: ResponseParams = section(ResponseParams, "response categories and progression")
    output: OutputParams = section(OutputParams, "what a run records")

    @model_validator(mode="after")
    def _tumour_fits(self) -> Scenario:
        sites = self.grid.width_sites * self.grid.height_sites
        usable = sites - int(round(self.grid.vessel_fraction * sites))
        cells = {
            "cancer.initial_cells": self.cancer.initial_cells,
            "nk.initial_count": self.nk.initial_count,
            "car_t.initial_count": self.car_t.initial_count,
            "macrophage.initial_count": self.macrophage.initial_count,
            "neutrophil.initial_count": self.neutrophil.initial_count,
        }
        if sum(cells.values()) > usable:
            given = ", ".join(f"{k} = {v}" for k, v in cells.items() if v)
            raise ValueError(
                f"the initial cells ({given}) do not fit on the grid: at most {usable} free sites "
                f"({self.grid.width_sites} x {self.grid.height_sites} minus vessels)"
            )
        return self

    def with_updates(self, updates: dict[str, Any]) -> Scenario:
        """A copy with dotted-path values replaced, validated again (e.g. {"time.days": 7})."""
        data = self.model_dump(mode="python")
        for dotted, value in updates.items():
            node = data
            *parents, leaf = dotted.split(".")
            for key in parents:
                node = node[key]
            node[leaf] = value
        return Scenario.model_validate(data)


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, merge (`extends:`) and validate a scenario file; raises ConfigError naming file, line and key."""
    return load_model(Scenario, Path(path), overrides=overrides)
