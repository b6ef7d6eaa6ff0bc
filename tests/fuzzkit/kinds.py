"""The mutation kinds by name, and a malformed copy of a real file (what a broken `extends:` parent or batch arm
points at)."""

from __future__ import annotations

from hypothesis import strategies as st

from .documents import Doc, Mutation
from .mutations import mut_deep, mut_number, mut_scale, mut_type, mut_unknown_key
from .real_files import beside
from .syntax_mutations import mut_garbage, mut_yaml

SCENARIO_KINDS = ("type", "number", "unknown_key", "extends", "yaml", "garbage", "deep", "scale")
BATCH_KINDS = ("type", "number", "unknown_key", "yaml", "garbage", "deep", "batch")
# the kinds that change only the one file (extends and batch also write other files: see cases.case_strategy)
MUTATIONS = {"type": mut_type, "number": mut_number, "unknown_key": mut_unknown_key, "yaml": mut_yaml,
             "garbage": mut_garbage, "deep": mut_deep, "scale": mut_scale}


def mutate(draw, doc: Doc, kind: str, many: bool = True) -> list[Mutation]:
    """Mutations of one kind applied to doc: one, or for kinds that leave the file loadable sometimes two or three
    (problems found together, of which the message must name at least one)."""
    if kind in ("type", "number", "unknown_key", "scale") and many:
        count = draw(st.sampled_from([1, 1, 1, 2, 3]))
    else:
        count = 1
    return [MUTATIONS[kind](draw, doc) for _ in range(count)]


def broken_copy(draw, rel: str, name: str) -> tuple[str, bytes, list[Mutation]]:
    """A malformed copy of real file `rel`, written beside it as `name`."""
    doc = Doc(rel)
    kind = draw(st.sampled_from(["type", "number", "unknown_key", "yaml", "garbage"]))
    muts = mutate(draw, doc, kind, many=False)
    return beside(rel, name), doc.render(), muts
