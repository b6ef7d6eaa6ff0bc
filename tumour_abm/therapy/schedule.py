"""When therapies are given: courses written in days, possibly relative to another therapy's first event
(e.g. selinexor from day −21 to −1 relative to the CAR-T infusion), resolved to dated events before a run starts.

What each therapy does is in products.py; here only dates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from ..config_errors import KeyProblems
from ..params import DAY_LIMIT, Params, day_param, param

DRUGS = ("selinexor", "ibrutinib", "acalabrutinib")
ANTIBODIES = ("rituximab", "obinutuzumab", "daratumumab", "anti_nkg2a", "anti_pd1", "pembrolizumab", "nivolumab",
              "atezolizumab", "ipilimumab", "mosunetuzumab", "epcoritamab", "elranatamab", "trail_r2_cd3")
INFUSIONS = ("car_t", "nk_cells")
ProductName = Literal[
    "selinexor", "ibrutinib", "acalabrutinib",
    "rituximab", "obinutuzumab", "daratumumab", "anti_nkg2a", "anti_pd1", "pembrolizumab", "nivolumab", "atezolizumab",
    "ipilimumab", "mosunetuzumab", "epcoritamab", "elranatamab", "trail_r2_cd3", "car_t", "nk_cells",
]
WEEK_D = 7
MIN_INTERVAL_D = 1.0 / 24.0  # hourly: the shortest dosing interval a course may have
MAX_EVENTS = 20_000  # doses and infusions of one scenario: ten years of daily dosing of five products
MAX_DOSE_MG = 10_000.0  # well above any dose of these products (the largest, daratumumab SC, is 1,800 mg)


class _Window(Params):
    relative_to: ProductName | None = param(
        None, unit="-", source="scenario: days count from this therapy's first event (its day 0)"
    )


class DoseCourse(_Window):
    """Repeated doses between `start_day` and `end_day` (inclusive): on `days_of_week` of each week of the window
    (1 = the window's first day), or every `every_days` days from `start_day`; a single dose if neither is given."""

    dose_mg: float | None = param(None, unit="mg", source="scenario (antibodies: optional, dosing is saturating); "
                                  f"at most {MAX_DOSE_MG:g} mg", gt=0, le=MAX_DOSE_MG)
    start_day: float = day_param(0.0, source="scenario")
    end_day: float | None = day_param(None, source="scenario: last day of the window (default: start_day)")
    days_of_week: Annotated[tuple[int, ...], Field(strict=False, max_length=WEEK_D)] | None = param(
        None, unit="weekday (1-7)", source="scenario, e.g. [1, 3] for twice weekly"
    )
    every_days: float | None = param(None, unit="d", source="scenario: interval between doses (at least hourly: "
                                     "no product here is given more often)", ge=MIN_INTERVAL_D, le=DAY_LIMIT)

    @model_validator(mode="after")
    def _consistent(self) -> DoseCourse:
        if self.end_day is not None and self.end_day < self.start_day:
            raise KeyProblems([(("end_day",), f"is before start_day {self.start_day:g}: the window is empty")])
        if self.days_of_week is not None and self.every_days is not None:
            raise KeyProblems([(("every_days",), "give days_of_week or every_days, not both")])
        bad = [d for d in self.days_of_week or () if not 1 <= d <= WEEK_D]
        if bad:
            raise KeyProblems([(("days_of_week",), f"{bad} are not weekdays 1-7 (1 = the window's first day)")])
        if self.days_of_week is not None and not self.days_of_week:
            raise KeyProblems([(("days_of_week",), "is empty: no dose would be given")])
        if self.dose_count() > MAX_EVENTS:
            raise KeyProblems([(("end_day" if self.end_day is not None else "start_day",),
                                f"the course gives {self.dose_count():,} doses, more than the {MAX_EVENTS:,} a "
                                "scenario may hold: check start_day, end_day and the interval")])
        return self

    def dose_count(self) -> int:
        """How many doses `days()` will give, counted without building them (a course may be long)."""
        span = (self.start_day if self.end_day is None else self.end_day) - self.start_day
        if self.days_of_week is not None:
            weeks = int(span // WEEK_D) + 1
            last_week_span = span - WEEK_D * (weeks - 1)
            return sum(weeks - (d - 1 > last_week_span + 1e-9) for d in set(self.days_of_week))
        if self.every_days is not None:
            return int(math.floor(span / self.every_days + 1e-9)) + 1
        return 1

    def days(self) -> np.ndarray:
        """Dose days relative to the anchor (or absolute if there is none)."""
        end = self.start_day if self.end_day is None else self.end_day
        if self.days_of_week is not None:
            weeks = np.arange(int((end - self.start_day) // WEEK_D) + 1)
            days = (self.start_day + WEEK_D * weeks[:, None] + np.array(sorted(set(self.days_of_week))) - 1).ravel()
        elif self.every_days is not None:
            days = np.arange(self.start_day, end + 1e-9, self.every_days)
        else:
            days = np.array([self.start_day])
        return days[days <= end + 1e-9]


MAX_CELLS_PER_KG = 1e10  # far above any product's dose (CAR-T: 1e5-1e7 cells/kg)


DEFAULT_CAR_T_CELLS = 10  # cells reaching a 2 x 2 mm section when a course names neither route; scenario default
DEFAULT_NK_CELLS = 50  # the same for an NK course; scenario default


class _CellInfusion(_Window):
    """Either `count` cells placed in the tissue section, or a dose per kg into the blood (`dose_per_kg`), from
    which cells expand and home into the section (`host/blood.py`)."""

    default_count: ClassVar[int] = 0  # each product's count when a course names neither route
    day: float = day_param(0.0, source="scenario: infusion day")
    count: int | None = param(None, unit="cells", source="scenario: cells reaching this tissue section, when no "
                                                        "dose_per_kg is given (CAR-T: 10, NK: 50)", gt=0)
    dose_per_kg: float | None = param(
        None, unit="cells/kg", source=f"scenario: a dose into the blood, e.g. axi-cel 2e6/kg, haploidentical NK "
                                      f"cells 1e7/kg; at most {MAX_CELLS_PER_KG:g}", gt=0, le=MAX_CELLS_PER_KG,
    )

    @model_validator(mode="before")
    @classmethod
    def _tissue_by_default(cls, data: Any) -> Any:
        """Without either route, the default tissue count; the two are exclusive, so a dose-route course keeps
        count empty (and so dumps and validates again unchanged)."""
        if isinstance(data, dict) and data.get("count") is None and data.get("dose_per_kg") is None:
            return {**data, "count": cls.default_count}
        return data

    @model_validator(mode="after")
    def _one_route(self) -> _CellInfusion:
        if self.dose_per_kg is not None and self.count is not None:
            raise KeyProblems([(("count",), "give count (cells placed in the section) or dose_per_kg (a dose into "
                                            "the blood), not both")])
        return self

    @property
    def into_blood(self) -> bool:
        return self.dose_per_kg is not None


class CarTInfusion(_CellInfusion):
    default_count: ClassVar[int] = DEFAULT_CAR_T_CELLS


class NKInfusion(_CellInfusion):
    default_count: ClassVar[int] = DEFAULT_NK_CELLS
    nkg2a_positive_fraction: float = param(
        0.8, unit="1", source="expanded / infused NK cells are mostly NKG2A+, review [82,83]", ge=0, le=1
    )


def _as_list(value: Any) -> Any:
    """One course may be written as a mapping instead of a one-item list."""
    return [value] if isinstance(value, dict) else value


Doses = Annotated[tuple[DoseCourse, ...], BeforeValidator(_as_list), Field(strict=False)]


class TherapyParams(Params):
    """The therapy schedule: for each product, its courses (a mapping, or a list of them)."""

    selinexor: Doses = param((), unit="-", source="scenario: oral selinexor courses")
    ibrutinib: Doses = param((), unit="-", source="scenario: daily BTK inhibitor (e.g. every_days: 1)")
    acalabrutinib: Doses = param((), unit="-", source="scenario: daily BTK inhibitor (e.g. every_days: 1)")
    rituximab: Doses = param((), unit="-", source="scenario: anti-CD20 antibody doses")
    obinutuzumab: Doses = param((), unit="-", source="scenario: glyco-engineered anti-CD20 antibody doses")
    daratumumab: Doses = param((), unit="-", source="scenario: anti-CD38 antibody doses")
    anti_nkg2a: Doses = param((), unit="-", source="scenario: monalizumab doses")
    anti_pd1: Doses = param((), unit="-", source="scenario: anti-PD-1 doses (a generic blocker)")
    pembrolizumab: Doses = param((), unit="-", source="scenario: anti-PD-1 doses, e.g. 200 mg every 21 days")
    nivolumab: Doses = param((), unit="-", source="scenario: anti-PD-1 doses, e.g. 240 mg every 14 days")
    atezolizumab: Doses = param((), unit="-", source="scenario: anti-PD-L1 doses, e.g. 1,200 mg every 21 days")
    ipilimumab: Doses = param((), unit="-", source="scenario: anti-CTLA-4 doses, e.g. 3 mg/kg every 21 days (x4)")
    mosunetuzumab: Doses = param((), unit="-", source="scenario: CD20 × CD3 engager doses (after step-up, every "
                                                      "21 days)")
    epcoritamab: Doses = param((), unit="-", source="scenario: CD20 × CD3 engager doses (weekly, then every 2 and "
                                                    "4 weeks)")
    elranatamab: Doses = param((), unit="-", source="scenario: BCMA × CD3 engager doses (weekly after step-up)")
    trail_r2_cd3: Doses = param((), unit="-", source="scenario: TRAIL-R2 × CD3 engager doses (preclinical)")
    car_t: Annotated[tuple[CarTInfusion, ...], BeforeValidator(_as_list), Field(strict=False)] = param(
        (), unit="-", source="scenario: CAR-T infusions"
    )
    nk_cells: Annotated[tuple[NKInfusion, ...], BeforeValidator(_as_list), Field(strict=False)] = param(
        (), unit="-", source="scenario: adoptive NK / CAR-NK infusions"
    )

    @model_validator(mode="after")
    def _anchors_resolve(self) -> TherapyParams:
        anchor_days(self)  # raises for unknown anchors and cycles
        counts = {name: sum(1 if name in INFUSIONS else c.dose_count() for c in getattr(self, name))
                  for name in self.given()}
        if sum(counts.values()) > MAX_EVENTS:
            largest = max(counts, key=counts.__getitem__)
            raise KeyProblems([((largest,), f"the schedule holds {sum(counts.values()):,} doses and infusions, more "
                                            f"than the {MAX_EVENTS:,} a scenario may hold")])
        return self

    def given(self) -> list[str]:
        return [name for name in type(self).model_fields if getattr(self, name)]


def _first_relative_day(course) -> float:
    return course.day if hasattr(course, "day") else course.start_day


def anchor_days(therapy: TherapyParams) -> dict[str, float]:
    """Day 0 of every product that has courses: the absolute day of its first event, following anchors."""
    resolved: dict[str, float] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> float:
        if name in resolved:
            return resolved[name]
        if name in chain:
            raise KeyProblems([((name,), f"therapy anchors form a cycle: {' → '.join(chain + (name,))}")])
        courses = getattr(therapy, name)
        starts = []
        for course in courses:
            offset = 0.0
            if course.relative_to is not None:
                if not getattr(therapy, course.relative_to):
                    raise KeyProblems([((name,), f"relative_to '{course.relative_to}', but the scenario gives no "
                                                 f"{course.relative_to}; anchors allowed here: "
                                                 f"{', '.join(therapy.given()) or 'none'}")])
                offset = resolve(course.relative_to, chain + (name,))
            starts.append(offset + _first_relative_day(course))
        resolved[name] = min(starts)
        return resolved[name]

    for name in therapy.given():
        resolve(name, ())
    return resolved


@dataclass(frozen=True)
class DatedEvent:
    day: float
    product: str
    kind: str  # "dose" or "infusion"
    amount: float  # mg for doses (0 when not given), cells for infusions (cells/kg for a dose into the blood)
    course: Any


def resolve_events(therapy: TherapyParams) -> list[DatedEvent]:
    """Every dose and infusion on its absolute day, in time order (ties in product order)."""
    zero = anchor_days(therapy)
    events: list[DatedEvent] = []
    for name in therapy.given():
        for course in getattr(therapy, name):
            offset = zero[course.relative_to] if course.relative_to else 0.0
            if name in INFUSIONS:
                amount = course.dose_per_kg if course.into_blood else course.count
                events.append(DatedEvent(offset + course.day, name, "infusion", float(amount), course))
            else:
                for day in course.days():
                    events.append(DatedEvent(offset + float(day), name, "dose", course.dose_mg or 0.0, course))
    order = {name: i for i, name in enumerate(type(therapy).model_fields)}
    return sorted(events, key=lambda e: (e.day, order[e.product]))
