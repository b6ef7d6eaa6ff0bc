"""The extends kind: a missing, mistyped, cyclic or broken `extends:` (the parent file may be the one to blame)."""

from __future__ import annotations

import os.path
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from .documents import Doc, Mutation, flow, has_content, place
from .kinds import broken_copy
from .real_files import CASE_NAME, DATA, beside, relative_path


def mut_extends(draw, doc: Doc, case_rel: str) -> tuple[Mutation, dict[str, bytes], tuple[str, ...]]:
    """A broken `extends:`; returns the mutation, extra files, and the names that may be blamed."""
    parent = DATA[doc.rel].get("extends")
    parent_rel = (Path(doc.rel).parent / parent).as_posix() if isinstance(parent, str) else "default.yaml"
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
        value = [relative_path(case_rel, parent_rel), draw(st.sampled_from(["nope.yaml", "", 3]))]
    elif how == "self":
        value = CASE_NAME
    elif how in ("cycle2", "cycle3"):
        names = ["_fuzz_aux1.yaml"] + (["_fuzz_aux2.yaml"] if how == "cycle3" else [])
        chain = [case_rel] + [beside(case_rel, n) for n in names]
        for i, rel in enumerate(chain[1:], 1):
            nxt = chain[(i + 1) % len(chain)]
            extra[rel] = f"description: link {i} of a cycle\nextends: {Path(nxt).name}\n".encode()
        value = Path(chain[1]).name
        blame = tuple(Path(r).name for r in chain)
    elif how == "directory":
        value = draw(st.sampled_from([".", "claims", "../", "/"]))
    elif how == "not_a_mapping":
        aux = beside(case_rel, "_fuzz_aux1.yaml")
        extra[aux] = draw(st.sampled_from([b"- a\n- b\n", b"just text\n", b"", b"# only a comment\n", b"42\n"]))
        value = Path(aux).name
        blame = (Path(aux).name,)
        doc.set(("extends",), value)
        require = "line" if has_content(extra[aux]) else "none"
        return Mutation("extends", f"extends: {value} whose content is {extra[aux]!r}", None, require), extra, blame
    else:  # broken_parent: the parent (real) file, mutated, written beside the real parent
        aux, data, muts = broken_copy(draw, parent_rel, "_fuzz_parent.yaml")
        extra[aux] = data
        value = relative_path(case_rel, aux)
        doc.set(("extends",), value)
        m = muts[0]
        return (Mutation("extends", f"extends: {value}, a copy of {parent_rel} with {m.kind}: {m.note}",
                         m.target, m.require), extra, ("_fuzz_parent.yaml",))
    path = place(doc, ("extends",), value)
    return Mutation("extends", f"extends: {flow(value)} ({how})", path), extra, blame
