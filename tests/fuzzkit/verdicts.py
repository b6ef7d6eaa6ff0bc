"""The verdict on one checked case (Outcome), and the rules a message must meet.

Every case must end with exit code 2 (or 0 if the mutated file is still valid: recorded as "accepted", not a
failure), no exception escaping `main`, in under TIME_LIMIT_S seconds and a rise of the memory high-water mark under
MEMORY_LIMIT_KB (limits.py). With exit code 2 the message on stderr must name the file, and:

* key rule: a mutation that targeted a key path (e.g. `therapy.selinexor.0.every_days`) is satisfied when stderr
  names the full dotted path, or a dotted prefix of it with at least two segments (one segment when the target is
  a top-level key), each as a whole token (not inside a longer word; a following `.` is fine), or the leaf key name
  written like a key (as the tail of a dotted path, or followed by `=` or `:`);
* line rule: a syntax-level mutation (garbage bytes, truncation, YAML tags, undefined aliases, bad merge keys)
  is satisfied when stderr contains `NAME:LINE:` for the expected file; a file with no YAML content left (empty,
  whitespace or comments only) needs only the file name, since it has no line to point at;
* key-or-line rule: deep nesting and alias bombs are satisfied by either of the above;
* a file larger than the largest parameter file the tool reads (yaml_tree.MAX_FILE_BYTES) is refused whole,
  before it is parsed, so it needs only the file name (judged from the file's size, not from the message);
* a case with several mutations passes when at least one mutation's rule is satisfied (one problem may hide
  another, e.g. a YAML error stops before validation).

The file to be named is the case file, except where the case says otherwise: a malformed `extends:` parent or a
malformed arm scenario must be named itself, and in an extends cycle either file of the cycle will do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tumour_abm.yaml_tree import MAX_FILE_BYTES

from .cases import Case
from .documents import dotted, has_content
from .limits import MEMORY_LIMIT_KB, TIME_LIMIT_S

FAILURES = ("traceback", "timeout", "over_1gb", "bad_exit", "no_file", "no_key", "no_line")


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


def names_key(stderr: str, path: tuple) -> bool:
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


def names_line(stderr: str, names: tuple[str, ...]) -> bool:
    return any(re.search(rf"{re.escape(n)}:\d+:", stderr) for n in names)


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
    if len(case.files.get(_file_of(case), b"")) > MAX_FILE_BYTES:
        return "ok", ""
    misses = []
    for m in case.mutations:
        if m.require == "none":
            return "ok", ""
        if m.require == "line" and not has_content(case.files.get(_file_of(case), b"x")):
            return "ok", ""
        has_line = names_line(o.stderr, case.expect_files)
        has_key = m.target is None or names_key(o.stderr, m.target)
        if m.require == "line" and has_line:
            return "ok", ""
        if m.require == "key" and has_key and m.target is not None:
            return "ok", ""
        if m.require == "key_or_line" and (has_line or (has_key and m.target is not None)):
            return "ok", ""
        misses.append(m)
    if all(m.require == "line" for m in misses):
        return "no_line", "no NAME:LINE: in the message"
    wanted = [dotted(m.target) for m in misses if m.target is not None]
    return "no_key", "message does not name " + " or ".join(wanted or ["the key"])


def _file_of(case: Case) -> str:
    """The file whose content decides the line rule's exemption: the blamed one if it was written by the case."""
    for rel in case.files:
        if Path(rel).name in case.expect_files:
            return rel
    return case.main
