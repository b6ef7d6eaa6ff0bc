"""What the active co-therapies are doing at this moment, as the cells read it.

Therapy products (antibodies, BTK inhibitors, checkpoint blockers) set these values as they are given and
wane; cells only read them. With no therapy every value is neutral, so the cell rules need no special case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class TherapyEffects:
    # antigen → bound antibody (occupancy × the product's Fc potency); opsonisation = Σ this × antigen level
    opsonins: dict[str, float] = field(default_factory=dict)
    nkg2a_blockade: float = 0.0  # fraction of NKG2A occupied by anti-NKG2A (monalizumab)
    nk_impairment: float = 0.0  # BTK-inhibitor impairment of NK activation (off-target ITK)
    tumour_growth_factor: float = 1.0  # BTK-inhibitor slowing of B-cell tumour proliferation
    pd1_blockade: float = 0.0  # anti-PD-1 exposure, 0..1
    ctla4_blockade: float = 0.0  # anti-CTLA-4 occupancy, 0..1 (Treg depletion, priming)
    # target (an antigen, or "TRAIL-R2") → bound T-cell engager (occupancy): T cells redirected to cells bearing it
    engagers: dict[str, float] = field(default_factory=dict)
    death_receptor_blockade: float = 0.0  # share of NK death-receptor (TRAIL/FasL) killing blocked (assays)

    def opsonisation(self, antigen: dict[str, np.ndarray], rows: np.ndarray | int) -> np.ndarray | float:
        """Antibody coating of cancer cells: bound antibody × the cell's level of that antigen, summed."""
        total = 0.0
        for name, bound in self.opsonins.items():
            if bound:
                total = total + bound * antigen[name][rows]
        return total
