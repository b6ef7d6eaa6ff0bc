"""Cancer cells (biology.md, "Cancer cell"): malignant B cells by default; antigens set the disease.

Cancer cells are the bulk of the agents, so their state lives in columns (one numpy array per property)
and each step draws who divides or dies with vectorised hazards; only those cells run Python.
HLA-E and TRAIL-R are stored as per-cell baselines and read as baseline × effect(t) — never updated per step.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Literal

import numpy as np
from mesa.discrete_space import CellAgent
from pydantic import Field, field_validator

from ..params import ASSUMED, Params, param
from ..rules import drug_effect, hill, per_hour, per_step_probability
from ..space import count_neighbours, free_neighbour_sites
from ..therapy.pd import EffectCompartment

AntigenName = Literal["CD19", "CD20", "CD38", "BCMA"]
Layout = Literal["disc", "scattered"]


class AntigenParams(Params):
    positive_fraction: float = param(1.0, unit="1", source=f"{ASSUMED}: DLBCL-like default; set per disease in the scenario", ge=0, le=1)
    level: float = param(1.0, unit="1 (relative surface density)", source=f"{ASSUMED}: DLBCL-like default; set per disease in the scenario", ge=0)


def _antigen(fraction: float, level: float) -> AntigenParams:
    return AntigenParams(positive_fraction=fraction, level=level)


class CancerParams(Params):
    # --- seeding
    initial_cells: int = param(1000, unit="cells", source="scenario", ge=0)
    layout: Layout = param(
        "disc", unit="-", source="scenario: 'disc' = solid lymphoma mass, 'scattered' = infiltrating (CLL, myeloma)"
    )
    scattered_radius_um: float = param(
        800.0, unit="µm", source="scenario: radius of the region a 'scattered' tumour occupies", gt=0
    )

    # --- growth
    doubling_time_h: float = param(36.0, unit="h", source=f"{ASSUMED}; DLBCL 24-48 h (biology.md)", gt=0)
    basal_death_per_d: float = param(
        0.0, unit="1/d", source=f"{ASSUMED}: the doubling time is net growth, so no separate basal death", ge=0
    )
    prolif_drug_max_inhibition: float = param(
        0.8, unit="1", source=f"{ASSUMED}; XPO1i blocks proliferation, review [14,19,22]", ge=0, le=1
    )
    prolif_ec50_nM: float = param(100.0, unit="nM", source=ASSUMED, gt=0)
    prolif_hill: float = param(1.5, unit="1", source=ASSUMED, gt=0)
    net_growth_gain: float = param(
        0.5, unit="1 per unit NET density", source=f"NETs promote growth, review [65]; size {ASSUMED}", ge=0
    )
    m2_growth_factor: float = param(
        1.3, unit="x", source=f"{ASSUMED}; M2 macrophages are pro-tumour, review [50,51]", ge=0
    )

    # --- drug-induced apoptosis
    apoptosis_max_per_h: float = param(
        0.01, unit="1/h",
        source="calibrated: 60 mg twice weekly (scenarios/selinexor_mono.yaml) gives ORR 4/12 seeds, near SADAL's "
        "29 % (biology.md's starting 0.03 /h eliminated every tumour)",
        ge=0,
    )
    apoptosis_ec50_nM: float = param(100.0, unit="nM", source=ASSUMED, gt=0)
    apoptosis_hill: float = param(1.5, unit="1", source=ASSUMED, gt=0)
    xpo1_sensitivity: float = param(
        1.0, unit="x", source="biology.md: higher for XPO1-dependent tumours", ge=0
    )

    # --- HLA-E (NKG2A ligand)
    hla_e_mean: float = param(1.0, unit="1 (relative)", source=f"{ASSUMED}: lognormal baseline", gt=0)
    hla_e_cv: float = param(0.25, unit="1", source=ASSUMED, ge=0)
    hla_e_drug_max_reduction: float = param(
        0.5, unit="1", source=f"{ASSUMED}; selinexor lowers HLA-E, review [61,62]", ge=0, le=1
    )
    hla_e_ec50_nM: float = param(200.0, unit="nM", source=ASSUMED, gt=0)
    hla_e_hill: float = param(1.0, unit="1", source=ASSUMED, gt=0)
    hla_e_tau_h: float = param(12.0, unit="h", source=f"{ASSUMED}: surface protein turnover", gt=0)
    hla_e_lymph_node_gain: float = param(
        0.5, unit="1", source=f"IL-4 + CD40L raise HLA-E, review [62]; size {ASSUMED}", ge=0
    )
    hla_e_ifng_gain: float = param(0.3, unit="1", source=f"cytokines regulate HLA-E, review [77,78]; {ASSUMED}", ge=0)
    hla_e_ifng_half_max: float = param(0.5, unit="a.u.", source=ASSUMED, gt=0)

    # --- TRAIL receptors (DR4/DR5)
    trail_r_mean: float = param(1.0, unit="1 (relative)", source=f"{ASSUMED}: lognormal baseline", gt=0)
    trail_r_cv: float = param(0.25, unit="1", source=ASSUMED, ge=0)
    trail_r_drug_max_gain: float = param(
        1.0, unit="1", source=f"{ASSUMED}; selinexor raises death receptors on CLL cells, review [62]", ge=0
    )
    trail_r_ec50_nM: float = param(200.0, unit="nM", source=ASSUMED, gt=0)
    trail_r_hill: float = param(1.0, unit="1", source=ASSUMED, gt=0)
    trail_r_tau_h: float = param(12.0, unit="h", source=ASSUMED, gt=0)

    # --- secretion
    chemokine_per_h: float = param(
        1.0, unit="a.u./cell/h", source=f"{ASSUMED}: cancer cells attract immune cells (biology.md)", ge=0
    )
    tgfb_per_h: float = param(0.1, unit="a.u./cell/h", source=f"{ASSUMED}: small (biology.md)", ge=0)

    # --- surface antigens (CAR-T and antibody targets); antigen-negative cells allow escape
    antigens: Annotated[dict[AntigenName, AntigenParams], Field(strict=False)] = param(
        {
            "CD19": _antigen(0.95, 1.0),
            "CD20": _antigen(0.90, 1.0),
            "CD38": _antigen(0.30, 0.5),
            "BCMA": _antigen(0.0, 0.0),
        },
        unit="-",
        source=f"{ASSUMED}: DLBCL-like profile; set per disease in the scenario",
    )

    @field_validator("antigens")
    @classmethod
    def _unlisted_antigens_are_absent(cls, antigens: dict) -> dict:
        """A scenario lists the antigens its tumour carries; the others are carried by no cell."""
        absent = AntigenParams(positive_fraction=0.0, level=0.0)
        return {name: antigens.get(name, absent) for name in AntigenName.__args__}


class MicroenvironmentParams(Params):
    lymph_node_signal: float = param(
        0.0, unit="1 (0-1)", source="IL-4 + CD40L of the lymph-node niche, review [62]; scenario", ge=0, le=1
    )


# ----------------------------------------------------------------------------------------------------------------
# State and rules
# ----------------------------------------------------------------------------------------------------------------


class CancerCell(CellAgent):
    """A cancer cell on the grid: its site, plus its row in `CancerPopulation`'s columns."""

    def __init__(self, model, cell, row: int):
        super().__init__(model)
        self.cell = cell
        self.row = row

    @property
    def population(self) -> CancerPopulation:
        return self.model.cancer

    @property
    def hla_e(self) -> float:
        return float(self.population.hla_e(np.array([self.row]))[0])

    @property
    def trail_r(self) -> float:
        return float(self.population.trail_r(np.array([self.row]))[0])

    def antigen(self, name: str) -> float:
        return float(self.population.antigen[name][self.row])


