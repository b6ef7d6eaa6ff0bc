"""Property-based fuzzing of `tumour-abm check FILE`: malformed files derived from the real scenario and batch files.

A case is one real file (from scenarios/) plus one or more mutations of one kind; it is written next to a copy of
the real file (so `extends:` and arm paths still resolve) and checked in-process with `tumour_abm.cli.main`. It must
end with exit code 2 and a message naming the file and the key (or line) it is about, or 0 if the file is still
valid; never a traceback, a time-out or a memory blow-up. The rules in full are in verdicts.py.

The modules, in the order a case passes through them:

* real_files: the real files (read once) and the copy of scenarios/ that cases are written into;
* schema: what the pydantic models expect at each key path;
* documents: a file being mutated (Doc), raw YAML snippets (Raw), what a mutation did (Mutation);
* values: wrong-typed values and extreme spellings of numbers;
* targets: where in a file a mutation can aim;
* mutations, syntax_mutations, extends_mutation, batch_mutations: the mutation kinds;
* kinds: the kinds by name; cases: a Case and the hypothesis strategy that draws the cases of one kind;
* runner: checking a case in-process within the limits (limits.py), and drawing many cases;
* verdicts: an Outcome and its verdict; report: outcomes as plain text.

Used by tests/test_fuzz.py (a bounded sample) and tools/fuzz.py (long runs); this module re-exports what they use.
"""

from .cases import case_strategy
from .kinds import BATCH_KINDS, SCENARIO_KINDS
from .limits import TIME_LIMIT_S
from .real_files import make_root
from .report import format_failures, format_outcome, non_finite, printable, signature
from .runner import run_cases
from .verdicts import FAILURES, Outcome, names_key, names_line

__all__ = [
    "BATCH_KINDS", "FAILURES", "SCENARIO_KINDS", "TIME_LIMIT_S", "Outcome", "case_strategy", "format_failures",
    "format_outcome", "make_root", "names_key", "names_line", "non_finite", "printable", "run_cases", "signature",
]
