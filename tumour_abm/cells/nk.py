"""NK cells (biology.md, "NK cell"): NKG2A-gated granzyme killing, slower TRAIL killing, ADCC, IFN-γ.

An NK cell weighs activating signals (natural, plus CD16 ADCC on antibody-coated targets) against inhibition
through NKG2A by the target's HLA-E. Granzyme killing uses one of a few granules per kill; a cell with none
left is exhausted for granzyme but still kills through death receptors (TRAIL), which NKG2A does not gate.
"""

from __future__ import annotations

import numpy as np

from ..params import ASSUMED, param
from ..rules import hill, per_step_probability
from .contact import kill_probability
from .immune import ImmuneCell, ImmuneParams, ImmunePopulation


class NKParams(ImmuneParams):
    influx_per_d: float = param(0.0, unit="cells/d", source="scenario: entry next to vessels", ge=0)
    lifespan_d: float = param(10.0, unit="d", source="PhysiCell immune cell lifespan (biology.md)", gt=0)
    speed_um_per_min: float = param(5.0, unit="µm/min", source="biology.md", ge=0)
    engaged_speed_um_per_min: float = param(0.0, unit="µm/min", source=f"{ASSUMED}: a cell in a synapse stays", ge=0)
    nkg2a_positive_fraction: float = param(0.5, unit="1", source=f"{ASSUMED} (biology.md)", ge=0, le=1)
    il10_nkg2a_conversion_per_d: float = param(
        0.1, unit="1/d", source=f"IL-10 induces NKG2A, review [101]; rate {ASSUMED}", ge=0
    )
    il10_half_max: float = param(0.5, unit="a.u.", source=ASSUMED, gt=0)
    adcc_gain: float = param(2.0, unit="1 per unit opsonisation", source=f"CD16 ADCC; {ASSUMED}", ge=0)
    nkg2a_inhibition_weight: float = param(0.8, unit="1", source=f"{ASSUMED} (biology.md granzyme rule)", ge=0)
    granzyme_kill_per_h: float = param(
        2.0, unit="1/h", source=f"{ASSUMED}; about half of early encounters kill (Ichise 2022 eLife)", ge=0
    )
    trail_kill_per_h: float = param(
        0.3, unit="1/h", source=f"{ASSUMED}; later NK kills are death-receptor mediated (Prager 2019 JEM)", ge=0
    )
    granules: int = param(5, unit="kills", source="serial killing capacity 5 (Kather immunoABM)", ge=0)
    tgfb_max_suppression: float = param(
        0.5, unit="1", source="M2 cytokines impede NK, review [51]; size per biology.md", ge=0, le=1
    )
    tgfb_half_max: float = param(0.5, unit="a.u.", source=ASSUMED, gt=0)
    ifng_per_h: float = param(
        600.0, unit="a.u./cell/h",
        source=f"activated NK cells secrete IFN-γ; {ASSUMED}: one cell's own site reaches ~0.5 a.u., the half-max", ge=0,
    )


def nk_kill_hazards(
    p: NKParams,
    *,
    nkg2a: float,
    hla_e: float,
    trail_r: float,
    opsonisation: float,
    tgfb: float,
    nk_impairment: float,
    nkg2a_blockade: float,
    has_granules: bool,
) -> tuple[float, float]:
    """(granzyme, TRAIL) killing hazards per hour of one NK cell on one target (biology.md)."""
    inhibition = nkg2a * hla_e * (1.0 - nkg2a_blockade)
    activation = (
        (1.0 + p.adcc_gain * opsonisation)
        * (1.0 - nk_impairment)
        * (1.0 - p.tgfb_max_suppression * hill(tgfb, p.tgfb_half_max))
    )
    granzyme = p.granzyme_kill_per_h * max(0.0, activation - p.nkg2a_inhibition_weight * inhibition)
    return (granzyme if has_granules else 0.0), p.trail_kill_per_h * trail_r * activation


class NKCell(ImmuneCell):
    def __init__(self, model, cell, pop: NKPopulation, nkg2a: bool, granules: int):
        super().__init__(model, cell, pop)
        self.nkg2a = nkg2a
        self.granules = granules
        self.active = False  # engaged a target with net activation: secretes IFN-γ

    @property
    def exhausted(self) -> bool:
        return self.granules <= 0

    def act(self, target: int | None) -> None:
        m, p = self.model, self.pop.params
        x, y = self.cell.coordinate
        cancer = m.cancer
        self.engaged = self.active = target is not None
        if target is None:
            return
        granzyme, trail = nk_kill_hazards(
            p,
            nkg2a=float(self.nkg2a),
            hla_e=float(cancer.hla_e(target)),
            trail_r=float(cancer.trail_r(target)),
            opsonisation=float(m.therapy.opsonisation(cancer.antigen, target)),
            tgfb=float(m.fields["tgfb"][x, y]),
            nk_impairment=m.therapy.nk_impairment,
            nkg2a_blockade=m.therapy.nkg2a_blockade,
            has_granules=not self.exhausted,
        )
        tx, ty = int(cancer.x[target]), int(cancer.y[target])
        p_kill = kill_probability(granzyme + trail, m.dt_h, m.fields["nets"][tx, ty], m.net_shield)
        if self.random.random() < p_kill:
            # Competing mechanisms: which one killed is in proportion to their hazards.
            if self.random.random() * (granzyme + trail) < granzyme:
                self.granules -= 1
                cancer.kill([target], "nk_granzyme")
            else:
                cancer.kill([target], "nk_trail")


class NKPopulation(ImmunePopulation):
    agent_class = NKCell
    label = "nk"

    def __init__(self, model, params: NKParams):
        super().__init__(model, params, death_per_d=1.0 / params.lifespan_d, speed_um_per_min=params.speed_um_per_min,
                         engaged_speed_um_per_min=params.engaged_speed_um_per_min, influx_per_d=params.influx_per_d)

    def initial_state(self) -> dict:
        return {"nkg2a": None, "granules": self.params.granules}

    def add(self, sites: np.ndarray, nkg2a: bool | None = None, nkg2a_fraction: float | None = None,
            granules: int | None = None) -> list[NKCell]:
        """NK cells at `sites`; NKG2A+ with the given fraction (default: the resident fraction) unless fixed."""
        fraction = self.params.nkg2a_positive_fraction if nkg2a_fraction is None else nkg2a_fraction
        flags = self.model.rng.random(len(sites)) < fraction if nkg2a is None else np.full(len(sites), nkg2a)
        g = self.params.granules if granules is None else granules
        grid = self.model.grid
        return [NKCell(self.model, grid[(int(x), int(y))], self, bool(f), g) for (x, y), f in zip(sites, flags)]

    def transitions(self, agents: list[NKCell], sites: np.ndarray) -> np.ndarray:
        """Natural death, and IL-10 turning NKG2A− cells NKG2A+ (review [101])."""
        alive = super().transitions(agents, sites)
        p = self.params
        il10 = self.model.fields["il10"][sites[:, 0], sites[:, 1]]
        rate = p.il10_nkg2a_conversion_per_d / 24.0 * hill(il10, p.il10_half_max)
        converts = alive & (self.model.rng.random(len(agents)) < per_step_probability(rate, self.dt_h))
        for i in np.flatnonzero(converts):
            agents[i].nkg2a = True
        return alive

    def stop_mask(self) -> np.ndarray:
        return self.model.near_cancer()

    def secretion(self) -> list[tuple[str, np.ndarray, float]]:
        active = [a.cell.coordinate for a in self.agents() if a.active]
        return [("ifng", np.array(active, dtype=np.int64).reshape(-1, 2), self.params.ifng_per_h)]
