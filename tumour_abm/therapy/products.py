"""What each therapy does (biology.md, "Other therapies"), as functions of time computed from its dated events.

Selinexor's plasma level comes from pharmacokinetics; antibody and blocker levels are occupancies that a dose
saturates and that then wane with the product's half-life; a BTK inhibitor acts while daily doses continue.
Cell infusions are the only events that change the tissue directly: they add cells next to vessels.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..cells.cancer import AntigenName
from ..params import ASSUMED, Params, param, section, variant
from .effects import TherapyEffects
from .pd import Xpo1Params
from .pk import DoseSeries, PKParams
from .schedule import DatedEvent


class AntibodyParams(Params):
    target_antigen: AntigenName = param("CD20", unit="-", source="anti-CD20 (biology.md)")
    fc_potency: float = param(1.0, unit="x rituximab", source="rituximab is the reference", gt=0)
    half_life_d: float = param(21.0, unit="d", source=f"bound antibody; {ASSUMED} (biology.md)", gt=0)


class BTKiParams(Params):
    nk_impairment: float = param(0.7, unit="1", source="ibrutinib impairs NK via off-target ITK, review [62,80]", ge=0, le=1)
    tumour_growth_factor: float = param(
        0.8, unit="x", source=f"BTK inhibitors slow B-cell tumour proliferation; {ASSUMED}", ge=0
    )
    effect_duration_h: float = param(
        24.0, unit="h", source=f"{ASSUMED}: a daily dose acts until the next (covalent BTK occupancy)", gt=0
    )


class BlockerParams(Params):
    occupancy: float = param(0.9, unit="1", source="anti-NKG2A occupancy while on (biology.md)", ge=0, le=1)
    half_life_d: float = param(14.0, unit="d", source=f"{ASSUMED}; review [76]", gt=0)


# What a T-cell engager bridges T cells to: a surface antigen, or the death receptor TRAIL-R2 (DR5).
EngagerTarget = Literal["CD20", "BCMA", "TRAIL-R2"]


class EngagerParams(Params):
    """A bispecific T-cell engager (target × CD3): bound to the target, it lets any T cell in contact kill the cell
    whatever its TCR recognises (CD8 T cells, `cells/cd8.py`)."""

    target: EngagerTarget = param("CD20", unit="-", source="CD20 × CD3 (mosunetuzumab-like)")
    occupancy: float = param(
        0.9, unit="1", source=f"bound engager on target cells while dosing continues at the target dose; {ASSUMED}",
        ge=0, le=1,
    )
    half_life_d: float = param(
        16.0, unit="d", source="mosunetuzumab: terminal half-life about 16 d at steady state (LUNSUMIO label, "
                               "section 12.3, as summarised in drug monographs)", gt=0,
    )


ObinutuzumabParams = variant(
    AntibodyParams, "ObinutuzumabParams",
    fc_potency=(1.5, f"glyco-engineered anti-CD20: ADCC x 1.5 vs rituximab ({ASSUMED}, biology.md)"),
)
DaratumumabParams = variant(AntibodyParams, "DaratumumabParams", target_antigen=("CD38", "anti-CD38 (biology.md)"))
AcalabrutinibParams = variant(
    BTKiParams, "AcalabrutinibParams",
    nk_impairment=(0.2, "more selective BTK inhibitor: NK impairment 0.2, partial restoration (review [62,80])"),
)
AntiPD1Params = variant(
    BlockerParams, "AntiPD1Params",
    occupancy=(1.0, f"anti-PD-1: full blockade while on; {ASSUMED}"),
    half_life_d=(25.0, f"{ASSUMED}: nivolumab-like 25 d"),
)
PembrolizumabParams = variant(
    BlockerParams, "PembrolizumabParams",
    occupancy=(1.0, f"anti-PD-1 at the labelled doses saturates PD-1 on blood T cells; full blockade {ASSUMED}"),
    half_life_d=(22.0, "KEYTRUDA label, section 12.3: terminal half-life 22 d (CV 32 %)"),
)
NivolumabParams = variant(
    BlockerParams, "NivolumabParams",
    occupancy=(1.0, f"anti-PD-1; full blockade {ASSUMED}"),
    half_life_d=(25.0, "OPDIVO label: terminal half-life 25 d"),
)
AtezolizumabParams = variant(
    BlockerParams, "AtezolizumabParams",
    occupancy=(1.0, f"anti-PD-L1: blocks the PD-1 axis from the ligand's side; full blockade {ASSUMED}"),
    half_life_d=(27.0, "TECENTRIQ label: terminal half-life 27 d"),
)


IpilimumabParams = variant(
    BlockerParams, "IpilimumabParams",
    occupancy=(1.0, f"anti-CTLA-4 at the labelled doses; full blockade {ASSUMED}"),
    half_life_d=(15.4, "YERVOY label, section 12.3: terminal half-life 15.4 d"),
)
EpcoritamabParams = variant(
    EngagerParams, "EpcoritamabParams",
    half_life_d=(22.0, "epcoritamab: 22-25 d by dosing interval (EPKINLY; Health Canada monograph)"),
)
ElranatamabParams = variant(
    EngagerParams, "ElranatamabParams",
    target=("BCMA", "BCMA × CD3"),
    half_life_d=(22.0, "elranatamab: 22 d at 76 mg (ELREXFIO; Health Canada monograph)"),
)
TrailR2CD3Params = variant(
    EngagerParams, "TrailR2CD3Params",
    target=("TRAIL-R2", "TRAIL-R2 × CD3 (Satta 2019 Front Immunol 10:2514; with selinexor, Martini 2020 Cells "
                        "9:2231, review [90]); TRAIL-R2 read as the cells' TRAIL-R level"),
    half_life_d=(14.0, f"preclinical, no human PK: an IgG-like engager; {ASSUMED}"),
)


class ProductParams(Params):
    """Parameters of each product; the schedule (when) is in the scenario's `therapy:` section."""

    selinexor_pk: PKParams = section(PKParams, "selinexor pharmacokinetics")
    selinexor_target: Xpo1Params = section(Xpo1Params, "selinexor's binding to XPO1 in tissue cells")
    rituximab: AntibodyParams = section(AntibodyParams, "anti-CD20")
    obinutuzumab: ObinutuzumabParams = section(ObinutuzumabParams, "glyco-engineered anti-CD20")
    daratumumab: DaratumumabParams = section(DaratumumabParams, "anti-CD38")
    ibrutinib: BTKiParams = section(BTKiParams, "first-generation BTK inhibitor")
    acalabrutinib: AcalabrutinibParams = section(AcalabrutinibParams, "second-generation BTK inhibitor")
    anti_nkg2a: BlockerParams = section(BlockerParams, "monalizumab")
    anti_pd1: AntiPD1Params = section(AntiPD1Params, "anti-PD-1 (a generic blocker)")
    pembrolizumab: PembrolizumabParams = section(PembrolizumabParams, "anti-PD-1")
    nivolumab: NivolumabParams = section(NivolumabParams, "anti-PD-1")
    atezolizumab: AtezolizumabParams = section(AtezolizumabParams, "anti-PD-L1")
    ipilimumab: IpilimumabParams = section(IpilimumabParams, "anti-CTLA-4")
    mosunetuzumab: EngagerParams = section(EngagerParams, "CD20 × CD3 T-cell engager")
    epcoritamab: EpcoritamabParams = section(EpcoritamabParams, "CD20 × CD3 T-cell engager")
    elranatamab: ElranatamabParams = section(ElranatamabParams, "BCMA × CD3 T-cell engager")
    trail_r2_cd3: TrailR2CD3Params = section(TrailR2CD3Params, "TRAIL-R2 × CD3 T-cell engager (preclinical)")


