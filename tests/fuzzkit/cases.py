"""A case (a real file plus the mutations of one kind, and any files written beside it) and the hypothesis
strategy that draws the cases of one kind."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from .batch_mutations import mut_batch
from .documents import Doc, Mutation
from .extends_mutation import mut_extends
from .kinds import mutate
from .real_files import BATCH_FILES, CASE_NAME, SCENARIO_FILES, beside


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


def case_strategy(kind: str, batch: bool = False) -> st.SearchStrategy[Case]:
    """Cases of one kind, derived from the real scenario files (or the real batch files)."""
    files = BATCH_FILES if batch else SCENARIO_FILES

    @st.composite
    def build(draw) -> Case:
        base = draw(st.sampled_from(files))
        doc = Doc(base)
        case_rel = beside(base, CASE_NAME)
        extra: dict[str, bytes] = {}
        blame: tuple[str, ...] = (CASE_NAME,)
        if kind == "extends":
            mutation, extra, blame = mut_extends(draw, doc, case_rel)
            mutations = [mutation]
        elif kind == "batch":
            mutation, extra, blame = mut_batch(draw, doc, case_rel)
            mutations = [mutation]
        else:
            mutations = mutate(draw, doc, kind)
        files_out = {case_rel: doc.render(), **extra}
        return Case(kind, base, case_rel, files_out, mutations, blame)

    return build()
