"""Suppressor cells (biology.md, "Tregs and MDSCs"): regulatory T cells and myeloid-derived suppressor cells that
kill nothing themselves but weaken the effector T cells (CAR-T and CD8) and NK cells near them.

Both are drawn from the blood by the tumour's chemokines (Tregs by CCL22, Curiel 2004 Nat Med; MDSCs by CCL2 and
CXCL chemokines, Gabrilovich 2012 Nat Rev Immunol): a Poisson number per step in proportion to the vessel-side
sites' mean H(chemokine). Suppression is local: each site's suppression is s_max × n / (n + n½) over the
suppressors within `reach_um`, each type's combined as independent (1 − Π(1 − s)); an effector's killing, and a T
cell's division, are × (1 − S) at its site (`LocalSuppression`). Tregs act by contact and consumption of IL-2 in a
cell's neighbourhood (Sakaguchi 2008 Cell); MDSCs through arginase, NO and ROS, which reach a little further
(Gabrilovich 2012).

Selinexor and these cells (review [56,58,72]): Treg infiltration is left unaltered at twice-weekly dosing ([72]):
Tregs have no drug response. MDSC suppression falls with XPO1 occupancy ([56]); selinexor also increased MDSC
infiltration in a melanoma model ([58]) — contradictory evidence, so the second effect is a switch, off by default.
Anti-CTLA-4 depletes intratumoral Tregs (Fc-mediated, in mice; `ctla4_depletion_per_d`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import ASSUMED, param, variant
from ..rules import hill, per_step_probability
from ..space import box_count
from .immune import ImmuneCell, ImmuneParams, ImmunePopulation


class SuppressorParams(ImmuneParams):
    """What Tregs and MDSCs share; the defaults are the Treg's (MDSCs set their own)."""

    influx_per_d: float = param(
        0.0, unit="cells/d", source="scenario: entry next to vessels at saturating chemokine (× mean H(chemokine) of "
                                    "the vessel-side sites)", ge=0,
    )
    chemokine_half_max: float = param(
        0.1, unit="a.u.", source=f"recruitment by tumour chemokine; {ASSUMED}: about the level next to vessels by a "
                                 "1,000-cell mass (0.05-0.2 a.u.), so that recruitment follows the tumour", gt=0,
    )
    lifespan_d: float = param(
        10.0, unit="d", source=f"as effector T cells (spQSP-IO 10 d); human memory Tregs divide every ~8 d and "
                               f"are prone to apoptosis (Vukmanovic-Stejic 2006 J Clin Invest); {ASSUMED}", gt=0,
    )
    speed_um_per_min: float = param(5.0, unit="µm/min", source="as T cells (biology.md)", ge=0)
    reach_um: float = param(
        20.0, unit="µm", source=f"contact and local IL-2 consumption: the neighbouring sites; {ASSUMED}", ge=0,
        le=200,
    )
    half_max_cells: float = param(
        1.0, unit="cells within reach",
        source=f"one Treg among a cell's neighbours gives half the maximum; {ASSUMED}", gt=0,
    )
    t_cell_max_suppression: float = param(
        0.8, unit="1", source="Treg suppression of responder proliferation grows with Treg number, near-complete at "
                              "1:1 in mice (Thornton 1998 J Exp Med), 60 ± 5 % at 1:1 in melanoma patients (Javia "
                              f"2003 J Immunother); applied to killing as to division, {ASSUMED}", ge=0, le=1,
    )
    nk_max_suppression: float = param(
        0.5, unit="1", source=f"Tregs inhibit NK cytotoxicity through membrane TGF-β (Ghiringhelli 2005 J Exp Med); "
                              f"size {ASSUMED}", ge=0, le=1,
    )
    ctla4_depletion_per_d: float = param(
        0.3, unit="1/d at full anti-CTLA-4 occupancy",
        source="Fc-mediated depletion of intratumoral Tregs by anti-CTLA-4 in mice, several-fold within days (Simpson "
               "2013 J Exp Med; Selby 2013 Cancer Immunol Res); not seen in human tumours (Sharma 2019 Clin Cancer "
               f"Res): set 0 for that reading; {ASSUMED}", ge=0,
    )


class TregParams(SuppressorParams):
    """Regulatory T cells (the shared defaults are theirs)."""


_MDSCDefaults = variant(
    SuppressorParams, "_MDSCDefaults",
    lifespan_d=(2.0, "tumour MDSCs are short-lived, turning over in days (Condamine 2014 J Clin Invest); "
                     f"{ASSUMED}"),
    speed_um_per_min=(4.0, "as macrophages (GBM PhysiCell model), myeloid cells"),
    reach_um=(40.0, f"arginase depletes arginine and NO diffuses a few cell diameters (Gabrilovich 2012); {ASSUMED}"),
    half_max_cells=(2.0, f"MDSC suppression in vitro is strong at 1:1 and fades over 1:4-1:8 (Youn 2008 J Immunol): "
                         f"two MDSCs within reach give half the maximum; {ASSUMED}"),
    t_cell_max_suppression=(0.8, "MDSCs suppress T-cell proliferation strongly at 1:1 in vitro (Youn 2008 J Immunol); "
                                 f"applied to killing as to division, {ASSUMED}"),
    nk_max_suppression=(0.5, f"MDSCs inhibit NK cytotoxicity through membrane TGF-β (Li 2009 J Immunol); size "
                             f"{ASSUMED}"),
    ctla4_depletion_per_d=(0.0, "anti-CTLA-4 depletes CTLA-4-high Tregs, not MDSCs"),
)


