"""Property-based fuzzing of `tumour-abm check FILE`: malformed files derived from the real scenario and batch files.

A case is one real file (from scenarios/) plus one or more mutations of one kind; it is written next to a copy of
the real file (so `extends:` and arm paths still resolve) and checked in-process with `tumour_abm.cli.main`.

Every case must end with exit code 2 (or 0 if the mutated file is still valid: recorded as "accepted", not a
failure), no exception escaping `main`, in under TIME_LIMIT_S seconds and a rise of the memory high-water mark under
MEMORY_LIMIT_KB. With exit code 2 the message on stderr must name the file, and:

* key rule: a mutation that targeted a key path (e.g. `therapy.selinexor.0.every_days`) is satisfied when stderr
  names the full dotted path, or a dotted prefix of it with at least two segments (one segment when the target is
  a top-level key), each as a whole token (not inside a longer word; a following `.` is fine), or the leaf key name
  written like a key (as the tail of a dotted path, or followed by `=` or `:`);
* line rule: a syntax-level mutation (garbage bytes, truncation, YAML tags, undefined aliases, bad merge keys)
  is satisfied when stderr contains `NAME:LINE:` for the expected file; a file with no YAML content left (empty,
  whitespace or comments only) needs only the file name, since it has no line to point at;
* key-or-line rule: deep nesting and alias bombs are satisfied by either of the above;
* a case with several mutations passes when at least one mutation's rule is satisfied (one problem may hide
  another, e.g. a YAML error stops before validation).

The file to be named is the case file, except where the case says otherwise: a malformed `extends:` parent or a
malformed arm scenario must be named itself, and in an extends cycle either file of the cycle will do.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
import resource
import shutil
import signal
import threading
import time
import traceback
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
CASE_NAME = "_fuzz_case.yaml"
TIME_LIMIT_S = 10.0
MEMORY_LIMIT_KB = 1024 * 1024  # 1 GB rise of the high-water mark
AS_GUARD_BYTES = 3 * 1024**3  # RLIMIT_AS soft limit: address space now + this (stops a runaway before the OOM killer)

SCENARIO_KINDS = ("type", "number", "unknown_key", "extends", "yaml", "garbage", "deep", "scale")
BATCH_KINDS = ("type", "number", "unknown_key", "yaml", "garbage", "deep", "batch")
FAILURES = ("traceback", "timeout", "over_1gb", "bad_exit", "no_file", "no_key", "no_line")


# --------------------------------------------------------------------------------------------------------------------
# The real files


def _classify_real_files(src: Path) -> tuple[list[str], list[str]]:
    scenarios, batches = [], []
    for path in sorted(src.rglob("*.yaml")):
        if path.name.startswith("_fuzz"):
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(data, dict):
            (batches if "arms" in data else scenarios).append(path.relative_to(src).as_posix())
    return scenarios, batches


SCENARIO_FILES, BATCH_FILES = _classify_real_files(SCENARIOS)
TEXT = {rel: (SCENARIOS / rel).read_text(encoding="utf-8") for rel in SCENARIO_FILES + BATCH_FILES}
DATA = {rel: yaml.safe_load(text) for rel, text in TEXT.items()}


def make_root(tmp: Path) -> Path:
    """Copy scenarios/ into tmp once per session; cases are written into the copy. Returns the copy's path."""
    dest = Path(tmp) / "scenarios"
    if not dest.exists():
        shutil.copytree(SCENARIOS, dest, ignore=shutil.ignore_patterns("_fuzz*"))
    return dest


# --------------------------------------------------------------------------------------------------------------------
# The schema, from the pydantic models (public API only: model_fields and typing)


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


def _fields(model: type[BaseModel]) -> dict[str, Any]:
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
            for key, info in _fields(tp).items():
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
            info = _fields(tp).get(seg)
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


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "seq"
    if isinstance(value, dict):
        return "map"
    return "any"


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
COURSE_TEMPLATES = {  # a valid course of each therapy, for adding one to a file without it
    "car_t": {"day": 0, "count": 10},
    "nk_cells": {"day": 0, "count": 50},
}


def _numeric(slot: Slot) -> bool:
    return slot.kind in ("float", "int", "any")


# --------------------------------------------------------------------------------------------------------------------
# Documents: parsed file data plus raw YAML snippets placed by sentinels


@dataclass(frozen=True)
class Raw:
    """YAML text placed verbatim where a sentinel value (or key) is dumped. `block(indent)` gives lines for a
    multi-line block value (placed after `key:` on the following lines)."""

    text: str = ""
    block: Callable[[int], str] | None = None


@dataclass
class Mutation:
    kind: str
    note: str  # what was done, readable
    target: tuple | None = None  # key path it targeted (in the file it changed)
    require: str = "key"  # key, line, key_or_line, none


class Doc:
    """One file being mutated: its data (or original text if only text-level mutations apply)."""

    def __init__(self, rel: str):
        self.rel = rel
        self.data = copy.deepcopy(DATA[rel])
        self.changed = False
        self.raw: dict[str, Raw] = {}
        self.raw_keys: dict[str, str] = {}
        self.byte_ops: list[Callable[[bytes], bytes]] = []

    @property
    def is_batch(self) -> bool:
        return self.rel in BATCH_FILES

    def sentinel(self, raw: Raw) -> str:
        name = f"fzsentinel{len(self.raw) + len(self.raw_keys)}x"
        self.raw[name] = raw
        return name

    def key_sentinel(self, text: str) -> str:
        name = f"fzkeysentinel{len(self.raw) + len(self.raw_keys)}x"
        self.raw_keys[name] = text
        return name

    def set(self, path: tuple, value: Any) -> tuple:
        """Set a value (creating mappings/lists on the way); returns the path as it is in the file (a therapy
        course written as one mapping has no list position)."""
        self.changed = True
        node, actual = self.data, []
        segs = list(path)
        i = 0
        while i < len(segs) - 1:
            seg, nxt = segs[i], segs[i + 1]
            if isinstance(node, dict) and isinstance(seg, int):
                i += 1  # a course written as one mapping: it is course 0
                continue
            if isinstance(node, list) and not isinstance(seg, int):
                seg = 0
            child = _get(node, seg)
            if not isinstance(child, (dict, list)):
                child = [] if isinstance(nxt, int) else {}
                seg = _put(node, seg, child)
            actual.append(seg)
            node = child
            i += 1
        leaf = segs[-1]
        if isinstance(node, dict) and isinstance(leaf, int) and actual:
            # a list position under a mapping (e.g. a course given as one mapping): make it a list of one course
            parent = self._node(tuple(actual[:-1]))
            node = [node]
            _put(parent, actual[-1], node)
        if isinstance(node, list) and not isinstance(leaf, int):
            leaf = 0
        leaf = _put(node, leaf, value)
        actual.append(leaf)
        return tuple(actual)

    def _node(self, path: tuple) -> Any:
        node = self.data
        for seg in path:
            node = node[seg]
        return node

    def get(self, path: tuple) -> Any:
        node = self.data
        for seg in path:
            node = _get(node, seg)
            if node is None:
                return None
        return node

    def render_text(self) -> str:
        if not self.changed:
            return TEXT[self.rel]
        text = yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10**6)
        for name, key in self.raw_keys.items():
            text = text.replace(name, key)
        for name, raw in self.raw.items():
            if raw.block is None:
                text = text.replace(name, raw.text)
                continue
            lines = text.split("\n")
            for n, line in enumerate(lines):
                if line.endswith(name):
                    head = line[: -len(name)].rstrip()
                    stripped = head.lstrip(" -")
                    col = len(head) - len(stripped)
                    lines[n] = head + "\n" + raw.block(col + 2)
            text = "\n".join(lines)
        return text

    def render(self) -> bytes:
        data = self.render_text().encode("utf-8")
        for op in self.byte_ops:
            data = op(data)
        return data


