"""Outcomes of one run, computed from the tumour burden at every step (not only the recorded rows)."""

from __future__ import annotations

import numpy as np

from .cells.nk import ARMED_BY, NK_PATHS, NKG2A_STATES
from .host.marrow import MarrowParams
from .scenario import ResponseParams


NOT_EVALUABLE = "NE"  # RECIST's category for a response that cannot be assessed
OBJECTIVE_RESPONSES = ("CR", "PR")  # what the ORR counts


def summarise_burden(
    day: np.ndarray, burden: np.ndarray, treatment_start_day: float, response: ResponseParams
) -> dict[str, float | int | bool | str | None]:
    """Burden outcomes: final and nadir, area under the curve, time to progression (censored), best response and
    confirmed best response.

    Responses are read at the assessments: every step, or, with `response.assessment_every_d`, the first step at
    or after each scan day from the baseline, as a trial sees the tumour. Progression is a rise of
    `progression_change` over the running nadir since the baseline; best response follows RECIST's order
    CR > PR > PD > SD, with burden (a cell count on a section) in place of diameters, and counts only what happened
    up to progression (a tumour that progresses and is then cleared has best response PD). The confirmed best
    response needs a CR or PR to be seen again at an assessment at least `confirm_after_d` later, before
    progression (RECIST 1.1); an unconfirmed one counts as SD, or PD if the tumour progressed. Responses need a
    baseline: a run that ends at or before it, or that has no tumour there, has them "not evaluable" (NE, NaN),
    with the reason in `response_not_evaluable`.
    """
    day = np.asarray(day, dtype=np.float64)
    burden = np.asarray(burden, dtype=np.float64)
    nadir = int(np.argmin(burden))
    summary: dict[str, float | int | bool | str | None] = {
        "final_tumour": int(burden[-1]),
        "min_tumour": int(burden[nadir]),
        "nadir_day": float(day[nadir]),
        "tumour_auc_cell_days": float(np.trapezoid(burden, day)),
    }
    scans = assessments(day, treatment_start_day, response.assessment_every_d)
    post_day, post = day[scans], burden[scans]
    reason = _not_evaluable(post, day[-1], treatment_start_day)
    if reason:
        return summary | {"time_to_progression_d": float("nan"), "progressed": None,
                          "eliminated": bool(burden[-1] == 0), "best_response": NOT_EVALUABLE,
                          "confirmed_response": NOT_EVALUABLE, "best_change": float("nan"),
                          "time_to_response_d": float("nan"), "responded": float("nan"),
                          "responded_confirmed": float("nan"), "response_not_evaluable": reason}

    start = post[0]
    running_nadir = np.minimum.accumulate(post)
    progressed_at = np.flatnonzero((post >= (1.0 + response.progression_change) * running_nadir) & (post > 0))
    progressed = bool(len(progressed_at))
    last = progressed_at[0] if progressed else len(post) - 1
    ttp = post_day[last] - treatment_start_day
    window = slice(1, last + 1)  # the response window: after the baseline, up to progression
    until, until_day = post[window], post_day[window]
    change = (until.min() - start) / start if len(until) else 0.0
    complete = until == 0
    partial = (until - start) / start <= response.partial_response_change
    best = _category(complete.any(), partial.any(), progressed)
    confirmed = _category(_confirmed(complete, until_day, response.confirm_after_d),
                          _confirmed(partial, until_day, response.confirm_after_d), progressed)
    responded = np.flatnonzero(partial)
    return summary | {"time_to_progression_d": float(ttp), "progressed": progressed,
                      "eliminated": bool((post == 0).any()), "best_response": best, "confirmed_response": confirmed,
                      "best_change": float(change),
                      "time_to_response_d": float(until_day[responded[0]] - treatment_start_day) if len(responded)
                      else float("nan"), "responded": float(best in OBJECTIVE_RESPONSES),
                      "responded_confirmed": float(confirmed in OBJECTIVE_RESPONSES), "response_not_evaluable": None}


