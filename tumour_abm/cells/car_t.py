"""CAR-T cells (biology.md, "CAR-T cell"): a T cell (`t_cells.py`) that recognises a surface antigen through its
CAR, whatever the cell's MHC, and comes from an infusion, into the section or into the blood (`host/blood.py`)."""

from __future__ import annotations

import numpy as np

from ..params import param
from .cancer import AntigenName
from .t_cells import TCell, TCellParams, TCellPopulation


class CarTParams(TCellParams):
    target_antigen: AntigenName = param("CD19", unit="-", source="scenario: CD19 default, BCMA for myeloma")


class CarTCell(TCell):
    """A CAR-T cell (its state: `TCell`)."""


class CarTPopulation(TCellPopulation):
    agent_class = CarTCell
    label = "car_t"
    initial_entry = "vessels"  # infused cells arrive from the blood

    def antigen_positive(self) -> int:
        """Living cancer cells carrying the CAR's antigen (what drives the expansion in the blood)."""
        cancer = self.model.cancer
        rows = cancer.rows()
        return int(np.count_nonzero(cancer.antigen[self.params.target_antigen][rows] > 0))

    def recruit(self, factor: float = 1.0) -> None:
        """Egress to and homing from the blood (`ImmunePopulation.home`). Homed cells come from the expanding
        lineage: they carry its divisions so far (the blood's doublings), so that a lineage's cap holds across blood
        and tissue."""
        pool = self.model.blood_car_t
        self.egress(pool)
        divisions = min(self.params.max_divisions, int(pool.doublings))
        self.home(pool, lambda n: {"divisions": divisions})

    def target_requirement(self) -> np.ndarray:
        return self.model.cancer.antigen[self.params.target_antigen]