def _get(node: Any, seg: Any) -> Any:
    if isinstance(node, dict):
        return node.get(seg)
    if isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
        return node[seg]
    return None


def _put(node: Any, seg: Any, value: Any) -> Any:
    if isinstance(node, dict):
        node[seg] = value
        return seg
    if isinstance(seg, int) and 0 <= seg < len(node):
        node[seg] = value
        return seg
    node.append(value)
    return len(node) - 1


def existing_paths(data: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    out: list[tuple[tuple, Any]] = []
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return out
    for key, value in items:
        out.append((path + (key,), value))
        out.extend(existing_paths(value, path + (key,)))
    return out


def slots_for(doc: Doc) -> list[Slot]:
    """Targets for a file: every key it has (with the schema's expectation where known) and every schema key."""
    model = BATCH_MODEL if doc.is_batch else SCENARIO_MODEL
    out = []
    for path, value in existing_paths(DATA[doc.rel]):
        if path == ("extends",):
            continue
        known = kind_at(model, path) if model else None
        out.append(known or Slot(path, _value_kind(value)))
    if doc.is_batch:
        if BATCH_MODEL is not None:
            out += enumerate_slots(BATCH_MODEL, DATA[doc.rel], {("cohort", "parameters"): "cancer.doubling_time_h"})
    else:
        out += SCENARIO_SLOTS
    return out


def flow(value: Any) -> str:
    """A value as one line of flow-style YAML."""
    text = yaml.safe_dump({"k": value}, default_flow_style=True, width=10**6, allow_unicode=True).strip()
    return text[len("{k: "):-1]


# --------------------------------------------------------------------------------------------------------------------
# Values


R = Raw  # short


WRONG_FOR_NUMBER = ["abc", "1e3", "", [1, 2], [], {"a": 1}, {}, True, False, None, R("yes"), R("'12'"),
                    R("~"), R("12:30"), R("0x1F"), R("1_000"), "1.0e+3", R("!!str 5"), R(".5.5")]
WRONG_FOR_INT = WRONG_FOR_NUMBER + [1.5, 3.0, R("1.0e+3"), R(".inf")]
WRONG_FOR_BOOL = [1, 0, "true", R("'yes'"), "y", None, [], {}, 1.5]
WRONG_FOR_STR = [5, 1.5, True, None, [], ["a"], {}, {"a": 1}, R("2001-12-14"), R("!!binary aGk=")]
WRONG_FOR_SEQ = [5, "a", {"a": 1}, None, [[1]], ["a"], [None], [True], [{}], R("!!set {a, b}"), "1, 3"]
WRONG_FOR_MAP = [5, "text", [1], [], None, True, 1.5, [{"a": 1}], R("''")]

NUMBER_SPELLINGS = [".inf", "-.inf", "+.inf", ".Inf", ".NaN", ".nan", "1.0e+300", "-1.0e+300", "1.0e+9", "1.0e+12",
                    "-1.0e+12", "1.0e-9", "1.0e-300", "4.9e-324", "1.7976931348623157e+308", "1.0e+309", "0", "0.0",
                    "-0.0", "-1", "-0.5", "-1.0e+9", "1e300", "1e-9", "9223372036854775808", "-9223372036854775809",
                    "100000000000000000000000000000000", "0x7fffffffffffffff", "1_000_000_000", "-1.0e-9"]
NON_FINITE = {".inf", "-.inf", "+.inf", ".Inf", ".NaN", ".nan", "1.0e+309"}


def _wrong_values(slot: Slot) -> list:
    if slot.kind == "float":
        return WRONG_FOR_NUMBER
    if slot.kind == "int":
        return WRONG_FOR_INT
    if slot.kind == "bool":
        return WRONG_FOR_BOOL
    if slot.kind == "str":
        return WRONG_FOR_STR
    if slot.kind == "literal":
        words = [str(c) for c in slot.choices]
        return [w[:-1] for w in words if len(w) > 1] + [w.upper() for w in words] + [w + " " for w in words] + [
            1, None, [], {}, "nonesuch"]
    if slot.kind == "seq":
        return WRONG_FOR_SEQ + ([[1.5], [R(".nan")], [0]] if slot.item == "int" else [["x"], [R(".inf")]])
    if slot.kind in ("map", "section"):
        return WRONG_FOR_MAP
    return WRONG_FOR_NUMBER + WRONG_FOR_MAP


def _materialise(doc: Doc, value: Any) -> Any:
    """The value with every Raw (however deep) replaced by a sentinel of doc."""
    if isinstance(value, Raw):
        return doc.sentinel(value)
    if isinstance(value, dict):
        return {k: _materialise(doc, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_materialise(doc, v) for v in value]
    return value


def _place(doc: Doc, path: tuple, value: Any) -> tuple:
    return doc.set(path, _materialise(doc, copy.deepcopy(value)))


def _as_text(value: Any) -> Any:
    if isinstance(value, Raw):
        return value.text if value.block is None else "<block>"
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    return value


def _show(value: Any) -> str:
    return _as_text(value) if isinstance(value, Raw) else flow(_as_text(value))


def _dotted(path: tuple) -> str:
    return ".".join(str(s) for s in path)


# --------------------------------------------------------------------------------------------------------------------
# Mutations: each draws what to do, applies it to a Doc and returns what it targeted


def _target(draw, doc: Doc, want: Callable[[Slot], bool] = lambda s: True) -> Slot:
    slots = [s for s in slots_for(doc) if want(s)]
    return draw(st.sampled_from(slots))


def mut_type(draw, doc: Doc) -> Mutation:
    slot = _target(draw, doc)
    value = draw(st.sampled_from(_wrong_values(slot)))
    path = _place(doc, slot.path, value)
    return Mutation("type", f"{_dotted(path)} = {_show(value)} (expected {slot.kind})", path)


def mut_number(draw, doc: Doc) -> Mutation:
    slot = _target(draw, doc, lambda s: _numeric(s) or (s.kind == "seq" and s.item in ("float", "int")))
    path = slot.path + (0,) if slot.kind == "seq" else slot.path
    if slot.kind == "seq":
        current = doc.get(slot.path)
        n = len(current) if isinstance(current, list) and current else 1
        path = slot.path + (draw(st.integers(0, n - 1)),)
    value = draw(st.one_of(
        st.sampled_from(NUMBER_SPELLINGS).map(Raw),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(2**80), 2**80),
    ))
    actual = _place(doc, path, value)
    return Mutation("number", f"{_dotted(actual)} = {_show(value)}", actual)


def _typo(draw, word: str) -> str:
    how = draw(st.sampled_from(["drop", "swap", "double", "upper", "plural", "dash", "space", "prefix"]))
    i = draw(st.integers(0, max(0, len(word) - 2)))
    if how == "drop" and len(word) > 1:
        return word[:i] + word[i + 1:]
    if how == "swap" and len(word) > 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if how == "double":
        return word[:i] + word[i] + word[i:]
    if how == "upper":
        return word.upper() if word.upper() != word else word.lower() + "x"
    if how == "dash":
        return word.replace("_", "-") if "_" in word else word + "-"
    if how == "space":
        return word.replace("_", " ") if "_" in word else " " + word
    if how == "prefix":
        return "x" + word
    return word + "s"


def _mappings(doc: Doc) -> list[tuple[tuple, list[str]]]:
    """Mapping paths of the file and of the schema, each with the keys known there."""
    model = BATCH_MODEL if doc.is_batch else SCENARIO_MODEL
    out = [((), list(doc.data))]
    for path, value in existing_paths(doc.data):
        if isinstance(value, dict):
            out.append((path, [str(k) for k in value]))
    for slot in slots_for(doc):
        if slot.kind == "section":
            try:  # keys of the section, from the model
                tp = _section_model(model, slot.path)
            except (KeyError, IndexError):
                tp = None
            out.append((slot.path, list(_fields(tp)) if tp else []))
    return out


def _section_model(model: type[BaseModel] | None, path: tuple) -> type[BaseModel] | None:
    tp: Any = model
    for seg in path:
        tp, _ = _unwrap(tp)
        origin, args = get_origin(tp), get_args(tp)
        if _is_model(tp):
            tp = _fields(tp)[seg].annotation
        elif origin in (dict, Mapping):
            tp = args[1]
        elif origin in (tuple, list, Sequence):
            tp = args[0]
    tp, _ = _unwrap(tp)
    return tp if _is_model(tp) else None


def mut_unknown_key(draw, doc: Doc) -> Mutation:
    path, known = draw(st.sampled_from(_mappings(doc)))
    if known and draw(st.booleans()):
        key = _typo(draw, draw(st.sampled_from(known)))
        how = "typo"
    else:
        key = draw(st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=20))
        how = "random key"
    if key in known or key in ("extends", "<<") or key.strip() in known:
        key = "fz_" + key
    if re.fullmatch(r"[0-9_]+|y|n|yes|no|on|off|true|false|null|~", key, re.IGNORECASE):
        key = "k" + key  # would not load as a text key
    value = draw(st.sampled_from([1, "x", {"a": 1}, [1], None, True]))
    actual = _place(doc, path + (key,), value)
    return Mutation("unknown_key", f"{how}: {_dotted(actual)}: {_show(value)}", actual)