def assessments(day: np.ndarray, baseline_day: float, every_d: float | None) -> np.ndarray:
    """Indices of the steps at which responses are read: every step from the baseline on, or the first step at or
    after each scan day (baseline, baseline + every_d, ...)."""
    after = np.flatnonzero(day >= baseline_day)
    if every_d is None or not len(after):
        return after
    scan_days = baseline_day + every_d * np.arange(int((day[-1] - baseline_day) // every_d) + 1)
    return np.unique(np.searchsorted(day, scan_days - 1e-9))


def _category(complete: bool, partial: bool, progressed: bool) -> str:
    if complete:
        return "CR"
    if partial:
        return "PR"
    return "PD" if progressed else "SD"


def _confirmed(meets: np.ndarray, when: np.ndarray, after_d: float) -> bool:
    """Whether a criterion met at one assessment is met again at one at least `after_d` later. The first and the
    last assessments meeting it are the widest-spaced pair, so they decide."""
    hits = np.flatnonzero(meets)
    return bool(len(hits)) and when[hits[-1]] - when[hits[0]] >= after_d - 1e-9


def _not_evaluable(post: np.ndarray, last_day: float, baseline_day: float) -> str | None:
    """Why responses cannot be assessed, or None if they can."""
    if len(post) < 2:
        return (f"the run ends on day {last_day:g}, before any measurement after the response baseline "
                f"(day {baseline_day:g}; response.baseline_day, or the first therapy event)")
    if post[0] == 0:
        return f"there is no tumour at the response baseline (day {baseline_day:g})"
    return None


def ratio(numerator: float, denominator: float) -> float:
    """A ratio, NaN (undefined) rather than infinite when there is nothing to divide by."""
    return numerator / denominator if denominator else float("nan")


def summarise_kills(kills_by: dict[str, int], engagements: dict[str, int], most_kills: int, nk_cells: int,
                    killers: int) -> dict:
    """NK kills in total, the share made through death receptors, and each path's kills per engagement by NKG2A
    status (`kills_by`: e.g. "granzyme_nkg2a_pos" → kills; `engagements`: "nkg2a_pos" → contacts, "armed_nkg2a_pos"
    → contacts made with a granule load, "receptor_armed_nkg2a_pos" → with a death-receptor budget), with the kills
    per NK cell (mean over every NK cell that lived, mean over those that killed at least once — the serial-killing
    frequency imaging studies report — and the most by one). Each path's kills are per contact made
    with that path armed: for the granule paths, the chance the NKG2A:HLA-E balance sets."""
    total = sum(kills_by.values())
    out = {"killed_nk": total, "nk_trail_share": ratio(sum(kills_by.get(f"trail_{s}", 0) for s in NKG2A_STATES), total),
           "nk_engagements": sum(engagements.get(s, 0) for s in NKG2A_STATES),
           "nk_kills_per_cell": ratio(total, nk_cells), "nk_kills_per_killer": ratio(total, killers),
           "nk_kills_most_by_one_cell": int(most_kills)}
    for path in NK_PATHS:
        for status in NKG2A_STATES:
            contacts = engagements.get(f"{ARMED_BY[path]}_{status}", 0)
            out[f"nk_{path}_per_engagement_{status}"] = ratio(kills_by.get(f"{path}_{status}", 0), contacts)
    return out


def summarise_immune(day: np.ndarray, car_t: np.ndarray, neutrophils: np.ndarray, m1: int, m2: int) -> dict:
    """CAR-T expansion peak, the neutrophil nadir (neutropenia) and the final macrophage balance."""
    day = np.asarray(day, dtype=np.float64)
    peak = int(np.argmax(car_t))
    nadir = int(np.argmin(neutrophils))
    return {
        "car_t_peak": int(car_t[peak]),
        "car_t_peak_day": float(day[peak]),
        "neutrophil_nadir": int(neutrophils[nadir]),
        "neutrophil_nadir_day": float(day[nadir]),
        "macrophage_m1_final": int(m1),
        "macrophage_m2_final": int(m2),
        "m1_m2_ratio_final": ratio(m1, m2),
    }


# Exposure to adoptive cells in blood is summarised over this long after the first infusion into it, as
# cellular-kinetics reports do (AUC 0-28 d; Stein 2019, the TRANSCEND analysis).
BLOOD_AUC_D = 28.0
BLOOD_PRODUCTS = {"car_t": "CAR-T", "nk": "adoptive NK"}  # blood pools: output prefix → label


def summarise_blood_pool(product: str, day: np.ndarray, per_ul: np.ndarray, infused_day: float | None,
                         homed: int, egressed: int) -> dict:
    """The blood course of one adoptive product (`BLOOD_PRODUCTS`) after a dose into the blood: its peak
    (cells/µL) and the peak's day, the AUC over the 28 days from the infusion (cells·d/µL; over the part of them
    the run covers), the cells that homed into the section and those that left it for the blood. Without such a
    dose: a peak and AUC of 0, and no peak day."""
    day, per_ul = np.asarray(day, dtype=np.float64), np.asarray(per_ul, dtype=np.float64)
    moved = {f"{product}_homed": int(homed), f"{product}_egressed": int(egressed)}
    if infused_day is None:
        return {f"blood_{product}_peak_per_ul": 0.0, f"blood_{product}_peak_day": float("nan"),
                f"blood_{product}_auc_28d": 0.0, **moved}
    peak = int(np.argmax(per_ul))
    window = (day >= infused_day) & (day <= infused_day + BLOOD_AUC_D)
    auc = float(np.trapezoid(per_ul[window], day[window])) if window.sum() > 1 else 0.0
    return {f"blood_{product}_peak_per_ul": float(per_ul[peak]), f"blood_{product}_peak_day": float(day[peak]),
            f"blood_{product}_auc_28d": auc, **moved}


# CTCAE v5 neutrophil count decreased: the upper bound of each grade's ANC (10⁹/L); grade 1 ends at the LLN.
GRADE_BOUNDS = ((4, 0.5), (3, 1.0), (2, 1.5))


def neutropenia_grade(anc_1e9_per_l: float, lower_limit: float) -> int:
    """CTCAE v5 grade of an ANC: 0 at or above the lower limit of normal, 4 below 0.5 × 10⁹/L."""
    for grade, bound in GRADE_BOUNDS:
        if anc_1e9_per_l < bound:
            return grade
    return 1 if anc_1e9_per_l < lower_limit else 0


def summarise_blood(day: np.ndarray, anc_relative: np.ndarray, marrow: MarrowParams) -> dict:
    """The blood neutrophil nadir (the run starts at the baseline count), in units of baseline and of 10⁹/L, its day,
    and its CTCAE grade (against the marrow's lower limit of normal)."""
    nadir = int(np.argmin(anc_relative))
    lowest = float(anc_relative[nadir]) * marrow.baseline_anc_1e9_per_l
    return {
        "anc_nadir_relative": float(anc_relative[nadir]),
        "anc_nadir_day": float(np.asarray(day, dtype=np.float64)[nadir]),
        "anc_nadir_1e9_per_l": lowest,
        "neutropenia_grade": neutropenia_grade(lowest, marrow.lower_limit_anc_1e9_per_l),
    }


# Causes of cancer-cell death that are the effectors' doing (the rest, drug and basal, is what a target-only well
# would show, which an assay's specific lysis subtracts).
EFFECTOR_CAUSES = (*(f"nk_{path}" for path in NK_PATHS), "car_t", "cd8", "macrophage")
# The targets' surface markers a co-culture reads when the effectors are added, and the statistics a flow cytometer
# reports of each.
ASSAY_MARKERS = {"hla_e": "HLA-E", "trail_r": "TRAIL-R (DR4/DR5)"}
MARKER_STATS = {"mean": "mean", "p10": "10th percentile", "p50": "median", "p90": "90th percentile"}


def marker_summary(markers: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean and 10th, 50th and 90th percentiles of each marker over the cells (NaN where there are none)."""
    out = {}
    for marker, values in markers.items():
        found = (np.mean(values), *np.percentile(values, [10, 50, 90])) if len(values) else (np.nan,) * 4
        out.update({f"assay_{marker}_{stat}": float(v) for stat, v in zip(MARKER_STATS, found)})
    return out


def summarise_assay(start: dict | None, deaths: dict[str, int]) -> dict:
    """A co-culture's readouts (NaN for a tissue run): % specific lysis — the targets present when the effectors
    were added that the effectors killed, i.e. the lab's (experimental − spontaneous) lysis, since causes are known
    here — and the targets' surface HLA-E and TRAIL-R at that moment (`start`: "targets" and `marker_summary`)."""
    if start is None:
        return {"assay_targets": float("nan"), "specific_lysis_pct": float("nan"),
                **marker_summary({marker: np.empty(0) for marker in ASSAY_MARKERS})}
    killed = sum(deaths.get(cause, 0) for cause in EFFECTOR_CAUSES)
    return {**start, "specific_lysis_pct": 100.0 * ratio(killed, start["assay_targets"])}


# Every outcome of a run's summary: label and unit, for batch files (which name what to compare), tables and plots.
OUTCOMES: dict[str, tuple[str, str]] = {
    "final_tumour": ("tumour at the end", "cells"),
    "min_tumour": ("smallest tumour", "cells"),
    "nadir_day": ("day of the smallest tumour", "d"),
    "tumour_auc_cell_days": ("tumour burden over time (AUC)", "cell-days"),
    "time_to_progression_d": ("time to progression (censored)", "d"),
    "best_change": ("best change in burden from baseline (up to progression)", "fraction"),
    "time_to_response_d": ("time to the first partial or complete response (NaN: none)", "d"),
    "responded": ("objective response, CR or PR (1/0; its mean over patients is the ORR)", "fraction"),
    "responded_confirmed": ("confirmed objective response (1/0; its mean is the confirmed ORR)", "fraction"),
    "killed_nk": ("cancer cells killed by NK cells", "cells"),
    "killed_nk_granzyme": ("cancer cells killed by NK granzyme", "cells"),
    "killed_nk_adcc": ("cancer cells killed by NK ADCC", "cells"),
    "killed_nk_trail": ("cancer cells killed by NK death receptors (TRAIL)", "cells"),
    "nk_trail_share": ("share of NK kills through death receptors (TRAIL)", "fraction"),
    "nk_engagements": ("NK contacts with a target (one a step)", "contacts"),
    "nk_kills_per_cell": ("cancer cells killed per NK cell that lived", "kills/cell"),
    "nk_kills_per_killer": ("cancer cells killed per NK cell that killed at least once", "kills/cell"),
    "nk_kills_most_by_one_cell": ("most cancer cells killed by one NK cell", "kills"),
    **{f"nk_{path}_per_engagement_{status}": (f"NK {label} kills per engagement, {status.replace('_', ' ')} cells",
                                              "kills/contact")
       for path, label in (("granzyme", "granzyme (per armed contact)"), ("adcc", "ADCC (per armed contact)"),
                           ("trail", "death-receptor (per contact with a budget)"))
       for status in NKG2A_STATES},
    "killed_car_t": ("cancer cells killed by CAR-T cells", "cells"),
    "killed_cd8": ("cancer cells killed by CD8 T cells", "cells"),
    "killed_macrophage": ("cancer cells phagocytosed", "cells"),
    "died_drug": ("cancer cells killed by selinexor", "cells"),
    "died_basal": ("cancer cells dying of basal apoptosis", "cells"),
    "car_t_peak": ("CAR-T peak", "cells"),
    "car_t_peak_day": ("day of the CAR-T peak", "d"),
    **{key: value for product, label in BLOOD_PRODUCTS.items() for key, value in (
        (f"blood_{product}_peak_per_ul", (f"{label} peak in the blood", "cells/µL")),
        (f"blood_{product}_peak_day", (f"day of the {label} peak in the blood", "d")),
        (f"blood_{product}_auc_28d", (f"{label} cells in the blood over the 28 days after the infusion (AUC)",
                                      "cells·d/µL")),
        (f"{product}_homed", (f"{label} cells that homed from the blood into the section", "cells")),
        (f"{product}_egressed", (f"{label} cells that left the section for the blood", "cells")),
    )},
    "nets_formed": ("NETs formed", "NETs"),
    "neutrophil_nadir": ("fewest neutrophils", "cells"),
    "neutrophil_nadir_day": ("day of the fewest neutrophils", "d"),
    "anc_nadir_relative": ("lowest blood neutrophil count, relative to baseline", "fraction"),
    "anc_nadir_day": ("day of the lowest blood neutrophil count", "d"),
    "anc_nadir_1e9_per_l": ("lowest blood neutrophil count", "10⁹ cells/L"),
    "neutropenia_grade": ("worst neutropenia grade (CTCAE v5)", "grade"),
    "macrophage_m1_final": ("M1 macrophages at the end", "cells"),
    "macrophage_m2_final": ("M2 macrophages at the end", "cells"),
    "m1_m2_ratio_final": ("M1:M2 ratio at the end", "ratio"),
    "cd8_final": ("CD8 T cells at the end", "cells"),
    "treg_final": ("regulatory T cells at the end", "cells"),
    "mdsc_final": ("myeloid-derived suppressor cells at the end", "cells"),
    "assay_targets": ("co-culture: targets when the effectors were added", "cells"),
    "specific_lysis_pct": ("co-culture: % specific lysis (targets killed by the effectors)", "%"),
    **{f"assay_{marker}_{stat}": (f"co-culture: {label} on the targets when the effectors were added, {stat_label}",
                                  "relative")
       for marker, label in ASSAY_MARKERS.items() for stat, stat_label in MARKER_STATS.items()},
}