@dataclass
class CancerDrugResponse:
    """The cancer cells' response to the drug concentration: instant Hill effects on growth and apoptosis,
    and effect compartments for the surface proteins (HLA-E, TRAIL-R), which take hours to change."""

    params: CancerParams
    prolif: float = 0.0
    apoptosis: float = 0.0
    hla_e: EffectCompartment = field(init=False)
    trail_r: EffectCompartment = field(init=False)

    def __post_init__(self) -> None:
        p = self.params
        self.hla_e = EffectCompartment(p.hla_e_ec50_nM, p.hla_e_hill, p.hla_e_tau_h)
        self.trail_r = EffectCompartment(p.trail_r_ec50_nM, p.trail_r_hill, p.trail_r_tau_h)

    def update(self, conc_nM: float, dt_h: float) -> None:
        p = self.params
        self.prolif = drug_effect(conc_nM, p.prolif_ec50_nM, p.prolif_hill)
        self.apoptosis = drug_effect(conc_nM, p.apoptosis_ec50_nM, p.apoptosis_hill)
        self.hla_e.advance(conc_nM, dt_h)
        self.trail_r.advance(conc_nM, dt_h)


def division_rate_per_h(
    p: CancerParams, e_prolif: float, net_density: np.ndarray, next_to_m2: np.ndarray, growth_factor: float = 1.0
) -> np.ndarray:
    """Division hazard of each cell: doubling time, slowed by the drug, sped up by NETs and neighbouring M2."""
    base = np.log(2.0) / p.doubling_time_h * growth_factor * (1.0 - p.prolif_drug_max_inhibition * e_prolif)
    return base * (1.0 + p.net_growth_gain * net_density) * np.where(next_to_m2, p.m2_growth_factor, 1.0)


