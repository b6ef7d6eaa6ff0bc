"""Parameter files: YAML in, a validated pydantic model out — or every problem at once, each with file and line.

Generic over the model class, so scenarios and batch files share it. Only YAML's safe loader is used. Lines come
from the composed node tree; values are built from the same nodes with SafeConstructor, so they always agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .config_errors import (ConfigError, KeyProblems, Problem, Sources, declared_type, dotted_path, fail, fields_by_key,
                            has_key, is_model, problems_from)
from .yaml_tree import read_yaml_tree

__all__ = ["ConfigError", "KeyProblems", "Problem", "dump_yaml", "load_model", "read_yaml_tree", "validate_model"]

_OVERRIDE: tuple[None, None] = (None, None)  # source of a value set by an override rather than a file


def validate_model[M: BaseModel](model_cls: type[M], data: dict, sources: dict, *, file: Path | None) -> M:
    """Validate; on failure raise ConfigError with one Problem per pydantic error (all of them, so a user fixes
    a file in one pass rather than one error per run)."""
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        problems = [p for err in exc.errors() for p in problems_from(err, model_cls, data, sources, file)]
        raise ConfigError(problems) from None



def _plain(value: Any) -> Any:
    """A default value as file data (models to dicts, tuples to lists), so an override can change one part."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def _child(model_cls: type[BaseModel], node: Any, key: Any, path: tuple) -> Any:
    """The node one step down, creating it if missing: {} for a model, else a copy of the declared default
    (so that overriding one entry of a defaulted dict or list keeps the others)."""
    if not has_key(node, key):
        if not isinstance(node, dict):
            raise fail(None, None, dotted_path(path), "override goes inside a value that is not a mapping or list")
        parent = declared_type(model_cls, path[:-1])
        info = fields_by_key(parent[0]).get(key) if parent and is_model(parent[0]) else None
        declared = declared_type(model_cls, path)
        keep_default = info is not None and not (declared and is_model(declared[0]))
        node[key] = _plain(info.get_default(call_default_factory=True)) if keep_default else {}
    return node[key]


def _apply_overrides(model_cls: type[BaseModel], data: dict, sources: Sources, overrides: dict[str, Any]) -> None:
    """Set each dotted path; mark it (and any mapping it had to create) as coming from an override."""
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split(".")
        node, path = data, ()
        for seg in parents:
            key = int(seg) if isinstance(node, list) and seg.isdigit() else seg
            path += (key,)
            if not has_key(node, key):
                sources[path] = _OVERRIDE
            node = _child(model_cls, node, key, path)
        key = int(leaf) if isinstance(node, list) and leaf.isdigit() else leaf
        path += (key,)
        if not (isinstance(node, dict) or has_key(node, key)):
            raise fail(None, None, dotted_path(path), "override goes inside a value that is not a mapping or list")
        node[key] = value
        for stale in [p for p in sources if p[: len(path)] == path]:
            del sources[stale]
        sources[path] = _OVERRIDE


def load_model[M: BaseModel](model_cls: type[M], path: Path, overrides: dict[str, Any] | None = None) -> M:
    """read_yaml_tree + apply dotted-path overrides ({"time.days": 7}) + validate_model."""
    path = Path(path)
    data, sources = read_yaml_tree(path)
    _apply_overrides(model_cls, data, sources, overrides or {})
    return validate_model(model_cls, data, sources, file=path)


def dump_yaml(model: BaseModel) -> str:
    """The fully resolved model as YAML, loadable again by load_model to an equal model."""
    return yaml.safe_dump(model.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
