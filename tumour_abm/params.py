"""Parameter declarations: every default lives once, beside the code that uses it, with unit and source.

A cell type or therapy declares its parameters as a `Params` subclass whose fields are made with `param()`.
The scenario schema is built from these classes, so a default is never typed a second time, and
`tumour-abm params` lists every value with its unit and source from the same declarations.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

ASSUMED = "assumed"

# The bound of every number that declares no tighter one. Every default is far below it (the largest is under
# 1,500), so a larger value is a typo or a units slip, never biology; bounding it keeps every rate, count and
# draw the model makes from it finite.
LARGEST_NUMBER = 1.0e6

# The scenario's day axis: no run, course or measurement lies more than ten years either side of day 0.
DAY_LIMIT = 3650.0


def param(default: Any, *, unit: str, source: str, **constraints: Any) -> Any:
    """A parameter field: default value, unit ("1" for dimensionless) and source (or "assumed ...").

    A number (its default is one) with no upper bound of its own gets LARGEST_NUMBER, and one with no lower bound
    gets -LARGEST_NUMBER, so that every number in a file is bounded by the one rule. Non-finite numbers are
    refused by `Params` itself."""
    if not unit or not source:
        raise ValueError("every parameter needs a unit and a source")
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        if not {"le", "lt"} & set(constraints):
            constraints["le"] = type(default)(LARGEST_NUMBER)
        if not {"ge", "gt"} & set(constraints):
            constraints["ge"] = type(default)(-LARGEST_NUMBER)
    return Field(default, json_schema_extra={"unit": unit, "source": source}, **constraints)


def day_param(default: Any, *, source: str, unit: str = "d") -> Any:
    """A day on the scenario's axis (or relative to an anchor), within DAY_LIMIT of day 0."""
    return param(default, unit=unit, source=source, ge=-DAY_LIMIT, le=DAY_LIMIT)


def section(cls: type[BaseModel], description: str) -> Any:
    """A nested group of parameters, defaulting to the group's own defaults."""
    return Field(default_factory=cls, description=description)


def variant(base: type[BaseModel], name: str, **changes: tuple[Any, str]) -> type[BaseModel]:
    """A parameter group like `base` but with other defaults, each given as (value, source): for products or
    fields that share a form but not their numbers, so every listed value keeps its own source."""
    fields: dict[str, Any] = {}
    for field_name, (default, source) in changes.items():
        info = base.model_fields[field_name]
        extra = {**(info.json_schema_extra or {}), "source": source}
        fields[field_name] = (info.annotation, FieldInfo.merge_field_infos(info, default=default, json_schema_extra=extra))
    # Belong to the calling module (as namedtuple does), so that pickle finds the class by name in workers.
    module = sys._getframe(1).f_globals["__name__"]
    return create_model(name, __base__=base, __module__=module, **fields)


class Params(BaseModel):
    """Base of every parameter group: unknown keys are errors, values are frozen, no silent coercion, and no
    number is infinite or NaN (one rule for every key, however deep)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True, allow_inf_nan=False)


@dataclass(frozen=True)
class ParamRow:
    path: str
    value: Any
    unit: str
    source: str


def iter_params(model: BaseModel, prefix: str = "") -> Iterator[ParamRow]:
    """Walk a parameter tree depth-first, yielding each leaf declared with `param()`."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        path = f"{prefix}{name}"
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if isinstance(value, BaseModel):
            yield from iter_params(value, prefix=f"{path}.")
        elif isinstance(value, dict) and value and all(isinstance(v, BaseModel) for v in value.values()):
            for key, item in value.items():
                yield from iter_params(item, prefix=f"{path}.{key}.")
        elif "unit" in extra:
            yield ParamRow(path, value, str(extra["unit"]), str(extra["source"]))
