"""What every immune cell type shares: a population stored as columns that enters next to vessels, ages, meets
targets, and moves up the chemokine gradient, each phase vectorised over all its cells. Each type's own rules
live in its module (nk, car_t, ...).

Order within a phase: the cells of a population take their turns in a random order drawn each step (their
priority). Where two cells compete — two killers on one target, two walkers for one site — the one earlier in that
order wins, as if they had acted one after another in it: kills are resolved by the first success per target,
walkers' sites one walker after another (`turns.claim_each`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from ..params import Params, param
from ..rules import hill, per_step_probability
from ..space import padded_flat, padded_index
from .columns import CellView, RowStore, SitedPopulation, column_attribute
from .contact import kill_probability, neighbour_targets, resolve_contacts, target_nets
from .motility import settle, walk


class ImmuneParams(Params):
    initial_count: int = param(0, unit="cells", source="scenario: cells present at the start", ge=0)
    chemotaxis_bias: float = param(
        0.5, unit="1", source="PhysiCell cancer-immune sample: bias 0.5 up the chemokine gradient", ge=0, le=1
    )


class ImmuneCell(CellView):
    """The Mesa agent of one immune cell; its state is its population's columns at its row."""

    engaged = column_attribute("engaged", bool, "in contact with a target this step (moves at its engaged speed)")


