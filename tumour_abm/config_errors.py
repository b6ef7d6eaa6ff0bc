"""What is wrong with a parameter file, said so a user can fix it: file, line, key path, value, what is allowed.

Pydantic's errors are translated here into `Problem`s; validators that check several keys together raise
`KeyProblems` to name the keys they are about, so that their messages are located like any other.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import annotated_types as at
from pydantic import BaseModel

Sources = dict[tuple, tuple[Path | None, int | None]]
_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
_ERROR_WORDS = {"bool_type": bool, "int_type": int, "float_type": float, "string_type": str}
_BOUNDS = ((at.Gt, "gt", ">"), (at.Ge, "ge", ">="), (at.Lt, "lt", "<"), (at.Le, "le", "<="))
_CTX_BOUNDS = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="),
               "less_than": ("lt", "<"), "less_than_equal": ("le", "<=")}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, located as precisely as the source map allows (None where unknown)."""

    file: Path | None
    line: int | None
    key_path: str
    value: Any
    message: str
    allowed: str | None
    suggestion: str | None


class ConfigError(Exception):
    """One or more problems with a parameter file; str() is the complete message for the user."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(_render(p) for p in self.problems))

    def __reduce__(self):  # rebuild from the problems, so the error survives pickling (e.g. to a worker)
        return ConfigError, (self.problems,)


class KeyProblems(ValueError):
    """Raised by a validator that checks several keys together, to name the key each message is about (a path
    relative to the validated model, e.g. ("therapy", "car_t")), so the message gets that key's file and line."""

    def __init__(self, items: list[tuple[tuple, str]]):
        self.items = [(tuple(key), message) for key, message in items]
        super().__init__("; ".join(f"{dotted_path(key)}: {message}" for key, message in self.items))

    def __reduce__(self):
        return KeyProblems, (self.items,)


