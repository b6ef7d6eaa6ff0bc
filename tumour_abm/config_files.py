"""Parameter files: YAML in, a validated pydantic model out — or every problem at once, each with file and line.

Generic over the model class, so scenarios and batch files share it. Only YAML's safe loader is used. Lines come
from the composed node tree; values are built from the same nodes with SafeConstructor, so they always agree.
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
import yaml
from pydantic import BaseModel, ValidationError

Sources = dict[tuple, tuple[Path | None, int | None]]
_OVERRIDE: tuple[None, None] = (None, None)  # source of a value set by an override rather than a file
_MERGE_TAG = "tag:yaml.org,2002:merge"
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


def _fail(file: Path | None, line: int | None, key_path: str, message: str, value: Any = None,
          allowed: str | None = None) -> ConfigError:
    return ConfigError([Problem(file, line, key_path, value, message, allowed, None)])



def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _fail(path, None, "", f"file not found: {path}") from None
    except OSError as exc:
        raise _fail(path, None, "", f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _fail(path, line, "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8") from None


class _TreeBuilder:
    """Builds Python values from composed nodes, recording each key's line and collecting duplicate keys
    (which PyYAML would otherwise silently resolve by keeping the last)."""

    def __init__(self, file: Path):
        self.file = file
        self.constructor = yaml.constructor.SafeConstructor()
        self.sources: Sources = {}
        self.duplicates: list[Problem] = []
        self.active: set[int] = set()  # nodes being built: an alias back to one of them is a loop
        self.checked: set[int] = set()  # mappings already checked and flattened (an alias reaches them again)

    def build(self, node: yaml.Node, path: tuple) -> Any:
        if id(node) in self.active:
            raise _fail(self.file, node.start_mark.line + 1, _dotted(path), "an alias refers to itself")
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode) and node.tag == "tag:yaml.org,2002:map":
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode) and node.tag == "tag:yaml.org,2002:seq":
                for i, item in enumerate(node.value):
                    self.sources[path + (i,)] = (self.file, item.start_mark.line + 1)
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            return self.constructor.construct_object(node, deep=True)
        finally:
            self.active.discard(id(node))

    def _key(self, node: yaml.Node, path: tuple) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise _fail(self.file, node.start_mark.line + 1, _dotted(path), "a key must be a single plain value")
        return self.constructor.construct_object(node)

    def _mapping(self, node: yaml.MappingNode, path: tuple) -> dict:
        first_line: dict[Any, int] = {}
        for key_node, _ in [] if id(node) in self.checked else node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key, line = self._key(key_node, path), key_node.start_mark.line + 1
            if key in first_line:
                self.duplicates.append(Problem(self.file, line, _dotted(path + (key,)), None,
                                               f"duplicate key (also on line {first_line[key]}); keep only one",
                                               None, None))
            first_line.setdefault(key, line)
        self.constructor.flatten_mapping(node)  # resolves `<<:` merge keys; own keys come last and win
        self.checked.add(id(node))
        result = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            self.sources[path + (key,)] = (self.file, key_node.start_mark.line + 1)
            result[key] = self.build(value_node, path + (key,))
        return result


def _read_one(path: Path) -> tuple[dict, Sources]:
    text = _read_text(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is None:
            raise _fail(path, None, "", "the file is empty; expected keys and values", allowed="a mapping (key: value)")
        if not isinstance(root, yaml.MappingNode):
            kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
            raise _fail(path, root.start_mark.line + 1, "", f"the top level is {kind}, not keys and values",
                        allowed="a mapping (key: value)")
        builder = _TreeBuilder(path)
        data = builder.build(root, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        text = "; ".join(part for part in (exc.context, exc.problem) if part)
        kind = "value not allowed" if isinstance(exc, yaml.constructor.ConstructorError) else "syntax error"
        raise _fail(path, mark.line + 1 if mark else None, "", f"YAML {kind}: {text}") from None
    except yaml.YAMLError as exc:
        raise _fail(path, None, "", f"YAML error: {exc}") from None
    if builder.duplicates:
        raise ConfigError(builder.duplicates)
    builder.sources[()] = (path, root.start_mark.line + 1)
    return data, builder.sources



def _merge(base: dict, base_src: Sources, over: dict, over_src: Sources) -> tuple[dict, Sources]:
    """Child over parent: mappings merge key by key, anything else is replaced whole (with its sources)."""

    def data(b: dict, o: dict) -> dict:
        out = dict(b)
        for key, value in o.items():
            out[key] = data(out[key], value) if isinstance(out.get(key), dict) and isinstance(value, dict) else value
        return out

    def replaced(path: tuple) -> bool:
        b, o = base, over
        for seg in path:
            if not isinstance(o, dict) or seg not in o:
                return False
            if not (isinstance(o[seg], dict) and isinstance(b[seg], dict)):
                return True
            b, o = b[seg], o[seg]
        return False

    kept = {p: s for p, s in base_src.items() if not replaced(p)}
    return data(base, over), kept | over_src


def _read_tree(path: Path, chain: tuple[Path, ...]) -> tuple[dict, Sources]:
    data, sources = _read_one(path)
    if "extends" not in data:
        return data, sources
    targets, line = data.pop("extends"), sources[("extends",)][1]
    items = targets if isinstance(targets, list) else [targets]
    if not items or not all(isinstance(t, str) and t for t in items):
        raise _fail(path, line, "extends", "extends must name the file(s) this one builds on", targets,
                    "a path relative to this file, or a list of them")
    merged: dict = {}
    merged_src: Sources = {}
    for i, target in enumerate(items):
        parent, at_line = path.parent / target, sources.get(("extends", i), (path, line))[1]
        if not parent.exists():
            raise _fail(path, at_line, "extends", f"extends target not found: {parent}", target)
        if any(parent.resolve() == seen.resolve() for seen in chain):
            names = " -> ".join(str(p) for p in (*chain, parent))
            raise _fail(path, at_line, "extends", f"extends cycle: {names}", target)
        merged, merged_src = _merge(merged, merged_src, *_read_tree(parent, (*chain, parent)))
    own = {p: s for p, s in sources.items() if p[:1] != ("extends",)}
    return _merge(merged, merged_src, data, own)


def read_yaml_tree(path: Path) -> tuple[dict, Sources]:
    """Safe-load a YAML mapping file, resolving `extends:` (a path relative to the file, or a list of them,
    merged in order), recursively: parent first, child wins, nested mappings merged key by key, lists and scalars
    replaced whole. Returns the merged data (without any `extends` key) and a source map from key-path tuples
    (strings for mapping keys, ints for list indices) to (file, 1-based line)."""
    path = Path(path)
    return _read_tree(path, (path,))



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
            tp = next((a for a in args if _is_model(a)), args[0])
        else:
            return tp, meta


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    return {info.alias or name: info for name, info in model.model_fields.items()}


def _node_type(model_cls: type[BaseModel], path: tuple) -> tuple[Any, list] | None:
    """The declared type (and constraints) at a data path: through fields, dict values and list items."""
    tp, meta = model_cls, []
    for seg in path:
        tp, _ = _unwrap(tp)
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if _is_model(tp) and seg in _fields(tp):
            info = _fields(tp)[seg]
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


def _describe(tp: Any, meta: list) -> str | None:
    if typing.get_origin(tp) is Literal:
        return "one of: " + ", ".join(str(a) for a in typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, Enum):
        return "one of: " + ", ".join(str(m.value) for m in tp)
    if _is_model(tp):
        return "keys: " + ", ".join(_fields(tp))
    words = _TYPE_WORDS.get(tp)
    bounds = [f"{op} {getattr(m, attr)}" for m in meta for cls, attr, op in _BOUNDS if isinstance(m, cls)]
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


def _dotted(path: tuple) -> str:
    return ".".join(str(seg) for seg in path)


def _data_path(data: Any, loc: tuple) -> tuple:
    """The part of a pydantic loc that names real keys/indices (drops union tags, '[key]', validator names)."""
    kept, node = [], data
    for seg in loc:
        if isinstance(node, dict) and seg in node:
            kept.append(seg)
            node = node[seg]
        elif isinstance(node, (list, tuple)) and isinstance(seg, int) and 0 <= seg < len(node):
            kept.append(seg)
            node = node[seg]
    return tuple(kept)


def _locate(sources: Sources, path: tuple, file: Path | None) -> tuple[Path | None, int | None]:
    for n in range(len(path), -1, -1):
        if path[:n] in sources:
            return sources[path[:n]]
    return file, None


def _problem(err: dict, model_cls: type[BaseModel], data: dict, sources: Sources, file: Path | None) -> Problem:
    kind, loc, ctx, value = err["type"], tuple(err["loc"]), err.get("ctx") or {}, err.get("input")
    path = _data_path(data, loc)
    if kind == "missing" and loc and (not path or path[-1] != loc[-1]):
        path, value = path + (loc[-1],), None
    message, allowed, suggestion = err["msg"], None, None
    declared = _node_type(model_cls, path)
    if kind == "extra_forbidden":
        parent = _node_type(model_cls, path[:-1])
        names = list(_fields(parent[0])) if parent and _is_model(parent[0]) else []
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
    return Problem(*_locate(sources, path, file), _dotted(path), value, message, allowed, suggestion)


def validate_model[M: BaseModel](model_cls: type[M], data: dict, sources: dict, *, file: Path | None) -> M:
    """Validate; on failure raise ConfigError with one Problem per pydantic error (all of them, so a user fixes
    a file in one pass rather than one error per run)."""
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_problem(err, model_cls, data, sources, file) for err in exc.errors()]) from None



def _plain(value: Any) -> Any:
    """A default value as file data (models to dicts, tuples to lists), so an override can change one part."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def _has(node: Any, key: Any) -> bool:
    if isinstance(node, list):
        return isinstance(key, int) and 0 <= key < len(node)
    return isinstance(node, dict) and key in node


def _child(model_cls: type[BaseModel], node: Any, key: Any, path: tuple) -> Any:
    """The node one step down, creating it if missing: {} for a model, else a copy of the declared default
    (so that overriding one entry of a defaulted dict or list keeps the others)."""
    if not _has(node, key):
        if not isinstance(node, dict):
            raise _fail(None, None, _dotted(path), "override goes inside a value that is not a mapping or list")
        parent = _node_type(model_cls, path[:-1])
        info = _fields(parent[0]).get(key) if parent and _is_model(parent[0]) else None
        declared = _node_type(model_cls, path)
        keep_default = info is not None and not (declared and _is_model(declared[0]))
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
            if not _has(node, key):
                sources[path] = _OVERRIDE
            node = _child(model_cls, node, key, path)
        key = int(leaf) if isinstance(node, list) and leaf.isdigit() else leaf
        path += (key,)
        if not (isinstance(node, dict) or _has(node, key)):
            raise _fail(None, None, _dotted(path), "override goes inside a value that is not a mapping or list")
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
