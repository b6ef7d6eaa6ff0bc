"""Pharmacodynamics: how drug concentration becomes an effect that cells read.

An effect that needs time to build up (a surface protein) goes through an effect compartment
dE/dt = (E(C) − E)/τ (biology.md). Over one step the concentration is taken at the step's midpoint and
held, so the update is the exact solution for that concentration and does not depend on dt beyond that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..rules import drug_effect


@dataclass
class EffectCompartment:
    ec50_nM: float
    hill_n: float
    tau_h: float
    value: float = 0.0

    def advance(self, conc_nM: float, dt_h: float) -> float:
        target = drug_effect(conc_nM, self.ec50_nM, self.hill_n)
        self.value = target + (self.value - target) * math.exp(-dt_h / self.tau_h)
        return self.value
