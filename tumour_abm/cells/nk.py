"""NK cells (biology.md, "NK cell"): NKG2A-gated granzyme killing, slower TRAIL killing, ADCC, IFN-γ.

An NK cell weighs activating signals (natural, plus CD16 ADCC on antibody-coated targets) against inhibition
through NKG2A by the target's HLA-E. Granzyme killing uses one of a few granules per kill; a cell with none
left is exhausted for granzyme but still kills through death receptors (TRAIL), which NKG2A does not gate.
"""

from __future__ import annotations

import numpy as np

from ..params import ASSUMED, param
from ..rules import hill, per_step_probability
from .columns import column_attribute
from .immune import ImmuneCell, ImmuneParams, ImmunePopulation


class NKParams(ImmuneParams):
    influx_per_d: float = param(0.0, unit="cells/d", source="scenario: entry next to vessels", ge=0)
    lifespan_d: float = param(10.0, unit="d", source="PhysiCell immune cell lifespan (biology.md)", gt=0)
    speed_um_per_min: float = param(5.0, unit="µm/min", source="biology.md", ge=0)
    engaged_speed_um_per_min: float = param(0.0, unit="µm/min", source=f"{ASSUMED}: a cell in a synapse stays", ge=0)
    nkg2a_positive_fraction: float = param(0.5, unit="1", source=f"{ASSUMED} (biology.md)", ge=0, le=1)
    il10_nkg2a_conversion_per_d: float = param(
        0.1, unit="1/d", source=f"IL-10 induces NKG2A, review [101]; rate {ASSUMED}", ge=0
    )
    il10_half_max: float = param(0.5, unit="a.u.", source=ASSUMED, gt=0)
    adcc_gain: float = param(2.0, unit="1 per unit opsonisation", source=f"CD16 ADCC; {ASSUMED}", ge=0)
    nkg2a_inhibition_weight: float = param(0.8, unit="1", source=f"{ASSUMED} (biology.md granzyme rule)", ge=0)
    granzyme_kill_per_h: float = param(
        2.0, unit="1/h", source=f"{ASSUMED}; about half of early encounters kill (Ichise 2022 eLife)", ge=0
    )
    trail_kill_per_h: float = param(
        0.3, unit="1/h", source=f"{ASSUMED}; later NK kills are death-receptor mediated (Prager 2019 JEM)", ge=0
    )
    granules: int = param(5, unit="kills", source="serial killing capacity 5 (Kather immunoABM)", ge=0)
    tgfb_max_suppression: float = param(
        0.5, unit="1", source="M2 cytokines impede NK, review [51]; size per biology.md", ge=0, le=1
    )
    tgfb_half_max: float = param(0.5, unit="a.u.", source=ASSUMED, gt=0)
    ifng_per_h: float = param(
        600.0, unit="a.u./cell/h",
        source=f"activated NK cells secrete IFN-γ; {ASSUMED}: one cell's own site reaches ~0.5 a.u., the half-max", ge=0,
    )


def nk_kill_hazards(
    p: NKParams,
    *,
    nkg2a,
    hla_e,
    trail_r,
    opsonisation,
    tgfb,
    nk_impairment: float,
    nkg2a_blockade: float,
    has_granules,
):
    """(granzyme, TRAIL) killing hazards per hour of NK cells on their targets (biology.md); scalars or arrays."""
    inhibition = nkg2a * hla_e * (1.0 - nkg2a_blockade)
    activation = (
        (1.0 + p.adcc_gain * opsonisation)
        * (1.0 - nk_impairment)
        * (1.0 - p.tgfb_max_suppression * hill(tgfb, p.tgfb_half_max))
    )
    granzyme = p.granzyme_kill_per_h * np.maximum(0.0, activation - p.nkg2a_inhibition_weight * inhibition)
    granzyme, trail = np.where(has_granules, granzyme, 0.0), p.trail_kill_per_h * trail_r * activation
    return (float(granzyme), float(trail)) if np.ndim(granzyme) == 0 else (granzyme, trail)


