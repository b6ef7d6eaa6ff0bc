"""Adoptive cells in the blood, CAR-T and NK: the multiphasic cellular kinetics of the population models fitted to
patients' blood levels. CAR-T expansion is driven by the antigen the tissue section still holds; NK expansion by the
cytokines (IL-15) that lymphodepletion releases, not by antigen. Cells home from blood into the section next to its
vessels (`cells/immune.py`, `ImmunePopulation.home`) and, if `egress_per_d` > 0, leave it back into the blood.

The published models (Stein 2019 for tisagenlecleucel; the TRANSCEND model for lisocabtagene maraleucel in large
B-cell lymphoma) describe the blood level in phases:
- a lag after infusion;
- exponential expansion until the peak (Tmax);
- contraction of the effectors;
- a small memory pool that persists for months.

Here the CAR-T expansion is the same programme, but it runs only while there is antigen to drive it. The section
stands for the tumour, so its antigen-positive cancer cells, relative to their count at the infusion, are the
stimulus `s`:
    expanding (lag ≤ t ≤ Tmax):  dE/dt = [ρ·(1 − I)·s − α·(1 − s)]·E,   dM/dt = f·α·(1 − s)·E − β·M
    otherwise:                   dE/dt = −α·E,                           dM/dt = f·α·E − β·M
with `s = A/(A + K)` for the relative antigen burden `A` (CAR-T), or s = 1 (NK: cytokine-driven); t is counted from
the first infusion into blood. E and M are blood levels (cells/µL). I is selinexor's impairment of CAR-T
proliferation at the step's plasma level, the same rule that slows division in the tissue (0 for NK cells). A
fraction f of the effectors leaving the effector pool become memory cells (Stein's fraction surviving into the slow
phase). `s` and I are held over a model step, so a step is solved exactly
by exponentials (`advance`).
"""

from __future__ import annotations

import math

from ..params import ASSUMED, Params, param, section

STEIN = "Stein 2019 CPT Pharmacometrics Syst Pharmacol 8:285 (tisagenlecleucel, B-ALL)"
TRANSCEND = "liso-cel population cellular kinetics, TRANSCEND NHL 001 (Clin Pharmacokinet 2021, LBCL)"
KIMMEL = "Kimmel 2021 Proc R Soc B 288:20210229 (axi-cel, ZUMA-1 blood counts)"
MILLER = "Miller 2005 Blood 105:3051 (haploidentical NK cells after Cy/Flu and IL-2)"
BACHANOVA = "Bachanova 2014 Blood 123:3855 (haploidentical NK cells after Cy/Flu and IL-2, refractory AML)"
TORCELLAN = "Torcellan 2017 PNAS 114:5677 (photolabelled tumour-infiltrating T cells leave tumours)"


class CarTKineticsParams(Params):
    """CAR-T blood kinetics (defaults: CD19 CAR-T in large B-cell lymphoma)."""

    blood_fraction_at_infusion: float = param(
        0.01, unit="1", source=f"{KIMMEL}: the first blood level, 0.36 cells/µL, is about 1 % of the dose spread over "
                               "5 L (1.8e8 cells); the rest leave the blood within hours", gt=0, le=1,
    )
    expansion_lag_d: float = param(3.27, unit="d", source=f"{TRANSCEND}: lag 3.27 d (2.71-3.97)", ge=0, le=60)
    time_to_peak_d: float = param(9.29, unit="d", source=f"{TRANSCEND}: Tmax 9.29 d (8.81-9.70)", gt=0, le=120)
    expansion_doubling_d: float = param(
        0.755, unit="d", source=f"{TRANSCEND}: doubling time 0.755 d (0.667-0.821)", gt=0
    )
    contraction_half_life_d: float = param(
        5.0, unit="d", source=f"{TRANSCEND}: initial decline half-life 5.0 d (4.15-5.90)", gt=0
    )
    memory_fraction: float = param(
        0.0079, unit="1", source=f"{STEIN}: 0.79 % survive into the slow phase (no LBCL value published)", ge=0, le=1,
    )
    memory_half_life_d: float = param(352.0, unit="d", source=f"{TRANSCEND}: terminal half-life 352 d (241-647)", gt=0)
    antigen_half_max: float = param(
        0.1, unit="1", source=f"antigen burden, relative to the infusion's, that drives half the expansion; {ASSUMED}",
        gt=0,
    )
    lymphodepleted: bool = param(
        True, unit="-", source="fludarabine + cyclophosphamide before the infusion, as in every approved CD19 CAR-T "
                               "label")
    expansion_without_lymphodepletion: float = param(
        0.5, unit="x", source="expansion rate without lymphodepletion, relative: lower (Turtle 2016 Sci Transl Med; "
                              f"Kochenderfer 2017: IL-15 after Flu/Cy tracks the peak); size {ASSUMED}", gt=0, le=1,
    )
    homing_per_d: float = param(
        7e-5, unit="cells/d per vessel-side site per (cell/µL)",
        source=f"{ASSUMED}: a median ZUMA-1 blood course (peak ~35 cells/µL at day 7-14, {KIMMEL}; 5-year report) "
               "brings a 2 × 2 mm section about the tissue route's default 10 cells over its first two weeks; "
               "radiolabelled TIL reach 0.0021 % of the dose per gram of tumour (Pockaj 1994 Cancer), the same "
               "order for a section of 0.08 mg after a 250-fold expansion", ge=0,
    )
    chemokine_half_max: float = param(
        0.2, unit="a.u.", source=f"chemokine at a vessel that doubles homing there (x (1 + H)); {ASSUMED}", gt=0,
    )
    egress_per_d: float = param(
        0.0, unit="1/d", source=f"rate at which a cell on a vessel-side site leaves the section for the blood; "
                                f"tumour-infiltrating T cells do leave tumours, a regulated minority ({TORCELLAN}); "
                                f"off by default, the rate is {ASSUMED}", ge=0, le=24,
    )