def mut_yaml(draw, doc: Doc) -> Mutation:
    how = draw(st.sampled_from(["tag", "tag", "alias", "undefined_alias", "recursive_alias", "merge",
                                "duplicate", "complex_key", "bomb"]))
    if how == "tag":
        slot = _target(draw, doc)
        snippet = draw(st.sampled_from([
            '!!python/object/apply:os.system ["echo hi"]', "!!python/name:os.system", "!!python/tuple [1, 2]",
            "!!binary aGVsbG8=", "!custom foo", "!custom {a: 1}", "!!set {a, b}", "!!timestamp 2001-12-14",
            "!!timestamp 2001-12-14t21:59:43.10-05:00", '!!float "abc"', '!!int "1.5"', "!!str 5", "!!omap [a: 1]",
            "!!pairs [a: 1, a: 2]", '!!null ""', "!!bool maybe", "!<tag:example.com,2000:x> 1", "!!float 1",
            "!!map [1]", "!!seq {a: 1}",
        ]))
        path = _place(doc, slot.path, Raw(snippet))
        return Mutation("yaml", f"{_dotted(path)} = {snippet}", path, "line")
    if how == "undefined_alias":
        slot = _target(draw, doc)
        path = _place(doc, slot.path, Raw("*fz_nowhere"))
        return Mutation("yaml", f"{_dotted(path)} = *fz_nowhere (undefined alias)", path, "line")
    if how == "recursive_alias":
        slot = _target(draw, doc)
        snippet = draw(st.sampled_from(["&fzr [*fzr]", "&fzr {a: *fzr}", "&fzr [1, [2, *fzr]]"]))
        path = _place(doc, slot.path, Raw(snippet))
        return Mutation("yaml", f"{_dotted(path)} = {snippet} (recursive alias)", path, "line")
    if how == "bomb":
        slot = _target(draw, doc)
        levels, fan = draw(st.integers(3, 9)), draw(st.integers(4, 10))
        parts = ["&fzb0 [" + ", ".join(["lol"] * fan) + "]"]
        parts += [f"&fzb{i} [" + ", ".join([f"*fzb{i - 1}"] * fan) + "]" for i in range(1, levels)]
        snippet = "[" + ", ".join(parts) + "]"
        path = _place(doc, slot.path, Raw(snippet))
        return Mutation("yaml", f"{_dotted(path)} = alias bomb {fan}^{levels}", path, "key_or_line")
    if how == "complex_key":
        mpath, _ = draw(st.sampled_from(_mappings(doc)))
        key = draw(st.sampled_from(["[a, b]", "{a: 1}", "!!binary aGk=", "~", "!!python/tuple [1]", "? [x]\n"]))
        if key.startswith("?"):
            key = "[x]"
        name = doc.key_sentinel(key)
        actual = doc.set(mpath + (name,), 1)
        return Mutation("yaml", f"{_dotted(actual[:-1]) or '<top>'}: key {key}", actual[:-1] or None, "line")
    if how == "duplicate":
        candidates = [(p, v) for p, v in existing_paths(doc.data) if isinstance(p[-1], str) and p != ("extends",)]
        p, v = draw(st.sampled_from(candidates))
        name = doc.key_sentinel(p[-1])
        value = draw(st.sampled_from([v, 1, "x"])) if not isinstance(v, (dict, list)) else v
        doc.set(p[:-1] + (name,), copy.deepcopy(value))
        return Mutation("yaml", f"duplicate key {_dotted(p)}", p, "key")
    # alias / merge: an anchor on one value, an alias (or merge) elsewhere
    anchors = [(p, v) for p, v in existing_paths(doc.data) if p != ("extends",)]
    apath, avalue = draw(st.sampled_from(anchors))
    anchor = doc.sentinel(Raw("&fza " + flow(avalue)))
    doc.set(apath, anchor)
    if how == "alias":
        slot = _target(draw, doc, lambda s: s.path[: len(apath)] != apath and apath[: len(s.path)] != s.path)
        path = _place(doc, slot.path, Raw("*fza"))
        syntax = doc.render_text().find("*fza") < doc.render_text().find("&fza")
        return Mutation("yaml", f"{_dotted(path)} = *fza (anchor on {_dotted(apath)})"
                        + (" before its anchor" if syntax else ""), path, "line" if syntax else "key")
    mpath, _ = draw(st.sampled_from([m for m in _mappings(doc)
                                     if m[0][: len(apath)] != apath and apath[: len(m[0])] != m[0]]))
    merged = draw(st.sampled_from(["*fza", "{fz_merged: 1}", "5", "[*fza, 3]", "[{fz_merged: 1}]", "*fz_nowhere"]))
    name = doc.key_sentinel("<<")
    actual = doc.set(mpath + (name,), doc.sentinel(Raw(merged)))[:-1]
    text = doc.render_text()
    syntax = merged in ("5", "[*fza, 3]", "*fz_nowhere") or ("*fza" in merged and (
        text.find("*fza") < text.find("&fza") or not isinstance(avalue, dict)))
    return Mutation("yaml", f"merge key at {_dotted(actual) or '<top>'}: <<: {merged} (anchor on {_dotted(apath)})",
                    actual or None, "line" if syntax else "key")


CONTROL = [b"\x00", b"\x01", b"\x07", b"\x0b", b"\x1b", b"\x7f", b"\x00" * 8]
INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf"]
YAML_PUNCT = [b"[", b"{", b"]", b"}", b'"', b"'", b":", b"- ", b"? ", b"%", b"@", b"`", b"|", b">", b"&", b"*", b"!",
              b"#", b",", b"\t", b"\n  ", b"\n    x", b": :", b"---\n", b"...\n"]


