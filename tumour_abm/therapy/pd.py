"""Pharmacodynamics in tissue: selinexor binds XPO1, and what follows from the blocked nuclear export builds up
and fades on its own time scales (the drug-effect chain).

Target engagement: the bound fraction O of XPO1 follows  dO/dt = k_on·C·(1 − O) − k_off·O  (covalent but slowly
reversible binding; at a steady level C it settles at C/(C + EC50), EC50 = k_off/k_on). Recovery after the drug has
gone takes about a day, so effects outlast the plasma level (a dose every two to three days keeps XPO1 partly
blocked between doses). Downstream states (a cell type's own: apoptotic priming, HLA-E reduction, DR4/DR5 rise)
each relax towards O with their own time constant: dS/dt = (O − S)/τ. Over a step the plasma level is taken at the
step's midpoint and held, and both updates are the exact solutions for it, so they do not depend on dt beyond that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..params import ASSUMED, Params, param


class Xpo1Params(Params):
    """Selinexor's binding to XPO1 in tissue cells (one occupancy for every cell type)."""

    ec50_nM: float = param(
        100.0, unit="nM", source=f"{ASSUMED}: half of XPO1 bound at a steady 100 nM, where selinexor's effects on "
                                 "cells begin (Tyler 2017 Mol Cancer Ther; biology.md)", gt=0
    )
    recovery_half_life_h: float = param(
        24.0, unit="h", source=f"{ASSUMED}: slowly reversible covalent binding; export recovers over about a day "
                               "after washout", gt=0
    )


@dataclass
class Xpo1Occupancy:
    """The bound fraction of XPO1 (0-1), advanced exactly for a plasma level held over a step."""

    params: Xpo1Params
    value: float = 0.0

    def advance(self, conc_nM: float, dt_h: float) -> float:
        k_off = math.log(2.0) / self.params.recovery_half_life_h
        k_on_c = k_off * max(conc_nM, 0.0) / self.params.ec50_nM
        rate = k_on_c + k_off
        settled = k_on_c / rate
        self.value = settled + (self.value - settled) * math.exp(-rate * dt_h)
        return self.value


@dataclass
class LaggedState:
    """A downstream state that relaxes towards the occupancy with time constant tau_h (0-1)."""

    tau_h: float
    value: float = 0.0

    def advance(self, occupancy: float, dt_h: float) -> float:
        self.value = occupancy + (self.value - occupancy) * math.exp(-dt_h / self.tau_h)
        return self.value
