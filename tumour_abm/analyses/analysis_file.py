"""What the analysis files share: read and validate the file, locate a problem on its line, and resolve the
scenario it names with its overrides and run length."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import annotated_types as at
from pydantic import BaseModel

from ..batchfile import OUTCOME_AT, updated_scenario
from ..config_errors import declared_type
from ..config_files import ConfigError, Problem, Sources, read_yaml_tree, validate_model
from ..scenario import Scenario, load_scenario, run_length_updates

BOUND_MARGIN = 1e-9  # relative step inside an open bound (gt / lt), so a sampled value is always valid


def declared_bounds(name: str) -> tuple[float, float]:
    """The range the declaration allows a parameter, open bounds stepped inside."""
    low, high = -math.inf, math.inf
    found = declared_type(Scenario, tuple(name.split(".")))
    for c in found[1] if found else []:
        if isinstance(c, at.Ge):
            low = max(low, float(c.ge))
        elif isinstance(c, at.Gt):
            low = max(low, float(c.gt) + BOUND_MARGIN * max(1.0, abs(float(c.gt))))
        elif isinstance(c, at.Le):
            high = min(high, float(c.le))
        elif isinstance(c, at.Lt):
            high = min(high, float(c.lt) - BOUND_MARGIN * max(1.0, abs(float(c.lt))))
    return low, high


@dataclass(frozen=True)
class AnalysisFile:
    path: Path
    params: Any  # the file's validated parameters
    sources: Sources
    scenario: Scenario  # the named scenario with the file's overrides and run length

    def problem(self, key: tuple, value: Any, message: str, allowed: str | None = None) -> ConfigError:
        """A problem with the file at `key`, on that key's line (or its section's)."""
        line = self.sources.get(key, self.sources.get(key[:1], (self.path, None)))[1]
        return ConfigError([Problem(self.path, line, ".".join(map(str, key)), value, message, allowed, None)])

    def check_range(self, name: str, low: float, high: float, value: Any) -> None:
        """A parameter range under `parameters:`: `value` (the scenario's) must be a number, the range within what
        the parameter's declaration allows."""
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.problem(("parameters", name), [low, high], "not a number of the scenario",
                               "a dotted path that `tumour-abm params` lists with a number")
        allowed = declared_bounds(name)
        if low < allowed[0] or high > allowed[1]:
            raise self.problem(("parameters", name), [low, high], "outside what the parameter allows",
                               f"{allowed[0]:g} to {allowed[1]:g}")

    def updated(self, updates: dict[str, Any], where: str, note: str = "") -> Scenario:
        """The scenario with updates, a problem reported as one of this file at `where`."""
        return updated_scenario(self.scenario, updates, self.path, where, note=note, sources=self.sources)


def read_analysis_file(path: str | Path, model: type[BaseModel],
                       updates: Callable[[Any], dict[str, Any]] = lambda params: {}) -> AnalysisFile:
    """Validate the file as `model` and resolve its `scenario` (relative to the file) with its `overrides`, `days`
    and `updates(params)`."""
    path = Path(path)
    data, sources = read_yaml_tree(path)
    params = validate_model(model, data, sources, file=path)
    bare = AnalysisFile(path, params, sources, None)  # type: ignore[arg-type]
    scenario_file = path.parent / params.scenario
    if not scenario_file.is_file():
        raise bare.problem(("scenario",), params.scenario, f"no such scenario file: {scenario_file}",
                           "a path relative to this file")
    scenario = load_scenario(scenario_file)
    changes = {**params.overrides, **updates(params)}
    if params.days is not None:
        changes.update(run_length_updates(scenario, params.days))
    return AnalysisFile(path, params, sources,
                        updated_scenario(scenario, changes, path, "overrides", sources=sources))


def check_window(f: AnalysisFile, expr: str, key: tuple) -> None:
    """A `column@day(s)` (or `doubling_time_h@a..b`) must read days the scenario's run records."""
    match = OUTCOME_AT.match(expr)  # the batch files' form, which doubling_time_h@a..b also has
    if match is None:
        return
    first, last = f.scenario.time.start_day, f.scenario.time.start_day + f.scenario.time.days
    a, b = float(match["start"]), float(match["end"] or match["start"])
    if a < first - 1e-9 or b > last + 1e-9:
        raise f.problem(key, expr, f"reads days {a:g} to {b:g}, outside the run (days {first:g} to {last:g})")