def mut_garbage(draw, doc: Doc) -> Mutation:
    how = draw(st.sampled_from(["insert", "replace", "invalid_utf8", "control", "truncate", "tabs", "punct",
                                "utf16", "bom_mid", "crlf", "indent", "delete_line"]))
    base = doc.render()
    pos = draw(st.integers(0, len(base)))
    if how == "insert":
        blob = draw(st.binary(min_size=1, max_size=16))
        op, note = (lambda b, p=pos, x=blob: b[:p] + x + b[p:]), f"insert {blob!r} at byte {pos}"
    elif how == "replace":
        blob, n = draw(st.binary(min_size=1, max_size=16)), draw(st.integers(1, 16))
        op, note = (lambda b, p=pos, x=blob, n=n: b[:p] + x + b[p + n:]), f"replace {n} bytes at {pos} with {blob!r}"
    elif how == "invalid_utf8":
        blob = draw(st.sampled_from(INVALID_UTF8))
        op, note = (lambda b, p=pos, x=blob: b[:p] + x + b[p:]), f"invalid UTF-8 {blob!r} at byte {pos}"
    elif how == "control":
        blob = draw(st.sampled_from(CONTROL))
        op, note = (lambda b, p=pos, x=blob: b[:p] + x + b[p:]), f"control {blob!r} at byte {pos}"
    elif how == "punct":
        blob = draw(st.sampled_from(YAML_PUNCT))
        op, note = (lambda b, p=pos, x=blob: b[:p] + x + b[p:]), f"insert {blob!r} at byte {pos}"
    elif how == "truncate":
        op, note = (lambda b, p=pos: b[:p]), f"truncate to {pos} bytes"
    elif how == "tabs":
        op, note = (lambda b: re.sub(rb"(?m)^  ", b"\t", b)), "indent with tabs"
    elif how == "utf16":
        enc = draw(st.sampled_from(["utf-16", "utf-16-be", "utf-32"]))
        op, note = (lambda b, e=enc: b.decode("utf-8").encode(e)), f"encoded as {enc}"
    elif how == "bom_mid":
        op, note = (lambda b, p=pos: b[:p] + "\ufeff".encode() + b[p:]), f"BOM at byte {pos}"
    elif how == "crlf":
        sep = draw(st.sampled_from([b"\r\n", b"\r", b"\x85".decode("latin-1").encode(), "\u2028".encode()]))
        op, note = (lambda b, s=sep: b.replace(b"\n", s)), f"line ends {sep!r}"
    else:
        lines = base.split(b"\n")
        n = draw(st.integers(0, max(0, len(lines) - 1)))
        if how == "indent":
            shift = draw(st.sampled_from([b" ", b"   ", b"-"]))
            op, note = (lambda b, n=n, s=shift: b"\n".join(s + l if i == n else l for i, l in enumerate(b.split(b"\n")))
                        ), f"prefix line {n + 1} with {shift!r}"
        else:
            op, note = (lambda b, n=n: b"\n".join(l for i, l in enumerate(b.split(b"\n")) if i != n)
                        ), f"delete line {n + 1}"
    doc.byte_ops.append(op)
    return Mutation("garbage", note, None, "line")


