"""Neutrophils (biology.md, "Neutrophil"): short-lived cells whose influx follows the blood count (the marrow
model, `host.marrow`: drug neutropenia comes with the marrow's maturation delay), and which can die making a NET —
deposited chromatin that feeds cancer growth and shields it from killing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..host.marrow import MarrowParams, relative_anc
from ..params import ASSUMED, param, section
from ..rules import drug_effect, hill, per_step_probability
from ..space import count_neighbours
from .immune import ImmuneCell, ImmuneParams, ImmunePopulation


class NeutrophilParams(ImmuneParams):
    influx_per_d: float = param(
        0.0, unit="cells/d", source="scenario: entry next to vessels at the baseline blood count (scaled by it)", ge=0
    )
    lifespan_d: float = param(1.0, unit="d", source=f"tissue lifespan; {ASSUMED}", gt=0)
    speed_um_per_min: float = param(10.0, unit="µm/min", source="biology.md", ge=0)
    marrow: MarrowParams = section(MarrowParams, "neutrophil production and the blood count (Friberg model)")
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
    """Instant suppression of NET formation (the drug's effect on supply is the marrow's, `host.marrow`)."""

    params: NeutrophilParams
    net_suppression: float = 0.0

    def update(self, conc_nM: float) -> None:
        p = self.params
        self.net_suppression = p.net_drug_max_suppression * drug_effect(conc_nM, p.net_drug_ec50_nM, 1.0)


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
        # The blood count over the whole run (relative to baseline, at each step's end): the plasma curve is known.
        self.blood_anc = relative_anc(params.marrow, model.plan.selinexor.nM, model.n_steps, model.dt_h)
        # Influx over step s (1-based) follows the count over it: the mean of its two ends.
        self._influx_factor = 0.5 * (self.blood_anc[:-1] + self.blood_anc[1:])

    def anc_relative(self) -> float:
        """The blood neutrophil count relative to baseline at the end of the current step."""
        return float(self.blood_anc[min(self.model.steps, len(self.blood_anc) - 1)])

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
        """Influx in proportion to the blood count, over this step (the mean of its ends)."""
        step = min(max(self.model.steps, 1), len(self._influx_factor))
        super().recruit(factor * self._influx_factor[step - 1])

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
