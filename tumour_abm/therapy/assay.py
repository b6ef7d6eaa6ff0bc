"""The co-culture setting: a well of cancer cells and effectors, as in the killing assays the review's NK and CAR-T
claims come from (Fisher 2021 Front Oncol, review [61]: 18 h of selinexor on the targets, then a 4-h NK co-culture;
Fisher 2023 Leukemia, review [62]; Wang 2021, review [105], CAR-T co-cultures).

The model and its parameters are the tissue's; only the setting differs. A well has no vessels, no blood and so no
recruitment; the targets are spread over the well and do not divide unless asked. The clock's day 0 is the start of
the co-culture: an optional pre-treatment of the targets at a fixed selinexor concentration runs before it (negative
times), the drug is then washed out (or kept at a co-culture concentration), and the effectors are added at the
ratio asked to the targets alive at that moment. Co-treatments (antibodies, anti-NKG2A, BTK inhibitors, TRAIL
blockade) are present throughout the co-culture at the levels a saturating concentration gives.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..params import Params, param, section
from .effects import TherapyEffects
from .products import ANTIBODY_NAMES, BTKI_NAMES, T_CELL_ENGAGERS, TherapyPlan

Effector = Literal["nk", "car_t", "cd8"]
CoTreatment = Literal["rituximab", "obinutuzumab", "daratumumab", "anti_nkg2a", "ibrutinib", "acalabrutinib",
                      "trail_blockade", "mosunetuzumab", "epcoritamab", "elranatamab", "trail_r2_cd3"]
MAX_ASSAY_H = 24.0 * 14  # two weeks: longer than any killing assay
MAX_ASSAY_NM = 100_000.0  # 100 µM: above any concentration a well is given (review [61]: up to 2 µM)


class PretreatmentParams(Params):
    """Selinexor on the targets before the effectors are added, then washed out."""

    hours: float = param(0.0, unit="h", source="scenario: 18 h in the NK assays of review [61,62]", ge=0,
                         le=MAX_ASSAY_H)
    selinexor_nM: float = param(0.0, unit="nM", source="scenario: 50-2000 nM in review [61]", ge=0, le=MAX_ASSAY_NM)


class CocultureParams(Params):
    hours: float = param(4.0, unit="h", source="scenario: a 4-h killing assay as in review [61]", gt=0,
                         le=MAX_ASSAY_H)
    effector: Effector = param("nk", unit="-", source="scenario: the killer cells added at day 0")
    effector_to_target: float = param(
        1.0, unit="effectors per target", source="scenario: E:T ratio, of the targets alive when the effectors are "
                                                 "added (review [61]: 1:1 to 10:1); 0: targets alone, the assay's "
                                                 "spontaneous-death control or a growth well", ge=0, le=100,
    )
    pretreatment: PretreatmentParams = section(PretreatmentParams, "selinexor on the targets before co-culture")
    selinexor_nM: float = param(0.0, unit="nM", source="scenario: selinexor kept in the co-culture (0: washed out)",
                                ge=0, le=MAX_ASSAY_NM)
    cotreatments: Annotated[tuple[CoTreatment, ...], Field(strict=False, max_length=7)] = param(
        (), unit="-", source="scenario: present throughout the co-culture (antibodies, blockers, BTK inhibitors)"
    )
    trail_blockade: float = param(
        1.0, unit="1", source="share of death-receptor (TRAIL/FasL) killing a blocking antibody removes, when "
                              "'trail_blockade' is a co-treatment; scenario", ge=0, le=1,
    )
    growth: bool = param(False, unit="-", source="scenario: whether targets divide during the assay (a 4-h assay "
                                                 "is shorter than a division)")


class AssayPlan(TherapyPlan):
    """Drug level and co-treatment effects of a well: fixed concentrations by phase, no doses or infusions."""

    def __init__(self, coculture: CocultureParams, products, start_day: float):
        super().__init__([], products, start_day)
        self.coculture = coculture
        self._zero_h = coculture.pretreatment.hours  # the co-culture's start, in hours since the run began

    def selinexor_nM(self, t_h: float) -> float:
        c = self.coculture
        return c.pretreatment.selinexor_nM if t_h < self._zero_h else c.selinexor_nM

    def effects(self, t_h: float) -> TherapyEffects:
        c, p = self.coculture, self.products
        growth = 1.0 if c.growth else 0.0  # targets that do not divide in the well
        if t_h < self._zero_h:
            return TherapyEffects(tumour_growth_factor=growth)
        given = set(c.cotreatments)
        opsonins: dict[str, float] = {}
        for name in ANTIBODY_NAMES:
            if name in given:  # a saturating concentration: every antigen bound
                ab = getattr(p, name)
                opsonins[ab.target_antigen] = opsonins.get(ab.target_antigen, 0.0) + ab.fc_potency
        btkis = [getattr(p, name) for name in BTKI_NAMES if name in given]
        impairment = max((b.nk_impairment for b in btkis), default=0.0)
        growth = min([growth, *(b.tumour_growth_factor for b in btkis)])
        return TherapyEffects(
            opsonins=opsonins,
            nkg2a_blockade=p.anti_nkg2a.occupancy if "anti_nkg2a" in given else 0.0,
            nk_impairment=impairment,
            tumour_growth_factor=growth,
            death_receptor_blockade=c.trail_blockade if "trail_blockade" in given else 0.0,
            # An engager in the well at a saturating concentration: its dosed occupancy throughout.
            engagers={engager.target: engager.occupancy
                      for engager in (getattr(p, name) for name in T_CELL_ENGAGERS if name in given)},
        )