def _render(p: Problem) -> str:
    """One block per problem: a first line with where, which key and which value, then what would be allowed."""
    where = f"{p.file}:{p.line}: " if p.file and p.line else f"{p.file}: " if p.file else ""
    shown = "" if p.value is None else str(p.value).lower() if isinstance(p.value, bool) else repr(p.value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    if p.message.startswith("unknown key"):
        first = f"{where}{p.key_path}: {p.message}" + (f" (value: {shown})" if shown else "")
    else:
        label = p.key_path + (f" = {shown}" if shown and p.key_path else "")
        first = f"{where}{label}: {p.message}" if label else f"{where}{p.message}"
    lines = [first]
    if p.allowed:
        lines.append(f"    allowed {p.allowed}" if p.allowed.startswith("keys:") else f"    allowed: {p.allowed}")
    if p.suggestion:
        lines.append(f"    {p.suggestion}")
    return "\n".join(lines)


def fail(file: Path | None, line: int | None, key_path: str, message: str, value: Any = None,
         allowed: str | None = None) -> ConfigError:
    return ConfigError([Problem(file, line, key_path, value, message, allowed, None)])


def _unwrap(tp: Any) -> tuple[Any, list]:
    """Strip Annotated and Optional wrappers so the walk sees the real type (and any constraints on it)."""
    meta: list = []
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            meta.extend(tp.__metadata__)
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = next((a for a in args if is_model(a)), args[0])
        else:
            return tp, meta


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def fields_by_key(model: type[BaseModel]) -> dict[str, Any]:
    return {info.alias or name: info for name, info in model.model_fields.items()}


def declared_type(model_cls: type[BaseModel], path: tuple) -> tuple[Any, list] | None:
    """The declared type (and constraints) at a data path: through fields, dict values and list items."""
    tp, meta = model_cls, []
    for seg in path:
        tp, _ = _unwrap(tp)
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        one_of_many = origin is tuple and len(args) == 2 and args[1] is Ellipsis and is_model(args[0])
        if one_of_many and not isinstance(seg, int):
            # A list of groups written as one mapping (a single course): the key is the item's.
            tp, origin, args = args[0], None, ()
        if is_model(tp) and seg in fields_by_key(tp):
            info = fields_by_key(tp)[seg]
            tp, meta = info.annotation, list(info.metadata)
        elif origin in (dict, Mapping) and len(args) == 2:
            tp, meta = args[1], []
        elif origin in (list, tuple, Sequence) and args and isinstance(seg, int):
            fixed = origin is tuple and args[-1] is not Ellipsis
            if fixed and seg >= len(args):
                return None
            tp, meta = args[seg] if fixed else args[0], []
        else:
            return None
    tp, more = _unwrap(tp)
    return tp, meta + more


def _number(value: float) -> str:
    """A bound as people write it: 1000000 rather than 1000000.0, 0.0416667 rather than 0.041666666666666664."""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def _describe(tp: Any, meta: list) -> str | None:
    if typing.get_origin(tp) is Literal:
        return "one of: " + ", ".join(str(a) for a in typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, Enum):
        return "one of: " + ", ".join(str(m.value) for m in tp)
    if is_model(tp):
        return "keys: " + ", ".join(fields_by_key(tp))
    words = _TYPE_WORDS.get(tp)
    bounds = [f"{op} {_number(getattr(m, attr))}" for m in meta for cls, attr, op in _BOUNDS if isinstance(m, cls)]
    return words and " ".join([words, " and ".join(bounds)]).strip()


def _expected(ctx: dict) -> list[str]:
    expected = str(ctx.get("expected", ""))
    return re.findall(r"'([^']*)'", expected) or ([expected] if expected else [])


def _close(word: Any, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None



def _numeric_text(text: str) -> bool:
    """True for text like 1e3 that people mean as a number but PyYAML's YAML 1.1 rules read as a string."""
    try:
        float(text.replace("_", ""))
    except ValueError:
        return False
    return any(c.isdigit() for c in text)


def dotted_path(path: tuple) -> str:
    return ".".join(str(seg) for seg in path)


def _data_path(data: Any, loc: tuple) -> tuple:
    """The part of a pydantic loc that names real keys/indices (drops union tags, '[key]', validator names)."""
    kept, node = [], data
    for seg in loc:
        if has_key(node, seg):
            kept.append(seg)
            node = node[seg]
    return tuple(kept)


def has_key(node: Any, key: Any) -> bool:
    """Whether `key` is a key of a mapping or a position of a list in the file data."""
    if isinstance(node, dict):
        return key in node
    return isinstance(node, (list, tuple)) and isinstance(key, int) and 0 <= key < len(node)


def _locate(sources: Sources, path: tuple, file: Path | None) -> tuple[Path | None, int | None]:
    for n in range(len(path), -1, -1):
        if path[:n] in sources:
            return sources[path[:n]]
    return file, None


def problems_from(err: dict, model_cls: type[BaseModel], data: dict, sources: Sources,
                  file: Path | None) -> list[Problem]:
    """The Problems of one pydantic error: one, or one per key a validator's KeyProblems names."""
    kind, loc, ctx = err["type"], tuple(err["loc"]), err.get("ctx") or {}
    keyed = ctx.get("error")
    if kind == "value_error" and isinstance(keyed, KeyProblems):
        base = _data_path(data, loc)
        return [_keyed_problem(base + key, message, data, sources, file) for key, message in keyed.items]
    return [_problem(err, model_cls, data, sources, file)]


def _keyed_problem(path: tuple, message: str, data: dict, sources: Sources, file: Path | None) -> Problem:
    node: Any = data
    for seg in path:
        node = node[seg] if has_key(node, seg) else None
    value = None if isinstance(node, (dict, list, tuple)) else node
    return Problem(*_locate(sources, path, file), dotted_path(path), value, message, None, None)


def _problem(err: dict, model_cls: type[BaseModel], data: dict, sources: Sources, file: Path | None) -> Problem:
    kind, loc, ctx, value = err["type"], tuple(err["loc"]), err.get("ctx") or {}, err.get("input")
    path = _data_path(data, loc)
    if kind == "missing" and loc and (not path or path[-1] != loc[-1]):
        path, value = path + (loc[-1],), None
    message, allowed, suggestion = err["msg"], None, None
    if kind in _CTX_BOUNDS and isinstance(ctx.get(_CTX_BOUNDS[kind][0]), (int, float)):
        attr, op = _CTX_BOUNDS[kind]
        message = f"must be {op} {_number(ctx[attr])}"  # pydantic's own words print the bound unrounded
    declared = declared_type(model_cls, path)
    if kind == "extra_forbidden":
        parent = declared_type(model_cls, path[:-1])
        names = list(fields_by_key(parent[0])) if parent and is_model(parent[0]) else []
        message, allowed = "unknown key", "keys: " + ", ".join(names) if names else None
        suggestion = _close(path[-1], names) if path and names else None
    elif kind in ("literal_error", "enum"):
        choices = _expected(ctx)
        allowed, suggestion = "one of: " + ", ".join(choices), _close(value, choices)
        if "[key]" in loc:
            message = f"key not allowed here: {message}"
    elif kind in ("value_error", "assertion_error"):
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        value = None if isinstance(value, (dict, list)) else value
    elif kind == "missing":
        message = "required key is missing"
    elif declared and (text := _describe(*declared)):
        allowed = text
    elif kind in _CTX_BOUNDS:
        attr, op = _CTX_BOUNDS[kind]
        allowed = f"a number {op} {ctx.get(attr)}"
    elif kind in _ERROR_WORDS:
        allowed = _TYPE_WORDS[_ERROR_WORDS[kind]]
    if kind in ("float_type", "int_type") and isinstance(value, str) and _numeric_text(value):
        suggestion = f"YAML 1.1 reads {value} as text: write a point and a signed exponent, e.g. 1.0e+3 or 1.5e-2"
    return Problem(*_locate(sources, path, file), dotted_path(path), value, message, allowed, suggestion)