def _nest_flow(style: str, depth: int, leaf: str) -> str:
    if style == "flow_list":
        return "[" * depth + leaf + "]" * depth
    if style == "flow_map":
        return "{a: " * depth + leaf + "}" * depth
    return "[{a: " * (depth // 2) + leaf + "}]" * (depth // 2)


def _nest_block(style: str, depth: int, leaf: str) -> Callable[[int], str]:
    def block(indent: int) -> str:
        if style == "block_list":  # compact nested sequences: - - - - x
            return " " * indent + "- " * depth + leaf
        return "\n".join(" " * (indent + i) + "a:" for i in range(depth - 1)) + "\n" + " " * (indent + depth - 1) + (
            "a: " + leaf)
    return block


def mut_deep(draw, doc: Doc) -> Mutation:
    style = draw(st.sampled_from(["flow_list", "flow_map", "flow_mixed", "block_map", "block_list"]))
    top = 1000 if style == "block_map" else 5000
    depth = draw(st.one_of(st.sampled_from([50, 100, 200, 500, 999, 1000, top]), st.integers(50, top)))
    leaf = draw(st.sampled_from(["1", "x", ".inf", "[]", "{}"]))
    if draw(st.integers(0, 4)) == 0:  # a new deep key path rather than a deep value
        path = tuple(draw(st.sampled_from(["cancer", "fz_deep", "a"])) for _ in range(min(depth, 200)))
        actual = doc.set(path, 1)
        return Mutation("deep", f"{min(depth, 200)} nested keys {_dotted(actual[:3])}...", actual[:1], "key_or_line")
    slot = _target(draw, doc)
    raw = Raw(_nest_flow(style, depth, leaf)) if style.startswith("flow") else Raw(block=_nest_block(style, depth, leaf))
    path = _place(doc, slot.path, raw)
    return Mutation("deep", f"{_dotted(path)} = {style} depth {depth}", path, "key_or_line")


def mut_scale(draw, doc: Doc) -> Mutation:
    how = draw(st.sampled_from(["key", "key", "key", "course", "infusion", "snapshots", "weekdays"]))
    if how == "key":
        path, values = draw(st.sampled_from(SCALE_KEYS))
        value = Raw(draw(st.sampled_from(values)))
        actual = _place(doc, path, value)
        return Mutation("scale", f"{_dotted(actual)} = {value.text}", actual)
    if how == "course":
        product = draw(st.sampled_from(["selinexor", "ibrutinib", "acalabrutinib", "rituximab"]))
        key, course = draw(st.sampled_from([
            ("every_days", "{dose_mg: 60, every_days: 1.0e-6, start_day: 0, end_day: 27}"),
            ("every_days", "{dose_mg: 60, every_days: 1.0e-4, start_day: 0, end_day: 27}"),
            ("every_days", "{dose_mg: 60, every_days: 0.01, start_day: 0, end_day: 3650}"),
            ("every_days", "{dose_mg: 60, every_days: 4.9e-324, start_day: 0, end_day: 1}"),
            ("end_day", "{dose_mg: 60, every_days: 1, start_day: 0, end_day: 1.0e+9}"),
            ("end_day", "{dose_mg: 60, every_days: 1, start_day: 0, end_day: 1.0e+300}"),
            ("end_day", "{dose_mg: 60, days_of_week: [1, 3], start_day: 0, end_day: 1.0e+9}"),
            ("end_day", "{dose_mg: 60, days_of_week: [1, 2, 3, 4, 5, 6, 7], start_day: 0, end_day: 1.0e+12}"),
            ("start_day", "{dose_mg: 60, every_days: 1, start_day: -1.0e+9, end_day: 0}"),
            ("dose_mg", "{dose_mg: 1.0e+300, every_days: 7, start_day: 0, end_day: 27}"),
        ]))
        as_list = draw(st.booleans())
        path = _place(doc, ("therapy", product), Raw(f"[{course}]" if as_list else course))
        target = path + ((0,) if as_list else ()) + (key,)
        return Mutation("scale", f"therapy.{product}: {course}", target)
    if how == "infusion":
        product = draw(st.sampled_from(["car_t", "nk_cells"]))
        count = draw(st.sampled_from(["10000000", "1.0e+7", "9223372036854775807", "1000000000000", "4000000"]))
        path = _place(doc, ("therapy", product), Raw(f"[{{day: 0, count: {count}}}]"))
        return Mutation("scale", f"therapy.{product}.0.count = {count}", path + (0, "count"))
    if how == "snapshots":
        n = draw(st.sampled_from([1000, 5000, 20000, 100]))
        days = doc.get(("time", "days"))
        days = days if isinstance(days, (int, float)) and not isinstance(days, bool) and 0 < days < 1e6 else 28
        values = [round(i * float(days) / n, 6) for i in range(n)]
        actual = _place(doc, ("output", "snapshot_days"), values)
        return Mutation("scale", f"output.snapshot_days = {n} entries", actual)
    n = draw(st.sampled_from([1000, 20000]))
    course = {"dose_mg": 60, "days_of_week": [1 + i % 7 for i in range(n)], "start_day": 0, "end_day": 27}
    actual = _place(doc, ("therapy", "selinexor"), [course])
    return Mutation("scale", f"therapy.selinexor.0.days_of_week = {n} entries", actual + (0, "days_of_week"))


SCALE_KEYS = [
    (("time", "days"), ["3650", "3650.0", "36500", "1.0e+9", "1.0e+300"]),
    (("time", "dt_min"), ["1.0e-6", "1.0e-9", "1.0e-300", "0.001", "4.9e-324"]),
    (("time", "start_day"), ["-1.0e+9", "1.0e+12", "-3650"]),
    (("grid", "width_sites"), ["2000", "100000", "1000000000", "1.0e+9"]),
    (("grid", "height_sites"), ["2000", "100000", "1000000000"]),
    (("grid", "site_um"), ["1.0e-9", "1.0e+9"]),
    (("cancer", "initial_cells"), ["1000000000", "1.0e+9", "3999999"]),
    (("output", "record_every_h"), ["1.0e-9", "1.0e-300"]),
    (("nk", "influx_per_d"), ["1.0e+12", "1.0e+300", "1000000"]),
    (("macrophage", "influx_per_d"), ["1.0e+12", "1.0e+300"]),
    (("neutrophil", "influx_per_d"), ["1.0e+12", "1.0e+300"]),
    (("nk", "initial_count"), ["1000000000", "9223372036854775807"]),
    (("fields", "il10", "diffusion_um2_per_s"), ["1.0e+12", "1.0e+300"]),
    (("fields", "ifng", "half_life_min"), ["1.0e-9", "1.0e-300"]),
    (("car_t", "max_divisions"), ["1000000000"]),
    (("nk", "granules"), ["1000000000"]),
]


# --------------------------------------------------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    kind: str
    base: str  # the real file it derives from (relative to scenarios/)
    main: str  # the file checked (relative to the scenarios copy)
    files: dict[str, bytes]  # everything written for the case
    mutations: list[Mutation]
    expect_files: tuple[str, ...]  # any of these names must appear in the message

    @property
    def text(self) -> bytes:
        return self.files[self.main]

    def describe(self) -> str:
        return f"[{self.kind}] {self.base}: " + "; ".join(m.note for m in self.mutations)


def _beside(rel: str, name: str) -> str:
    parent = Path(rel).parent
    return (parent / name).as_posix() if parent != Path(".") else name


def _relative(frm: str, to: str) -> str:
    """Path of scenarios-relative file `to` as written in file `frm` (relative to frm's folder)."""
    import os.path

    return os.path.relpath(to, start=str(Path(frm).parent) or ".").replace("\\", "/")


SIMPLE = {"type": mut_type, "number": mut_number, "unknown_key": mut_unknown_key, "yaml": mut_yaml,
          "garbage": mut_garbage, "deep": mut_deep, "scale": mut_scale}


def _mutate(draw, doc: Doc, kind: str, many: bool = True) -> list[Mutation]:
    if kind in ("type", "number", "unknown_key", "scale") and many:
        count = draw(st.sampled_from([1, 1, 1, 2, 3]))
    else:
        count = 1
    return [SIMPLE[kind](draw, doc) for _ in range(count)]


def _broken_copy(draw, rel: str, name: str) -> tuple[str, bytes, list[Mutation]]:
    """A malformed copy of real file `rel`, written beside it as `name`."""
    doc = Doc(rel)
    kind = draw(st.sampled_from(["type", "number", "unknown_key", "yaml", "garbage"]))
    muts = _mutate(draw, doc, kind, many=False)
    return _beside(rel, name), doc.render(), muts


def mut_extends(draw, doc: Doc, case_rel: str) -> tuple[Mutation, dict[str, bytes], tuple[str, ...]]:
    """A broken `extends:`; returns the mutation, extra files, and the names that may be blamed."""
    parent = DATA[doc.rel].get("extends")
    parent_rel = (Path(doc.rel).parent / parent).as_posix() if isinstance(parent, str) else "default.yaml"
    parent_rel = str(Path(parent_rel)).replace("\\", "/")
    import os.path

    parent_rel = os.path.normpath(parent_rel)
    how = draw(st.sampled_from(["missing", "non_string", "list", "self", "cycle2", "cycle3", "broken_parent",
                                "broken_parent", "directory", "not_a_mapping"]))
    extra: dict[str, bytes] = {}
    blame = (CASE_NAME,)
    if how == "missing":
        value: Any = draw(st.sampled_from(["nope.yaml", "../missing/x.yaml", "", "/nonexistent/x.yaml",
                                           "default.yml", " default.yaml", "claims/../nope.yaml", "nope\x7f.yaml"]))
        if value == "nope\x7f.yaml":
            value = "nope\u00e9.yaml"
    elif how == "non_string":
        value = draw(st.sampled_from([5, 1.5, True, None, [], {}, {"a": 1}, [1], [None], [["default.yaml"]]]))
    elif how == "list":
        value = [_relative(case_rel, parent_rel), draw(st.sampled_from(["nope.yaml", "", 3]))]
    elif how == "self":
        value = CASE_NAME
    elif how in ("cycle2", "cycle3"):
        names = ["_fuzz_aux1.yaml"] + (["_fuzz_aux2.yaml"] if how == "cycle3" else [])
        chain = [case_rel] + [_beside(case_rel, n) for n in names]
        for i, rel in enumerate(chain[1:], 1):
            nxt = chain[(i + 1) % len(chain)]
            extra[rel] = f"description: link {i} of a cycle\nextends: {Path(nxt).name}\n".encode()
        value = Path(chain[1]).name
        blame = tuple(Path(r).name for r in chain)
    elif how == "directory":
        value = draw(st.sampled_from([".", "claims", "../", "/"]))
    elif how == "not_a_mapping":
        aux = _beside(case_rel, "_fuzz_aux1.yaml")
        extra[aux] = draw(st.sampled_from([b"- a\n- b\n", b"just text\n", b"", b"# only a comment\n", b"42\n"]))
        value = Path(aux).name
        blame = (Path(aux).name,)
        target = None
        require = "line" if extra[aux].strip(b"# only a comment\n") else "none"
        return (Mutation("extends", f"extends: {value} whose content is {extra[aux]!r}", target, require),
                extra, blame)
    else:  # broken_parent: the parent (real) file, mutated, written beside the real parent
        aux, data, muts = _broken_copy(draw, parent_rel, "_fuzz_parent.yaml")
        extra[aux] = data
        value = _relative(case_rel, aux)
        m = muts[0]
        return (Mutation("extends", f"extends: {value}, a copy of {parent_rel} with {m.kind}: {m.note}",
                         m.target, m.require), extra, ("_fuzz_parent.yaml",))
    path = _place(doc, ("extends",), value)
    return Mutation("extends", f"extends: {flow(value)} ({how})", path), extra, blame


def mut_batch(draw, doc: Doc, case_rel: str) -> tuple[Mutation, dict[str, bytes], tuple[str, ...]]:
    arms = [a for a in doc.data.get("arms", {})] or ["fz_arm"]
    arm = draw(st.sampled_from(arms))
    how = draw(st.sampled_from(["arm_missing", "arm_broken", "overrides", "overrides", "sweep", "sweep", "cohort",
                                "cohort", "replicates", "hypotheses", "hypotheses", "reference", "outcomes", "arms"]))
    extra: dict[str, bytes] = {}
    if how == "arm_missing":
        value = draw(st.sampled_from(["missing.yaml", "../nope/x.yaml", "", "/nonexistent.yaml", ".", "../",
                                      "../default.yml", 5, None, ["../default.yaml"]]))
        path = _place(doc, ("arms", arm, "scenario"), value)
        return Mutation("batch", f"{_dotted(path)} = {flow(value)}", path), extra, (CASE_NAME,)
    if how == "arm_broken":
        real = doc.data["arms"][arm]["scenario"] if arm in doc.data.get("arms", {}) else "../default.yaml"
        import os.path

        real_rel = os.path.normpath((Path(doc.rel).parent / real).as_posix())
        aux, data, muts = _broken_copy(draw, real_rel, "_fuzz_arm.yaml")
        extra[aux] = data
        value = _relative(case_rel, aux)
        doc.set(("arms", arm, "scenario"), value)
        m = muts[0]
        return (Mutation("batch", f"arms.{arm}.scenario: {value}, a copy of {real_rel} with {m.kind}: {m.note}",
                         m.target, m.require), extra, ("_fuzz_arm.yaml",))
    if how == "overrides":
        good = [s for s in SCENARIO_SLOTS if s.kind in ("float", "int", "bool", "str", "literal", "seq")]
        key = draw(st.one_of(
            st.sampled_from(good).map(lambda s: _dotted(s.path)),
            st.sampled_from(["cancer.nope", "therapy.selinexor.5.dose_mg", "time.days.x", "", ".", "a..b",
                             "grid.0", "cancer.antigens.CD19.level.x", "output.snapshot_days.99", "therapy.selinexor.x",
                             "time", "products.selinexor_pk"]),
        ))
        value = draw(st.one_of(st.sampled_from(NUMBER_SPELLINGS).map(Raw), st.sampled_from(WRONG_FOR_NUMBER)))
        if draw(st.integers(0, 5)) == 0:
            value = draw(st.sampled_from([[1], "cancer.initial_cells=5", 5, None]))
            path = _place(doc, ("arms", arm, "overrides"), value)
            return Mutation("batch", f"{_dotted(path)} = {_show(value)}", path), extra, (CASE_NAME,)
        path = _place(doc, ("arms", arm, "overrides", key), value)
        return Mutation("batch", f"{_dotted(path)} = {_show(value)}", path), extra, (CASE_NAME,)
    if how == "sweep":
        sub = draw(st.sampled_from(["empty_map", "empty_list", "huge", "product", "non_finite", "not_list",
                                    "wrong_path", "not_map"]))
        if sub == "empty_map":
            path = _place(doc, ("sweep", "parameters"), {})
        elif sub == "empty_list":
            path = _place(doc, ("sweep", "parameters", "cancer.doubling_time_h"), [])
        elif sub == "huge":
            n = draw(st.sampled_from([1000, 10000, 100000]))
            path = _place(doc, ("sweep", "parameters", "cancer.doubling_time_h"), [24.0 + i * 1e-3 for i in range(n)])
        elif sub == "product":
            n, k = draw(st.sampled_from([(100, 3), (1000, 3), (30, 6), (10, 9)]))
            keys = ["cancer.doubling_time_h", "cancer.hla_e_mean", "cancer.trail_r_mean", "nk.lifespan_d",
                    "nk.adcc_gain", "cancer.hla_e_cv", "cancer.trail_r_cv", "nk.chemotaxis_bias", "cancer.prolif_hill"]
            for key in keys[:k]:
                doc.set(("sweep", "parameters", key), [0.5 + i * 1e-4 for i in range(n)])
            path = ("sweep", "parameters")
            return (Mutation("batch", f"sweep of {k} parameters x {n} values ({n ** k:.0e} points)", path),
                    extra, (CASE_NAME,))
        elif sub == "non_finite":
            key = draw(st.sampled_from(["cancer.doubling_time_h", "time.days", "grid.width_sites",
                                        "therapy.selinexor.0.dose_mg"]))
            path = _place(doc, ("sweep", "parameters", key), [Raw(draw(st.sampled_from([".inf", ".nan", "-.inf",
                                                                                         "1.0e+300"])))])
        elif sub == "wrong_path":
            key = draw(st.sampled_from(["cancer.nope", "", "time.days.x", "therapy.selinexor.7.dose_mg"]))
            path = _place(doc, ("sweep", "parameters", key), [1.0, 2.0])
        elif sub == "not_list":
            path = _place(doc, ("sweep", "parameters", "cancer.doubling_time_h"),
                          draw(st.sampled_from([24, "24", {"a": 1}, None])))
        else:
            path = _place(doc, ("sweep",), draw(st.sampled_from([5, [1], "x", {"cancer.doubling_time_h": [24]}])))
        return Mutation("batch", f"sweep {sub}: {_dotted(path)}", path), extra, (CASE_NAME,)
    if how == "cohort":
        key = draw(st.sampled_from(["cancer.doubling_time_h", "nk.initial_count", "cancer.hla_e_mean",
                                    "therapy.selinexor.9.dose_mg", "cancer.nope", "time", "output.snapshot_days"]))
        dist, bad = draw(st.sampled_from([
            ({"kind": "poisson", "mean": -1.0}, "mean"),
            ({"kind": "poisson", "mean": Raw("1.0e+300")}, "mean"),
            ({"kind": "poisson", "mean": Raw(".nan")}, "mean"),
            ({"kind": "lognormal", "mean": 1.0, "cv": Raw(".inf")}, "cv"),
            ({"kind": "lognormal", "mean": Raw("1.0e+300"), "cv": Raw("1.0e+300")}, "cv"),
            ({"kind": "lognormal", "mean": 0, "cv": 1.0}, "mean"),
            ({"kind": "lognormal", "mean": 1.0}, "cv"),
            ({"kind": "uniform", "low": 5.0, "high": 1.0}, "high"),
            ({"kind": "uniform", "low": Raw("-.inf"), "high": Raw(".inf")}, "low"),
            ({"kind": "normal", "mean": Raw(".nan"), "sd": 1.0}, "mean"),
            ({"kind": "normal", "mean": 0.0, "sd": -1.0}, "sd"),
            ({"kind": "normal", "mean": 0.0, "sd": Raw("1.0e+300")}, "sd"),
            ({"kind": "gamma", "mean": 1.0}, "kind"),
            ({"kind": "poisson"}, "mean"),
        ]))
        value = {k: (doc.sentinel(v) if isinstance(v, Raw) else v) for k, v in dist.items()}
        path = doc.set(("cohort", "parameters", key), value)
        shown = {k: _show(v) for k, v in dist.items()}
        return Mutation("batch", f"cohort.parameters.{key} = {shown}", path + (bad,)), extra, (CASE_NAME,)
    if how == "replicates":
        key, value = draw(st.sampled_from([
            ("replicates", "1.0e+9"), ("replicates", "1000000000"), ("replicates", "-1"), ("replicates", "0"),
            ("replicates", "100001"), ("replicates", ".inf"), ("replicates", "many"), ("base_seed", "-1"),
            ("base_seed", "18446744073709551616"), ("days", ".inf"), ("days", "-1"), ("days", "0"),
            ("days", "1.0e+9"), ("seeds", "sometimes"), ("days", ".nan"),
        ]))
        path = _place(doc, (key,), Raw(value))
        return Mutation("batch", f"{key} = {value}", path), extra, (CASE_NAME,)
    if how == "hypotheses":
        base = {"id": "FZ", "outcome": "final_tumour", "arm": arm, "versus": arms[-1], "expected": "less"}
        bad, value = draw(st.sampled_from([
            ("arm", "nope"), ("versus", "nope"), ("outcome", "nope"), ("outcome", "hla_e_mean@1.0e+9"),
            ("outcome", "x@7.."), ("outcome", "final_tumour@7"), ("outcome", "il10_mean@21..7"),
            ("outcome", "il10_mean@-99999999999999999999"), ("value", Raw(".nan")), ("expected", "more"),
            ("id", None), ("arm", None), ("versus", 5),
        ]))
        hyp = dict(base)
        if bad == "value":
            hyp.pop("versus")
        hyp[bad] = doc.sentinel(value) if isinstance(value, Raw) else value
        hyps = list(doc.data.get("hypotheses") or [])
        at = len(hyps)
        path = doc.set(("hypotheses",), hyps + [hyp])
        return Mutation("batch", f"hypotheses.{at}.{bad} = {_show(value)}", path + (at, bad)), extra, (CASE_NAME,)
    if how == "reference":
        value = draw(st.sampled_from(["nope", 5, None, [arm], ""]))
        path = _place(doc, ("reference",), value)
        return Mutation("batch", f"reference = {flow(value)}", path), extra, (CASE_NAME,)
    if how == "outcomes":
        value = draw(st.sampled_from([[], ["nope"], "final_tumour", [5], ["final_tumour", None]]))
        path = _place(doc, ("outcomes",), value)
        return Mutation("batch", f"outcomes = {flow(value)}", path), extra, (CASE_NAME,)
    value = draw(st.sampled_from([{}, [], "x", {"bad name!": {"scenario": "../default.yaml"}},
                                  {arm: {"scenario": "../default.yaml", "overrides": {}, "fz": 1}}]))
    path = _place(doc, ("arms",), value)
    target = path
    if isinstance(value, dict) and value:
        name = next(iter(value))
        target = path + (name,) + (("fz",) if "fz" in value[name] else ())
    return Mutation("batch", f"arms = {flow(value)}", target), extra, (CASE_NAME,)


def case_strategy(kind: str, batch: bool = False) -> st.SearchStrategy[Case]:
    """Cases of one kind, derived from the real scenario files (or the real batch files)."""
    files = BATCH_FILES if batch else SCENARIO_FILES

    @st.composite
    def build(draw) -> Case:
        base = draw(st.sampled_from(files))
        doc = Doc(base)
        case_rel = _beside(base, CASE_NAME)
        extra: dict[str, bytes] = {}
        blame: tuple[str, ...] = (CASE_NAME,)
        if kind == "extends":
            mutation, extra, blame = mut_extends(draw, doc, case_rel)
            mutations = [mutation]
        elif kind == "batch":
            mutation, extra, blame = mut_batch(draw, doc, case_rel)
            mutations = [mutation]
        else:
            mutations = _mutate(draw, doc, kind)
        files_out = {case_rel: doc.render(), **extra}
        return Case(kind, base, case_rel, files_out, mutations, blame)

    return build()


# --------------------------------------------------------------------------------------------------------------------
# Running a case


class CaseTimeout(BaseException):
    """Raised by SIGALRM inside the checked code (BaseException, so `except Exception` there cannot swallow it)."""


@dataclass
class Outcome:
    case: Case
    code: int | None
    stdout: str
    stderr: str
    exc_type: str | None
    exc_text: str | None  # the traceback
    where: str | None  # innermost frames (in tumour_abm and overall) when it raised or was interrupted
    seconds: float
    rise_kb: int
    verdict: str = ""  # ok, accepted, or one of FAILURES
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.verdict in FAILURES


def _on_alarm(signum, frame):
    raise CaseTimeout()


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_kb() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() // 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _vm_size_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except OSError:
        return None


@contextlib.contextmanager
def _address_space_guard():
    """A soft RLIMIT_AS of the current address space + AS_GUARD_BYTES for the duration of one case (numpy keeps
    working under it; an allocation beyond it raises MemoryError instead of waking the OOM killer)."""
    size = _vm_size_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = None if size is None else size + AS_GUARD_BYTES
    if limit is None or (soft != resource.RLIM_INFINITY and soft <= limit) or (
            hard != resource.RLIM_INFINITY and hard < limit):
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _where(tb) -> str:
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if "tumour_abm" in f.filename.replace("\\", "/")]
    parts = []
    if ours:
        f = ours[-1]
        parts.append(f"{Path(f.filename).relative_to(ROOT) if f.filename.startswith(str(ROOT)) else f.filename}"
                     f":{f.lineno} in {f.name}")
    if frames and (not ours or frames[-1] is not ours[-1]):
        f = frames[-1]
        parts.append(f"innermost {Path(f.filename).name}:{f.lineno} in {f.name}")
    return "; ".join(parts)


