"""Neutrophils (biology.md, "Neutrophil"): short-lived cells whose influx falls with delayed drug neutropenia,
and which can die making a NET — deposited chromatin that feeds cancer growth and shields it from killing."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..params import ASSUMED, param
from ..rules import hill, per_step_probability
from ..space import count_neighbours
from ..therapy.pd import EffectCompartment
from .immune import ImmuneCell, ImmuneParams, ImmunePopulation


class NeutrophilParams(ImmuneParams):
    influx_per_d: float = param(0.0, unit="cells/d", source="scenario: entry next to vessels", ge=0)
    lifespan_d: float = param(1.0, unit="d", source=f"tissue lifespan; {ASSUMED}", gt=0)
    speed_um_per_min: float = param(10.0, unit="µm/min", source="biology.md", ge=0)
    neutropenia_max: float = param(
        0.5, unit="1", source=f"selinexor neutropenia after 1-2 weeks, review [63,113]; size {ASSUMED}", ge=0, le=1
    )
    neutropenia_ec50_nM: float = param(100.0, unit="nM", source=ASSUMED, gt=0)
    neutropenia_hill: float = param(1.0, unit="1", source=ASSUMED, gt=0)
    neutropenia_tau_d: float = param(7.0, unit="d", source="neutropenia appears after 1-2 weeks, review [63,113]", gt=0)
    net_formation_per_h: float = param(0.05, unit="1/h", source=ASSUMED, ge=0)
    net_tgfb_half_max: float = param(0.5, unit="a.u.", source=f"H(TGF-β) drives NET formation; {ASSUMED}", gt=0)
    net_drug_max_suppression: float = param(
        0.616, unit="1", source="max 61.6 % NET suppression (Baron 2022 Front Pharmacol)", ge=0, le=1
    )
    net_drug_ec50_nM: float = param(300.0, unit="nM", source=ASSUMED, gt=0)
    net_deposit: float = param(
        1.0, unit="NET density (0-1)", source=f"{ASSUMED}: a NET covers its site and neighbours", gt=0, le=1
    )
    net_kill_shield: float = param(
        0.5, unit="1 per unit NET density", source=f"NETs shield cancer cells from immune killing; {ASSUMED}", ge=0, le=1
    )
    net_active_threshold: float = param(
        0.1, unit="NET density", source=f"{ASSUMED}: a site counts as covered by an active NET above this", gt=0
    )


@dataclass
class NeutrophilDrugResponse:
    """Delayed neutropenia (an effect compartment, τ = 7 d) and instant suppression of NET formation."""

    params: NeutrophilParams
    net_suppression: float = 0.0
    neutropenia: EffectCompartment = field(init=False)

    def __post_init__(self) -> None:
        p = self.params
        self.neutropenia = EffectCompartment(p.neutropenia_ec50_nM, p.neutropenia_hill, p.neutropenia_tau_d * 24.0)

    def update(self, conc_nM: float, dt_h: float) -> None:
        p = self.params
        self.net_suppression = p.net_drug_max_suppression * conc_nM / (p.net_drug_ec50_nM + conc_nM)
        self.neutropenia.advance(conc_nM, dt_h)

    @property
    def influx_factor(self) -> float:
        return 1.0 - self.params.neutropenia_max * self.neutropenia.value


class Neutrophil(ImmuneCell):
    """A neutrophil: it does not attack cancer cells; its life and NET formation are population transitions."""


class NeutrophilPopulation(ImmunePopulation):
    agent_class = Neutrophil
    label = "neutrophil"
    seeks_targets = False

    def __init__(self, model, params: NeutrophilParams):
        super().__init__(model, params, death_per_d=1.0 / params.lifespan_d, speed_um_per_min=params.speed_um_per_min,
                         engaged_speed_um_per_min=params.speed_um_per_min, influx_per_d=params.influx_per_d)
        self.drug = NeutrophilDrugResponse(params)

    def transitions(self, rows: np.ndarray) -> np.ndarray:
        """Natural death, or death making a NET: driven by TGF-β, suppressed by selinexor (Baron 2022)."""
        p, store = self.params, self.store
        x, y = store["x"][rows], store["y"][rows]
        rate = p.net_formation_per_h * hill(self.model.fields["tgfb"][x, y], p.net_tgfb_half_max)
        u = self.model.rng.random((2, len(rows)))
        dies = u[0] < self.death_p
        makes_net = ~dies & (u[1] < per_step_probability(rate * (1.0 - self.drug.net_suppression), self.dt_h))
        self.deposit_nets(x[makes_net], y[makes_net])
        gone = dies | makes_net
        self.remove_rows(rows[gone])
        return ~gone

    def recruit(self, factor: float = 1.0) -> None:
        super().recruit(factor * self.drug.influx_factor)

    def deposit_nets(self, xs: np.ndarray, ys: np.ndarray) -> None:
        """Each NET covers its dying cell's site and neighbours; density is a covered fraction, at most 1."""
        if not len(xs):
            return
        nets = self.model.fields["nets"]
        made = np.zeros(nets.shape, dtype=bool)
        made[xs, ys] = True  # one cell per site: at most one NET a site
        covering = count_neighbours(made) + made  # how many of this step's NETs cover each site
        np.minimum(nets + np.float32(self.params.net_deposit) * covering, 1.0, out=nets)
        self.events["nets_formed"] += len(xs)

    def nets_active(self) -> int:
        return int((self.model.fields["nets"] >= self.params.net_active_threshold).sum())
