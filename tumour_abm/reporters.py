"""The one registry of output names: each time-series column with its label, unit and how it is measured.

The model's DataCollector, the run summary, the figures and the browser view all read names from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .model import TumourModel


@dataclass(frozen=True)
class Reporter:
    label: str
    unit: str
    measure: Callable[[TumourModel], float]


def _mean_or_nan(values: np.ndarray) -> float:
    return float(values.mean(dtype=np.float64)) if len(values) else float("nan")


def _field_mean(name: str) -> Callable[[TumourModel], float]:
    return lambda m: m.fields.mean(name)


# Output name of each cause of cancer-cell death, as counted by CancerPopulation.kill(rows, cause).
DEATH_OUTPUTS = {"died_drug": "drug", "died_basal": "basal"}


def _deaths(cause: str) -> Callable[[TumourModel], float]:
    return lambda m: m.cancer.deaths[cause]


TIMESERIES: dict[str, Reporter] = {
    "time_h": Reporter("time", "h", lambda m: m.time_h),
    "day": Reporter("day", "d", lambda m: m.time_h / 24.0),
    "cancer_alive": Reporter("live cancer cells", "cells", lambda m: m.cancer.n_alive),
    "divisions": Reporter("cancer divisions (cumulative)", "cells", lambda m: m.cancer.divisions),
    "died_drug": Reporter("cancer cells killed by selinexor (cumulative)", "cells", _deaths(DEATH_OUTPUTS["died_drug"])),
    "died_basal": Reporter(
        "cancer cells dying of basal apoptosis (cumulative)", "cells", _deaths(DEATH_OUTPUTS["died_basal"])
    ),
    "selinexor_nM": Reporter("selinexor plasma concentration", "nM", lambda m: m.drug_nM),
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
POPULATIONS = ("cancer_alive",)


def label(name: str) -> str:
    r = TIMESERIES[name]
    return f"{r.label} ({r.unit})"
