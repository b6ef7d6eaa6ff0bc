"""TumourModel: the tissue, its cells and signals, advanced in a fixed, documented phase order."""

from __future__ import annotations

import mesa
import numpy as np
from mesa.discrete_space import PropertyLayer

from .cells.cancer import CancerPopulation
from .cells.car_t import CarTPopulation
from .cells.cd8 import CD8Population
from .cells.macrophage import MacrophagePopulation
from .cells.motility import Uphill
from .cells.neutrophil import NeutrophilPopulation
from .cells.nk import NKPopulation
from .cells.suppressors import LocalSuppression, MDSCPopulation, TregPopulation
from .fields import Fields
from .host.blood import BloodPool
from .outcomes import ASSAY_MARKERS, marker_summary
from .reporters import TIMESERIES
from .scenario import Scenario
from .space import count_neighbours, make_grid, next_to, place_vessels
from .therapy.assay import AssayPlan
from .therapy.pd import Xpo1Occupancy
from .therapy.products import TherapyPlan
from .therapy.schedule import resolve_events

# Site codes of the occupancy map (snapshots, browser view): what is on a site, with the immune cell's state.
SITE_CODES = ("empty", "vessel", "cancer", "nk_nkg2a_pos", "nk_nkg2a_neg", "car_t", "car_t_exhausted",
              "macrophage_m1", "macrophage_m2", "neutrophil", "cd8", "cd8_exhausted", "treg", "mdsc")