class MDSCParams(_MDSCDefaults):
    drug_max_reduction: float = param(
        0.5, unit="1", source=f"selinexor blunts MDSC suppression (review [56]; Table 2) × XPO1 occupancy; size "
                              f"{ASSUMED}", ge=0, le=1,
    )
    selinexor_raises_infiltration: bool = param(
        False, unit="-", source="selinexor increased MDSC infiltration in B16 melanoma (review [58]); against "
                                "[56,59], so a hypothesis switch, off by default",
    )
    infiltration_drug_gain: float = param(
        1.0, unit="1", source=f"recruitment × (1 + gain × XPO1 occupancy) when switched on; size {ASSUMED}", ge=0,
    )


class Treg(ImmuneCell):
    """A regulatory T cell: it suppresses effector cells near it."""


class MDSC(ImmuneCell):
    """A myeloid-derived suppressor cell: it suppresses effector cells near it."""


class SuppressorPopulation(ImmunePopulation):
    seeks_targets = False

    def __init__(self, model, params: SuppressorParams):
        super().__init__(model, params, death_per_d=1.0 / params.lifespan_d, speed_um_per_min=params.speed_um_per_min,
                         engaged_speed_um_per_min=params.speed_um_per_min, influx_per_d=params.influx_per_d)
        self.reach_sites = int(round(params.reach_um / model.spec.grid.site_um))

    def recruit(self, factor: float = 1.0) -> None:
        """Influx in proportion to the tumour chemokine next to vessels (the mean H over the vessel-side sites)."""
        if self.influx_per_step <= 0 or not len(self.model.entry_sites):
            return
        m = self.model
        chemokine = m.fields["chemokine"][m.entry_sites[:, 0], m.entry_sites[:, 1]]
        super().recruit(factor * float(np.mean(hill(chemokine, self.params.chemokine_half_max))))

    def potency(self) -> float:
        """The share of its maximal suppression this type exerts now (1: full)."""
        return 1.0

    def suppression(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(over T cells, over NK cells) at every site, from the cells within reach; None without cells."""
        if not self.count():
            return None
        p = self.params
        mask = np.zeros(self.model.vessels.shape, dtype=bool)
        sites = self.sites(self.store.rows())
        mask[sites[:, 0], sites[:, 1]] = True
        n = box_count(mask, self.reach_sites)
        saturation = self.potency() * n / (n + p.half_max_cells)
        return p.t_cell_max_suppression * saturation, p.nk_max_suppression * saturation


class TregPopulation(SuppressorPopulation):
    agent_class = Treg
    label = "treg"

    def transitions(self, rows: np.ndarray) -> np.ndarray:
        """Natural death, and depletion under anti-CTLA-4 in proportion to its occupancy."""
        rate_per_d = 1.0 / self.params.lifespan_d + self.params.ctla4_depletion_per_d * self.model.therapy.ctla4_blockade
        dies = self.model.rng.random(len(rows)) < per_step_probability(rate_per_d / 24.0, self.dt_h)
        self.remove_rows(rows[dies])
        return ~dies


@dataclass
class MDSCDrugResponse:
    """Selinexor on MDSCs, following XPO1 occupancy (`therapy.pd`), as on macrophages."""

    params: MDSCParams
    occupancy: float = 0.0

    def update(self, occupancy: float) -> None:
        self.occupancy = occupancy


class MDSCPopulation(SuppressorPopulation):
    agent_class = MDSC
    label = "mdsc"

    def __init__(self, model, params: MDSCParams):
        super().__init__(model, params)
        self.drug = MDSCDrugResponse(params)

    def potency(self) -> float:
        return 1.0 - self.params.drug_max_reduction * self.drug.occupancy

    def recruit(self, factor: float = 1.0) -> None:
        p = self.params
        gain = 1.0 + p.infiltration_drug_gain * self.drug.occupancy if p.selinexor_raises_infiltration else 1.0
        super().recruit(factor * gain)


@dataclass
class LocalSuppression:
    """The suppression effector cells meet at each site (0-1), combined over the suppressor types present."""

    t_cells: np.ndarray
    nk: np.ndarray

    @classmethod
    def of(cls, populations) -> LocalSuppression | None:
        """None when no suppressor cell is in the section (effectors then read no map)."""
        maps = [s for s in (population.suppression() for population in populations) if s is not None]
        if not maps:
            return None
        (t_cells, nk), *others = maps
        for t, n in others:  # what escapes each: the product of (1 − s)
            t_cells, nk = 1.0 - (1.0 - t_cells) * (1.0 - t), 1.0 - (1.0 - nk) * (1.0 - n)
        return cls(t_cells=t_cells, nk=nk)
