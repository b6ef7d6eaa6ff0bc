"""TumourModel: the tissue, its cells and signals, advanced in a fixed, documented phase order."""

from __future__ import annotations

import numpy as np
import mesa
from mesa.discrete_space import PropertyLayer

from .cells.cancer import CancerPopulation
from .fields import Fields
from .reporters import TIMESERIES
from .scenario import Scenario
from .space import make_grid, place_vessels

# Site codes of the occupancy snapshot.
EMPTY, VESSEL, CANCER = 0, 1, 2


class TumourModel(mesa.Model):
    """Built only from a Scenario and a seed; `step()` advances one `dt_min`.

    Randomness comes only from the model's own generators (`self.rng`, `self.random`), both seeded from `seed`,
    so the same scenario and seed give identical outputs.
    """

    def __init__(self, scenario: Scenario, seed: int):
        super().__init__(rng=seed)
        self.spec = scenario  # (Mesa's own `scenario` attribute is a different object.)
        self.seed = seed
        self.dt_h = scenario.time.dt_h
        g = scenario.grid

        self.grid = make_grid(g, self.random)
        self.vessels = place_vessels(g, self.rng)
        self.grid.add_property_layer(PropertyLayer.from_data("vessel", self.vessels))
        self.placeable = ~self.vessels
        self.fields = Fields(self.grid, scenario.fields, g.site_um, scenario.time.dt_min)
        self.drug_nM = 0.0

        self.cancer = CancerPopulation(self, scenario.cancer, self.rng)
        centre = ((g.width_sites - 1) / 2.0, (g.height_sites - 1) / 2.0)
        self.cancer.seed(self.placeable & self.grid.empty.data, centre, g.site_um)

        self.datacollector = mesa.DataCollector(model_reporters={k: r.measure for k, r in TIMESERIES.items()})
        self._record_every = max(1, int(round(scenario.output.record_every_h / self.dt_h)))
        self.burden = [self.cancer.n_alive]  # every step, for outcomes that need full resolution
        self.datacollector.collect(self)

    @property
    def time_h(self) -> float:
        return self.steps * self.dt_h

    @property
    def n_steps(self) -> int:
        return self.spec.time.n_steps

    def step(self) -> None:
        """Phases, in order: drug exposure → fields (secretion, diffusion, decay) → cancer death and growth →
        record. Immune cells and therapy events take their places between these as they are added."""
        self._update_drug()
        self._update_fields()
        self.cancer.step(self.dt_h, self.placeable, next_to_m2=None, growth_factor=1.0)
        self.burden.append(self.cancer.n_alive)
        if self.steps % self._record_every == 0 or self.steps == self.n_steps:
            self.datacollector.collect(self)
        if self.steps >= self.n_steps:
            self.running = False

    def _update_drug(self) -> None:
        # No dosing is scheduled yet, so plasma selinexor is zero; effects still relax through their compartments.
        self.cancer.drug.update(self.drug_nM, self.dt_h)

    def _update_fields(self) -> None:
        p = self.spec.cancer
        rows = self.cancer.rows()
        shape = self.vessels.shape
        sites = self.cancer.x[rows].astype(np.int64) * shape[1] + self.cancer.y[rows]
        occupied = np.bincount(sites, minlength=shape[0] * shape[1]).reshape(shape).astype(np.float32)
        self.fields.step(
            {
                "chemokine": occupied * (p.chemokine_per_h / 60.0),
                "tgfb": occupied * (p.tgfb_per_h / 60.0),
            }
        )

    def occupancy(self) -> np.ndarray:
        """Site codes (EMPTY, VESSEL, CANCER) for snapshots and the browser view."""
        codes = np.where(self.vessels, VESSEL, EMPTY).astype(np.int8)
        rows = self.cancer.rows()
        codes[self.cancer.x[rows], self.cancer.y[rows]] = CANCER
        return codes