def run_check(path: Path, time_limit: float = TIME_LIMIT_S) -> dict:
    """`tumour-abm check PATH` in-process: code, output, exception, seconds, rise of the memory high-water mark."""
    from tumour_abm.cli import main

    out, err = io.StringIO(), io.StringIO()
    code, exc_type, exc_text, where, timed_out = None, None, None, None, False
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    reset = _reset_peak()
    before = _rss_kb() if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    old = signal.signal(signal.SIGALRM, _on_alarm) if use_alarm else None
    try:
        try:
            with _address_space_guard(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, time_limit)
                try:
                    code = main(["check", str(path)])
                except SystemExit as exit_:
                    code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
                    if not isinstance(exit_.code, int) and exit_.code is not None:
                        print(exit_.code, file=err)
                finally:
                    if use_alarm:
                        signal.setitimer(signal.ITIMER_REAL, 0)
        except CaseTimeout as exc:
            timed_out, exc_type = True, "CaseTimeout"
            where = _where(exc.__traceback__)
            exc.__traceback__ = None
        except BaseException as exc:  # noqa: BLE001 - anything escaping main is the finding
            if isinstance(exc, KeyboardInterrupt):
                raise
            exc_type = type(exc).__name__
            exc_text = "".join(traceback.format_exception(exc, limit=-12))
            where = _where(exc.__traceback__)
            exc.__traceback__ = None
            del exc
    finally:
        if use_alarm:
            signal.signal(signal.SIGALRM, old)
    seconds = time.perf_counter() - start
    rise = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    if seconds > time_limit:
        timed_out = True
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(), "exc_type": exc_type,
            "exc_text": exc_text, "where": where, "seconds": seconds, "rise_kb": rise, "timed_out": timed_out}


