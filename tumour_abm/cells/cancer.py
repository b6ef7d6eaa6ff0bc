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
from pydantic import Field, field_validator

from ..params import ASSUMED, Params, param, section
from ..rules import hill, per_hour, per_step_probability
from ..space import claim_free_neighbours, has_free_neighbour, push_free_neighbours
from ..therapy.pd import LaggedState
from .columns import CellView, RowStore, SitedPopulation

AntigenName = Literal["CD19", "CD20", "CD38", "BCMA"]
Layout = Literal["disc", "scattered"]
DivisionRule = Literal["room", "push"]
_ANTIGEN = "antigen_"  # prefix of the antigen columns


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
    doubling_time_h: float = param(
        36.0, unit="h", source=f"{ASSUMED}; DLBCL lines double in 24-48 h in culture, where few cells die "
                               "(biology.md). The division time of a cell with room: net growth is division less "
                               "`basal_death_per_d`, and how fast a mass grows also depends on `division_rule`", gt=0
    )
    division_rule: DivisionRule = param(
        "room", unit="-", source="'room': a cell divides only into a free neighbour (contact inhibition: a mass grows "
        "from its rim); 'push': a cell without one pushes the cells between it and the nearest free site within "
        "`push_reach_um` outward (a common lattice-model rule), so a mass grows from a rim that deep",
    )
    push_reach_um: float = param(
        200.0, unit="µm", source=f"{ASSUMED}: about the proliferating rim of a tumour spheroid (100-200 µm)", gt=0,
        le=10_000,
    )
    basal_death_per_d: float = param(
        0.16, unit="1/d", source="spontaneous apoptosis: 1-3 % of lymphoma cells apoptotic (Leoncini 1993 Am J "
                                 "Pathol), each visible for about 3 h (Bursch 1990 Carcinogenesis): 0.08-0.24 /d, mid "
                                 "value; net doubling ≈ 2.3 d. The whole cell loss of a fast lymphoma in vivo, immune "
                                 "killing included, is ≈ 0.32 /d (69 % of division, Iversen 1974 Eur J Cancer): the "
                                 "upper end for sensitivity", ge=0
    )
    prolif_drug_max_inhibition: float = param(
        0.8, unit="1", source=f"{ASSUMED}; XPO1i blocks proliferation, review [14,19,22]; × XPO1 occupancy", ge=0,
        le=1,
    )
    net_growth_gain: float = param(
        0.5, unit="1 per unit NET density", source=f"NETs promote growth, review [65]; size {ASSUMED}", ge=0
    )
    m2_growth_factor: float = param(
        1.3, unit="x", source=f"{ASSUMED}; M2 macrophages are pro-tumour, review [50,51]", ge=0
    )

    # --- drug-induced apoptosis
    apoptosis_max_per_h: float = param(
        0.01, unit="1/h",
        source="× apoptotic priming; calibrated under the earlier direct plasma-level rule (60 mg twice weekly gave "
        "ORR 4/12 seeds, near SADAL's 29 %); to be re-calibrated with the drug-effect chain",
        ge=0,
    )
    priming_tau_h: float = param(
        24.0, unit="h", source=f"apoptotic priming builds and outlasts the drug (sensitisation, review [105]); "
                               f"{ASSUMED}", gt=0
    )
    xpo1_sensitivity: float = param(
        1.0, unit="x", source="biology.md: higher for XPO1-dependent tumours", ge=0
    )

    # --- HLA-E (NKG2A ligand)
    hla_e_mean: float = param(1.0, unit="1 (relative)", source=f"{ASSUMED}: lognormal baseline", gt=0)
    hla_e_cv: float = param(0.25, unit="1", source=ASSUMED, ge=0)
    hla_e_drug_max_reduction: float = param(
        0.5, unit="1", source=f"{ASSUMED}; selinexor lowers HLA-E, review [61,62]", ge=0, le=1
    )
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
    trail_r_tau_h: float = param(12.0, unit="h", source=f"{ASSUMED}: surface protein turnover", gt=0)

    # --- what endogenous CD8 T cells see: a tumour antigen on MHC class I, and PD-L1
    t_cell_antigen: AntigenParams = section(
        AntigenParams, "a tumour antigen presented on MHC class I that the endogenous CD8 T cells recognise: the "
                       "share of cells presenting it (MHC-I loss lowers it) and its level; all, at 1, by default "
                       f"({ASSUMED})",
    )
    pd_l1_base: float = param(
        0.1, unit="1 (0-1, of the IFN-γ-saturated level)",
        source=f"PD-L1 without IFN-γ: low on most lymphomas (PD-L1+ tumour cells in ~11 % of DLBCL, Kiyasu 2015 Blood); "
               f"{ASSUMED}", ge=0, le=1,
    )
    pd_l1_ifng_half_max: float = param(
        0.5, unit="a.u.", source=f"IFN-γ induces PD-L1 on tumour cells (adaptive resistance; review [58,86]); "
                                 f"half-max {ASSUMED}", gt=0,
    )

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


