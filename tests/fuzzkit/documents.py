"""One file being mutated (Doc): its parsed data, changed in place, plus raw YAML snippets (Raw) that a dump
cannot produce, put in by sentinel strings; what a mutation did (Mutation); and placing a value at a key path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from .real_files import BATCH_FILES, DATA, TEXT


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


def flow(value: Any) -> str:
    """A value as one line of flow-style YAML."""
    text = yaml.safe_dump({"k": value}, default_flow_style=True, width=10**6, allow_unicode=True).strip()
    return text[len("{k: "):-1]


def _materialise(doc: Doc, value: Any) -> Any:
    """The value with every Raw (however deep) replaced by a sentinel of doc."""
    if isinstance(value, Raw):
        return doc.sentinel(value)
    if isinstance(value, dict):
        return {k: _materialise(doc, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_materialise(doc, v) for v in value]
    return value


def place(doc: Doc, path: tuple, value: Any) -> tuple:
    """Put a value (which may hold Raw snippets) at a key path; returns the path as it is in the file."""
    return doc.set(path, _materialise(doc, copy.deepcopy(value)))


def _as_text(value: Any) -> Any:
    if isinstance(value, Raw):
        return value.text if value.block is None else "<block>"
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    return value


def shown(value: Any) -> str:
    """A value as a mutation's note shows it: a Raw as its YAML text, anything else as flow YAML."""
    return _as_text(value) if isinstance(value, Raw) else flow(_as_text(value))


def dotted(path: tuple) -> str:
    return ".".join(str(s) for s in path)


def has_content(data: bytes) -> bool:
    """Is anything but blank lines and comments left? (A file without content has no line a message could name;
    bytes that are not UTF-8 count as content.)"""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return True
    return any(line.strip() and not line.strip().startswith("#") for line in text.splitlines())