CODE = {name: i for i, name in enumerate(SITE_CODES)}
EMPTY, VESSEL, CANCER = CODE["empty"], CODE["vessel"], CODE["cancer"]


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
        self.vessel_entry = self.placeable & (count_neighbours(self.vessels) > 0)  # where recruits enter
        self.entry_sites = np.argwhere(self.vessel_entry)
        self.fields = Fields(self.grid, scenario.fields, g.site_um, scenario.time.dt_min)
        self.coculture = scenario.coculture if scenario.setting == "coculture" else None
        if self.coculture is not None:
            self.plan = AssayPlan(self.coculture, scenario.products, scenario.time.start_day)
        else:
            self.plan = TherapyPlan(resolve_events(scenario.therapy), scenario.products, scenario.time.start_day)
        self.assay_start: dict | None = None  # the well when the effectors were added (co-culture only)
        self.assay_markers: dict[str, np.ndarray] | None = None  # each target's surface markers at that moment
        self.drug_nM = 0.0
        self.xpo1 = Xpo1Occupancy(scenario.products.selinexor_target)  # bound XPO1 in tissue cells
        self.therapy = self.plan.effects(0.0)
        self.net_shield = scenario.neutrophil.net_kill_shield
        self.blood_car_t = BloodPool(scenario.blood.car_t, scenario.blood)
        self.blood_nk = BloodPool(scenario.blood.nk, scenario.blood)
        self._antigen_at_infusion: int | None = None  # the section's CAR antigen-positive cells then
        self.warnings: list[str] = []  # what the run could not do as asked (reported with its outputs)

        self.cancer = CancerPopulation(self, scenario.cancer, self.rng, self.vessels.shape)
        centre = ((g.width_sites - 1) / 2.0, (g.height_sites - 1) / 2.0)
        if self.coculture is not None:
            self.cancer.seed_anywhere(self.placeable & self.grid.empty.data)  # targets spread over the well
        else:
            self.cancer.seed(self.placeable & self.grid.empty.data, centre, g.site_um)
        self.macrophages = MacrophagePopulation(self, scenario.macrophage)
        self.neutrophils = NeutrophilPopulation(self, scenario.neutrophil)
        self.nk = NKPopulation(self, scenario.nk)
        self.car_t = CarTPopulation(self, scenario.car_t)
        self.cd8 = CD8Population(self, scenario.cd8)
        self.tregs = TregPopulation(self, scenario.treg)
        self.mdscs = MDSCPopulation(self, scenario.mdsc)
        self.suppressors = (self.tregs, self.mdscs)
        # Their order within a step (a type without cells draws nothing).
        self.immune = (self.macrophages, self.neutrophils, self.nk, self.car_t, self.cd8, *self.suppressors)
        self.suppression: LocalSuppression | None = None  # what effectors meet at each site this step
        self._suppression_now: tuple[int, LocalSuppression | None] | None = None
        self.grid.occupant = self.occupant
        for population in self.immune:
            asked = population.params.initial_count
            self.note_shortfall(f"{population.label}.initial_count", asked, len(population.seed()))
        self._infuse(-np.inf, 0.0)
        self._add_effectors_if_due(0.0)
        self.uphill = Uphill(self.fields["chemokine"])
        self._near_cancer: tuple[tuple[int, int], np.ndarray | None] | None = None

        self.datacollector = mesa.DataCollector(model_reporters={k: r.measure for k, r in TIMESERIES.items()})
        self._record_every = max(1, int(round(scenario.output.record_every_h / self.dt_h)))
        # Every step, for outcomes that need full time resolution (nadirs, peaks).
        self.history: dict[str, list[float]] = {"cancer": [], "car_t": [], "neutrophils": [], "blood_car_t": [],
                                               "blood_nk": []}
        self._remember()
        self.datacollector.collect(self)

    @property
    def agents(self):
        """Every living cell as a Mesa agent (made for the cells that have none yet)."""
        self._make_views()
        return super().agents

    @property
    def agents_by_type(self):
        self._make_views()
        return super().agents_by_type

    def _make_views(self) -> None:
        for population in self.populations():
            population.make_views()

    def populations(self) -> tuple:
        """Cancer cells, then the immune types in their order within a step (none while being built)."""
        if "immune" not in self.__dict__:
            return ()
        return (self.cancer, *self.immune)

    @property
    def n_cells(self) -> int:
        """Living cells of every type (without making their Mesa agents)."""
        return self.cancer.n_alive + sum(population.count() for population in self.immune)

    @property
    def time_h(self) -> float:
        """Hours since the run started (the model's clock)."""
        return self.steps * self.dt_h

    @property
    def day(self) -> float:
        """The scenario's day (day 0 is the reference, e.g. an infusion; a run may start before it)."""
        return self.spec.time.start_day + self.time_h / 24.0

    @property
    def n_steps(self) -> int:
        return self.spec.time.n_steps

    def step(self) -> None:
        """Phases, in order: therapy events due (infusions) → drug exposure and co-therapy effects → adoptive cells
        in the blood → fields (secretion, diffusion, decay) → recruitment and homing → the suppression Tregs and MDSCs
        exert where they are → macrophages → neutrophils → NK cells → CAR-T cells → CD8 T cells → Tregs → MDSCs →
        cancer death and growth → record."""
        self._infuse(self.time_h - self.dt_h, self.time_h)
        self._add_effectors_if_due(self.time_h - self.dt_h)
        self._update_drug()
        self._update_blood()
        self._update_fields()
        for population in (self.nk, self.macrophages, self.neutrophils, self.car_t, self.cd8, *self.suppressors):
            population.recruit()
        self.suppression = LocalSuppression.of(self.suppressors)
        for population in self.immune:
            population.step()
        self.cancer.step(self.dt_h, self.placeable, self._next_to_m2(), self.therapy.tumour_growth_factor)
        self._remember()
        if self.steps % self._record_every == 0 or self.steps == self.n_steps:
            self.datacollector.collect(self)
        if self.steps >= self.n_steps:
            self.running = False

    def _infuse(self, after_h: float, until_h: float) -> None:
        """Carry out the infusions due in (after, until]: cells arrive next to vessels."""
        for event in self.plan.infusions_between(after_h, until_h):
            count, course = int(event.amount), event.course
            if course.into_blood:
                now_h = (event.day - self.spec.time.start_day) * 24.0
                if event.product == "car_t":
                    if self._antigen_at_infusion is None:
                        self._antigen_at_infusion = self.car_t.antigen_positive()
                    self.blood_car_t.infuse(course.dose_per_kg, now_h)
                else:
                    self.nk.into_blood(course.dose_per_kg, course.nkg2a_positive_fraction)
                    self.blood_nk.infuse(course.dose_per_kg, now_h)
                continue
            if event.product == "car_t":
                placed = self.car_t.add(self.car_t.entry_sites(count))
            else:
                placed = self.nk.infuse(self.nk.entry_sites(count), course.nkg2a_positive_fraction)
            self.note_shortfall(f"therapy.{event.product} infusion on day {event.day:g}", count, len(placed))

    def _add_effectors_if_due(self, now_h: float) -> None:
        """A co-culture's effectors join the well when the co-culture starts (day 0), at the E:T ratio of the
        targets alive then; the targets' surface markers are read at that moment, as a flow cytometer would."""
        c = self.coculture
        if c is None or self.assay_start is not None or now_h < c.pretreatment.hours - 1e-9:
            return
        rows = self.cancer.rows()
        self.assay_markers = {m: np.asarray(getattr(self.cancer, m)(rows), dtype=np.float32) for m in ASSAY_MARKERS}
        self.assay_start = {"assay_targets": len(rows), **marker_summary(self.assay_markers)}
        effectors = getattr(self, c.effector)
        asked = int(round(c.effector_to_target * len(rows)))
        placed = effectors.add(effectors.entry_sites(asked, "tissue"))
        self.note_shortfall(f"coculture.effector_to_target = {c.effector_to_target:g}", asked, len(placed))

    def note_shortfall(self, what: str, asked: int, placed: int) -> None:
        """Warn, with the numbers, when fewer cells found a free site than were asked for."""
        if placed < asked:
            self.warnings.append(f"{what}: {asked:,} cells asked for, {placed:,} placed (no other free site next to "
                                 f"a vessel or in the tissue)")

    def _update_drug(self) -> None:
        """Drug level and co-therapy effects at the step's midpoint, for every cell type's drug response."""
        mid_h = self.time_h - self.dt_h / 2.0
        self.drug_nM = c = self.plan.selinexor_nM(mid_h)
        self.therapy = self.plan.effects(mid_h)
        occupancy = self.xpo1.advance(c, self.dt_h)
        self.cancer.drug.update(occupancy, self.dt_h)
        self.car_t.drug.update(c)
        self.cd8.drug.update(c)
        self.macrophages.drug.update(occupancy)
        self.mdscs.drug.update(occupancy)
        self.neutrophils.drug.update(c)

    def _update_blood(self) -> None:
        """Adoptive cells in the blood over this step. CAR-T expansion is driven by the antigen left in the section
        (relative to its count at the first infusion into the blood; none left: no drive) and slowed by selinexor
        as division is in the tissue (the drug response was updated this step, before); NK expansion is driven by
        cytokines, not antigen, and NK cells have no direct response to selinexor (docs/biology.md section 10)."""
        start_h = self.time_h - self.dt_h
        if self.blood_nk.per_ul > 0.0:
            self.blood_nk.advance(start_h, self.dt_h, None)
        if self.blood_car_t.per_ul <= 0.0:
            return
        baseline = self._antigen_at_infusion
        relative = self.car_t.antigen_positive() / baseline if baseline else 0.0
        self.blood_car_t.advance(start_h, self.dt_h, relative, self.car_t.drug.impairment)

    def _update_fields(self) -> None:
        p = self.spec.cancer
        shape = self.vessels.shape
        # One cell per site: a population's cells per site is 1 on its sites, 0 elsewhere.
        cancer_cells = (self.cancer.row_at >= 0).astype(np.float32)
        sources = [(cancer_cells, {"chemokine": p.chemokine_per_h, "tgfb": p.tgfb_per_h})]
        for population in (population for population in self.immune if population.count()):
            for sites, per_cell_per_h in population.secretion():
                if len(sites) and any(rate > 0 for rate in per_cell_per_h.values()):
                    cells_per_site = np.zeros(shape, dtype=np.float32)
                    cells_per_site[sites[:, 0], sites[:, 1]] = 1.0
                    sources.append((cells_per_site, per_cell_per_h))
        self.fields.step([(amount, {name: rate / 60.0 for name, rate in per_cell_per_h.items()})
                          for amount, per_cell_per_h in sources])
        self.uphill = Uphill(self.fields["chemokine"])  # what immune cells follow, as the field now is

    def near_cancer(self, requires: np.ndarray | None = None) -> np.ndarray | None:
        """Sites next to a cancer cell (where a walking killer stops) — one whose `requires` column (over cancer
        rows, e.g. the CAR's antigen) is > 0, if given — as a padded flat map (`space.padded_flat`); None when there
        is no cancer cell. The map of every cancer cell is made once a step, and again if cancer cells were added:
        cells killed during the step leave it a superset, which is harmless (a walker that stops there finds no
        target)."""
        if requires is not None:
            row_at = self.cancer.row_at
            return next_to((row_at >= 0) & (requires[np.maximum(row_at, 0)] > 0)) if self.cancer.n_alive else None
        key = (self.steps, self.cancer.store.births)
        if self._near_cancer is None or self._near_cancer[0] != key:
            near = next_to(self.cancer.row_at >= 0) if self.cancer.n_alive else None
            self._near_cancer = (key, near)
        return self._near_cancer[1]

    def suppression_now(self) -> LocalSuppression | None:
        """The suppression map as the suppressors stand now (for records and views; the step's own map is made
        before the cells act), made once per step however often it is asked for."""
        if self._suppression_now is None or self._suppression_now[0] != self.steps:
            self._suppression_now = (self.steps, LocalSuppression.of(self.suppressors))
        return self._suppression_now[1]

    def _next_to_m2(self) -> np.ndarray | None:
        m2 = self.macrophages.sites_where("m2")
        if not len(m2):
            return None
        mask = np.zeros(self.vessels.shape, dtype=bool)
        mask[m2[:, 0], m2[:, 1]] = True
        return count_neighbours(mask) > 0

    def _remember(self) -> None:
        self.history["cancer"].append(self.cancer.n_alive)
        self.history["car_t"].append(self.car_t.count())
        self.history["neutrophils"].append(self.neutrophils.count())
        self.history["blood_car_t"].append(self.blood_car_t.per_ul)
        self.history["blood_nk"].append(self.blood_nk.per_ul)

    def occupant(self, site: tuple[int, int]):
        """The agent on a site, or None (what the grid's `Cell.agents` reads)."""
        for population in self.populations():
            row = population.row_at[site]
            if row >= 0:
                population.make_views()
                return population.store["agent"][row]
        return None

    def occupancy(self) -> np.ndarray:
        """Site codes (see SITE_CODES) for snapshots and the browser view."""
        codes = np.where(self.vessels, VESSEL, EMPTY).astype(np.int8)
        codes[self.cancer.row_at >= 0] = CANCER
        states = (
            (self.nk, "nkg2a", "nk_nkg2a_pos", "nk_nkg2a_neg"),
            (self.car_t, "exhausted", "car_t_exhausted", "car_t"),
            (self.cd8, "exhausted", "cd8_exhausted", "cd8"),
            (self.macrophages, "m2", "macrophage_m2", "macrophage_m1"),
            (self.neutrophils, None, "neutrophil", "neutrophil"),
            (self.tregs, None, "treg", "treg"),
            (self.mdscs, None, "mdsc", "mdsc"),
        )
        for population, column, when_true, when_false in states:
            rows = population.store.rows()
            flag = population.store[column][rows].astype(bool) if column else np.ones(len(rows), dtype=bool)
            sites = population.sites(rows)
            codes[sites[:, 0], sites[:, 1]] = np.where(flag, CODE[when_true], CODE[when_false])
        return codes
