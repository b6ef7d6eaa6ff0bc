"""NK cells (biology.md, "NK cell"): killing as imaged in time-lapse assays, NKG2A:HLA-E gating, ADCC, IFN-γ.

An NK cell in contact with a target kills it through one of three paths (Prager 2019 JEM):
- granule exocytosis (perforin/granzyme), the fast, main path: it weighs activating signals against inhibition
  through NKG2A by the target's HLA-E, and needs a granule load; a cell holds a few kills' worth, kills serially, and
  re-makes them over days;
- ADCC: CD16 on antibody-coated targets adds activation to the same granule path (the kill is counted as ADCC in the
  share the antibody added);
- death receptors (TRAIL, FasL): slow (hours of contact), not gated by NKG2A, not raised by CD16, and limited: a cell
  has a small death-receptor budget that recovers slowly.
After a kill a cell detaches and cannot kill again for a refractory time. A contact lasts one step (30 min, about
an NK-target conjugate's life in time-lapse imaging): each step a cell next to cancer cells engages one of them at
random, so a slow path's hazard accrues over contacts. Engagements (contacts) and kills are counted by path and by
NKG2A status, so that kills per engagement can be read.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..params import ASSUMED, param
from ..rules import hill, per_step_probability
from .columns import column_attribute
from .immune import ImmuneCell, ImmuneParams, ImmunePopulation

SERIAL = ("serial killing of ~4-7 targets, then days to re-make perforin and granzyme (Bhat & Watzl 2007 PLoS One; "
          "Prager 2019 JEM)")
NK_PATHS = ("granzyme", "adcc", "trail")  # the NK kill paths as counted; "trail": death receptors (TRAIL, FasL)
NKG2A_STATES = ("nkg2a_pos", "nkg2a_neg")  # how NK contacts and kills are split
# What each path spends (its contacts are counted armed when the cell has one kill's worth of it): the granule load
# or the death-receptor budget.
ARMED_BY = {"granzyme": "armed", "adcc": "armed", "trail": "receptor_armed"}
ONE_KILL = 1.0  # kills: a granule load or budget below one kill's worth cannot kill
SPENDS_GRANULES = np.array([ARMED_BY[name] == "armed" for name in NK_PATHS])  # by path index (else: the budget)


class NKParams(ImmuneParams):
    influx_per_d: float = param(0.0, unit="cells/d", source="scenario: entry next to vessels", ge=0)
    lifespan_d: float = param(
        10.0, unit="d", source="PhysiCell immune cell lifespan; human blood NK half-life < 10 d (Zhang 2007 Immunology)",
        gt=0,
    )
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
    granules: float = param(5.0, unit="kills", source=f"granule load of a rested cell: {SERIAL}; 5 (Kather immunoABM)",
                            ge=0, le=100)
    granule_regen_per_d: float = param(
        1.0, unit="kills/d", source=f"re-synthesis of the granule load with IL-2/IL-15 support (IL-2 re-fills the "
                                    f"granules of cells exhausted by serial killing, Bhat & Watzl 2007 PLoS One); "
                                    f"1 kill's worth a day {ASSUMED} (0.5-2 /d)", ge=0,
    )
    cytokine_support: float = param(
        0.1, unit="1", source=f"share of the IL-2/IL-15-supported re-making rate (granules and death-receptor "
                              f"budget) available in the tissue: no cytokine given, homeostatic IL-15 only; {ASSUMED} "
                              "(0: cells stay exhausted after their serial kills, 1: as in culture with IL-2)",
        ge=0, le=1,
    )
    kill_refractory_h: float = param(
        1.0, unit="h", source=f"after a kill a cell detaches and re-arms before it can kill again; {ASSUMED} (serial "
                              "kills in time-lapse imaging follow each other within hours)", ge=0,
    )
    trail_kill_per_h: float = param(
        0.3, unit="1/h", source=f"death-receptor kills need hours of contact (Prager 2019 JEM); {ASSUMED}", ge=0
    )
    death_receptor_kills: float = param(
        1.0, unit="kills", source="without perforin an NK cell killed once through death receptors (Prager 2019 JEM)",
        ge=0, le=100,
    )
    death_receptor_regen_per_d: float = param(
        0.5, unit="kills/d", source=f"re-making of the death-receptor budget with IL-2/IL-15 support; {ASSUMED}", ge=0
    )
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
    has_death_receptor=True,
    death_receptor_blockade: float = 0.0,
    suppression=0.0,
):
    """(granzyme, ADCC, death receptor) killing hazards per hour of NK cells on their targets (biology.md); scalars
    or arrays. Granule killing is natural activation plus CD16 activation against NKG2A inhibition; the share the
    antibody adds is ADCC. Impairment (BTK inhibitors), TGF-β and suppressor cells near the NK cell (`suppression`,
    `suppressors.py`) weaken both granules and death receptors; a blocking antibody (an assay's TRAIL blockade)
    removes its share of the death-receptor path."""
    fitness = (1.0 - nk_impairment) * (1.0 - p.tgfb_max_suppression * hill(tgfb, p.tgfb_half_max)) * (1.0 - suppression)
    inhibition = p.nkg2a_inhibition_weight * nkg2a * hla_e * (1.0 - nkg2a_blockade)
    natural = p.granzyme_kill_per_h * np.maximum(0.0, fitness - inhibition)
    granule = p.granzyme_kill_per_h * np.maximum(0.0, fitness * (1.0 + p.adcc_gain * opsonisation) - inhibition)
    granzyme = np.where(has_granules, natural, 0.0)
    adcc = np.where(has_granules, granule - natural, 0.0)
    death_receptor = np.where(has_death_receptor,
                              p.trail_kill_per_h * trail_r * fitness * (1.0 - death_receptor_blockade), 0.0)
    if np.ndim(granzyme) == 0:
        return float(granzyme), float(adcc), float(death_receptor)
    return granzyme, adcc, death_receptor


class NKCell(ImmuneCell):
    """An NK cell: NKG2A+ or not, with the granule load and death-receptor budget it has left; active (secreting
    IFN-γ) while it engages a target."""

    nkg2a = column_attribute("nkg2a", bool, "NKG2A+ (inhibited by HLA-E)")
    granules = column_attribute("granules", float, "granule load, in kills")
    kills = column_attribute("kills", int, "cancer cells this cell has killed")

    @property
    def active(self) -> bool:
        return self.engaged

    @property
    def exhausted(self) -> bool:
        return self.granules < ONE_KILL


class NKPopulation(ImmunePopulation):
    agent_class = NKCell
    label = "nk"
    columns = {"nkg2a": (bool, False), "granules": (np.float32, 0.0), "death_receptor": (np.float32, 0.0),
               "refractory_until_h": (np.float64, -np.inf), "kills": (np.int32, 0)}

    def __init__(self, model, params: NKParams):
        super().__init__(model, params, death_per_d=1.0 / params.lifespan_d, speed_um_per_min=params.speed_um_per_min,
                         engaged_speed_um_per_min=params.engaged_speed_um_per_min, influx_per_d=params.influx_per_d)
        # Contacts over (NKG2A status, armed, receptor-armed) and kills over (path, NKG2A status), cumulative; read as
        # `engagements` and `kills_by`.
        self._contacts = np.zeros((2, 2, 2), dtype=np.int64)
        self._kills = np.zeros((len(NK_PATHS), 2), dtype=np.int64)
        self.most_kills = 0  # the most cancer cells one NK cell has killed
        self.killers = 0  # NK cells that have killed at least once
        self._blood_dose_per_kg = 0.0  # NK cells given into the blood so far, and their NKG2A+ fraction
        self._blood_nkg2a_fraction = params.nkg2a_positive_fraction

    def new_state(self, n: int, nkg2a_fraction: float | None = None) -> dict:
        """Resident NK cells are NKG2A+ with the resident fraction; infused products bring their own. Cells enter
        rested (a full granule load and death-receptor budget)."""
        p = self.params
        fraction = p.nkg2a_positive_fraction if nkg2a_fraction is None else nkg2a_fraction
        return {"nkg2a": self.model.rng.random(max(n, 0)) < fraction, "granules": p.granules,
                "death_receptor": p.death_receptor_kills}

    def infuse(self, sites: np.ndarray, nkg2a_fraction: float) -> np.ndarray:
        return self.add(sites, **self.new_state(len(sites), nkg2a_fraction))

    def into_blood(self, cells_per_kg: float, nkg2a_fraction: float) -> None:
        """A dose into the blood: the cells homing from it carry its NKG2A+ fraction (averaged over the doses
        given, by cells)."""
        given = self._blood_dose_per_kg
        self._blood_dose_per_kg = given + cells_per_kg
        self._blood_nkg2a_fraction = (self._blood_nkg2a_fraction * given + nkg2a_fraction * cells_per_kg) / (
            self._blood_dose_per_kg)

    def recruit(self, factor: float = 1.0) -> None:
        """Resident influx (`influx_per_d`), then egress to and homing from the blood of an adoptive product given
        into it; homed cells carry the product's NKG2A+ fraction."""
        super().recruit(factor)
        pool = self.model.blood_nk
        self.egress(pool)
        self.home(pool, lambda n: self.new_state(n, self._blood_nkg2a_fraction))

    def transitions(self, rows: np.ndarray) -> np.ndarray:
        """Natural death, IL-10 turning NKG2A− cells NKG2A+ (review [101]), and the re-making of granules and of the
        death-receptor budget at the share of their IL-2/IL-15-supported rates the tissue offers."""
        alive = super().transitions(rows)
        p, store = self.params, self.store
        negative = rows[alive & ~store["nkg2a"][rows]]  # only these can convert
        draws = self.model.rng.random(len(negative))
        if "il10" in self.model.fields.silent:  # no IL-10 anywhere: no conversion (but the same draws)
            converts = np.zeros(len(negative), dtype=bool)
        else:
            il10 = self.model.fields["il10"][store["x"][negative], store["y"][negative]]
            rate = p.il10_nkg2a_conversion_per_d / 24.0 * hill(il10, p.il10_half_max)
            converts = draws < per_step_probability(rate, self.dt_h)
        store["nkg2a"][negative[converts]] = True
        living = rows[alive]
        days = self.dt_h / 24.0 * p.cytokine_support  # re-arming needs IL-2/IL-15 (Bhat & Watzl 2007)
        store["granules"][living] = np.minimum(p.granules, store["granules"][living] + p.granule_regen_per_d * days)
        store["death_receptor"][living] = np.minimum(
            p.death_receptor_kills, store["death_receptor"][living] + p.death_receptor_regen_per_d * days)
        return alive

    def act(self, rows: np.ndarray, targets: np.ndarray) -> None:
        """Each NK cell out of its refractory time weighs its target's signals; a kill is by one path in proportion
        to the paths' hazards. Only the cells next to a target are computed (in their turn order)."""
        m, p, store, cancer = self.model, self.params, self.store, self.model.cancer
        store["engaged"][rows] = False
        meets = (targets >= 0) & (store["refractory_until_h"][rows] <= m.time_h)
        rows, targets = rows[meets], targets[meets]
        if not len(rows):
            return
        positive = store["nkg2a"][rows]
        armed = store["granules"][rows] >= ONE_KILL
        receptor_armed = store["death_receptor"][rows] >= ONE_KILL
        x, y = store["x"][rows], store["y"][rows]
        hazards = nk_kill_hazards(
            p,
            nkg2a=positive.astype(np.float64),
            hla_e=cancer.hla_e(targets),
            trail_r=cancer.trail_r(targets),
            opsonisation=m.therapy.opsonisation(cancer.antigen, targets),
            tgfb=m.fields["tgfb"][x, y],
            nk_impairment=m.therapy.nk_impairment,
            nkg2a_blockade=m.therapy.nkg2a_blockade,
            has_granules=armed,
            has_death_receptor=receptor_armed,
            death_receptor_blockade=m.therapy.death_receptor_blockade,
            suppression=0.0 if m.suppression is None else m.suppression.nk[x, y],
        )
        total = sum(hazards)
        kills, gone = self.contact(targets, total)
        store["engaged"][rows] = ~gone
        # Contacts made (a target killed by a cell earlier in the turn order is not met), with what each path had:
        # one tally over (NKG2A status, armed, receptor-armed), status 0 = NKG2A+ as in NKG2A_STATES.
        status = (~positive).astype(np.int64)
        self._contacts += np.bincount((status * 4 + armed * 2 + receptor_armed)[~gone], minlength=8).reshape(2, 2, 2)
        # Competing paths: which one killed is in proportion to their hazards (one draw per cell); `path` indexes
        # NK_PATHS, the order of the hazards.
        share = m.rng.random(len(rows)) * total
        if not kills.any():
            return
        granzyme, adcc, _ = hazards
        path = np.where(share < granzyme, 0, np.where(share < granzyme + adcc, 1, 2))[kills]
        killers, granule_kill = rows[kills], SPENDS_GRANULES[path]
        store["granules"][killers] -= np.where(granule_kill, ONE_KILL, 0.0).astype(np.float32)
        store["death_receptor"][killers] -= np.where(granule_kill, 0.0, ONE_KILL).astype(np.float32)
        store["refractory_until_h"][killers] = m.time_h + p.kill_refractory_h
        store["engaged"][killers] = False  # detached
        store["kills"][killers] += 1
        self.killers += int(np.count_nonzero(store["kills"][killers] == 1))
        self.most_kills = max(self.most_kills, int(store["kills"][killers].max()))
        by = np.bincount(path * 2 + status[kills], minlength=2 * len(NK_PATHS)).reshape(len(NK_PATHS), 2)
        self._kills += by
        # The targets, path by path (the order in which their rows are freed), each path's kills counted as its cause.
        cancer.kill(targets[kills][np.argsort(path, kind="stable")],
                    {f"nk_{name}": int(n) for name, n in zip(NK_PATHS, by.sum(axis=1)) if n})

    @property
    def engagements(self) -> Counter[str]:
        """Contacts by NKG2A status ("nkg2a_pos", "nkg2a_neg"), and those made with a granule load
        ("armed_nkg2a_pos") or a death-receptor budget ("receptor_armed_nkg2a_pos"), the same for NKG2A− cells."""
        out: Counter[str] = Counter()
        for i, name in enumerate(NKG2A_STATES):
            out[name] = int(self._contacts[i].sum())
            out[f"armed_{name}"] = int(self._contacts[i, 1].sum())
            out[f"receptor_armed_{name}"] = int(self._contacts[i, :, 1].sum())
        return out

    @property
    def kills_by(self) -> Counter[str]:
        """Kills by path and NKG2A status, e.g. "granzyme_nkg2a_pos"."""
        return Counter({f"{name}_{state}": int(self._kills[i, j])
                        for i, name in enumerate(NK_PATHS) for j, state in enumerate(NKG2A_STATES)})

    def stop_mask(self) -> np.ndarray | None:
        return self.model.near_cancer()

    def secretion(self) -> list[tuple[np.ndarray, dict[str, float]]]:
        return [(self.sites_where("engaged"), {"ifng": self.params.ifng_per_h})]  # engaged NK cells are active