class NKKineticsParams(Params):
    """Adoptive NK cells in the blood (defaults: haploidentical NK cells after Cy/Flu lymphodepletion). Their
    expansion is driven by the IL-15 that lymphodepletion releases, not by antigen (s = 1)."""

    blood_fraction_at_infusion: float = param(
        0.01, unit="1", source=f"as for CAR-T cells ({KIMMEL}); no NK value published, {ASSUMED}", gt=0, le=1,
    )
    expansion_lag_d: float = param(
        2.0, unit="d", source=f"IL-15 peaks in the first week after Cy/Flu ({MILLER}); {ASSUMED}", ge=0, le=60,
    )
    time_to_peak_d: float = param(
        14.0, unit="d", source=f"{MILLER}, {BACHANOVA}: expansion read on day 14 after the infusion", gt=0, le=120,
    )
    expansion_doubling_d: float = param(
        1.4, unit="d", source=f"{BACHANOVA}: a median 1,000 donor NK cells/µL in the patients whose cells expanded; "
                              "from ~2.5 cells/µL after a dose of 2e7/kg (dose and 1 % in the blood assumed) that "
                              f"is about 8.5 doublings between the lag and day 14; {ASSUMED}", gt=0,
    )
    contraction_half_life_d: float = param(
        7.0, unit="d", source="blood NK cells turn over with a half-life under 10 d (Zhang 2007 Immunology); "
                              f"persistence ≥ 7 d predicts response ({BACHANOVA}); {ASSUMED}", gt=0,
    )
    memory_fraction: float = param(
        0.0, unit="1", source="conventional NK products do not persist beyond weeks; memory-like (IL-12/15/18) NK "
                              "cells persist for months (Bednarski 2022 Blood 139:1670): set > 0 for those", ge=0, le=1,
    )
    memory_half_life_d: float = param(
        90.0, unit="d", source=f"memory-like NK cells persist > 3 months (Bednarski 2022); {ASSUMED}", gt=0,
    )
    lymphodepleted: bool = param(True, unit="-", source=f"Cy/Flu before the infusion ({MILLER})")
    expansion_without_lymphodepletion: float = param(
        0.05, unit="x", source=f"{MILLER}: donor NK cells expanded only after high-dose Cy/Flu, not after "
                               f"lower-intensity regimens; size {ASSUMED}", gt=0, le=1,
    )
    homing_per_d: float = param(
        7e-5, unit="cells/d per vessel-side site per (cell/µL)",
        source=f"as for CAR-T cells (blood.car_t.homing_per_d); {ASSUMED}", ge=0,
    )
    chemokine_half_max: float = param(
        0.2, unit="a.u.", source=f"as for CAR-T cells; {ASSUMED}", gt=0,
    )
    egress_per_d: float = param(
        0.0, unit="1/d", source=f"as for CAR-T cells: off by default, {ASSUMED}", ge=0, le=24,
    )


Kinetics = CarTKineticsParams | NKKineticsParams


class BloodParams(Params):
    """The patient's blood: volume and weight for doses per kg, and the adoptive cells in it."""

    volume_l: float = param(5.0, unit="L", source="adult blood volume, as in QSP-IO's central compartment (5 L)",
                            gt=0, le=10)
    body_weight_kg: float = param(70.0, unit="kg", source=f"an adult; {ASSUMED}", gt=0, le=300)
    car_t: CarTKineticsParams = section(CarTKineticsParams, "CAR-T cells in the blood")
    nk: NKKineticsParams = section(NKKineticsParams, "adoptive NK cells in the blood")


