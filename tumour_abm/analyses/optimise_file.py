"""An optimisation file: a scenario with an anchor therapy (e.g. CAR-T on day 0), the space of selinexor schedules
around it, the objectives, and how candidates are confirmed; validated like every other file.

A schedule is five whole numbers: the dose per administration (mg), the administrations per week, a pre-treatment
course of `pretreatment_d` days that ends `washout_d` days before the anchor's first day, and a maintenance course
of `maintenance_d` days from that day on (concurrent with the anchor, then after it). A dimension the file does not
search keeps the standard schedule's value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from ..batchfile import check_outcome_expression
from ..cohort import CohortParams, patient_for
from ..config_files import KeyProblems
from ..params import Params, param
from ..scenario import Scenario
from ..therapy.schedule import INFUSIONS, DoseCourse
from .analysis_file import check_window, read_analysis_file

DIMENSIONS = ("dose_mg", "days_per_week", "pretreatment_d", "washout_d", "maintenance_d")
# The label's administrations: days of each week's window (1 = its first day) for 1-3 doses a week, as the
# scenarios write twice weekly (days 1 and 3, as SADAL doses 60 mg each week).
WEEKDAYS = {1: (1,), 2: (1, 3), 3: (1, 3, 5)}
SCHEDULE_OBJECTIVES = ("weekly_dose_mg", "total_dose_mg")  # read off the schedule itself, not a run
# mg per administration a search may try: assumed bounds around the label's 40-100 mg (100 mg once weekly, 80 and
# 60 mg twice weekly), with room below for dose reductions and above for a dose-escalation question.
LABEL_DOSE_MG = (20, 160)


def _objective(expr: str) -> str:
    return expr if expr in SCHEDULE_OBJECTIVES else check_outcome_expression(expr)


class ScheduleParams(Params):
    dose_mg: int = param(60, unit="mg", source="selinexor label: 60 mg twice weekly (SADAL)", ge=LABEL_DOSE_MG[0],
                         le=LABEL_DOSE_MG[1])
    days_per_week: int = param(2, unit="doses/week", source="label: twice weekly", ge=1, le=3)
    pretreatment_d: int = param(0, unit="d", source="optimisation file", ge=0, le=365)
    washout_d: int = param(0, unit="d", source="optimisation file", ge=0, le=365)
    maintenance_d: int = param(0, unit="d", source="optimisation file", ge=0, le=365)


class RangeParams(Params):
    low: int = param(..., unit="as the dimension", source="optimisation file", ge=0, le=365)
    high: int = param(..., unit="as the dimension", source="optimisation file", ge=0, le=365)
    step: int = param(1, unit="as the dimension", source="optimisation file", ge=1, le=365)

    @model_validator(mode="after")
    def _ordered(self) -> RangeParams:
        if self.high < self.low:
            raise KeyProblems([(("high",), f"is below low {self.low}")])
        if (self.high - self.low) % self.step:
            raise KeyProblems([(("step",), f"{self.step} does not divide high − low = {self.high - self.low}: the "
                                           "high end would never be tried")])
        return self


class ObjectiveParams(Params):
    outcome: Annotated[str, AfterValidator(_objective)] = param(
        ..., unit="-", source="optimisation file: a summary outcome, column@day(s), or weekly_dose_mg / total_dose_mg")
    direction: Literal["minimize", "maximize"] = param(..., unit="-", source="optimisation file")


class ConfirmParams(Params):
    top: int = param(3, unit="candidates", source="optimisation file: the best (or Pareto) candidates re-run",
                     ge=1, le=50)
    replicates: int = param(20, unit="runs", source="optimisation file: fresh seeds per confirmed schedule", ge=2,
                            le=10_000)
    base_seed: int = param(1_000_001, unit="-", source="optimisation file: apart from the search's seeds", ge=0,
                           le=2**32 - 1)


class OptimiseParams(Params):
    description: str = Field("", description="what the optimisation asks")
    scenario: str = param(..., unit="-", source="optimisation file: a scenario file, relative to this file")
    overrides: Annotated[dict[str, Any], Field(strict=False)] = param({}, unit="-", source="optimisation file")
    days: float | None = param(None, unit="d", source="optimisation file: simulated days (default: the "
                                                     "scenario's)", gt=0, le=3650)
    anchor: Literal[tuple(INFUSIONS)] = param(  # type: ignore[valid-type]
        "car_t", unit="-", source="optimisation file: the schedule's days count from this therapy's first day")
    search: Annotated[dict[Literal[DIMENSIONS], RangeParams],  # type: ignore[valid-type]
                      Field(strict=False, min_length=1)] = param(
        ..., unit="-", source="optimisation file: the dimensions searched, each low..high by step")
    standard: ScheduleParams = param(ScheduleParams(), unit="-", source="optimisation file: the schedule the "
                                                                        "candidates are compared with")
    objectives: Annotated[tuple[ObjectiveParams, ...], Field(strict=False, min_length=1, max_length=3)] = param(
        ..., unit="-", source="optimisation file: one (best) or several (Pareto front)")
    trials: int = param(40, unit="candidates", source="optimisation file", ge=1, le=100_000)
    batch: int | None = param(None, unit="candidates", source="optimisation file: run together (default: "
                                                              "--workers)", ge=1, le=1000)
    replicates: int = param(3, unit="runs per candidate", source="optimisation file: the same seeds for every "
                                                                 "candidate (common random numbers)", ge=1, le=1000)
    base_seed: int = param(1, unit="-", source="optimisation file: seeds the runs and the sampler", ge=0,
                           le=2**32 - 1)
    sampler: Literal["tpe", "nsga2", "random"] | None = param(
        None, unit="-", source="optimisation file (default: tpe for one objective, nsga2 for several)")
    confirm: ConfirmParams = param(ConfirmParams(), unit="-", source="optimisation file")
    cohort: CohortParams | None = param(None, unit="-", source="optimisation file: virtual patients as in a batch "
                                                               "file; replicate i is the same patient for every "
                                                               "candidate")

    @model_validator(mode="after")
    def _dose_in_label_range(self) -> OptimiseParams:
        if self.confirm.base_seed == self.base_seed:
            raise KeyProblems([(("confirm", "base_seed"), "equals base_seed: the confirmation needs seeds the search "
                                                          "has not used")])
        if "therapy.selinexor" in self.overrides:
            raise KeyProblems([(("overrides", "therapy.selinexor"),
                                "the optimisation writes selinexor's courses itself: search or fix them under "
                                "search/standard")])
        r = self.search.get("dose_mg")
        if r is not None and not (LABEL_DOSE_MG[0] <= r.low and r.high <= LABEL_DOSE_MG[1]):
            raise KeyProblems([(("search", "dose_mg"), f"{r.low}..{r.high} mg is outside the doses studied "
                                                       f"({LABEL_DOSE_MG[0]}-{LABEL_DOSE_MG[1]} mg)")])
        r = self.search.get("days_per_week")
        if r is not None and not (min(WEEKDAYS) <= r.low and r.high <= max(WEEKDAYS)):
            raise KeyProblems([(("search", "days_per_week"), f"{min(WEEKDAYS)} to {max(WEEKDAYS)} administrations "
                                                             "a week")])
        return self


def schedule_courses(s: dict[str, int], anchor: str) -> list[dict]:
    """A schedule as the scenario's selinexor courses, relative to the anchor's first day (none: no drug)."""
    days = list(WEEKDAYS[s["days_per_week"]])
    courses = []
    if s["pretreatment_d"] > 0:
        end = -s["washout_d"] - 1
        courses.append({"dose_mg": s["dose_mg"], "days_of_week": days, "start_day": end - s["pretreatment_d"] + 1,
                        "end_day": end, "relative_to": anchor})
    if s["maintenance_d"] > 0:
        courses.append({"dose_mg": s["dose_mg"], "days_of_week": days, "start_day": 0,
                        "end_day": s["maintenance_d"] - 1, "relative_to": anchor})
    return courses


def dose_days(s: dict[str, int], anchor: str) -> list[tuple[float, float]]:
    """(day relative to the anchor, mg) of every administration of a schedule."""
    return [(float(day), float(c["dose_mg"])) for c in schedule_courses(s, anchor)
            for day in DoseCourse(**c).days()]


def schedule_doses(s: dict[str, int], anchor: str = "car_t") -> dict[str, float]:
    """The schedule's own objectives: mg a week while dosing, and mg in all (the administrations counted)."""
    doses = dose_days(s, anchor)
    weekly = s["dose_mg"] * s["days_per_week"] if doses else 0
    return {"weekly_dose_mg": float(weekly), "total_dose_mg": float(sum(mg for _, mg in doses))}


