"""Macrophages (biology.md, "Macrophage"): M1/M2 polarisation driven by IL-10, TGF-β, IFN-γ and selinexor,
selinexor's depletion of M2 cells, cytokine secretion, and M1 phagocytosis boosted by antibodies (ADCP)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import ASSUMED, param
from ..rules import hill, per_step_probability
from .columns import column_attribute
from .immune import ImmuneCell, ImmuneParams, ImmunePopulation


class MacrophageParams(ImmuneParams):
    influx_per_d: float = param(0.0, unit="cells/d", source="scenario: entry next to vessels", ge=0)
    m2_fraction: float = param(0.7, unit="1", source=f"{ASSUMED}: tumour-associated macrophages skew M2", ge=0, le=1)
    death_per_d: float = param(0.1, unit="1/d", source=ASSUMED, ge=0)
    speed_um_per_min: float = param(4.0, unit="µm/min", source="GBM PhysiCell model", ge=0)
    engaged_speed_um_per_min: float = param(0.4, unit="µm/min", source="GBM PhysiCell model", ge=0)
    m1_to_m2_per_d: float = param(0.25, unit="1/d", source="QSPIO NSCLC", ge=0)
    polarising_half_max: float = param(0.5, unit="a.u.", source=f"H(IL-10 + TGF-β); {ASSUMED}", gt=0)
    m2_to_m1_per_d: float = param(0.02, unit="1/d", source="QSPIO", ge=0)
    drug_repolarisation_per_d: float = param(
        0.5, unit="1/d", source="selinexor shifts M2 → M1, review [55]; size per biology.md", ge=0
    )
    ifng_repolarisation_per_d: float = param(
        0.2, unit="1/d", source=f"IFN-γ favours M1, review [55]; {ASSUMED}", ge=0
    )
    ifng_half_max: float = param(0.5, unit="a.u.", source=ASSUMED, gt=0)
    m2_drug_death_per_d: float = param(
        0.2, unit="1/d", source=f"selinexor depletes lymphoma-associated macrophages, review [54]; {ASSUMED}", ge=0
    )
    il10_per_h: float = param(
        20.0, unit="a.u./cell/h",
        source=f"M2 secrete IL-10; {ASSUMED}: ~150 M2 per 4 mm² keep IL-10 near its 0.5 a.u. half-maxima", ge=0,
    )
    tgfb_per_h: float = param(10.0, unit="a.u./cell/h", source=f"M2 secrete TGF-β; {ASSUMED}: half the IL-10 rate", ge=0)
    secretion_drug_max_reduction: float = param(
        0.5, unit="1", source="selinexor lowers IL-10, review [68,73] (biology.md)", ge=0, le=1
    )
    m1_ifng_per_h: float = param(
        300.0, unit="a.u./cell/h",
        source=f"M1 pro-inflammatory signal, drawn into the IFN-γ field; {ASSUMED}: half an active NK cell's", ge=0,
    )
    phagocytosis_per_h: float = param(0.05, unit="1/h", source=ASSUMED, ge=0)
    adcp_gain: float = param(2.0, unit="1 per unit opsonisation", source=f"antibody-dependent phagocytosis; {ASSUMED}", ge=0)
    il10_half_max: float = param(0.5, unit="a.u.", source=f"IL-10 inhibits phagocytosis; {ASSUMED}", gt=0)
    lilrb1_hypothesis: bool = param(
        False, unit="-", source="HLA-E inhibits phagocytosis via LILRB1/2, review [60]: a hypothesis, off by default"
    )
    lilrb1_hla_e_half_max: float = param(1.0, unit="relative HLA-E", source=ASSUMED, gt=0)


@dataclass
class MacrophageDrugResponse:
    params: MacrophageParams
    effect: float = 0.0  # E_mac

    def update(self, occupancy: float) -> None:
        """Selinexor's effect on macrophages follows XPO1 occupancy (`therapy.pd`)."""
        self.effect = occupancy


