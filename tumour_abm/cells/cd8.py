"""Endogenous CD8 T cells (biology.md, "CD8 T cells"): tumour-specific cytotoxic T cells that recognise a tumour
antigen on MHC class I (`cancer.t_cell_antigen`), recruited from the blood next to vessels, with the T-cell
mechanics they share with CAR-T cells (`t_cells.py`: serial killing through a held synapse, expansion on
engagement, a graded and partly inherited PD-1/LAG-3/TIM-3 load, NKG2A, selinexor's impairment).

What is their own is the PD-1 axis. A cell's PD-1 is its checkpoint load over its threshold (0-1); PD-L1 on the
target rises with local IFN-γ (`CancerPopulation.pd_l1`), the adaptive resistance the T cells' own IFN-γ brings on.
Engagement of the two blocks killing in proportion, PD-1 × PD-L1 × `pd1_inhibition_weight`, and anti-PD-1 lifts the
block in proportion to its occupancy (Jafarnejad 2019 AAPS J, QSP-IO: T-cell killing suppressed by a Hill function
of PD-1:PD-L1 complexes, here linear in either). The exhaustion penalty proper (loss of function with the load)
stays, without relief by anti-PD-1 (`pd1_exhaustion_relief` 0): blockade acts through PD-L1."""

from __future__ import annotations

import numpy as np

from ..params import ASSUMED, param, variant
from .t_cells import TCell, TCellParams, TCellPopulation

SPQSP = "spQSP-IO's NSCLC agent-based parameters (popellab/SPQSP_IO; Gong 2021 Cancers 13:3751)"

_CD8Defaults = variant(
    TCellParams, "_CD8Defaults",
    kill_per_h=(0.5, "in contact; a CTL in a tumour takes ~6 h per kill (Breart 2008 J Clin Invest, intravital), "
                     "2-16 kills a day in vivo (Halle 2016 Immunity), often after several sublethal hits (Weigelin "
                     "2021 Nat Commun); with the 6-h bound time after a kill, about one kill per 8 h; "
                     f"{ASSUMED}"),
    lifespan_d=(10.0, f"{SPQSP}: T-cell lifespan 10 ± 1.5 d"),
    division_time_h=(12.0, f"{SPQSP}: a division every 12 h while activated"),
    max_divisions=(7, f"{SPQSP}: at most 7 divisions"),
    granzyme_drug_gain=(0.3, "granzyme B rose in patients' CD3+ T cells on selinexor, most with pomalidomide and "
                             "dexamethasone (review [86]); granzyme B and IFN-γ up, not significantly, in B16 TILs "
                             f"([72]); killing × (1 + 0.3 × the checkpoint effect), size {ASSUMED}"),
    pd1_exhaustion_relief=(0.0, "anti-PD-1 acts through the PD-1:PD-L1 block (pd1_inhibition_weight), not by "
                                "undoing the exhaustion programme (Pauken 2016 Science)"),
)


class CD8Params(_CD8Defaults):
    influx_per_d: float = param(
        0.0, unit="cells/d", source="scenario: tumour-specific CD8 T cells entering next to vessels from the blood",
        ge=0,
    )
    ctla4_priming_gain: float = param(
        1.0, unit="1", source="anti-CTLA-4 broadens and enlarges the tumour-specific T-cell response primed in lymph "
                              "nodes (Kvistborg 2014 Sci Transl Med); influx × (1 + gain × occupancy), size "
                              f"{ASSUMED}", ge=0,
    )
    pd1_inhibition_weight: float = param(
        0.9, unit="1", source=f"PD-1:PD-L1 engagement suppresses CTL killing nearly fully at saturation (QSP-IO: "
                              f"killing × (1 − H_PD1), H 0.8 at twice its half-max; Jafarnejad 2019 AAPS J 21:79); "
                              f"{ASSUMED}", ge=0, le=1,
    )


class CD8Cell(TCell):
    """An endogenous CD8 T cell (its state: `TCell`)."""


class CD8Population(TCellPopulation):
    agent_class = CD8Cell
    label = "cd8"

    def __init__(self, model, params: CD8Params):
        super().__init__(model, params, influx_per_d=params.influx_per_d)
        self._requirement: tuple[tuple, np.ndarray] | None = None

    def recruit(self, factor: float = 1.0) -> None:
        """Influx from the blood, raised by anti-CTLA-4's priming of new tumour-specific T cells."""
        super().recruit(factor * (1.0 + self.params.ctla4_priming_gain * self.model.therapy.ctla4_blockade))

    def target_requirement(self) -> np.ndarray:
        """Over cancer rows: the tumour antigen the TCR sees, or a T-cell engager's bridge to its target (bound
        engager × the target's level) where that is stronger."""
        m = self.model
        engagers = m.therapy.engagers
        if not engagers:
            return m.cancer.store["t_cell_antigen"]
        key = (m.steps, m.cancer.store.births, m.cancer.store.capacity)
        if self._requirement is None or self._requirement[0] != key:
            bridge = sum(bound * m.cancer.surface_level(target) for target, bound in engagers.items())
            self._requirement = (key, np.maximum(m.cancer.store["t_cell_antigen"], bridge))
        return self._requirement[1]

    def pd1_inhibition(self, targets: np.ndarray, exhaustion: np.ndarray) -> np.ndarray:
        """PD-1 (the load over its threshold) × PD-L1 on the target × the weight, less under anti-PD-1."""
        blockade = self.model.therapy.pd1_blockade
        pd_l1 = self.model.cancer.pd_l1(targets)
        return self.params.pd1_inhibition_weight * exhaustion * pd_l1 * (1.0 - blockade)