def death_rates_per_h(p: CancerParams, e_apoptosis: float) -> tuple[float, float]:
    """(basal, drug-induced) apoptosis hazards; the drug term scales with how XPO1-dependent the tumour is."""
    return per_hour(p.basal_death_per_d), p.apoptosis_max_per_h * e_apoptosis * p.xpo1_sensitivity


class CancerPopulation:
    """All cancer cells of one model as columns indexed by row; rows of dead cells are reused."""

    def __init__(self, model, params: CancerParams, rng: np.random.Generator, shape: tuple[int, int]):
        self.model = model
        self.params = params
        self.rng = rng
        self.row_at = np.full(shape, -1, dtype=np.int64)  # site → row of the cancer cell there, −1 if none
        self.drug = CancerDrugResponse(params)
        self.deaths: Counter[str] = Counter()
        self.divisions = 0
        self._n_rows = 0
        self._free_rows: list[int] = []
        self._alloc(max(64, params.initial_cells * 2))

    # -- storage ---------------------------------------------------------------------------------------------
    def _alloc(self, capacity: int) -> None:
        old = getattr(self, "alive", None)

        def grow(arr, dtype, fill=0):
            new = np.full(capacity, fill, dtype=dtype)
            if arr is not None:
                new[: len(arr)] = arr
            return new

        self.alive = grow(old, bool, False)
        self.x = grow(getattr(self, "x", None), np.int32)
        self.y = grow(getattr(self, "y", None), np.int32)
        self.hla_e_base = grow(getattr(self, "hla_e_base", None), np.float32)
        self.trail_r_base = grow(getattr(self, "trail_r_base", None), np.float32)
        old_antigen = getattr(self, "antigen", {})
        self.antigen = {name: grow(old_antigen.get(name), np.float32) for name in self.params.antigens}
        self.agents = grow(getattr(self, "agents", None), object, None)

    def _new_rows(self, n: int) -> np.ndarray:
        reuse = [self._free_rows.pop() for _ in range(min(n, len(self._free_rows)))]
        fresh = n - len(reuse)
        if self._n_rows + fresh > len(self.alive):
            self._alloc(max(2 * len(self.alive), self._n_rows + fresh))
        rows = np.array(reuse + list(range(self._n_rows, self._n_rows + fresh)), dtype=np.int64)
        self._n_rows += fresh
        return rows

    # -- queries -----------------------------------------------------------------------------------------------
    @property
    def n_alive(self) -> int:
        return int(self.alive[: self._n_rows].sum())

    def rows(self) -> np.ndarray:
        return np.flatnonzero(self.alive[: self._n_rows])

    def hla_e(self, rows: np.ndarray) -> np.ndarray:
        """Current HLA-E: baseline × drug × lymph-node niche × local IFN-γ, computed when read."""
        p = self.params
        ifng = self.model.fields["ifng"][self.x[rows], self.y[rows]]
        niche = 1.0 + p.hla_e_lymph_node_gain * self.model.spec.microenvironment.lymph_node_signal
        drug = 1.0 - p.hla_e_drug_max_reduction * self.drug.hla_e.value
        return self.hla_e_base[rows] * drug * niche * (1.0 + p.hla_e_ifng_gain * hill(ifng, p.hla_e_ifng_half_max))

    def trail_r(self, rows: np.ndarray) -> np.ndarray:
        """Current TRAIL-R (DR4/DR5): baseline raised by the drug's effect compartment."""
        return self.trail_r_base[rows] * (1.0 + self.params.trail_r_drug_max_gain * self.drug.trail_r.value)

    # -- creation and removal --------------------------------------------------------------------------------
    def seed(self, free: np.ndarray, centre: tuple[float, float], site_um: float) -> None:
        """Place the initial tumour: the sites nearest the centre (disc) or a random subset of a region."""
        p = self.params
        xs, ys = np.nonzero(free)
        dist2 = (xs - centre[0]) ** 2 + (ys - centre[1]) ** 2
        if p.layout == "disc":
            # Ties broken by a random key so the disc has no grid-aligned bias.
            order = np.lexsort((self.rng.random(len(xs)), dist2))[: p.initial_cells]
        else:
            region = np.flatnonzero(dist2 <= (p.scattered_radius_um / site_um) ** 2)
            if len(region) < p.initial_cells:
                region = np.argsort(dist2, kind="stable")[: max(p.initial_cells, len(region))]
            order = self.rng.choice(region, size=p.initial_cells, replace=False)
        self.add(xs[order], ys[order])

    def add(self, xs: np.ndarray, ys: np.ndarray, parents: np.ndarray | None = None) -> np.ndarray:
        """Create cells at the given sites. Daughters inherit their parent's baselines and antigens
        (so antigen-negative clones persist); new cells draw them from the population's distributions."""
        n = len(xs)
        rows = self._new_rows(n)
        self.x[rows], self.y[rows] = xs, ys
        if parents is None:
            p = self.params
            self.hla_e_base[rows] = _lognormal(self.rng, p.hla_e_mean, p.hla_e_cv, n)
            self.trail_r_base[rows] = _lognormal(self.rng, p.trail_r_mean, p.trail_r_cv, n)
            for name, spec in p.antigens.items():
                self.antigen[name][rows] = np.where(self.rng.random(n) < spec.positive_fraction, spec.level, 0.0)
        else:
            self.hla_e_base[rows] = self.hla_e_base[parents]
            self.trail_r_base[rows] = self.trail_r_base[parents]
            for column in self.antigen.values():
                column[rows] = column[parents]
        grid = self.model.grid
        cells = [grid[(int(x), int(y))] for x, y in zip(xs, ys)]
        for cell, row in zip(cells, rows):
            self.agents[row] = CancerCell(self.model, cell, int(row))
        self.alive[rows] = True
        self.row_at[xs, ys] = rows
        return rows

    def kill(self, rows: np.ndarray | list[int], cause: str) -> None:
        """Remove cells and count them under `cause` (e.g. 'drug', 'nk_granzyme', 'car_t')."""
        for row in np.atleast_1d(rows):
            self.row_at[self.x[row], self.y[row]] = -1
            self.agents[row].remove()
            self.agents[row] = None
            self.alive[row] = False
            self._free_rows.append(int(row))
        self.deaths[cause] += len(np.atleast_1d(rows))

    # -- one step ----------------------------------------------------------------------------------------------
    def step(self, dt_h: float, placeable: np.ndarray, next_to_m2: np.ndarray | None, growth_factor: float) -> None:
        """Deaths, then divisions into free neighbouring sites, drawn with vectorised hazards."""
        p = self.params
        rows = self.rows()
        basal, drug = death_rates_per_h(p, self.drug.apoptosis)
        if basal + drug > 0 and len(rows):
            dies = self.rng.random(len(rows)) < per_step_probability(basal + drug, dt_h)
            dying = rows[dies]
            by_drug = self.rng.random(len(dying)) < drug / (basal + drug)
            self.kill(dying[by_drug], "drug")
            self.kill(dying[~by_drug], "basal")
            rows = rows[~dies]

        free = self.model.grid.empty.data & placeable
        # Only cells with room can divide (contact inhibition): the interior of a mass is never drawn.
        room = count_neighbours(free)[self.x[rows], self.y[rows]] > 0
        rows = rows[room]
        if not len(rows):
            return
        x, y = self.x[rows], self.y[rows]
        m2 = next_to_m2[x, y] if next_to_m2 is not None else np.zeros(len(rows), dtype=bool)
        rate = division_rate_per_h(p, self.drug.prolif, self.model.fields["nets"][x, y], m2, growth_factor)
        dividers = rows[self.rng.random(len(rows)) < per_step_probability(rate, dt_h)]
        self._divide(self.rng.permutation(dividers), free)

    def _divide(self, parents: np.ndarray, free: np.ndarray) -> None:
        """Place each daughter on a random free neighbour; a parent whose room was just taken does not divide."""
        xs, ys, placed = [], [], []
        for row in parents:
            options = free_neighbour_sites(int(self.x[row]), int(self.y[row]), free)
            if not options:
                continue
            tx, ty = options[self.rng.integers(len(options))]
            free[tx, ty] = False
            xs.append(tx)
            ys.append(ty)
            placed.append(row)
        if placed:
            self.add(np.array(xs), np.array(ys), parents=np.array(placed))
            self.divisions += len(placed)


def _lognormal(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """Lognormal draws with the given arithmetic mean and coefficient of variation."""
    sigma2 = np.log1p(cv**2)
    return rng.lognormal(np.log(mean) - sigma2 / 2.0, np.sqrt(sigma2), n)