@dataclass(frozen=True)
class Optimisation:
    path: Path
    params: OptimiseParams
    scenario: Scenario  # without selinexor: each candidate adds its own courses

    def schedule(self, searched: dict[str, int]) -> dict[str, int]:
        """A full schedule: the searched values, the standard's for the rest."""
        return {**self.params.standard.model_dump(), **searched}

    def scenario_for(self, schedule: dict[str, int], patient: dict[str, Any] | None = None) -> Scenario:
        """The scenario with a schedule's courses (and a virtual patient's values)."""
        courses = {"therapy.selinexor": schedule_courses(schedule, self.params.anchor)}
        return self.scenario.with_updates({**(patient or {}), **courses})

    def patient(self, base_seed: int, replicate: int) -> dict[str, Any]:
        """Virtual patient `replicate` of a cohort drawn from `base_seed` (none without a cohort), as a batch with
        paired seeds draws it."""
        if self.params.cohort is None:
            return {}
        return patient_for(self.params.cohort, self.scenario, base_seed, replicate).updates


def load_optimisation(path: str | Path) -> Optimisation:
    """Read and validate an optimisation file and its scenario; every corner of the space must be a valid run."""
    f = read_analysis_file(path, OptimiseParams, lambda params: {"therapy.selinexor": []})
    path, params, scenario, problem = f.path, f.params, f.scenario, f.problem
    given = getattr(scenario.therapy, params.anchor)
    if not given:
        raise problem(("anchor",), params.anchor, f"the scenario gives no {params.anchor}: nothing to anchor to")
    if any(item.relative_to is not None for item in given):
        raise problem(("anchor",), params.anchor, f"the scenario gives {params.anchor} relative to another therapy: "
                                                  "anchor on a therapy given on a day of its own")
    anchor_day = min(item.day for item in given)
    end_day = scenario.time.start_day + scenario.time.days
    if anchor_day >= end_day:
        raise problem(("anchor",), params.anchor, f"{params.anchor} on day {anchor_day:g} is after the run ends (day "
                                                  f"{end_day:g})")
    for i, o in enumerate(params.objectives):
        check_window(f, o.outcome, ("objectives", i, "outcome"))
    if scenario.response.baseline_day is None:  # responses from the anchor: one baseline for every candidate
        scenario = scenario.with_updates({"response.baseline_day": anchor_day})
    opt = Optimisation(path, params, scenario)
    widest = opt.schedule({name: r.high for name, r in params.search.items()})
    before = widest["pretreatment_d"] + widest["washout_d"] if widest["pretreatment_d"] else 0
    if anchor_day - before < scenario.time.start_day - 1e-9:
        raise problem(("search",), None, f"a pre-treatment of {widest['pretreatment_d']} d with {widest['washout_d']} "
                                         f"d washout starts before the run does (day {scenario.time.start_day:g}; "
                                         f"{params.anchor} on day {anchor_day:g}): start the scenario earlier or "
                                         "search shorter courses")
    for end in ("low", "high"):
        corner = opt.schedule({name: getattr(r, end) for name, r in params.search.items()})
        f.updated({"therapy.selinexor": schedule_courses(corner, params.anchor)}, "search",
                  note=f" (the schedule at every {end} end)")
    if params.cohort is not None:
        f.updated(opt.patient(params.base_seed, 0), "cohort.parameters", note=" (drawn for the first patient)")
    return opt