class NKCell(ImmuneCell):
    """An NK cell: NKG2A+ or not, with the granules it has left; active (secreting IFN-γ) while it engages a
    target."""

    nkg2a = column_attribute("nkg2a", bool, "NKG2A+ (inhibited by HLA-E)")
    granules = column_attribute("granules", int, "granzyme kills left")

    @property
    def active(self) -> bool:
        return self.engaged

    @property
    def exhausted(self) -> bool:
        return self.granules <= 0


class NKPopulation(ImmunePopulation):
    agent_class = NKCell
    label = "nk"
    columns = {"nkg2a": (bool, False), "granules": (np.int32, 0)}

    def __init__(self, model, params: NKParams):
        super().__init__(model, params, death_per_d=1.0 / params.lifespan_d, speed_um_per_min=params.speed_um_per_min,
                         engaged_speed_um_per_min=params.engaged_speed_um_per_min, influx_per_d=params.influx_per_d)

    def new_state(self, n: int, nkg2a_fraction: float | None = None) -> dict:
        """Resident NK cells are NKG2A+ with the resident fraction; infused products bring their own."""
        fraction = self.params.nkg2a_positive_fraction if nkg2a_fraction is None else nkg2a_fraction
        return {"nkg2a": self.model.rng.random(max(n, 0)) < fraction, "granules": self.params.granules}

    def infuse(self, sites: np.ndarray, nkg2a_fraction: float) -> np.ndarray:
        return self.add(sites, **self.new_state(len(sites), nkg2a_fraction))

    def transitions(self, rows: np.ndarray) -> np.ndarray:
        """Natural death, and IL-10 turning NKG2A− cells NKG2A+ (review [101])."""
        alive = super().transitions(rows)
        p, store = self.params, self.store
        negative = rows[alive & ~store["nkg2a"][rows]]  # only these can convert
        il10 = self.model.fields["il10"][store["x"][negative], store["y"][negative]]
        rate = p.il10_nkg2a_conversion_per_d / 24.0 * hill(il10, p.il10_half_max)
        converts = self.model.rng.random(len(negative)) < per_step_probability(rate, self.dt_h)
        store["nkg2a"][negative[converts]] = True
        return alive

    def act(self, rows: np.ndarray, targets: np.ndarray) -> None:
        """Each NK cell weighs its target's signals; a kill is by granzyme or TRAIL in proportion to their hazards.
        Only the cells next to a target are computed (in their turn order)."""
        m, p, store, cancer = self.model, self.params, self.store, self.model.cancer
        store["engaged"][rows] = False
        meets = targets >= 0
        rows, targets = rows[meets], targets[meets]
        if not len(rows):
            return
        granzyme, trail = nk_kill_hazards(
            p,
            nkg2a=store["nkg2a"][rows].astype(np.float64),
            hla_e=cancer.hla_e(targets),
            trail_r=cancer.trail_r(targets),
            opsonisation=m.therapy.opsonisation(cancer.antigen, targets),
            tgfb=m.fields["tgfb"][store["x"][rows], store["y"][rows]],
            nk_impairment=m.therapy.nk_impairment,
            nkg2a_blockade=m.therapy.nkg2a_blockade,
            has_granules=store["granules"][rows] > 0,
        )
        total = granzyme + trail
        kills, gone = self.contact(targets, total)
        store["engaged"][rows] = ~gone
        # Competing mechanisms: which one killed is in proportion to their hazards.
        by_granzyme = kills & (m.rng.random(len(rows)) * total < granzyme)
        store["granules"][rows[by_granzyme]] -= 1
        cancer.kill(targets[by_granzyme], "nk_granzyme")
        cancer.kill(targets[kills & ~by_granzyme], "nk_trail")

    def stop_mask(self) -> np.ndarray | None:
        return self.model.near_cancer()

    def secretion(self) -> list[tuple[np.ndarray, dict[str, float]]]:
        return [(self.sites_where("engaged"), {"ifng": self.params.ifng_per_h})]  # engaged NK cells are active