class ImmunePopulation(SitedPopulation):
    """One immune cell type in one model: its cells' columns, rates per step, entry, contact and movement, and
    counts of what its cells did."""

    agent_class: type[ImmuneCell]
    label: str  # its scenario section, for messages
    initial_entry: str = "tissue"  # where the initial cells are: anywhere free, or next to vessels
    seeks_targets = True  # whether this type's cells look for cancer cells next to them
    columns: dict[str, tuple[type, object]] = {}  # the type's own state: name → (dtype, value of a new cell)

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
        self.store = RowStore({"engaged": (bool, False), **self.columns}, capacity=max(64, 2 * params.initial_count))
        self.row_at = np.full(model.vessels.shape, -1, dtype=np.int32)  # site → row of this type's cell there

    # -- membership ----------------------------------------------------------------------------------------
    def agents(self) -> list[ImmuneCell]:
        self.make_views()
        return list(self.store["agent"][self.store.rows()])

    def count(self, column: str | None = None, value=True) -> int:
        """Living cells, or those whose `column` equals `value`."""
        return self.store.count(column, value)

    def values(self, column: str) -> np.ndarray:
        """A column over the living cells."""
        return self.store[column][self.store.rows()]

    def add(self, sites: np.ndarray, **state) -> np.ndarray:
        """Cells at free `sites` (n × 2), their state columns from `state` (scalars or arrays) or else as cells
        entering from the blood; their rows."""
        sites = np.asarray(sites, dtype=np.int64).reshape(-1, 2)
        store = self.store
        if any(name not in state for name in self.columns):
            state = {**self.new_state(len(sites)), **state}
        rows = store.new_rows(len(sites))
        for name, value in state.items():
            store[name][rows] = value
        self.occupy(rows, sites[:, 0], sites[:, 1])
        return rows

    def entry_sites(self, n: int, where: str = "vessels") -> np.ndarray:
        """Up to n distinct free sites, chosen at random: next to a vessel (entry from blood) or anywhere."""
        m = self.model
        if n <= 0:
            return np.empty((0, 2), dtype=np.int64)
        if where == "vessels":  # only the few sites next to vessels are looked at
            sites = m.entry_sites[m.grid.empty.data[m.entry_sites[:, 0], m.entry_sites[:, 1]]]
        else:
            sites = np.argwhere(m.grid.empty.data & m.placeable)
        return sites[m.rng.choice(len(sites), size=min(n, len(sites)), replace=False)]

    def seed(self) -> np.ndarray:
        return self.add(self.entry_sites(self.params.initial_count, self.initial_entry))

    def new_state(self, n: int) -> dict:
        """State columns of n cells entering from the blood (scalars or arrays of n)."""
        return {}

    def recruit(self, factor: float = 1.0) -> None:
        """Influx from the blood: a Poisson number of cells per step, entering next to vessels."""
        if self.influx_per_step > 0:
            arriving = int(self.model.rng.poisson(self.influx_per_step * factor))
            if arriving:
                self.add(self.entry_sites(arriving))

    def home(self, pool, state: Callable[[int], dict]) -> None:
        """Homing of an adoptive product from the blood (`host/blood.py`): a Poisson number of cells per step, in
        proportion to the blood level and to the vessel-side sites, each counting more where chemokine is high
        (× (1 + H)); they take free vessel-side sites, with the state columns `state(n)` gives for n cells."""
        if pool.per_ul <= 0.0:
            return
        m, p = self.model, pool.params
        chemokine = m.fields["chemokine"][m.entry_sites[:, 0], m.entry_sites[:, 1]]
        weighted_sites = float(np.sum(1.0 + hill(chemokine, p.chemokine_half_max)))
        arriving = int(m.rng.poisson(p.homing_per_d * self.dt_h / 24.0 * pool.per_ul * weighted_sites))
        if arriving:
            sites = self.entry_sites(arriving)
            placed = self.add(sites, **state(len(sites)))
            self.events["homed"] += len(placed)

    def egress(self, pool) -> None:
        """Cells on vessel-side sites leave the section for the blood at `egress_per_d` (off by default): they
        join the pool's effectors (`BloodPool.receive`)."""
        rate_per_d = pool.params.egress_per_d
        if rate_per_d <= 0.0 or not self.count():
            return
        m, rows = self.model, self.store.rows()
        rows = rows[m.vessel_entry[self.store["x"][rows], self.store["y"][rows]]]
        leaving = rows[m.rng.random(len(rows)) < per_step_probability(rate_per_d / 24.0, self.dt_h)]
        if len(leaving):
            self.remove_rows(leaving)
            pool.receive(len(leaving))
            self.events["egressed"] += len(leaving)

    # -- one step -------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One step of the population. Who dies or changes state is drawn for all cells at once from their local
        signals; then the survivors meet the targets next to them, in their random order (see the module's
        doc); then they move together."""
        rows = self.store.rows()
        if not len(rows):
            return
        m = self.model
        rows = rows[m.rng.permutation(len(rows))]  # this step's order of turns
        rows = rows[self.transitions(rows)]
        if not len(rows):
            return
        targets = np.full(len(rows), -1, dtype=np.int64)
        near_cancer = m.near_cancer() if self.seeks_targets and m.cancer.n_alive else None
        if near_cancer is not None:
            # Only cells next to a cancer cell look among their neighbours.
            sites = self.sites(rows)
            near = np.flatnonzero(near_cancer[padded_index(sites, m.vessels.shape[1])])
            targets[near] = neighbour_targets(m.cancer.row_at, sites[near], m.rng, self.target_requirement())
        self.act(rows, targets)
        self.move(rows[self.store["alive"][rows]])

    def transitions(self, rows: np.ndarray) -> np.ndarray:
        """Vectorised changes of state; here natural death (constant hazard: exponential lifespan).
        Returns which of `rows` are still alive. Types with more states extend this."""
        dies = self.model.rng.random(len(rows)) < self.death_p
        self.remove_rows(rows[dies])
        return ~dies

    def act(self, rows: np.ndarray, targets: np.ndarray) -> None:
        """What the cells do with the target next to each (a cancer row, or −1); by default nothing."""
        self.store["engaged"][rows] = False

    def contact(self, targets: np.ndarray, hazard_per_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Resolve this step's synapses in turn order, each cell killing its target with its hazard (shielded by
        NETs on the target's site): (kills, gone). `kills` marks the cells that kill their target; `gone` those whose
        target was killed by a cell before them, which therefore meet no target this step."""
        m = self.model
        p_kill = kill_probability(hazard_per_h, m.dt_h, target_nets(m, targets), m.net_shield)
        return resolve_contacts(targets, p_kill, m.rng.random(len(targets)))

    def target_requirement(self) -> np.ndarray | None:
        """A column over cancer rows that must be > 0 for a cell to be a target (None: any cancer cell)."""
        return None

    def stop_mask(self) -> np.ndarray | None:
        """Sites where a walking cell of this type stops because it has met a target (None: never stops), as a
        padded flat map (`space.padded_flat`)."""
        return None

    def move(self, rows: np.ndarray) -> None:
        """Move cells together, in turn order: engaged cells at their engaged speed, the others at full."""
        if not len(rows):
            return
        m, store = self.model, self.store
        h = m.vessels.shape[1]
        start = padded_index(self.sites(rows), h)
        speeds = np.where(store["engaged"][rows], self.engaged_sites_per_step, self.sites_per_step)
        open_ = padded_flat(m.grid.empty.data & m.placeable, False)
        ends = walk(start, speeds, m.uphill, self.params.chemotaxis_bias, m.rng, self.stop_mask(), open_)
        settle(rows, start, ends, open_, m.rng, self.row_at, m.grid.empty.data, store["x"], store["y"])

    def secretion(self) -> list[tuple[np.ndarray, dict[str, float]]]:
        """What this type's cells release this step: (sites (n × 2), {field: a.u. per cell per hour})."""
        return []

    def sites_where(self, column: str, value=True) -> np.ndarray:
        rows = self.store.rows()
        return self.sites(rows[self.store[column][rows] == value])
