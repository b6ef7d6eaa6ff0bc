"""What every immune cell type shares: a population that enters next to vessels, ages, moves up the chemokine
gradient, and whose cells act one by one. Each type's own rules live in its module (nk, car_t, ...)."""

from __future__ import annotations

from collections import Counter

import numpy as np
from mesa.discrete_space import CellAgent

from ..params import Params, param
from ..rules import per_step_probability
from .contact import neighbour_targets
from .motility import place, walk


class ImmuneParams(Params):
    initial_count: int = param(0, unit="cells", source="scenario: cells present at the start", ge=0)
    chemotaxis_bias: float = param(
        0.5, unit="1", source="PhysiCell cancer-immune sample: bias 0.5 up the chemokine gradient", ge=0, le=1
    )


class ImmuneCell(CellAgent):
    """An immune cell on the grid; `pop` holds its type's parameters and per-step rates."""

    def __init__(self, model, cell, pop: ImmunePopulation):
        super().__init__(model)
        self.cell = cell
        self.pop = pop
        self.engaged = False  # in contact with a target this step (it then moves at its engaged speed)

    def act(self, target: int | None) -> None:
        """What the cell does this step, given the cancer cell next to it (None if there is none)."""

    def chance(self, rate_per_h: float) -> bool:
        """Whether an event with this hazard happens this step."""
        return rate_per_h > 0 and self.random.random() < per_step_probability(rate_per_h, self.pop.dt_h)


class ImmunePopulation:
    """One immune cell type in one model: rates per step, entry, movement, and counts of what its cells did."""

    agent_class: type[ImmuneCell]
    label: str  # its scenario section, for messages
    initial_entry: str = "tissue"  # where the initial cells are: anywhere free, or next to vessels
    seeks_targets = True  # whether this type's cells look for cancer cells next to them

    def __init__(self, model, params: ImmuneParams, *, death_per_d: float, speed_um_per_min: float,
                 engaged_speed_um_per_min: float, influx_per_d: float = 0.0):
        self.model = model
        self.params = params
        self.dt_h = model.dt_h
        self.death_p = per_step_probability(death_per_d / 24.0, self.dt_h)
        site_um = model.spec.grid.site_um
        self.sites_per_step = speed_um_per_min * self.dt_h * 60.0 / site_um
        self.engaged_sites_per_step = engaged_speed_um_per_min * self.dt_h * 60.0 / site_um
        self.influx_per_step = influx_per_d * self.dt_h / 24.0
        self.events: Counter[str] = Counter()

    # -- membership ----------------------------------------------------------------------------------------
    def agents(self) -> list[ImmuneCell]:
        found = self.model.agents_by_type.get(self.agent_class)
        return list(found) if found is not None else []

    def count(self, predicate=None) -> int:
        if predicate is None:
            found = self.model.agents_by_type.get(self.agent_class)
            return len(found) if found is not None else 0
        return sum(1 for a in self.agents() if predicate(a))

    def add(self, sites: np.ndarray, **state) -> list[ImmuneCell]:
        grid = self.model.grid
        return [self.agent_class(self.model, grid[(int(x), int(y))], self, **state) for x, y in sites]

    def entry_sites(self, n: int, where: str = "vessels") -> np.ndarray:
        """Up to n distinct free sites, chosen at random: next to a vessel (entry from blood) or anywhere."""
        m = self.model
        if n <= 0:
            return np.empty((0, 2), dtype=np.int64)
        free = m.grid.empty.data & (m.vessel_entry if where == "vessels" else m.placeable)
        candidates = np.argwhere(free)
        return candidates[m.rng.choice(len(candidates), size=min(n, len(candidates)), replace=False)]

    def seed(self) -> list[ImmuneCell]:
        return self.add(self.entry_sites(self.params.initial_count, self.initial_entry), **self.initial_state())

    def initial_state(self) -> dict:
        return {}

    def recruit(self, factor: float = 1.0) -> None:
        """Influx from the blood: a Poisson number of cells per step, entering next to vessels."""
        if self.influx_per_step > 0:
            n = int(self.model.rng.poisson(self.influx_per_step * factor))
            self.add(self.entry_sites(n), **self.initial_state())

    # -- one step -------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One step of the population. Who dies or changes state is drawn for all cells at once from their local
        signals; then each surviving cell acts, in random order, on the target found next to it at the start of
        the phase (if it is still alive when its turn comes); then the survivors move together."""
        found = self.model.agents_by_type.get(self.agent_class)
        if found is None or not len(found):
            return
        m = self.model
        agents = list(found)
        m.random.shuffle(agents)
        sites = np.array([a.cell.coordinate for a in agents], dtype=np.int64)
        alive_now = self.transitions(agents, sites)
        agents = [a for a, keep in zip(agents, alive_now) if keep]
        sites = sites[alive_now]
        if self.seeks_targets:
            targets = neighbour_targets(m.cancer.row_at, sites, m.rng, self.target_requirement()).tolist()
        else:
            targets = [-1] * len(agents)
        cancer_alive = m.cancer.alive
        for agent, target in zip(agents, targets):
            agent.act(target if target >= 0 and cancer_alive[target] else None)
        self.move(agents, sites)

    def transitions(self, agents: list[ImmuneCell], sites: np.ndarray) -> np.ndarray:
        """Vectorised changes of state; here natural death (constant hazard: exponential lifespan).
        Returns which cells are still alive. Types with more states extend this."""
        dies = self.model.rng.random(len(agents)) < self.death_p
        self.remove_cells(agents, dies)
        return ~dies

    @staticmethod
    def remove_cells(agents: list[ImmuneCell], which: np.ndarray) -> None:
        for i in np.flatnonzero(which):
            agents[i].remove()

    def target_requirement(self) -> np.ndarray | None:
        """A column over cancer rows that must be > 0 for a cell to be a target (None: any cancer cell)."""
        return None

    def stop_mask(self) -> np.ndarray | None:
        """Sites where a walking cell of this type stops because it has met a target (None: never stops)."""
        return None

    def move(self, agents: list[ImmuneCell], start: np.ndarray) -> None:
        """Move cells (at sites `start`) together: engaged cells at their engaged speed, the others at full."""
        if not agents:
            return
        m = self.model
        speeds = np.array([self.engaged_sites_per_step if a.engaged else self.sites_per_step for a in agents])
        free = m.grid.empty.data & m.placeable
        ends = walk(start, speeds, m.uphill, self.params.chemotaxis_bias, m.rng, self.stop_mask(), free)
        place(agents, start, ends, m.grid, free, m.rng)

    def secretion(self) -> list[tuple[str, np.ndarray, float]]:
        """(field, sites (n × 2), a.u. per cell per hour) for what this type's cells release this step."""
        return []
