"""What the pydantic models expect at each key path (public API only: model_fields and typing), so mutations can
aim at every key the schema has, not only the keys a real file happens to use."""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel


@dataclass(frozen=True)
class Slot:
    """A place a value can go: its key path and what is expected there."""

    path: tuple
    kind: str  # float, int, bool, str, literal, seq, map, section, any
    optional: bool = False
    choices: tuple = ()
    item: str = ""  # for seq: the kind of an element


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _unwrap(tp: Any) -> tuple[Any, bool]:
    optional = False
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            optional = optional or len(args) < len(get_args(tp))
            tp = next((a for a in args if _is_model(a)), args[0])
        else:
            return tp, optional


def _kind(tp: Any) -> str:
    if _is_model(tp):
        return "section"
    origin = get_origin(tp)
    if origin is Literal:
        return "literal"
    if origin in (dict, Mapping) or tp is dict:
        return "map"
    if origin in (tuple, list, Sequence) or tp in (tuple, list):
        return "seq"
    return {float: "float", int: "int", bool: "bool", str: "str"}.get(tp, "any")


def fields_by_key(model: type[BaseModel]) -> dict[str, Any]:
    return {info.alias or name: info for name, info in model.model_fields.items()}


def enumerate_slots(model: type[BaseModel], hint: Any, sample_keys: dict[tuple, str] | None = None) -> list[Slot]:
    """Every key path of a model (recursively), with dict keys taken from `hint` (file or default data) and list
    positions as 0."""
    out: list[Slot] = []
    sample_keys = sample_keys or {}

    def walk(tp: Any, path: tuple, hint: Any) -> None:
        tp, optional = _unwrap(tp)
        kind = _kind(tp)
        item = ""
        if kind == "seq" and get_args(tp):
            item = _kind(_unwrap(get_args(tp)[0])[0])
        out.append(Slot(path, kind, optional, get_args(tp) if kind == "literal" else (), item))
        if kind == "section":
            for key, info in fields_by_key(tp).items():
                walk(info.annotation, path + (key,), hint.get(key) if isinstance(hint, dict) else None)
        elif kind == "map" and len(get_args(tp)) == 2:
            value_tp = get_args(tp)[1]
            keys = list(hint) if isinstance(hint, dict) and hint else []
            if not keys and _is_model(_unwrap(value_tp)[0]):
                keys = [sample_keys.get(path, "fz_item")]
            for key in keys:
                walk(value_tp, path + (key,), hint.get(key) if isinstance(hint, dict) else None)
        elif kind == "seq" and get_args(tp):
            walk(get_args(tp)[0], path + (0,), hint[0] if isinstance(hint, list) and hint else None)

    walk(model, (), hint)
    return out[1:]


def kind_at(model: type[BaseModel], path: tuple) -> Slot | None:
    """What the schema expects at a path of a file (a course may be written as one mapping instead of a list)."""

    def walk(tp: Any, rest: tuple) -> Any:
        tp, optional = _unwrap(tp)
        if not rest:
            return tp, optional
        seg, origin, args = rest[0], get_origin(tp), get_args(tp)
        if _is_model(tp):
            info = fields_by_key(tp).get(seg)
            return None if info is None else walk(info.annotation, rest[1:])
        if origin in (dict, Mapping) and len(args) == 2:
            return walk(args[1], rest[1:])
        if origin in (tuple, list, Sequence) and args:
            if isinstance(seg, int):
                return walk(args[0], rest[1:])
            inner = _unwrap(args[0])[0]
            return walk(inner, rest) if _is_model(inner) else None
        return None

    found = walk(model, path)
    if found is None:
        return None
    tp, optional = found
    kind = _kind(tp)
    item = _kind(_unwrap(get_args(tp)[0])[0]) if kind == "seq" and get_args(tp) else ""
    return Slot(path, kind, optional, get_args(tp) if kind == "literal" else (), item)


# In this order: a bool is also an int.
_VALUE_KINDS = ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (list, "seq"), (dict, "map"))


def value_kind(value: Any) -> str:
    return next((name for tp, name in _VALUE_KINDS if isinstance(value, tp)), "any")


def _models() -> tuple[type[BaseModel] | None, type[BaseModel] | None, Any]:
    try:
        from tumour_abm.scenario import Scenario
    except Exception:  # noqa: BLE001 - the package is being edited; fuzz with file data only
        return None, None, {}
    try:
        default = Scenario().model_dump(mode="json")
    except Exception:  # noqa: BLE001
        default = {}
    try:
        from tumour_abm.batchfile import BatchParams
    except Exception:  # noqa: BLE001
        BatchParams = None
    return Scenario, BatchParams, default


SCENARIO_MODEL, BATCH_MODEL, SCENARIO_DEFAULT = _models()
SCENARIO_SLOTS = enumerate_slots(SCENARIO_MODEL, SCENARIO_DEFAULT) if SCENARIO_MODEL else []


def is_numeric(slot: Slot) -> bool:
    return slot.kind in ("float", "int", "any")


def section_model(model: type[BaseModel] | None, path: tuple) -> type[BaseModel] | None:
    tp: Any = model
    for seg in path:
        tp, _ = _unwrap(tp)
        origin, args = get_origin(tp), get_args(tp)
        if _is_model(tp):
            tp = fields_by_key(tp)[seg].annotation
        elif origin in (dict, Mapping):
            tp = args[1]
        elif origin in (tuple, list, Sequence):
            tp = args[0]
    tp, _ = _unwrap(tp)
    return tp if _is_model(tp) else None
