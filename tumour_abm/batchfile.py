"""A batch file: several arms (scenario files with overrides) × replicates, compared with a reference arm;
optionally a parameter sweep (full grid) and a virtual cohort (per-patient parameters drawn from distributions).
Validated like scenario files; every arm's scenario is checked before anything runs."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, Field, model_validator

from .cohort import CohortParams, draw_patient
from .config_files import ConfigError, KeyProblems, Problem, Sources, read_yaml_tree, validate_model
from .outcomes import OUTCOMES
from .params import DAY_LIMIT, Params, param
from .scenario import Scenario, load_scenario, run_length_updates

OutcomeName = Literal[tuple(OUTCOMES)]  # type: ignore[valid-type]
ArmName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
MAX_SWEEP_POINTS = 10_000  # combinations of a full-grid sweep
MAX_JOBS = 1_000_000  # runs of one batch: each has a folder; beyond this a batch belongs split up
DEFAULT_OUTCOMES = ("final_tumour", "tumour_auc_cell_days", "min_tumour", "time_to_progression_d")


class ArmParams(Params):
    scenario: str = param(..., unit="-", source="batch file: a scenario file, relative to the batch file")
    overrides: Annotated[dict[str, Any], Field(strict=False)] = param(
        {}, unit="-", source="batch file: dotted scenario paths → values, e.g. {cancer.doubling_time_h: 24}"
    )
    replicates: int | None = param(None, unit="runs", source="batch file: this arm's replicates, instead of the "
                                                              "batch's (paired seeds: its first n)", ge=1, le=100_000)


class SweepParams(Params):
    parameters: Annotated[dict[str, Annotated[list[Any], Field(min_length=1)]], Field(strict=False, min_length=1)] = param(
        ..., unit="-", source="batch file: dotted scenario paths → values; every combination is run"
    )

    def points(self) -> list[dict[str, Any]]:
        names = list(self.parameters)
        return [dict(zip(names, values)) for values in itertools.product(*self.parameters.values())]


_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
OUTCOME_AT = re.compile(rf"^(?P<column>[a-z0-9_]+)@(?P<start>{_NUMBER})(?:\.\.(?P<end>{_NUMBER}))?$")


def check_outcome_expression(expr: str) -> str:
    """An outcome is a summary key (final_tumour), a time-series column on a day (hla_e_mean@7), or its mean over
    days (il10_mean@7..21)."""
    from .reporters import TIMESERIES

    if expr in OUTCOMES:
        return expr
    match = OUTCOME_AT.match(expr)
    if match and match["column"] in TIMESERIES:
        start, end = float(match["start"]), float(match["end"] or match["start"])
        if not -DAY_LIMIT <= start <= end <= DAY_LIMIT:
            raise ValueError(f"'{expr}': the days must be in order and within ±{DAY_LIMIT:g} (e.g. il10_mean@7..21)")
        return expr
    raise ValueError(f"'{expr}' is not an outcome: use a summary outcome ({', '.join(OUTCOMES)}) or a time-series "
                     f"column at a day, e.g. hla_e_mean@7 or il10_mean@7..21 (columns: {', '.join(TIMESERIES)})")


class ContrastParams(Params):
    arm: str = param(..., unit="-", source="batch file")
    versus: str = param(..., unit="-", source="batch file")


class HypothesisParams(Params):
    """An expected direction: `arm` has a lower / higher `outcome` than `versus` (paired by replicate), or than a
    fixed `value`; or, with `than`, the difference arm − versus is lower / higher than than.arm − than.versus (an
    interaction: e.g. a blocker removes a drug's gain). Tested one-sided, with Holm's correction over every
    hypothesis tested together. `expected: equivalent` claims no difference: arm − versus lies within ± `margin` ×
    the versus arm's mean (two one-sided tests)."""

    id: str = param(..., unit="-", source="batch file, e.g. C1")
    statement: str = param("", unit="-", source="batch file: the claim in words, with its references")
    outcome: Annotated[str, AfterValidator(check_outcome_expression)] = param(..., unit="-", source="batch file")
    arm: str = param(..., unit="-", source="batch file")
    versus: str | None = param(None, unit="-", source="batch file: the arm compared with")
    value: float | None = param(None, unit="as the outcome", source="batch file: or a fixed value")
    expected: Literal["less", "greater", "equivalent"] = param(..., unit="-", source="batch file")
    than: ContrastParams | None = param(None, unit="-", source="batch file: the difference compared with")
    margin: float | None = param(
        None, unit="1 (of the versus arm's mean)", source="batch file: for expected: equivalent, the largest "
                                                         "difference that counts as none, e.g. 0.2", gt=0, le=1,
    )

    @model_validator(mode="after")
    def _one_comparator(self) -> HypothesisParams:
        if (self.expected == "equivalent") != (self.margin is not None):
            raise KeyProblems([(("margin",), f"hypothesis {self.id}: expected: equivalent needs a margin (e.g. 0.2: "
                                             "within ±20 % of the versus arm's mean), and only it takes one")])
        if self.expected == "equivalent" and (self.versus is None or self.than is not None):
            raise KeyProblems([(("versus",), f"hypothesis {self.id}: an equivalence compares an arm with a versus "
                                             "arm (no value, no than)")])
        if (self.versus is None) == (self.value is None):
            raise KeyProblems([(("versus",), f"hypothesis {self.id}: give either versus (an arm) or value (a number)")])
        if self.than is not None and self.versus is None:
            raise KeyProblems([(("than",), f"hypothesis {self.id}: compares two differences, so it needs versus")])
        return self

    def arms(self) -> list[str]:
        """Every arm the hypothesis reads."""
        named = [self.arm, self.versus] + ([self.than.arm, self.than.versus] if self.than else [])
        return [a for a in named if a is not None]


EFFECT_DZ_LIMIT = 10.0  # |d_z| stored at most this: all pilot differences alike; power is then 1 at the fewest pairs


class PowerHypothesisParams(Params):
    outcome: str = param(..., unit="-", source="validate --pilot: the hypothesis sized (as in hypotheses)")
    arm: str = param(..., unit="-", source="validate --pilot")
    effect_dz: float | None = param(None, unit="1", source="validate --pilot: paired d_z, positive the expected "
                                                         "way; null when every pilot difference was 0",
                                    ge=-EFFECT_DZ_LIMIT, le=EFFECT_DZ_LIMIT)
    replicates: int = param(..., unit="pairs", source="validate --pilot: for the target power at alpha", ge=1,
                            le=100_000)


class PowerParams(Params):
    """How the claim's replicates were chosen: a pilot's paired effect per hypothesis and the pairs it needs."""

    pilot_replicates: int = param(..., unit="pairs", source="validate --pilot", ge=2, le=100_000)
    pilot_base_seed: int = param(..., unit="-", source="validate --pilot: seeds apart from the validation's", ge=0,
                                 le=2**32 - 1)
    target_power: float = param(..., unit="1", source="validate --pilot", gt=0, lt=1)
    alpha: float = param(..., unit="1", source="validate --pilot: 0.05 over the suite's hypotheses (Holm's first "
                                                "step)", gt=0, lt=1)
    cap: int = param(..., unit="pairs", source="validate --pilot: at most this many", ge=1, le=100_000)
    hypotheses: Annotated[tuple[PowerHypothesisParams, ...], Field(strict=False, min_length=1)] = param(
        ..., unit="-", source="validate --pilot: one per hypothesis, in their order"
    )


class BatchParams(Params):
    description: str = Field("", description="what the batch asks")
    arms: Annotated[dict[ArmName, ArmParams], Field(strict=False, min_length=1)] = param(
        ..., unit="-", source="batch file: arm name → scenario and overrides"
    )
    reference: str = param(..., unit="-", source="batch file: the arm the others are compared with")
    replicates: int = param(10, unit="runs per arm", source="batch file", ge=1, le=100_000)
    seeds: Literal["paired", "independent"] = param(
        "paired", unit="-", source="batch file: paired = replicate i uses the same seed (and patient) in every arm"
    )
    base_seed: int = param(1, unit="-", source="batch file (a 32-bit number)", ge=0, le=2**32 - 1)
    days: float | None = param(None, unit="d", source="batch file: simulated days for every arm (default: each "
                                                     "scenario's)", gt=0, le=DAY_LIMIT)
    outcomes: Annotated[tuple[OutcomeName, ...], Field(strict=False, min_length=1)] = param(
        DEFAULT_OUTCOMES, unit="-", source="batch file: outcomes to compare (names as in summary.json)"
    )
    sweep: SweepParams | None = param(None, unit="-", source="batch file: optional full-grid parameter sweep")
    cohort: CohortParams | None = param(None, unit="-", source="batch file: optional virtual cohort")
    hypotheses: Annotated[tuple[HypothesisParams, ...], Field(strict=False)] = param(
        (), unit="-", source="batch file: expected directions to test (tumour-abm validate)"
    )
    power: PowerParams | None = param(None, unit="-", source="batch file: written by tumour-abm validate --pilot")

    @model_validator(mode="after")
    def _arms_exist(self) -> BatchParams:
        arms = ", ".join(self.arms)
        problems = [] if self.reference in self.arms else [(("reference",), f"not an arm; arms: {arms}")]
        for i, h in enumerate(self.hypotheses):
            keys = [("arm",), ("versus",)] + ([("than", "arm"), ("than", "versus")] if h.than else [])
            names = [h.arm, h.versus] + ([h.than.arm, h.than.versus] if h.than else [])
            for key, name in zip(keys, names):
                if name is not None and name not in self.arms:
                    problems.append((("hypotheses", i, *key), f"hypothesis {h.id}: not an arm; arms: {arms}"))
        if self.power is not None:
            sized = [(s.outcome, s.arm) for s in self.power.hypotheses]
            if sized != [(h.outcome, h.arm) for h in self.hypotheses]:
                problems.append((("power", "hypotheses"), "does not list the hypotheses in their order (outcome, "
                                                          "arm): the file changed since its pilot; run tumour-abm "
                                                          "validate --pilot again"))
        if problems:
            raise KeyProblems(problems)
        return self

    @model_validator(mode="after")
    def _bounded(self) -> BatchParams:
        points = math.prod(len(values) for values in self.sweep.parameters.values()) if self.sweep else 1
        if points > MAX_SWEEP_POINTS:
            raise KeyProblems([(("sweep", "parameters"), f"{points:,} combinations, more than the "
                                                         f"{MAX_SWEEP_POINTS:,} a batch may run")])
        jobs = sum(arm.replicates or self.replicates for arm in self.arms.values()) * points
        if jobs > MAX_JOBS:
            raise KeyProblems([(("replicates",), f"{len(self.arms)} arms' replicates x {points:,} sweep points = "
                                                 f"{jobs:,} runs, more than the {MAX_JOBS:,} a batch may hold")])
        return self

    def sweep_points(self) -> list[dict[str, Any]]:
        return self.sweep.points() if self.sweep else [{}]


class Batch:
    """A loaded batch file with each arm's resolved scenario."""

    def __init__(self, path: Path, params: BatchParams, scenarios: dict[str, Scenario]):
        self.path, self.params, self.scenarios = path, params, scenarios


def load_batch(path: str | Path) -> Batch:
    """Read and validate a batch file and every scenario it names, with their overrides, sweep and cohort paths."""
    path = Path(path)
    data, sources = read_yaml_tree(path)
    params = validate_model(BatchParams, data, sources, file=path)
    scenarios: dict[str, Scenario] = {}
    for name, arm in params.arms.items():
        scenario_file = path.parent / arm.scenario
        if not scenario_file.is_file():
            key = ("arms", name, "scenario")
            raise ConfigError([Problem(path, sources.get(key, (path, None))[1], ".".join(key), arm.scenario,
                                       f"no such scenario file: {scenario_file}", "a path relative to the batch file",
                                       None)])
        scenario = load_scenario(scenario_file)
        updates = dict(arm.overrides)
        if params.days is not None:
            updates.update(run_length_updates(scenario, params.days))
        scenarios[name] = updated_scenario(scenario, updates, path, f"arms.{name}.overrides", sources=sources)
    # Sweep values and cohort paths must fit every arm: try each value now rather than fail mid-batch (each on its
    # own, the others at their first value, so the check grows with the lists' total length, not their product).
    for probe in _sweep_probes(params.sweep):
        for scenario in scenarios.values():
            updated_scenario(scenario, probe, path, "sweep.parameters", sources=sources)
    if params.cohort:
        probe = np.random.default_rng(0)
        for name, scenario in scenarios.items():
            updated_scenario(scenario, draw_patient(params.cohort, scenario, probe).updates, path, "cohort.parameters",
                             sources=sources)
    return Batch(path, params, scenarios)


def _sweep_probes(sweep: SweepParams | None) -> list[dict[str, Any]]:
    if sweep is None:
        return []
    first = {name: values[0] for name, values in sweep.parameters.items()}
    return [{**first, name: value} for name, values in sweep.parameters.items() for value in values]


def updated_scenario(scenario: Scenario, updates: dict[str, Any], path: Path, where: str,
                     note: str = "", sources: Sources | None = None) -> Scenario:
    """The scenario with a batch file's updates; a problem is reported as one of the batch file, at `where`, on the
    line of the update it came from when the file's source map is given."""
    try:
        return scenario.with_updates(updates)
    except ConfigError as err:
        raise ConfigError([Problem(path, _update_line(p.key_path, updates, where, sources),
                                   f"{where}.{p.key_path}" if p.key_path else where, p.value,
                                   p.message + note, p.allowed, p.suggestion) for p in err.problems]) from None


def _update_line(key_path: str, updates: dict[str, Any], where: str, sources: Sources | None) -> int | None:
    """The line of the dotted update a problem is about (the longest key that is the problem's path or a prefix of
    it), else the line of the section that holds the updates."""
    if not sources:
        return None
    section = tuple(where.split("."))
    keys = sorted((k for k in updates if key_path == k or key_path.startswith(k + ".")), key=len, reverse=True)
    for key in keys[:1] + [None]:
        found = sources.get(section + (key,) if key else section)
        if found and found[1] is not None:
            return found[1]
    return None