class BloodPool:
    """Effector and memory cells of one adoptive product in the blood (cells/µL), advanced one model step at a time."""

    def __init__(self, kinetics: Kinetics, blood: BloodParams):
        p = kinetics
        self.params, self.blood = p, blood
        self.effector = 0.0
        self.memory = 0.0
        self.infused_h: float | None = None  # the first infusion into the blood starts the expansion programme
        self.doublings = 0.0  # the expansion so far, in doublings of the effectors (the lineage's divisions)
        self.growth_per_d = math.log(2.0) / p.expansion_doubling_d
        if not p.lymphodepleted:
            self.growth_per_d *= p.expansion_without_lymphodepletion
        self.contraction_per_d = math.log(2.0) / p.contraction_half_life_d
        self.memory_loss_per_d = math.log(2.0) / p.memory_half_life_d

    @property
    def per_ul(self) -> float:
        """Cells of this product per µL of blood."""
        return self.effector + self.memory

    def infuse(self, cells_per_kg: float, now_h: float) -> None:
        """A dose joins the effectors; the share that is still in the blood after the first hours is counted."""
        cells = cells_per_kg * self.blood.body_weight_kg
        self.effector += cells * self.params.blood_fraction_at_infusion / (self.blood.volume_l * 1e6)
        if self.infused_h is None:
            self.infused_h = now_h

    def receive(self, cells: int) -> None:
        """Cells that left the section join the effectors (a section's cells are a tiny share of the blood's)."""
        self.effector += cells / (self.blood.volume_l * 1e6)

    def stimulus(self, antigen_relative: float | None) -> float:
        """s = A/(A + K): how much of the expansion programme the remaining antigen drives, 0-1; 1 for a product
        whose expansion antigen does not drive (`antigen_relative` None, NK cells)."""
        if antigen_relative is None:
            return 1.0
        a = max(antigen_relative, 0.0)
        return a / (a + self.params.antigen_half_max)

    def advance(self, start_h: float, dt_h: float, antigen_relative: float | None, impairment: float = 0.0) -> None:
        """One step from `start_h`, with the stimulus held over it. `impairment` (0-1) is selinexor's impairment of
        CAR-T proliferation at this step's level (`cells/car_t.py`, the rule that slows division in the tissue):
        the expansion rate is × (1 − impairment). Where the step crosses a phase boundary (the lag's end or the
        peak) it is solved in pieces."""
        if self.infused_h is None:  # only cells that left the section, if any: they contract
            if self.per_ul > 0.0:
                self._solve(dt_h / 24.0, 0.0, False, 1.0)
            return
        if start_h + dt_h <= self.infused_h:
            return
        p, s = self.params, self.stimulus(antigen_relative)
        t0_d = max(start_h - self.infused_h, 0.0) / 24.0  # (a step the infusion falls within counts from it)
        t1_d = (start_h + dt_h - self.infused_h) / 24.0
        cuts = sorted({t0_d, t1_d, *(b for b in (p.expansion_lag_d, p.time_to_peak_d) if t0_d < b < t1_d)})
        for a, b in zip(cuts[:-1], cuts[1:]):
            expanding = p.expansion_lag_d <= a and b <= p.time_to_peak_d
            self._solve(b - a, s if expanding else 0.0, expanding, 1.0 - impairment)

    def _solve(self, days: float, s: float, expanding: bool, proliferation: float) -> None:
        """Exact solution of the linear pair over `days` at a constant stimulus and proliferation factor."""
        p = self.params
        leaving = self.contraction_per_d * ((1.0 - s) if expanding else 1.0)
        rate = (self.growth_per_d * proliferation * s if expanding else 0.0) - leaving  # the effectors' net rate
        to_memory = p.memory_fraction * leaving  # per effector per day
        e0, m0 = self.effector, self.memory
        self.effector = e0 * math.exp(rate * days)
        self.doublings += max(rate, 0.0) * days / math.log(2.0)
        beta = self.memory_loss_per_d
        # dM/dt = c·e0·e^{rate·t} − β·M: the particular solution e0·c·(e^{rate·t} − e^{−β·t})/(rate + β).
        if abs(rate + beta) > 1e-12:
            gained = to_memory * e0 * (math.exp(rate * days) - math.exp(-beta * days)) / (rate + beta)
        else:
            gained = to_memory * e0 * days * math.exp(-beta * days)
        self.memory = m0 * math.exp(-beta * days) + gained