def check_case(case: Case, root: Path, time_limit: float = TIME_LIMIT_S) -> Outcome:
    """Write the case's files into the scenarios copy, check the case file, remove them, classify."""
    written = []
    try:
        for rel, data in case.files.items():
            path = root / rel
            path.write_bytes(data)
            written.append(path)
        result = run_check(root / case.main, time_limit)
    finally:
        for path in written:
            path.unlink(missing_ok=True)
    timed_out = result.pop("timed_out")
    outcome = Outcome(case, **{k: v for k, v in result.items()})
    outcome.stdout = outcome.stdout[:2000]
    outcome.verdict, outcome.detail = classify(case, outcome, timed_out)
    return outcome


# --------------------------------------------------------------------------------------------------------------------
# Classification


def _names_key(stderr: str, path: tuple) -> bool:
    segs = [str(s) for s in path]
    if not segs:
        return True
    tokens = [".".join(segs[:n]) for n in range(len(segs), 1 if len(segs) > 1 else 0, -1)]
    for token in tokens:
        if re.search(rf"(?<![\w]){re.escape(token)}(?![\w])", stderr):
            return True
    leaf = next((s for s in reversed(path) if isinstance(s, str)), None)
    if leaf and leaf.strip():
        pattern = rf"(?:\.{re.escape(leaf)}(?![\w])|(?<![\w.]){re.escape(leaf)}\s*[=:])"
        if re.search(pattern, stderr):
            return True
    return False


