"""A scenario: everything one run needs, read from YAML into frozen, validated parameter groups.

Keys carry their unit in their name (`dt_min`, `doubling_time_h`, `site_um`), times are in days or hours,
never in steps. Every default comes from the parameter declarations of the module that uses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .cells.cancer import CancerParams, MicroenvironmentParams
from .cells.car_t import CarTParams
from .cells.macrophage import MacrophageParams
from .cells.neutrophil import NeutrophilParams
from .cells.nk import NKParams
from .cells.cd8 import CD8Params
from .cells.suppressors import MDSCParams, TregParams
from .config_files import ConfigError, KeyProblems, Problem, load_model, validate_model
from .fields import AllFieldParams
from .host.blood import BloodParams
from .params import DAY_LIMIT, Params, day_param, param, section
from .space import GridParams
from .therapy.assay import CocultureParams
from .therapy.products import ANTIBODY_NAMES, PD1_AXIS_BLOCKERS, T_CELL_ENGAGERS, ProductParams
from .therapy.schedule import TherapyParams, resolve_events


MAX_SNAPSHOTS = 100
DayOnAxis = Annotated[float, Field(ge=-DAY_LIMIT, le=DAY_LIMIT)]


class TimeParams(Params):
    dt_min: float = param(30.0, unit="min", source="biology.md: dt 30 min default; 1 min to 4 h (assumed: rates "
                          "become per-step probabilities, so a shorter step only multiplies the work)", ge=1, le=240)
    start_day: float = day_param(
        0.0, source="scenario: the first simulated day (negative to start before a day-0 infusion)"
    )
    days: float = param(28.0, unit="d", source="scenario: simulated duration (at most ten years)", gt=0,
                        le=DAY_LIMIT)

    @property
    def end_day(self) -> float:
        return self.start_day + self.days

    @property
    def dt_h(self) -> float:
        return self.dt_min / 60.0

    @property
    def n_steps(self) -> int:
        return int(round(self.days * 24 * 60 / self.dt_min))


class OutputParams(Params):
    record_every_h: float = param(6.0, unit="h", source="scenario: time-series sampling interval (at most a "
                                  "row per step)", gt=0, le=DAY_LIMIT * 24)
    snapshot_days: Annotated[tuple[DayOnAxis, ...], Field(strict=False, max_length=MAX_SNAPSHOTS)] = param(
        (0.0, 14.0, 28.0), unit="d", source=f"scenario: days of the spatial snapshot figures (at most {MAX_SNAPSHOTS}: "
                                            "each holds a copy of every field)"
    )


class ResponseParams(Params):
    """Tumour-burden response thresholds. Burden is a cell count on a 2-D section, i.e. an area, so RECIST 1.1's
    diameter thresholds (−30 % for PR, +20 % for PD) become area thresholds by squaring."""

    partial_response_change: float = param(
        -0.51, unit="1 (fractional change)", source="RECIST 1.1 −30 % diameter, squared for area", gt=-1, lt=0
    )
    progression_change: float = param(
        0.44, unit="1 (fractional change from nadir)", source="RECIST 1.1 +20 % diameter, squared for area", gt=0
    )
    baseline_day: float | None = day_param(
        None, source="scenario: day responses are measured from (default: the first therapy event)"
    )
    assessment_every_d: float | None = param(
        None, unit="d", source="scenario: the burden is assessed (scanned) this often after the baseline, as in a "
                               "trial (e.g. 42 for 6-weekly scans); default: at every step", gt=0, le=DAY_LIMIT
    )
    confirm_after_d: float = param(
        28.0, unit="d", source="RECIST 1.1: a response is confirmed by an assessment at least 4 weeks after it was "
                               "first seen", ge=0, le=DAY_LIMIT
    )


WELL_DERIVED = (("time", "start_day"), ("time", "days"), ("grid", "vessel_fraction"))  # what a well's section sets


class Scenario(Params):
    description: str = Field("", description="one line saying what the scenario is for")
    setting: Literal["tissue", "coculture"] = Field(
        "tissue", description="'tissue': a section of a tumour with vessels and blood; 'coculture': a well of "
                              "targets and effectors (the `coculture:` section)")
    coculture: CocultureParams = section(CocultureParams, "the well: effectors, E:T, pre-treatment, co-treatments")
    grid: GridParams = section(GridParams, "the tissue grid and its vessels")
    time: TimeParams = section(TimeParams, "time step and duration")
    cancer: CancerParams = section(CancerParams, "the cancer cells")
    microenvironment: MicroenvironmentParams = section(MicroenvironmentParams, "niche signals")
    nk: NKParams = section(NKParams, "NK cells")
    car_t: CarTParams = section(CarTParams, "CAR-T cells")
    cd8: CD8Params = section(CD8Params, "endogenous tumour-specific CD8 T cells")
    treg: TregParams = section(TregParams, "regulatory T cells (suppress effector T and NK cells near them)")
    mdsc: MDSCParams = section(MDSCParams, "myeloid-derived suppressor cells (suppress effector T and NK cells)")
    macrophage: MacrophageParams = section(MacrophageParams, "macrophages (M1/M2)")
    neutrophil: NeutrophilParams = section(NeutrophilParams, "neutrophils and NETs")
    fields: AllFieldParams = section(AllFieldParams, "diffusing signals")
    blood: BloodParams = section(BloodParams, "the patient's blood: CAR-T cells given into it (therapy.car_t "
                                              "dose_per_kg)")
    therapy: TherapyParams = section(TherapyParams, "the schedule: when each therapy is given")
    products: ProductParams = section(ProductParams, "what each therapy does")
    response: ResponseParams = section(ResponseParams, "response categories and progression")
    output: OutputParams = section(OutputParams, "what a run records")

    @model_validator(mode="after")
    def _well(self) -> Scenario:
        """A co-culture's clock, grid and records follow from its `coculture:` section: the run starts with the
        pre-treatment and ends with the co-culture, the well has no vessels, and every step is recorded. A key that
        says otherwise, or a dose schedule (a well gets concentrations), is an error."""
        if self.setting != "coculture":
            if self.coculture != CocultureParams():  # (a dumped scenario carries the defaults: those are fine)
                raise KeyProblems([(("coculture",), "is read only with setting: coculture (this scenario's setting "
                                                    "is 'tissue')")])
            return self
        c = self.coculture
        start_day, days = -c.pretreatment.hours / 24.0, (c.pretreatment.hours + c.hours) / 24.0  # day 0: effectors in
        derived = dict(zip(WELL_DERIVED, (start_day, days, 0.0)))
        problems = []
        for (group, key), value in derived.items():
            given = getattr(getattr(self, group), key)
            if key in getattr(self, group).model_fields_set and abs(given - value) > 1e-12:
                problems.append(((group, key), f"is {given:g}, but a co-culture sets it to {value:g} (from "
                                               "coculture.hours and coculture.pretreatment.hours; a well has no "
                                               "vessels): leave it out"))
        for name in ("nk", "car_t", "cd8", "treg", "mdsc", "macrophage", "neutrophil"):
            if getattr(getattr(self, name), "influx_per_d", 0.0) > 0:
                problems.append(((name, "influx_per_d"), "a well has no blood supply: no cells are recruited"))
        effector = getattr(self, c.effector)
        if effector.initial_count:
            problems.append(((c.effector, "initial_count"), "the co-culture's effectors are added at the start of the "
                                                           "co-culture at coculture.effector_to_target: leave it out"))
        for name in self.therapy.given():
            problems.append((("therapy", name), "a well gets concentrations, not doses: use coculture.selinexor_nM, "
                                                "coculture.pretreatment or coculture.cotreatments"))
        steps = [(("coculture", "pretreatment", "hours"), c.pretreatment.hours), (("coculture", "hours"), c.hours)]
        for where, hours in steps:
            if abs(hours * 60.0 / self.time.dt_min - round(hours * 60.0 / self.time.dt_min)) > 1e-9:
                problems.append((where, f"{hours:g} h is not a whole number of steps of time.dt_min = "
                                        f"{self.time.dt_min:g}"))
        if problems:
            raise KeyProblems(problems)
        record_h = self.output.record_every_h if "record_every_h" in self.output.model_fields_set else self.time.dt_h
        snapshots = self.output.snapshot_days if "snapshot_days" in self.output.model_fields_set else ()
        return self.model_copy(update={
            "time": self.time.model_copy(update={"start_day": start_day, "days": days}),
            "grid": self.grid.model_copy(update={"vessel_fraction": 0.0}),
            "output": self.output.model_copy(update={"record_every_h": record_h, "snapshot_days": snapshots}),
        })

    @model_validator(mode="after")
    def _tumour_fits(self) -> Scenario:
        sites = self.grid.width_sites * self.grid.height_sites
        usable = sites - int(round(self.grid.vessel_fraction * sites))
        cells = {
            "cancer.initial_cells": self.cancer.initial_cells,
            "nk.initial_count": self.nk.initial_count,
            "car_t.initial_count": self.car_t.initial_count,
            "macrophage.initial_count": self.macrophage.initial_count,
            "neutrophil.initial_count": self.neutrophil.initial_count,
        }
        if sum(cells.values()) > usable:
            given = ", ".join(f"{k} = {v}" for k, v in cells.items() if v)
            largest = max(cells, key=cells.__getitem__)
            raise KeyProblems([(tuple(largest.split(".")),
                                f"the initial cells ({given}) do not fit on the grid: at most {usable} free sites "
                                f"(grid.width_sites x grid.height_sites = {self.grid.width_sites} x "
                                f"{self.grid.height_sites}, minus grid.vessel_fraction)")])
        return self

    @model_validator(mode="after")
    def _therapies_have_targets(self) -> Scenario:
        """A therapy for cells the scenario lacks, or a dose before the run starts, is a mistake, not a no-op."""
        t, problems = self.therapy, []
        has_nk = bool(self.nk.initial_count or self.nk.influx_per_d or t.nk_cells)
        has_car_t = bool(self.car_t.initial_count or t.car_t)
        has_cd8 = bool(self.cd8.initial_count or self.cd8.influx_per_d)
        has_macrophages = bool(self.macrophage.initial_count or self.macrophage.influx_per_d)
        if t.anti_nkg2a and not (has_nk or has_car_t or has_cd8):
            problems.append((("therapy", "anti_nkg2a"), "blocks NKG2A on NK, CAR-T and CD8 T cells, but the scenario "
                                                        "has none of them"))
        for name in PD1_AXIS_BLOCKERS:
            if getattr(t, name) and not (has_car_t or has_cd8):
                problems.append((("therapy", name), "acts on CAR-T and CD8 T cells, but the scenario has neither "
                                                    "(car_t.initial_count, therapy.car_t, cd8.initial_count, "
                                                    "cd8.influx_per_d)"))
        has_tregs = bool(self.treg.initial_count or self.treg.influx_per_d)
        if t.ipilimumab and not (has_cd8 or has_tregs):
            problems.append((("therapy", "ipilimumab"), "primes CD8 T cells and depletes Tregs, but the scenario has "
                                                        "neither (cd8.influx_per_d, treg.influx_per_d, or their "
                                                        "initial_count)"))
        for name in T_CELL_ENGAGERS:
            if not getattr(t, name):
                continue
            if not has_cd8:
                problems.append((("therapy", name), "redirects endogenous T cells, but the scenario has none "
                                                    "(cd8.initial_count, cd8.influx_per_d)"))
            target = getattr(self.products, name).target
            if target != "TRAIL-R2":
                self._check_antigen(("therapy", name), target, problems)
        for name in ANTIBODY_NAMES:
            if not getattr(t, name):
                continue
            if not (has_nk or has_macrophages):
                problems.append((("therapy", name), "works through NK cells (ADCC) or macrophages (ADCP), "
                                                    "but the scenario has neither"))
            self._check_antigen(("therapy", name), getattr(self.products, name).target_antigen, problems)
        if has_car_t:
            self._check_antigen(("car_t", "target_antigen"), self.car_t.target_antigen, problems)
        early = [e for e in resolve_events(t) if e.day < self.time.start_day]
        if early:
            e = early[0]
            problems.append((("therapy", e.product), f"a {e.kind} on day {e.day:g} is before the run starts "
                                                      f"(time.start_day = {self.time.start_day:g})"))
        outside = [d for d in self.output.snapshot_days if not self.time.start_day <= d <= self.time.end_day]
        if outside:
            # Any of the three keys may be the mistake (a file that changes the run often inherits the snapshots),
            # so each is named where it is set.
            run = f"days {self.time.start_day:g} to {self.time.end_day:g}"
            problems.append((("output", "snapshot_days"), f"{outside} are outside the run ({run})"))
            for key in ("start_day", "days"):
                problems.append((("time", key), f"the run ({run}) misses output.snapshot_days {outside}"))
        if problems:
            raise KeyProblems(problems)
        return self

    def _check_antigen(self, where: tuple, antigen: str, problems: list) -> None:
        spec = self.cancer.antigens[antigen]
        if spec.positive_fraction == 0 or spec.level == 0:
            problems.append((where, f"targets {antigen}, which no cancer cell carries (cancer.antigens.{antigen})"))

    def with_updates(self, updates: dict[str, Any]) -> Scenario:
        """A copy with dotted-path values replaced, validated again (e.g. {"time.days": 7})."""
        data = _mutable(self.model_dump(mode="python"))
        if self.setting == "coculture":  # derived from the well's hours: derive them again from the updated ones
            for group, key in WELL_DERIVED:
                if f"{group}.{key}" not in updates:
                    del data[group][key]
        for dotted, value in updates.items():
            node = data
            *parents, leaf = dotted.split(".")
            try:
                for key in parents:
                    node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
                if isinstance(node, list):
                    node[int(leaf)] = value
                else:
                    node[leaf] = value
            except (IndexError, ValueError, TypeError, AttributeError):
                raise ConfigError([Problem(None, None, dotted, value, "no such place in the scenario",
                                           "a dotted path of keys, with list positions as numbers", None)]) from None
        return validate_model(Scenario, data, {}, file=None)


def _mutable(value: Any) -> Any:
    """Dumped parameters with lists where they had tuples, so that an update can reach into a course list."""
    if isinstance(value, dict):
        return {k: _mutable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mutable(v) for v in value]
    return value


def run_length_updates(scenario: Scenario, days: float) -> dict:
    """Updates for a shorter (or longer) run of `days` from the scenario's start: it keeps the snapshots that
    fall within it."""
    end = scenario.time.start_day + days
    return {"time.days": days, "output.snapshot_days": tuple(d for d in scenario.output.snapshot_days if d <= end)}


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, merge (`extends:`) and validate a scenario file; raises ConfigError naming file, line and key."""
    return load_model(Scenario, Path(path), overrides=overrides)