ANTIBODY_NAMES = ("rituximab", "obinutuzumab", "daratumumab")
# The DLBCL dose (60 mg twice weekly, SADAL; biology.md "Regimens"): the default a user starts from.
DLBCL_DOSE_MG = 60.0
# Above this, selinexor impairs T-cell signalling, proliferation and killing (Tyler 2017 Mol Cancer Ther; review [72]).
T_CELL_IMPAIRMENT_THRESHOLD_NM = 100.0
BTKI_NAMES = ("ibrutinib", "acalabrutinib")
# Antibodies that block the PD-1 axis, from the receptor's side or the ligand's: for the cells they act on, one
# blockade (B = 1 − Π(1 − occupancy) when several are given).
PD1_AXIS_BLOCKERS = ("anti_pd1", "pembrolizumab", "nivolumab", "atezolizumab")
T_CELL_ENGAGERS = ("mosunetuzumab", "epcoritamab", "elranatamab", "trail_r2_cd3")


class TherapyPlan:
    """A run's dated events and what they amount to at any time (hours on the model clock)."""

    def __init__(self, events: list[DatedEvent], products: ProductParams, start_day: float,
                 pk: PKParams | None = None):
        self.events = events
        self.products = products
        self.start_day = start_day
        self.pk = pk or products.selinexor_pk
        sel = [e for e in events if e.product == "selinexor"]
        self.selinexor = DoseSeries(self.hours([e.day for e in sel]), np.array([e.amount for e in sel]), self.pk)
        self._dose_hours = {
            name: self.hours([e.day for e in events if e.product == name and e.kind == "dose"])
            for name in {e.product for e in events}
        }
        self._cotherapy_given = any(len(h) for name, h in self._dose_hours.items() if name != "selinexor")

    def hours(self, days) -> np.ndarray:
        return (np.asarray(days, dtype=np.float64) - self.start_day) * 24.0

    def selinexor_nM(self, t_h: float) -> float:
        return float(self.selinexor.nM(t_h))

    def _since_last_dose_h(self, name: str, t_h: float) -> float | None:
        given = self._dose_hours.get(name)
        if given is None or not len(given) or given[0] > t_h:
            return None
        return float(t_h - given[given <= t_h].max())

    def _occupancy(self, name: str, t_h: float, at_dose: float, half_life_d: float) -> float:
        since = self._since_last_dose_h(name, t_h)
        return 0.0 if since is None else at_dose * 0.5 ** (since / (half_life_d * 24.0))

    def effects(self, t_h: float) -> TherapyEffects:
        """What the co-therapies do at time t: antibody coating, NKG2A and PD-1 blockade, BTK inhibition."""
        if not self._cotherapy_given:
            return TherapyEffects()  # none given: every effect neutral
        p = self.products
        opsonins: dict[str, float] = {}
        for name in ANTIBODY_NAMES:
            ab: AntibodyParams = getattr(p, name)
            bound = self._occupancy(name, t_h, 1.0, ab.half_life_d) * ab.fc_potency
            if bound:
                opsonins[ab.target_antigen] = opsonins.get(ab.target_antigen, 0.0) + bound
        nk_impairment, growth = 0.0, 1.0
        for name in BTKI_NAMES:
            btki: BTKiParams = getattr(p, name)
            since = self._since_last_dose_h(name, t_h)
            if since is not None and since < btki.effect_duration_h:
                nk_impairment = max(nk_impairment, btki.nk_impairment)
                growth = min(growth, btki.tumour_growth_factor)
        return TherapyEffects(
            opsonins=opsonins,
            nkg2a_blockade=self._occupancy("anti_nkg2a", t_h, p.anti_nkg2a.occupancy, p.anti_nkg2a.half_life_d),
            nk_impairment=nk_impairment,
            tumour_growth_factor=growth,
            pd1_blockade=self._combined(PD1_AXIS_BLOCKERS, t_h),
            ctla4_blockade=self._occupancy("ipilimumab", t_h, p.ipilimumab.occupancy, p.ipilimumab.half_life_d),
            engagers=self._engagers(t_h),
        )

    def _combined(self, names, t_h: float) -> float:
        """B = 1 − Π(1 − occupancy) over the products of `names` given (one alone: its occupancy, exactly)."""
        given = [(name, getattr(self.products, name)) for name in names if name in self._dose_hours]
        occupancies = [self._occupancy(name, t_h, product.occupancy, product.half_life_d) for name, product in given]
        if len(occupancies) <= 1:
            return occupancies[0] if occupancies else 0.0
        return 1.0 - float(np.prod([1.0 - o for o in occupancies]))

    def _engagers(self, t_h: float) -> dict[str, float]:
        """Bound T-cell engager on each target it bridges to (several on one target combine as blockers do)."""
        by_target: dict[str, list[str]] = {}
        for name in T_CELL_ENGAGERS:
            if name in self._dose_hours:
                by_target.setdefault(getattr(self.products, name).target, []).append(name)
        bound = {target: self._combined(names, t_h) for target, names in by_target.items()}
        return {target: b for target, b in bound.items() if b > 0.0}

    def warnings(self, time) -> list[str]:
        """What a user probably did not mean: a pre-treatment that still leaves drug above the T-cell threshold at
        the infusion it prepares for, and events outside the simulated days (they never happen)."""
        found = []
        for e in self.events:
            if e.kind == "infusion":
                level = self.selinexor_nM((e.day - self.start_day) * 24.0)
                if level > T_CELL_IMPAIRMENT_THRESHOLD_NM:
                    found.append(f"selinexor is {level:.0f} nM at the {e.product} infusion on day {e.day:g}, above the "
                                 f"{T_CELL_IMPAIRMENT_THRESHOLD_NM:g} nM that impairs T cells: is the washout too short?")
        late = [e for e in self.events if e.day > time.end_day]
        if late:
            found.append(f"{len(late)} therapy event(s) after the last simulated day ({time.end_day:g}) never happen, "
                         f"the first: {late[0].product} on day {late[0].day:g}")
        return found

    def infusions_between(self, after_h: float, until_h: float) -> list[DatedEvent]:
        """Infusions due in (after, until]: the ones a step ending at `until` must carry out."""
        return [e for e in self.events if e.kind == "infusion" and after_h < (e.day - self.start_day) * 24.0 <= until_h]