def _names_line(stderr: str, names: tuple[str, ...]) -> bool:
    return any(re.search(rf"{re.escape(n)}:\d+:", stderr) for n in names)


def _has_content(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return True
    return any(line.strip() and not line.strip().startswith("#") for line in text.splitlines())


def classify(case: Case, o: Outcome, timed_out: bool = False) -> tuple[str, str]:
    if timed_out or o.exc_type == "CaseTimeout":
        return "timeout", f"over {TIME_LIMIT_S:g} s ({o.seconds:.1f} s); interrupted at {o.where}"
    if o.rise_kb > MEMORY_LIMIT_KB or (o.exc_type or "").endswith("MemoryError"):
        return "over_1gb", f"memory high-water mark rose {o.rise_kb / 1024:.0f} MB" + (
            f"; {o.exc_type} at {o.where}" if o.exc_type else "")
    if o.exc_type is not None:
        last = (o.exc_text or "").strip().splitlines()[-1:] or [""]
        return "traceback", f"{last[0]} at {o.where}"
    if "Traceback (most recent call last)" in o.stderr + o.stdout:
        return "traceback", "a traceback was printed"
    if o.code == 0:
        return "accepted", ""
    if o.code != 2:
        return "bad_exit", f"exit code {o.code}"
    if not any(name in o.stderr for name in case.expect_files):
        return "no_file", f"stderr does not name {' or '.join(case.expect_files)}"
    misses = []
    for m in case.mutations:
        if m.require == "none":
            return "ok", ""
        if m.require == "line" and not _has_content(case.files.get(_file_of(case), b"x")):
            return "ok", ""
        has_line = _names_line(o.stderr, case.expect_files)
        has_key = m.target is None or _names_key(o.stderr, m.target)
        if m.require == "line" and has_line:
            return "ok", ""
        if m.require == "key" and has_key and m.target is not None:
            return "ok", ""
        if m.require == "key_or_line" and (has_line or (has_key and m.target is not None)):
            return "ok", ""
        misses.append(m)
    if all(m.require == "line" for m in misses):
        return "no_line", "no NAME:LINE: in the message"
    wanted = [_dotted(m.target) for m in misses if m.target is not None]
    return "no_key", "message does not name " + " or ".join(wanted or ["the key"])


def _file_of(case: Case) -> str:
    """The file whose content decides the line rule's exemption: the blamed one if it was written by the case."""
    for rel in case.files:
        if Path(rel).name in case.expect_files:
            return rel
    return case.main


# --------------------------------------------------------------------------------------------------------------------
# Running many cases


def run_cases(strategy: st.SearchStrategy[Case], root: Path, max_examples: int, *, seed: int | None = None,
              derandomize: bool = False, budget_s: float | None = None, min_cases: int = 0,
              stop_on: tuple[str, ...] = (), time_limit: float = TIME_LIMIT_S,
              on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Draw up to max_examples cases with hypothesis (generation only: no shrinking, no database) and check each.
    Never raises for a failing case: outcomes are returned. `budget_s` stops running cases (after `min_cases`)
    once that much time has passed; `stop_on` stops after the first outcome with one of those verdicts."""
    outcomes: list[Outcome] = []
    start = time.monotonic()
    state = {"stop": False}

    @settings(max_examples=max_examples, deadline=None, derandomize=derandomize, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=strategy)
    def body(case: Case) -> None:
        if state["stop"]:
            return
        outcome = check_case(case, root, time_limit)
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
        if outcome.verdict in stop_on:
            state["stop"] = True
        if budget_s is not None and len(outcomes) >= min_cases and time.monotonic() - start > budget_s:
            state["stop"] = True

    if seed is not None and not derandomize:
        body = hypothesis_seed(seed)(body)
    body()
    return outcomes


# --------------------------------------------------------------------------------------------------------------------
# Reporting


def _normalise(line: str) -> str:
    line = re.sub(r"\S*_fuzz_\w+\.yaml(:\d+)?:?", "FILE:", line)
    line = re.sub(r"\S+\.yaml(:\d+)?", "F.yaml", line)
    line = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", line)
    line = re.sub(r"(?<![\w.])[-+]?\d[\d.e+_-]*", "N", line)
    line = re.sub(r"\(value: .*\)$", "(value: …)", line)
    return line[:110]


def signature(o: Outcome) -> str:
    """A root-cause key: where it failed for tracebacks, time-outs and memory; the message's shape otherwise."""
    if o.verdict in ("traceback", "timeout", "over_1gb"):
        where = re.sub(r":\d+ in ", ":", o.where or "?")
        last = (o.exc_text or "").strip().splitlines()[-1:] or [""]
        msg = _normalise(last[0]) if o.verdict == "traceback" else ""
        return f"{o.verdict}: {o.exc_type or ''} {msg} @ {where}".strip()
    lines = [l for l in o.stderr.splitlines() if l.strip()]
    first = lines[0] if lines else ""
    if re.match(r"error: \d+ problems", first) and len(lines) > 1:
        first = lines[1]
    return f"{o.verdict}: [{o.case.kind}] {_normalise(first.removeprefix('error: '))}"


def show_text(data: bytes, limit: int = 1200) -> str:
    text = data.decode("utf-8", errors="backslashreplace")
    lines = [l if len(l) <= 160 else l[:150] + f"...(+{len(l) - 150} chars)" for l in text.splitlines()]
    text = "\n".join(lines)
    return text if len(text) <= limit else text[:limit] + f"\n...(+{len(data) - limit} bytes)"


def format_outcome(o: Outcome, text_limit: int = 1200) -> str:
    parts = [f"{o.verdict}: {o.case.describe()}", f"  file: {o.case.main} ({len(o.case.text)} bytes), "
             f"exit {o.code}, {o.seconds:.2f} s, +{o.rise_kb / 1024:.0f} MB", f"  {o.detail}"]
    if o.exc_text:
        parts.append("  traceback (last lines):\n    " + "\n    ".join(o.exc_text.strip().splitlines()[-6:]))
    if o.stderr:
        parts.append("  stderr:\n    " + "\n    ".join(o.stderr.strip()[:800].splitlines()))
    parts.append("  text:\n    " + show_text(o.case.text, text_limit).replace("\n", "\n    "))
    return "\n".join(parts)


def format_failures(outcomes: list[Outcome], per_class: int = 3) -> str:
    failed = [o for o in outcomes if o.failed]
    lines = [f"{len(failed)} of {len(outcomes)} cases failed"]
    groups: dict[str, list[Outcome]] = {}
    for o in failed:
        groups.setdefault(signature(o), []).append(o)
    for sig, items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"\n== {len(items)} x {sig}")
        for o in items[:per_class]:
            lines.append(format_outcome(o, 600))
    return "\n".join(lines)
