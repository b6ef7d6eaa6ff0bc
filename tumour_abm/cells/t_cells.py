"""What CAR-T cells and endogenous CD8 T cells share (biology.md, "CAR-T cell" and "CD8 T cells"): killing of the
target a synapse holds, expansion on engagement, graded exhaustion that daughters partly inherit, NKG2A rising with
repeated stimulation, and reversible impairment by high selinexor concentrations. What differs is which cancer
cells each recognises, how the PD-1 axis acts, and where they come from (`car_t.py`, `cd8.py`).

Exhaustion is a continuous checkpoint (PD-1, LAG-3, TIM-3) load: each new engagement adds to it (less while
selinexor is present at that engagement, review [72,87]), rest removes it slowly, and killing and proliferation
fall in proportion as it builds (Wherry 2011 Nat Immunol: progressive loss of function with co-inhibitory
receptors). At the threshold a cell is terminally exhausted: it no longer divides and its state no longer recovers
(Pauken 2016 Science: the exhaustion programme is epigenetically fixed). A daughter starts with part of its
mother's load (Pauken 2016; Ghoneim 2017 Cell: exhaustion imprints are kept through division). A synapse holds one
target until it is killed or gone: an engaging cell keeps its target from step to step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import ASSUMED, param
from ..rules import drug_effect, hill, per_step_probability
from ..space import claim_free_neighbours
from .columns import column_attribute
from .immune import ImmuneCell, ImmuneParams, ImmunePopulation


class TCellParams(ImmuneParams):
    """Rates and rules of a cytotoxic T-cell type; the defaults are the CAR-T cell's (each type may set its own)."""

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
    exhausted_kill_factor: float = param(
        0.2, unit="x", source="biology.md: exhausted kill x 0.2 (at the threshold load; graded below it)", ge=0, le=1
    )
    exhaustion_inheritance: float = param(
        0.5, unit="1", source=f"a daughter's share of its mother's checkpoint load (exhaustion imprints are kept "
                              f"through division: Pauken 2016 Science, Ghoneim 2017 Cell); {ASSUMED}", ge=0, le=1,
    )
    pd1_exhaustion_relief: float = param(
        0.7, unit="1", source=f"anti-PD-1 lowers the exhaustion penalty; {ASSUMED}", ge=0, le=1
    )
    checkpoint_drug_max_reduction: float = param(
        0.5, unit="1", source="selinexor reduces PD-1/LAG-3/TIM-3 on CD8 TILs, review [72,87]", ge=0, le=1
    )
    checkpoint_ec50_nM: float = param(100.0, unit="nM", source=ASSUMED, gt=0)
    granzyme_drug_gain: float = param(
        0.0, unit="1", source="selinexor raised granzyme B in patients' endogenous T cells (review [86]); not measured "
                              "in CAR-T cells: 0 for them", ge=0,
    )
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
class TCellDrugResponse:
    """Selinexor on T cells: instant, reversible impairment and reduced checkpoint build-up."""

    params: TCellParams
    impairment: float = 0.0
    checkpoint: float = 0.0
    granzyme: float = 1.0  # × killing from the granzyme B rise (review [86])

    def update(self, conc_nM: float) -> None:
        p = self.params
        self.impairment = p.impairment_max * drug_effect(conc_nM, p.impairment_ic50_nM, p.impairment_hill)
        self.checkpoint = drug_effect(conc_nM, p.checkpoint_ec50_nM, p.checkpoint_hill)
        if p.granzyme_drug_gain:  # (the rise follows the checkpoint effect's exposure-response)
            self.granzyme = 1.0 + p.granzyme_drug_gain * self.checkpoint


def t_cell_kill_hazard(
    p: TCellParams, *, antigen, impairment: float, exhaustion, pd1_blockade: float, tgfb, nkg2a, hla_e,
    nkg2a_blockade: float = 0.0, suppression=0.0,
):
    """Killing hazard per hour of T cells on their targets: `kill_per_h` × antigen × F (biology.md; CAR-T 4 /h);
    `exhaustion` is the load over its threshold (0-1): the kill falls linearly to the exhausted factor at 1, less
    under anti-PD-1 by `pd1_exhaustion_relief`; anti-NKG2A frees the T cell's NKG2A as it does the NK cell's; Tregs
    and MDSCs near the cell take their share `suppression` (`suppressors.py`). Scalars or arrays."""
    penalty = (1.0 - p.exhausted_kill_factor) * exhaustion * (1.0 - p.pd1_exhaustion_relief * pd1_blockade)
    f = (
        (1.0 - impairment)
        * (1.0 - suppression)
        * (1.0 - penalty)
        * (1.0 - p.tgfb_max_suppression * hill(tgfb, p.tgfb_half_max))
        * np.maximum(0.0, 1.0 - p.nkg2a_inhibition_weight * nkg2a * (1.0 - nkg2a_blockade) * hla_e)
    )
    hazard = p.kill_per_h * antigen * f
    return float(hazard) if np.ndim(hazard) == 0 else hazard


