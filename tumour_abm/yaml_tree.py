"""Reading YAML parameter files: safe loading only, a line for every key, `extends:` chains, duplicate keys and
runaway nesting reported as problems of the file rather than as crashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .config_errors import ConfigError, Problem, Sources, dotted_path, fail

_MERGE_TAG = "tag:yaml.org,2002:merge"
# No parameter file needs more than a handful of levels (a scenario's deepest key has five); deeper is a broken
# file, and reading it recursively would exhaust Python's stack.
MAX_DEPTH = 20
# Values a file may expand to through aliases (a scenario has about 300): bounds "billion laughs" expansion.
MAX_VALUES = 50_000
# libyaml's parser when PyYAML has it (several times faster); the same safe loading either way.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A scenario file is a few kB and the largest batch file (a 10,000-point sweep) under 100 kB: a larger file is not
# a parameter file, and reading it would only take time.
MAX_FILE_BYTES = 512 * 1024


def _read_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise fail(path, None, "", f"the file is {path.stat().st_size / 1024:,.0f} KiB; a parameter file is at "
                                       f"most {MAX_FILE_BYTES // 1024} KiB (is it the right file?)")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise fail(path, None, "", f"file not found: {path}") from None
    except OSError as exc:
        raise fail(path, None, "", f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise fail(path, line, "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8") from None


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
        self.built = 0

    def build(self, node: yaml.Node, path: tuple) -> Any:
        self.built += 1
        if self.built > MAX_VALUES:
            raise fail(self.file, node.start_mark.line + 1, dotted_path(path),
                       f"the file expands to more than {MAX_VALUES:,} values (through aliases?)")
        if id(node) in self.active:
            raise fail(self.file, node.start_mark.line + 1, dotted_path(path), "an alias refers to itself")
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode) and node.tag == "tag:yaml.org,2002:map":
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode) and node.tag == "tag:yaml.org,2002:seq":
                for i, item in enumerate(node.value):
                    self.sources[path + (i,)] = (self.file, item.start_mark.line + 1)
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            return self._construct(node, path, deep=True)
        finally:
            self.active.discard(id(node))

    def _construct(self, node: yaml.Node, path: tuple, deep: bool = False) -> Any:
        """A plain value; a tag whose text it cannot hold (`!!bool maybe`, `!!float abc`) is a problem at its line."""
        try:
            return self.constructor.construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ArithmeticError, LookupError, TypeError, ValueError):
            raise fail(self.file, node.start_mark.line + 1, dotted_path(path),
                       f"YAML value not allowed: !!{node.tag.rsplit(':', 1)[-1]} {node.value!r} cannot be read as "
                       f"that type") from None

    def _key(self, node: yaml.Node, path: tuple) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise fail(self.file, node.start_mark.line + 1, dotted_path(path), "a key must be a single plain value")
        return self._construct(node, path)

    def _mapping(self, node: yaml.MappingNode, path: tuple) -> dict:
        first_line: dict[Any, int] = {}
        for key_node, _ in [] if id(node) in self.checked else node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key, line = self._key(key_node, path), key_node.start_mark.line + 1
            if key in first_line:
                self.duplicates.append(Problem(self.file, line, dotted_path(path + (key,)), None,
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


def _check_shape(path: Path, text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH and more than MAX_VALUES values, found with YAML's event stream
    (which, unlike composing, does not recurse), so such a file is an error of the file rather than a crash."""
    depth = values = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise fail(path, event.start_mark.line + 1, "",
                           f"values nested more than {MAX_DEPTH} levels deep; no parameter file needs that many")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent):
            values += 1
            if values > MAX_VALUES:
                raise fail(path, event.start_mark.line + 1, "",
                           f"the file holds more than {MAX_VALUES:,} values; no parameter file needs that many")


def _read_one(path: Path) -> tuple[dict, Sources]:
    text = _read_text(path)
    try:
        _check_shape(path, text)
        root = yaml.compose(text, Loader=_LOADER)
        if root is None:
            raise fail(path, None, "", "the file is empty; expected keys and values", allowed="a mapping (key: value)")
        if not isinstance(root, yaml.MappingNode):
            kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
            raise fail(path, root.start_mark.line + 1, "", f"the top level is {kind}, not keys and values",
                       allowed="a mapping (key: value)")
        builder = _TreeBuilder(path)
        data = builder.build(root, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        text = "; ".join(part for part in (exc.context, exc.problem) if part)
        kind = "value not allowed" if isinstance(exc, yaml.constructor.ConstructorError) else "syntax error"
        raise fail(path, mark.line + 1 if mark else None, "", f"YAML {kind}: {text}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: located by its position
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise fail(path, line, "", f"character U+{code:04X} is not allowed in YAML text (a binary or damaged file?)") from None
    except yaml.YAMLError as exc:
        raise fail(path, None, "", f"YAML error: {exc}") from None
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
        raise fail(path, line, "extends", "extends must name the file(s) this one builds on", targets,
                   "a path relative to this file, or a list of them")
    merged: dict = {}
    merged_src: Sources = {}
    for i, target in enumerate(items):
        parent, at_line = path.parent / target, sources.get(("extends", i), (path, line))[1]
        if not parent.exists():
            raise fail(path, at_line, "extends", f"extends target not found: {parent}", target)
        if not parent.is_file():
            raise fail(path, at_line, "extends", f"extends target is not a file: {parent}", target,
                       "a path relative to this file, or a list of them")
        if any(parent.resolve() == seen.resolve() for seen in chain):
            names = " -> ".join(str(p) for p in (*chain, parent))
            raise fail(path, at_line, "extends", f"extends cycle: {names}", target)
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
