"""Where a mutation can aim in a file: its own keys and every key of the schema, and the mappings keys can be
added to."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

from .documents import Doc, existing_paths
from .real_files import DATA
from .schema import (BATCH_MODEL, SCENARIO_MODEL, SCENARIO_SLOTS, Slot, enumerate_slots, fields_by_key, kind_at,
                     section_model, value_kind)


def slots_for(doc: Doc) -> list[Slot]:
    """Targets for a file: every key it has (with the schema's expectation where known) and every schema key."""
    model = BATCH_MODEL if doc.is_batch else SCENARIO_MODEL
    out = []
    for path, value in existing_paths(DATA[doc.rel]):
        if path == ("extends",):
            continue
        known = kind_at(model, path) if model else None
        out.append(known or Slot(path, value_kind(value)))
    if doc.is_batch:
        if BATCH_MODEL is not None:
            out += enumerate_slots(BATCH_MODEL, DATA[doc.rel], {("cohort", "parameters"): "cancer.doubling_time_h"})
    else:
        out += SCENARIO_SLOTS
    return out


def pick_target(draw, doc: Doc, want: Callable[[Slot], bool] = lambda s: True) -> Slot:
    """A key the file has (half the time) or any key of the schema (which may add a section the file lacks)."""
    slots = [s for s in slots_for(doc) if want(s)]
    own = {p for p, _ in existing_paths(DATA[doc.rel])}
    mine = [s for s in slots if s.path in own]
    if mine and draw(st.booleans()):
        return draw(st.sampled_from(mine))
    return draw(st.sampled_from(slots))


def mapping_targets(doc: Doc) -> list[tuple[tuple, list[str]]]:
    """Mapping paths of the file and of the schema, each with the keys known there."""
    model = BATCH_MODEL if doc.is_batch else SCENARIO_MODEL
    out = [((), list(doc.data))]
    for path, value in existing_paths(doc.data):
        if isinstance(value, dict):
            out.append((path, [str(k) for k in value]))
    for slot in slots_for(doc):
        if slot.kind == "section":
            try:  # keys of the section, from the model
                tp = section_model(model, slot.path)
            except (KeyError, IndexError):
                tp = None
            out.append((slot.path, list(fields_by_key(tp)) if tp else []))
    return out