def exhaustion_level(load, terminal, threshold: float):
    """Exhaustion, 0-1: the checkpoint load over its threshold, 1 once terminally exhausted. Arrays."""
    return np.where(terminal, 1.0, np.minimum(1.0, load / threshold))


class TCell(ImmuneCell):
    """A T cell. Daughters inherit the lineage's division count and activation (CARCADE makes daughters from age and
    divisions only, born activated) and part of the mother's checkpoint load; engagements and NKG2A are each cell's
    own."""

    divisions = column_attribute("divisions", int, "divisions in this cell's lineage so far")
    activated_h = column_attribute("activated_h", float, "time of the last antigen encounter (−inf: never)")
    engagements = column_attribute("engagements", int, "targets engaged")
    load = column_attribute("load", float, "checkpoint (PD-1, LAG-3, TIM-3) load")
    nkg2a = column_attribute("nkg2a", float, "NKG2A level, 0-1")
    exhausted = column_attribute("exhausted", bool, "terminally exhausted: the load reached its threshold")
    target = column_attribute("target", int, "the cancer row it is engaging (−1: none)")
    bound_until_h = column_attribute("bound_until_h", float, "stays bound after a kill until then")


class TCellPopulation(ImmunePopulation):
    """A T-cell type's cells; a subclass says which cancer cells they recognise (`target_requirement`) and may
    add a PD-1-axis inhibition of killing (`pd1_inhibition`)."""

    agent_class = TCell
    columns = {"divisions": (np.int32, 0), "activated_h": (np.float64, -np.inf), "engagements": (np.int32, 0),
               "load": (np.float64, 0.0), "nkg2a": (np.float64, 0.0), "exhausted": (bool, False),
               "target": (np.int64, -1), "bound_until_h": (np.float64, -np.inf)}

    def __init__(self, model, params: TCellParams, influx_per_d: float = 0.0):
        super().__init__(model, params, death_per_d=1.0 / params.lifespan_d, speed_um_per_min=params.speed_um_per_min,
                         engaged_speed_um_per_min=params.engaged_speed_um_per_min, influx_per_d=influx_per_d)
        self.drug = TCellDrugResponse(params)

    def exhaustion(self, rows: np.ndarray) -> np.ndarray:
        """The checkpoint load over its threshold, 0-1 (1: terminally exhausted)."""
        return exhaustion_level(self.store["load"][rows], self.store["exhausted"][rows], self.params.exhaustion_load)

    def act(self, rows: np.ndarray, targets: np.ndarray) -> None:
        """Bound cells stay; an engaging cell keeps its target while it lives beside it, the others engage the target
        next to them (a new one adds checkpoint load) and may kill it, or, with none, recover load; then activated
        cells may divide."""
        m, p, store, cancer = self.model, self.params, self.store, self.model.cancer
        now = m.time_h
        bound = now < store["bound_until_h"][rows]
        targets = np.where(bound, -1, self._held_targets(rows, targets))
        t = np.maximum(targets, 0)
        # What engaging its target would do to each cell, kept only for those whose target is still there.
        new = (targets >= 0) & (targets != store["target"][rows])
        engagements = store["engagements"][rows] + new
        load = store["load"][rows] + new * (1.0 - p.checkpoint_drug_max_reduction * self.drug.checkpoint)
        exhausted = store["exhausted"][rows] | (new & (load >= p.exhaustion_load))
        exhaustion = exhaustion_level(load, exhausted, p.exhaustion_load)
        rise = p.nkg2a_per_engagement * (1.0 + (p.nkg2a_blockade_factor - 1.0) * m.therapy.pd1_blockade)
        nkg2a = np.where(new & (engagements > p.nkg2a_rise_after),
                         np.minimum(1.0, store["nkg2a"][rows] + rise), store["nkg2a"][rows])
        x, y = store["x"][rows], store["y"][rows]
        hazard = t_cell_kill_hazard(
            p, antigen=self.target_requirement()[t], impairment=self.drug.impairment, exhaustion=exhaustion,
            pd1_blockade=m.therapy.pd1_blockade, tgfb=m.fields["tgfb"][x, y], nkg2a=nkg2a, hla_e=cancer.hla_e(t),
            nkg2a_blockade=m.therapy.nkg2a_blockade,
            suppression=0.0 if m.suppression is None else m.suppression.t_cells[x, y],
        )
        if self.drug.granzyme != 1.0:
            hazard = hazard * self.drug.granzyme
        inhibition = self.pd1_inhibition(t, exhaustion)
        if inhibition is not None:
            hazard = hazard * (1.0 - inhibition)
        kills, gone = self.contact(targets, hazard)
        engaging = (targets >= 0) & ~gone
        idle = ~bound & ~engaging
        e = rows[engaging]
        store["engagements"][e], store["load"][e] = engagements[engaging], load[engaging]
        store["exhausted"][e], store["nkg2a"][e] = exhausted[engaging], nkg2a[engaging]
        store["activated_h"][e] = now
        store["target"][e] = np.where(kills[engaging], -1, targets[engaging])
        store["bound_until_h"][rows[kills]] = now + p.synapse_time_h
        store["target"][rows[idle]] = -1
        resting = rows[idle & ~store["exhausted"][rows]]  # a terminally exhausted cell does not recover
        store["load"][resting] = np.maximum(0.0, store["load"][resting] - p.load_recovery_per_d * self.dt_h / 24.0)
        store["engaged"][rows] = bound | engaging
        cancer.kill(targets[kills], self.label)
        self._divide(rows)

    def pd1_inhibition(self, targets: np.ndarray, exhaustion: np.ndarray) -> np.ndarray | None:
        """The share of killing the PD-1 axis blocks for each cell on its target (cancer rows), 0-1; None: none
        (CAR-T cells: their PD-1 acts through the exhaustion penalty, `t_cell_kill_hazard`)."""
        return None

    def _held_targets(self, rows: np.ndarray, drawn: np.ndarray) -> np.ndarray:
        """Each cell's target this step: the one it engaged last step if that cell still lives next to it, else
        the one drawn among its neighbours (`drawn`)."""
        store, cancer = self.store, self.model.cancer
        held = store["target"][rows]
        h = np.maximum(held, 0)
        # (A row freed by a death may be reused by a newborn cell: the antigen is checked again.)
        keep = ((held >= 0) & cancer.store["alive"][h] & (self.target_requirement()[h] > 0)
                & (np.abs(cancer.x[h] - store["x"][rows]) <= 1) & (np.abs(cancer.y[h] - store["y"][rows]) <= 1))
        return np.where(keep, held, drawn)

    def _divide(self, rows: np.ndarray) -> None:
        """Activated, not terminally exhausted, lineage not spent: divide into a free neighbouring site, in turn
        order, at a rate that falls with exhaustion and with suppressor cells near it; a daughter takes part of its
        mother's load."""
        p, store, m = self.params, self.store, self.model
        able = (~store["exhausted"][rows] & (store["divisions"][rows] < p.max_divisions)
                & (m.time_h - store["activated_h"][rows] <= p.activation_window_h))
        rate = np.log(2.0) / p.division_time_h * (1.0 - self.drug.impairment) * (1.0 - self.exhaustion(rows))
        if m.suppression is not None:
            rate = rate * (1.0 - m.suppression.t_cells[store["x"][rows], store["y"][rows]])
        draws = m.rng.random(len(rows))
        parents = rows[able & (draws < per_step_probability(rate, self.dt_h))]
        if not len(parents):
            return
        sites = claim_free_neighbours(self.sites(parents), m.grid.empty.data & m.placeable, m.rng)
        placed = sites[:, 0] >= 0
        mothers, sites = parents[placed], sites[placed]
        if not len(mothers):
            return
        store["divisions"][mothers] += 1
        self.add(sites, divisions=store["divisions"][mothers], activated_h=store["activated_h"][mothers],
                 load=p.exhaustion_inheritance * store["load"][mothers])
        self.events["divisions"] += len(mothers)

    def target_requirement(self) -> np.ndarray:
        """Over cancer rows: the level of what this type recognises (> 0: a target)."""
        raise NotImplementedError

    def stop_mask(self) -> np.ndarray | None:
        """Next to a cancer cell this type recognises (the others are never targets)."""
        return self.model.near_cancer(self.target_requirement())

    def secretion(self) -> list[tuple[np.ndarray, dict[str, float]]]:
        rate = self.params.ifng_per_h * (1.0 - self.drug.impairment)
        return [(self.sites_where("engaged"), {"ifng": rate})]
