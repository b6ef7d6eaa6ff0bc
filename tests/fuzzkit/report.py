"""Plain-text reports of outcomes: root-cause signatures for grouping failures, one outcome in full, a summary of
failures for pytest, and a flag for accepted files with a non-finite number in them."""

from __future__ import annotations

import re

from .verdicts import Outcome


NON_FINITE = re.compile(r"(?i)(?<![\w])[-+]?\.(?:inf|nan)(?![\w])|(?<![\w.])1\.0e\+309|(?<![\w])-?(?:inf|nan)(?![\w])")


def non_finite(o: Outcome) -> bool:
    """Did a mutation put an infinite or NaN number into the file? (An accepted one deserves a look.)"""
    return any(NON_FINITE.search(m.note.split("=", 1)[-1]) for m in o.case.mutations)


def _normalise(line: str) -> str:
    line = re.sub(r"\S*_fuzz_\w+\.yaml(:\d+)?:?", "FILE:", line)
    line = re.sub(r"\S+\.yaml(:\d+)?", "F.yaml", line)
    line = re.sub(r"(?<![\w.])/[^\s:]*", "PATH", line)
    line = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", line)
    line = re.sub(r"(?<![\w.])[-+]?\d[\d.e+_-]*", "N", line)
    line = re.sub(r"\(value: .*\)$", "(value: …)", line)
    return line[:110]


def signature(o: Outcome) -> str:
    """A root-cause key: where it failed for tracebacks, time-outs and memory; the message's shape otherwise."""
    if o.verdict in ("traceback", "timeout", "over_1gb"):
        where = re.sub(r":\d+ in ", ":", (o.where or "?").split("; innermost")[0])
        last = (o.exc_text or "").strip().splitlines()[-1:] or [""]
        msg = _normalise(last[0]) if o.verdict == "traceback" else ""
        return f"{o.verdict}: {o.exc_type or ''} {msg} @ {where}".strip()
    lines = [l for l in o.stderr.splitlines() if l.strip()]
    first = lines[0] if lines else ""
    if re.match(r"error: \d+ problems", first) and len(lines) > 1:
        first = lines[1]
    return f"{o.verdict}: {_normalise(first.removeprefix('error: '))}"


def printable(text: str) -> str:
    """Control characters (but not newlines and tabs) as escapes, so a report stays plain text."""
    return re.sub(r"[^\S\n\t ]|[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]",
                  lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def show_text(data: bytes, limit: int = 1200) -> str:
    text = printable(data.decode("utf-8", errors="backslashreplace"))
    lines = [l if len(l) <= 160 else l[:150] + f"...(+{len(l) - 150} chars)" for l in text.splitlines()]
    text = "\n".join(lines)
    return text if len(text) <= limit else text[:limit] + f"\n...(+{len(data) - limit} bytes)"


def format_outcome(o: Outcome, text_limit: int = 1200) -> str:
    parts = [f"{o.verdict}: {printable(o.case.describe())}", f"  file: {o.case.main} ({len(o.case.text)} bytes), "
             f"exit {o.code}, {o.seconds:.2f} s, +{max(0, o.rise_kb) / 1024:.0f} MB", f"  {printable(o.detail)}"]
    if o.exc_text:
        parts.append("  traceback (last lines):\n    " + "\n    ".join(o.exc_text.strip().splitlines()[-6:]))
    if o.stderr:
        parts.append("  stderr:\n    " + "\n    ".join(printable(o.stderr.strip()[:800]).splitlines()))
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
