"""The mutation kinds that change keys and values: type, number, unknown_key, deep and scale. Each draws what to
do, applies it to a Doc and returns a Mutation saying what it targeted (see syntax_mutations for yaml and garbage)."""

from __future__ import annotations

import re
from collections.abc import Callable

from hypothesis import strategies as st

from .documents import Doc, Mutation, Raw, dotted, place, shown
from .schema import is_numeric
from .targets import mapping_targets, pick_target
from .values import NUMBER_SPELLINGS, wrong_values


def mut_type(draw, doc: Doc) -> Mutation:
    slot = pick_target(draw, doc)
    value = draw(st.sampled_from(wrong_values(slot)))
    path = place(doc, slot.path, value)
    return Mutation("type", f"{dotted(path)} = {shown(value)} (expected {slot.kind})", path)


def mut_number(draw, doc: Doc) -> Mutation:
    slot = pick_target(draw, doc, lambda s: is_numeric(s) or (s.kind == "seq" and s.item in ("float", "int")))
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
    actual = place(doc, path, value)
    return Mutation("number", f"{dotted(actual)} = {shown(value)}", actual)


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


def mut_unknown_key(draw, doc: Doc) -> Mutation:
    path, known = draw(st.sampled_from(mapping_targets(doc)))
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
    actual = place(doc, path + (key,), value)
    return Mutation("unknown_key", f"{how}: {dotted(actual)}: {shown(value)}", actual)


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
        return Mutation("deep", f"{min(depth, 200)} nested keys {dotted(actual[:3])}...", actual[:1], "key_or_line")
    slot = pick_target(draw, doc)
    raw = Raw(_nest_flow(style, depth, leaf)) if style.startswith("flow") else Raw(block=_nest_block(style, depth, leaf))
    path = place(doc, slot.path, raw)
    return Mutation("deep", f"{dotted(path)} = {style} depth {depth}", path, "key_or_line")


def mut_scale(draw, doc: Doc) -> Mutation:
    how = draw(st.sampled_from(["key", "course", "key", "course", "infusion", "snapshots", "weekdays"]))
    if how == "key":
        path, values = draw(st.sampled_from(SCALE_KEYS))
        value = Raw(draw(st.sampled_from(values)))
        actual = place(doc, path, value)
        return Mutation("scale", f"{dotted(actual)} = {value.text}", actual)
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
        path = place(doc, ("therapy", product), Raw(f"[{course}]" if as_list else course))
        target = path + ((0,) if as_list else ()) + (key,)
        return Mutation("scale", f"therapy.{product}: {course}", target)
    if how == "infusion":
        product = draw(st.sampled_from(["car_t", "nk_cells"]))
        count = draw(st.sampled_from(["10000000", "1.0e+7", "9223372036854775807", "1000000000000", "4000000"]))
        if product == "car_t":
            # A CAR-T course needs its antigen on the tumour, and the solid-tumour presets carry none: that (right)
            # error would hide the count's, so the case targets an antigen the tumour is given.
            place(doc, ("car_t", "target_antigen"), "CD19")
            place(doc, ("cancer", "antigens", "CD19"), {"positive_fraction": 1.0, "level": 1.0})
        path = place(doc, ("therapy", product), Raw(f"[{{day: 0, count: {count}}}]"))
        return Mutation("scale", f"therapy.{product}.0.count = {count}", path + (0, "count"))
    if how == "snapshots":
        n = _list_length(draw, [1000, 5000, 100])
        days = doc.get(("time", "days"))
        days = days if isinstance(days, (int, float)) and not isinstance(days, bool) and 0 < days < 1e6 else 28
        values = [round(i * float(days) / n, 6) for i in range(n)]
        actual = place(doc, ("output", "snapshot_days"), values)
        return Mutation("scale", f"output.snapshot_days = {n} entries", actual)
    n = _list_length(draw, [1000])
    course = {"dose_mg": 60, "days_of_week": [1 + i % 7 for i in range(n)], "start_day": 0, "end_day": 27}
    actual = place(doc, ("therapy", "selinexor"), [course])
    return Mutation("scale", f"therapy.selinexor.0.days_of_week = {n} entries", actual + (0, "days_of_week"))


HUGE_LIST = 20000
HUGE_ONE_IN = 30  # a scale case holds about half a list on average: one or two huge ones per hundred cases


def _list_length(draw, usual: list[int]) -> int:
    """One of `usual`, or once in HUGE_ONE_IN lists HUGE_LIST entries: writing and checking a list that long costs
    as much as dozens of other cases, so a few per run keep that size covered without dominating the run."""
    if draw(st.integers(1, HUGE_ONE_IN)) == HUGE_ONE_IN:  # the top end: hypothesis favours the bottom one
        return HUGE_LIST
    return draw(st.sampled_from(usual))


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
