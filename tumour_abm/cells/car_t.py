"""CAR-T cells (biology.md, "CAR-T cell"): antigen-dependent killing, expansion on engagement, exhaustion,
NKG2A rising with repeated stimulation, and reversible impairment by high selinexor concentrations."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from ..params import ASSUMED, param
from ..rules import drug_effect, hill
from ..space import count_neighbours, free_neighbour_sites
from .cancer import AntigenName
from .contact import kill_probability
from .immune import ImmuneCell, ImmuneParams, ImmunePopulation


class CarTParams(ImmuneParams):
    target_antigen: AntigenName = param("CD19", unit="-", source="scenario: CD19 default, BCMA for myeloma")
    lifespan_d: float = param(8.6, unit="d", source="mean lifespan after expansion (CARTopiaX)", gt=0)
    speed_um_per_min: float = param(5.0, unit="µm/min", source="biology.md", ge=0)
    engaged_speed_um_per_min: float = param(0.0, unit="µm/min", source=f"{ASSUMED}: a cell in a synapse stays", ge=0)
    kill_per_h: float = param(4.0, unit="1/h", source="PhysiCell kill rate 0.0667 /min", ge=0)
    impairment_max: float = param(
        0.9, unit="1", source="TCR signalling, proliferation, IFN-γ, granzyme impaired > 100 nM (Tyler 2017; review [72])",
        ge=0, le=1,
    )
    impairment_ic50_nM: float = param(120.0, unit="nM", source="threshold > 100 nM (Tyler 2017 Mol Cancer Ther)", gt=0)
    impairment_hill: float = param(4.0, unit="1", source=f"slope {ASSUMED}", gt=0)
    division_time_h: float = param(6.0, unit="h", source="CARCADE", gt=0)
    max_divisions: int = param(10, unit="divisions", source="CARCADE", ge=0)
    activation_window_h: float = param(
        168.0, unit="h", source="CARCADE: activation lapses 7 d after the last antigen encounter", gt=0
    )
    synapse_time_h: float = param(
        6.0, unit="h", source="CARCADE BOUND_TIME 360 min: a killer stays bound before it can bind again", ge=0
    )
    exhaustion_load: float = param(10.0, unit="engagements", source="~10 engagements (CARCADE MAX_ANTIGEN_BINDING)", gt=0)
    load_recovery_per_d: float = param(
        1.0, unit="engagements/d", source="CARCADE: the bound-antigen count falls by one per day without stimulation",
        ge=0,
    )
    exhausted_kill_factor: float = param(0.2, unit="x", source="biology.md: exhausted kill x 0.2", ge=0, le=1)
    pd1_exhaustion_relief: float = param(
        0.7, unit="1", source=f"anti-PD-1 lowers the exhaustion penalty; {ASSUMED}", ge=0, le=1
    )
    checkpoint_drug_max_reduction: float = param(
        0.5, unit="1", source="selinexor reduces PD-1/LAG-3/TIM-3 on CD8 TILs, review [72,87]", ge=0, le=1
    )
    checkpoint_ec50_nM: float = param(100.0, unit="nM", source=ASSUMED, gt=0)
    checkpoint_hill: float = param(1.0, unit="1", source=ASSUMED, gt=0)
    nkg2a_rise_after: int = param(5, unit="engagements", source=f"NKG2A rises with stimulation, review [92,97,111]; {ASSUMED}", ge=0)
    nkg2a_per_engagement: float = param(0.05, unit="1", source=ASSUMED, ge=0)
    nkg2a_blockade_factor: float = param(
        2.0, unit="x", source=f"checkpoint blockade raises NKG2A, review [100]; size {ASSUMED}", ge=1
    )
    nkg2a_inhibition_weight: float = param(0.8, unit="1", source="biology.md CAR-T kill rule", ge=0)
    tgfb_max_suppression: float = param(0.5, unit="1", source="biology.md CAR-T kill rule", ge=0, le=1)
    tgfb_half_max: float = param(0.5, unit="a.u.", source=ASSUMED, gt=0)
    ifng_per_h: float = param(
        600.0, unit="a.u./cell/h",
        source=f"engaged T cells secrete IFN-γ; {ASSUMED}: one cell's own site reaches ~0.5 a.u., the half-max", ge=0,
    )


@dataclass
class CarTDrugResponse:
    """Selinexor on CAR-T cells: instant, reversible impairment and reduced checkpoint build-up."""

    params: CarTParams
    impairment: float = 0.0
    checkpoint: float = 0.0

    def update(self, conc_nM: float) -> None:
        p = self.params
        self.impairment = p.impairment_max * drug_effect(conc_nM, p.impairment_ic50_nM, p.impairment_hill)
        self.checkpoint = drug_effect(conc_nM, p.checkpoint_ec50_nM, p.checkpoint_hill)


def car_t_kill_hazard(
    p: CarTParams, *, antigen: float, impairment: float, exhausted: bool, pd1_blockade: float, tgfb: float,
    nkg2a: float, hla_e: float, nkg2a_blockade: float = 0.0,
) -> float:
    """Killing hazard per hour of one CAR-T cell on one target: 4 /h × antigen × F (biology.md); anti-NKG2A
    frees the CAR-T cell's NKG2A as it does the NK cell's."""
    penalty = (1.0 - p.exhausted_kill_factor) * (1.0 - p.pd1_exhaustion_relief * pd1_blockade) if exhausted else 0.0
    f = (
        (1.0 - impairment)
        * (1.0 - penalty)
        * (1.0 - p.tgfb_max_suppression * hill(tgfb, p.tgfb_half_max))
        * max(0.0, 1.0 - p.nkg2a_inhibition_weight * nkg2a * (1.0 - nkg2a_blockade) * hla_e)
    )
    return p.kill_per_h * antigen * f


class CarTCell(ImmuneCell):
    """A CAR-T cell. Its stimulation history (engagements, checkpoint load, NKG2A) is its own: daughters start
    fresh but inherit the lineage's division count and activation (CARCADE makes daughters from age and
    divisions only, born activated)."""

    def __init__(self, model, cell, pop: CarTPopulation, divisions: int = 0, activated_h: float = -np.inf):
        super().__init__(model, cell, pop)
        self.divisions = divisions  # divisions in this cell's lineage so far
        # Time of the last antigen encounter: never, for infused cells; the parent's, for daughters.
        self.activated_h = activated_h
        self.engagements = 0
        self.load = 0.0  # checkpoint (PD-1, LAG-3, TIM-3) load
        self.nkg2a = 0.0
        self.exhausted = False  # terminal, once the load reaches its threshold
        self.target: int | None = None
        self.bound_until_h = -np.inf

    def act(self, target: int | None) -> None:
        m, pop, p = self.model, self.pop, self.pop.params
        if m.time_h < self.bound_until_h:
            self.engaged = True  # still bound after its last kill: stays, does not bind another target
            self._maybe_divide()
            return
        x, y = self.cell.coordinate
        cancer = m.cancer
        self.engaged = target is not None
        if target is None:
            self.target = None
            self.load = max(0.0, self.load - p.load_recovery_per_d * self.pop.dt_h / 24.0)
        else:
            if target != self.target:
                self._engage_new_target(m.therapy.pd1_blockade)
            self.target = target
            self.activated_h = m.time_h
            hazard = car_t_kill_hazard(
                p, antigen=float(cancer.antigen[p.target_antigen][target]), impairment=pop.drug.impairment,
                exhausted=self.exhausted, pd1_blockade=m.therapy.pd1_blockade,
                tgfb=float(m.fields["tgfb"][x, y]), nkg2a=self.nkg2a, hla_e=float(cancer.hla_e(target)),
                nkg2a_blockade=m.therapy.nkg2a_blockade,
            )
            tx, ty = int(cancer.x[target]), int(cancer.y[target])
            if self.random.random() < kill_probability(hazard, m.dt_h, m.fields["nets"][tx, ty], m.net_shield):
                cancer.kill([target], "car_t")
                self.target = None
                self.bound_until_h = m.time_h + p.synapse_time_h
        self._maybe_divide()

    def _engage_new_target(self, pd1_blockade: float) -> None:
        p = self.pop.params
        self.engagements += 1
        self.load += 1.0 - p.checkpoint_drug_max_reduction * self.pop.drug.checkpoint
        if self.load >= p.exhaustion_load:
            self.exhausted = True
        if self.engagements > p.nkg2a_rise_after:
            rise = p.nkg2a_per_engagement * (1.0 + (p.nkg2a_blockade_factor - 1.0) * pd1_blockade)
            self.nkg2a = min(1.0, self.nkg2a + rise)

    def _maybe_divide(self) -> None:
        """Activated, not exhausted, lineage not spent: divide into a free neighbouring site."""
        p = self.pop.params
        if self.exhausted or self.divisions >= p.max_divisions:
            return
        if self.model.time_h - self.activated_h > p.activation_window_h:
            return
        if not self.chance(np.log(2.0) / p.division_time_h * (1.0 - self.pop.drug.impairment)):
            return
        x, y = self.cell.coordinate
        options = free_neighbour_sites(x, y, self.model.grid.empty.data, self.model.vessels)
        if not options:
            return
        self.divisions += 1
        site = options[int(self.random.random() * len(options))]
        self.pop.add([site], divisions=self.divisions, activated_h=self.activated_h)
        self.pop.events["divisions"] += 1


class CarTPopulation(ImmunePopulation):
    agent_class = CarTCell
    label = "car_t"
    initial_entry = "vessels"  # infused cells arrive from the blood

    def __init__(self, model, params: CarTParams):
        super().__init__(model, params, death_per_d=1.0 / params.lifespan_d, speed_um_per_min=params.speed_um_per_min,
                         engaged_speed_um_per_min=params.engaged_speed_um_per_min)
        self.drug = CarTDrugResponse(params)

    def target_requirement(self) -> np.ndarray:
        return self.model.cancer.antigen[self.params.target_antigen]

    def stop_mask(self) -> np.ndarray:
        """Next to a cancer cell carrying the CAR's antigen (antigen-negative cells are never targets)."""
        cancer = self.model.cancer
        antigen = cancer.antigen[self.params.target_antigen]
        target_sites = (cancer.row_at >= 0) & (antigen[np.maximum(cancer.row_at, 0)] > 0)
        return count_neighbours(target_sites) > 0

    def secretion(self) -> list[tuple[str, np.ndarray, float]]:
        engaged = [a.cell.coordinate for a in self.agents() if a.engaged]
        rate = self.params.ifng_per_h * (1.0 - self.drug.impairment)
        return [("ifng", np.array(engaged, dtype=np.int64).reshape(-1, 2), rate)]