def phagocytosis_per_h(p: MacrophageParams, *, opsonisation, il10, hla_e):
    """M1 phagocytosis hazard of targets: antibody coating helps, IL-10 (and, if switched on, HLA-E) inhibits."""
    rate = p.phagocytosis_per_h * (1.0 + p.adcp_gain * opsonisation) * (1.0 - hill(il10, p.il10_half_max))
    if p.lilrb1_hypothesis:
        rate = rate * (1.0 - hill(hla_e, p.lilrb1_hla_e_half_max))
    return rate


class Macrophage(ImmuneCell):
    m2 = column_attribute("m2", bool, "M2 (pro-tumour) rather than M1")


class MacrophagePopulation(ImmunePopulation):
    agent_class = Macrophage
    label = "macrophage"
    columns = {"m2": (bool, False)}

    def __init__(self, model, params: MacrophageParams):
        super().__init__(model, params, death_per_d=params.death_per_d, speed_um_per_min=params.speed_um_per_min,
                         engaged_speed_um_per_min=params.engaged_speed_um_per_min, influx_per_d=params.influx_per_d)
        self.drug = MacrophageDrugResponse(params)

    def new_state(self, n: int) -> dict:
        return {"m2": self.model.rng.random(n) < self.params.m2_fraction}

    def transitions(self, rows: np.ndarray) -> np.ndarray:
        """Death (M2 also by selinexor depletion) and M1 ⇄ M2 polarisation from the local cytokines and the drug."""
        p, e_mac, f, store = self.params, self.drug.effect, self.model.fields, self.store
        x, y = store["x"][rows], store["y"][rows]
        m2 = store["m2"][rows]
        death_per_d = p.death_per_d + np.where(m2, p.m2_drug_death_per_d * e_mac, 0.0)
        to_m1 = (p.m2_to_m1_per_d + p.drug_repolarisation_per_d * e_mac
                 + p.ifng_repolarisation_per_d * hill(f["ifng"][x, y], p.ifng_half_max))
        to_m2 = p.m1_to_m2_per_d * (1.0 + hill(f["il10"][x, y] + f["tgfb"][x, y], p.polarising_half_max))
        u = self.model.rng.random((2, len(rows)))
        dies = u[0] < per_step_probability(death_per_d / 24.0, self.dt_h)
        switches = ~dies & (u[1] < per_step_probability(np.where(m2, to_m1, to_m2) / 24.0, self.dt_h))
        store["m2"][rows[switches]] = ~m2[switches]
        self.remove_rows(rows[dies])
        return ~dies

    def act(self, rows: np.ndarray, targets: np.ndarray) -> None:
        """M1 cells phagocytose a neighbouring cancer cell; M2 cells do not attack. Only M1 cells next to a target
        are computed (in their turn order)."""
        m, p, store, cancer = self.model, self.params, self.store, self.model.cancer
        store["engaged"][rows] = False
        meets = (targets >= 0) & ~store["m2"][rows]
        rows, targets = rows[meets], targets[meets]
        if not len(rows):
            return
        rate = phagocytosis_per_h(
            p,
            opsonisation=m.therapy.opsonisation(cancer.antigen, targets),
            il10=m.fields["il10"][store["x"][rows], store["y"][rows]],
            hla_e=cancer.hla_e(targets) if p.lilrb1_hypothesis else 0.0,
        )
        kills, gone = self.contact(targets, rate)
        store["engaged"][rows] = ~gone
        cancer.kill(targets[kills], "macrophage")

    def stop_mask(self) -> np.ndarray | None:
        return self.model.near_cancer()

    def secretion(self) -> list[tuple[np.ndarray, dict[str, float]]]:
        p = self.params
        cut = 1.0 - p.secretion_drug_max_reduction * self.drug.effect
        m2, m1 = self.sites_where("m2", True), self.sites_where("m2", False)
        return [(m2, {"il10": p.il10_per_h * cut, "tgfb": p.tgfb_per_h * cut}), (m1, {"ifng": p.m1_ifng_per_h})]