class CancerCell(CellView):
    """The Mesa agent of a cancer cell: its site and state are `CancerPopulation`'s columns at its row."""

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
    """The cancer cells' response to XPO1 occupancy (`therapy.pd`): the cell cycle stops at once in proportion to
    it; apoptotic priming (which sets the drug's apoptosis), HLA-E reduction and DR4/DR5 rise build up over hours and
    fade as slowly once the drug has gone."""

    params: CancerParams
    prolif: float = 0.0
    priming: LaggedState = field(init=False)
    hla_e: LaggedState = field(init=False)
    trail_r: LaggedState = field(init=False)

    def __post_init__(self) -> None:
        p = self.params
        self.priming = LaggedState(p.priming_tau_h)
        self.hla_e = LaggedState(p.hla_e_tau_h)
        self.trail_r = LaggedState(p.trail_r_tau_h)

    def update(self, occupancy: float, dt_h: float) -> None:
        self.prolif = occupancy
        self.priming.advance(occupancy, dt_h)
        self.hla_e.advance(occupancy, dt_h)
        self.trail_r.advance(occupancy, dt_h)

    @property
    def apoptosis(self) -> float:
        return self.priming.value


def division_rate_per_h(
    p: CancerParams, e_prolif: float, net_density: np.ndarray, next_to_m2: np.ndarray, growth_factor: float = 1.0
) -> np.ndarray:
    """Division hazard of each cell: doubling time, slowed by the drug, sped up by NETs and neighbouring M2."""
    base = np.log(2.0) / p.doubling_time_h * growth_factor * (1.0 - p.prolif_drug_max_inhibition * e_prolif)
    return base * (1.0 + p.net_growth_gain * net_density) * np.where(next_to_m2, p.m2_growth_factor, 1.0)


def death_rates_per_h(p: CancerParams, e_apoptosis: float) -> tuple[float, float]:
    """(basal, drug-induced) apoptosis hazards; the drug term scales with how XPO1-dependent the tumour is."""
    return per_hour(p.basal_death_per_d), p.apoptosis_max_per_h * e_apoptosis * p.xpo1_sensitivity


