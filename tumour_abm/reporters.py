"""The one registry of output names: each time-series column with its label, unit and how it is measured.

The model's DataCollector, the run summary, the figures and the browser view all read names from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .cells.nk import NK_PATHS, NKG2A_STATES, ONE_KILL
from .outcomes import ratio

if TYPE_CHECKING:
    from .model import TumourModel


@dataclass(frozen=True)
class Reporter:
    label: str
    unit: str
    measure: Callable[[TumourModel], float]


def _mean_or_nan(values: np.ndarray) -> float:
    return float(values.mean(dtype=np.float64)) if len(values) else float("nan")


def _suppression_at(m: TumourModel, effectors, kind: str) -> float:
    """The mean suppression the effectors' cells meet where they are now (0 without suppressor cells; NaN without
    effector cells)."""
    sites = np.concatenate([population.sites(population.store.rows()) for population in effectors])
    if not len(sites):
        return float("nan")
    suppression = m.suppression_now()
    return 0.0 if suppression is None else float(getattr(suppression, kind)[sites[:, 0], sites[:, 1]].mean())


def _field_mean(name: str) -> Callable[[TumourModel], float]:
    return lambda m: m.fields.mean(name)


# Output name of each cause of cancer-cell death, as counted by CancerPopulation.kill(rows, cause).
DEATH_OUTPUTS = {
    "killed_nk_granzyme": "nk_granzyme",
    "killed_nk_adcc": "nk_adcc",
    "killed_nk_trail": "nk_trail",
    "killed_car_t": "car_t",
    "killed_cd8": "cd8",
    "killed_macrophage": "macrophage",
    "died_drug": "drug",
    "died_basal": "basal",
}


def _deaths(cause: str) -> Callable[[TumourModel], float]:
    return lambda m: m.cancer.deaths[cause]


TIMESERIES: dict[str, Reporter] = {
    "time_h": Reporter("time from day 0", "h", lambda m: m.day * 24.0),
    "day": Reporter("day", "d", lambda m: m.day),
    "cancer_alive": Reporter("live cancer cells", "cells", lambda m: m.cancer.n_alive),
    "divisions": Reporter("cancer divisions (cumulative)", "cells", lambda m: m.cancer.divisions),
    "killed_nk": Reporter(
        "cancer cells killed by NK cells (cumulative)", "cells",
        lambda m: sum(m.cancer.deaths[f"nk_{path}"] for path in NK_PATHS),
    ),
    "killed_nk_granzyme": Reporter("cancer cells killed by NK granzyme, without antibody (cumulative)", "cells",
                                   _deaths("nk_granzyme")),
    "killed_nk_adcc": Reporter("cancer cells killed by NK ADCC (granzyme the antibody added; cumulative)", "cells",
                               _deaths("nk_adcc")),
    "killed_nk_trail": Reporter("cancer cells killed by NK death receptors (TRAIL, FasL; cumulative)", "cells",
                                _deaths("nk_trail")),
    "nk_engagements": Reporter("NK contacts with a target, one a step (cumulative)", "contacts",
                               lambda m: sum(m.nk.engagements[s] for s in NKG2A_STATES)),
    "killed_car_t": Reporter("cancer cells killed by CAR-T cells (cumulative)", "cells", _deaths("car_t")),
    "killed_cd8": Reporter("cancer cells killed by CD8 T cells (cumulative)", "cells", _deaths("cd8")),
    "killed_macrophage": Reporter("cancer cells phagocytosed by M1 macrophages (cumulative)", "cells", _deaths("macrophage")),
    "died_drug": Reporter("cancer cells killed by selinexor (cumulative)", "cells", _deaths("drug")),
    "died_basal": Reporter("cancer cells dying of basal apoptosis (cumulative)", "cells", _deaths("basal")),
    "nk_total": Reporter("NK cells", "cells", lambda m: m.nk.count()),
    "nk_nkg2a_pos": Reporter("NKG2A+ NK cells", "cells", lambda m: m.nk.count("nkg2a")),
    "nk_exhausted": Reporter("NK cells with less than one kill's worth of granules", "cells",
                             lambda m: int((m.nk.values("granules") < ONE_KILL).sum())),
    "car_t_total": Reporter("CAR-T cells", "cells", lambda m: m.car_t.count()),
    "car_t_exhausted": Reporter("exhausted CAR-T cells", "cells", lambda m: m.car_t.count("exhausted")),
    "car_t_nkg2a_mean": Reporter(
        "mean NKG2A on CAR-T cells", "0-1", lambda m: _mean_or_nan(m.car_t.values("nkg2a"))
    ),
    "car_t_exhausted_fraction": Reporter(
        "exhausted share of CAR-T cells", "fraction", lambda m: ratio(m.car_t.count("exhausted"), m.car_t.count())
    ),
    "cd8_total": Reporter("CD8 T cells", "cells", lambda m: m.cd8.count()),
    "cd8_exhausted": Reporter("terminally exhausted CD8 T cells", "cells", lambda m: m.cd8.count("exhausted")),
    "cd8_pd1_mean": Reporter("mean PD-1 (checkpoint load over its threshold) on CD8 T cells", "0-1",
                             lambda m: _mean_or_nan(m.cd8.exhaustion(m.cd8.store.rows()))),
    "treg_total": Reporter("regulatory T cells", "cells", lambda m: m.tregs.count()),
    "mdsc_total": Reporter("myeloid-derived suppressor cells", "cells", lambda m: m.mdscs.count()),
    "t_cell_suppression_mean": Reporter("mean suppression by Tregs and MDSCs at the CAR-T and CD8 T cells' sites",
                                        "0-1", lambda m: _suppression_at(m, (m.car_t, m.cd8), "t_cells")),
    "nk_suppression_mean": Reporter("mean suppression by Tregs and MDSCs at the NK cells' sites", "0-1",
                                    lambda m: _suppression_at(m, (m.nk,), "nk")),
    "macrophage_m1": Reporter("M1 macrophages", "cells", lambda m: m.macrophages.count("m2", False)),
    "macrophage_m2": Reporter("M2 macrophages", "cells", lambda m: m.macrophages.count("m2")),
    "m1_m2_ratio": Reporter(
        "M1:M2 macrophage ratio", "ratio",
        lambda m: ratio(m.macrophages.count("m2", False), m.macrophages.count("m2")),
    ),
    "neutrophils": Reporter("neutrophils", "cells", lambda m: m.neutrophils.count()),
    "blood_anc_relative": Reporter("blood neutrophil count relative to baseline", "1",
                                   lambda m: m.neutrophils.anc_relative()),
    "blood_anc_1e9_per_l": Reporter("blood neutrophil count (ANC)", "10⁹ cells/L",
                                    lambda m: m.neutrophils.anc_relative()
                                    * m.spec.neutrophil.marrow.baseline_anc_1e9_per_l),
    "blood_car_t_per_ul": Reporter("CAR-T cells in the blood", "cells/µL", lambda m: m.blood_car_t.per_ul),
    "blood_nk_per_ul": Reporter("adoptive NK cells in the blood", "cells/µL", lambda m: m.blood_nk.per_ul),
    "nets_active": Reporter("sites covered by active NETs", "sites", lambda m: m.neutrophils.nets_active()),
    "nets_formed": Reporter("NETs formed (cumulative)", "NETs", lambda m: m.neutrophils.events["nets_formed"]),
    # Written to 0.001 nM, far below any effect and any assay, so a washed-out drug reads as the zero it is.
    "selinexor_nM": Reporter("selinexor plasma concentration", "nM", lambda m: round(m.plan.selinexor_nM(m.time_h), 3)),
    "pd_l1_mean": Reporter("mean PD-L1 on cancer cells", "0-1", lambda m: _mean_or_nan(m.cancer.pd_l1(m.cancer.rows()))),
    "hla_e_mean": Reporter("mean HLA-E on cancer cells", "relative", lambda m: _mean_or_nan(m.cancer.hla_e(m.cancer.rows()))),
    "trail_r_mean": Reporter(
        "mean TRAIL-R on cancer cells", "relative", lambda m: _mean_or_nan(m.cancer.trail_r(m.cancer.rows()))
    ),
    "il10_mean": Reporter("mean IL-10", "a.u.", _field_mean("il10")),
    "tgfb_mean": Reporter("mean TGF-β", "a.u.", _field_mean("tgfb")),
    "ifng_mean": Reporter("mean IFN-γ", "a.u.", _field_mean("ifng")),
    "chemokine_mean": Reporter("mean chemokine", "a.u.", _field_mean("chemokine")),
    "nets_mean": Reporter("mean NET density", "a.u.", _field_mean("nets")),
}

# Columns of the population plot, in drawing order.
POPULATIONS = ("cancer_alive", "nk_total", "car_t_total", "cd8_total", "treg_total", "mdsc_total", "macrophage_m1",
               "macrophage_m2", "neutrophils")
# Columns of the kills plot.
KILLS = ("killed_nk_granzyme", "killed_nk_adcc", "killed_nk_trail", "killed_car_t", "killed_cd8", "killed_macrophage",
         "died_drug")


def label(name: str) -> str:
    r = TIMESERIES[name]
    return f"{r.label} ({r.unit})"