class CancerPopulation(SitedPopulation):
    """All cancer cells of one model as columns indexed by row; rows of dead cells are reused."""

    agent_class = CancerCell

    def __init__(self, model, params: CancerParams, rng: np.random.Generator, shape: tuple[int, int]):
        self.model = model
        self.params = params
        self.rng = rng
        self.row_at = np.full(shape, -1, dtype=np.int64)  # site → row of the cancer cell there, −1 if none
        self.drug = CancerDrugResponse(params)
        self.deaths: Counter[str] = Counter()
        self.divisions = 0
        # How far a dividing cell may push (`division_rule: push`), in sites.
        self.push_reach_sites = max(1, int(round(params.push_reach_um / model.spec.grid.site_um)))
        columns = {"hla_e_base": (np.float32, 0.0), "trail_r_base": (np.float32, 0.0)}
        columns.update({_ANTIGEN + name: (np.float32, 0.0) for name in params.antigens})
        columns["t_cell_antigen"] = (np.float32, 0.0)
        self.store = RowStore(columns, capacity=max(64, params.initial_cells * 2))

    # -- columns (views on the store, which may grow) ----------------------------------------------------------
    alive = property(lambda self: self.store["alive"])
    x = property(lambda self: self.store["x"])
    y = property(lambda self: self.store["y"])
    hla_e_base = property(lambda self: self.store["hla_e_base"])
    trail_r_base = property(lambda self: self.store["trail_r_base"])
    agents = property(lambda self: self.store["agent"])

    @property
    def antigen(self) -> dict[str, np.ndarray]:
        """Each antigen's level on every row (0 on antigen-negative cells)."""
        return {name: self.store[_ANTIGEN + name] for name in self.params.antigens}

    # -- queries -----------------------------------------------------------------------------------------------
    @property
    def n_alive(self) -> int:
        return self.store.count()

    def rows(self) -> np.ndarray:
        return self.store.rows()

    def hla_e(self, rows: np.ndarray) -> np.ndarray:
        """Current HLA-E: baseline × drug × lymph-node niche × local IFN-γ, computed when read."""
        p = self.params
        ifng = self.model.fields["ifng"][self.x[rows], self.y[rows]]
        niche = 1.0 + p.hla_e_lymph_node_gain * self.model.spec.microenvironment.lymph_node_signal
        drug = 1.0 - p.hla_e_drug_max_reduction * self.drug.hla_e.value
        return self.hla_e_base[rows] * drug * niche * (1.0 + p.hla_e_ifng_gain * hill(ifng, p.hla_e_ifng_half_max))

    def pd_l1(self, rows: np.ndarray) -> np.ndarray:
        """Current PD-L1, 0-1: the baseline raised towards 1 by local IFN-γ (computed when read)."""
        p = self.params
        ifng = self.model.fields["ifng"][self.x[rows], self.y[rows]]
        return p.pd_l1_base + (1.0 - p.pd_l1_base) * hill(ifng, p.pd_l1_ifng_half_max)

    def trail_r(self, rows: np.ndarray) -> np.ndarray:
        """Current TRAIL-R (DR4/DR5): baseline raised by the drug's effect compartment."""
        return self.trail_r_base[rows] * (1.0 + self.params.trail_r_drug_max_gain * self.drug.trail_r.value)

    def surface_level(self, target: str) -> np.ndarray:
        """Over every row: a T-cell engager's target, an antigen's level or TRAIL-R (read as TRAIL-R2); an antigen
        the tumour does not carry is 0 everywhere."""
        if target == "TRAIL-R2":
            return self.trail_r(slice(None))
        if target in self.params.antigens:
            return self.store[_ANTIGEN + target]
        return np.zeros(self.store.capacity)

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

    def seed_anywhere(self, free: np.ndarray) -> None:
        """Place the initial cells on free sites drawn at random over the whole grid (a well's suspension)."""
        xs, ys = np.nonzero(free)
        order = self.rng.choice(len(xs), size=self.params.initial_cells, replace=False)
        self.add(xs[order], ys[order])

    def add(self, xs: np.ndarray, ys: np.ndarray, parents: np.ndarray | None = None) -> np.ndarray:
        """Create cells at the given sites. Daughters inherit their parent's baselines and antigens
        (so antigen-negative clones persist); new cells draw them from the population's distributions."""
        n = len(xs)
        rows = self.store.new_rows(n)
        antigen = self.antigen
        if parents is None:
            p = self.params
            self.hla_e_base[rows] = _lognormal(self.rng, p.hla_e_mean, p.hla_e_cv, n)
            self.trail_r_base[rows] = _lognormal(self.rng, p.trail_r_mean, p.trail_r_cv, n)
            for name, spec in p.antigens.items():
                antigen[name][rows] = np.where(self.rng.random(n) < spec.positive_fraction, spec.level, 0.0)
            self.store["t_cell_antigen"][rows] = self._t_cell_antigen(n)
        else:
            self.hla_e_base[rows] = self.hla_e_base[parents]
            self.trail_r_base[rows] = self.trail_r_base[parents]
            for column in (*antigen.values(), self.store["t_cell_antigen"]):
                column[rows] = column[parents]
        self.occupy(rows, xs, ys)
        return rows

    def _t_cell_antigen(self, n: int) -> np.ndarray | float:
        """The MHC-I antigen of n new cells: drawn only where the share presenting it is strictly between 0 and 1
        (a draw whose outcome is certain would only shift the other draws)."""
        spec = self.params.t_cell_antigen
        if 0.0 < spec.positive_fraction < 1.0:
            return np.where(self.rng.random(n) < spec.positive_fraction, spec.level, 0.0)
        return spec.level if spec.positive_fraction >= 1.0 else 0.0

    def kill(self, rows: np.ndarray | list[int], cause: str | dict[str, int]) -> None:
        """Remove cells and count them under `cause` (e.g. 'drug', 'nk_granzyme', 'car_t'), or, for cells of
        several causes at once, under each cause its count (rows are freed in their order)."""
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        self.remove_rows(rows)
        for name, n in ({cause: len(rows)} if isinstance(cause, str) else cause).items():
            self.deaths[name] += n

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
            n_drug = int(np.count_nonzero(by_drug))
            self.kill(np.concatenate([dying[by_drug], dying[~by_drug]]),
                      {"drug": n_drug, "basal": len(dying) - n_drug})
            rows = rows[~dies]
        if not len(rows):
            return

        free = self.model.grid.empty.data & placeable
        if p.division_rule == "room":
            # Only cells with room can divide (contact inhibition): the interior of a mass is never drawn.
            room = has_free_neighbour(self.sites(rows), free)
            rows = rows[room]
            if not len(rows):
                return
        x, y = self.x[rows], self.y[rows]
        m2 = next_to_m2[x, y] if next_to_m2 is not None else np.zeros(len(rows), dtype=bool)
        rate = division_rate_per_h(p, self.drug.prolif, self.model.fields["nets"][x, y], m2, growth_factor)
        dividers = rows[self.rng.random(len(rows)) < per_step_probability(rate, dt_h)]
        self._divide(self.rng.permutation(dividers), free)

    def _divide(self, parents: np.ndarray, free: np.ndarray) -> None:
        """Place each daughter on a random free neighbour, parents in random order; a parent whose room was taken
        by the daughters before it does not divide, unless the rule lets it push (`space.push_free_neighbours`)."""
        if self.params.division_rule == "push":
            sites, moved, to = push_free_neighbours(self.sites(parents), self.row_at, free, self.push_reach_sites,
                                                    self.rng)
            self.x[moved], self.y[moved] = to[:, 0], to[:, 1]
            self.model.grid.empty.data[to[:, 0], to[:, 1]] = False
        else:
            sites = claim_free_neighbours(self.sites(parents), free, self.rng)
        placed = sites[:, 0] >= 0
        if placed.any():
            self.add(sites[placed, 0], sites[placed, 1], parents=parents[placed])
            self.divisions += int(placed.sum())


def _lognormal(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """Lognormal draws with the given arithmetic mean and coefficient of variation."""
    sigma2 = np.log1p(cv**2)
    return rng.lognormal(np.log(mean) - sigma2 / 2.0, np.sqrt(sigma2), n)
