"""`tumour-abm check FILE` on malformed files derived from the real scenario and batch files (property-based).

Every case exits 2 with a message naming the file and the key (or line) it is about, or 0 if the file is still
valid; never a traceback, never more than 10 s or 1 GB. The generator and the rules are in the fuzzkit package (the
rules in fuzzkit/verdicts.py); for a long run, tools/fuzz.py. Bounded: a fixed number of derandomized cases per kind,
a time budget for the whole module, and a kind's run stops at its first time-out or memory blow-up (the test fails
either way).
"""

from __future__ import annotations

import time

import pytest

import fuzzkit

SCENARIO_EXAMPLES = 50
BATCH_EXAMPLES = 30
MODULE_BUDGET_S = 40.0  # cases stop being drawn once the module has used this much (at least MIN_CASES per kind)
MIN_CASES = 10
_spent = {"s": 0.0}


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory):
    return fuzzkit.make_root(tmp_path_factory.mktemp("fuzz"))


def _check_kind(kind: str, batch: bool, examples: int, root) -> None:
    start = time.monotonic()
    outcomes = fuzzkit.run_cases(
        fuzzkit.case_strategy(kind, batch), root, examples, derandomize=True,
        budget_s=max(0.0, MODULE_BUDGET_S - _spent["s"]), min_cases=MIN_CASES, stop_on=("timeout", "over_1gb"),
    )
    _spent["s"] += time.monotonic() - start
    assert outcomes
    if any(o.failed for o in outcomes):
        pytest.fail(fuzzkit.format_failures(outcomes), pytrace=False)


@pytest.mark.parametrize("kind", fuzzkit.SCENARIO_KINDS)
def test_check_reports_malformed_scenario_files(kind, fuzz_root):
    _check_kind(kind, False, SCENARIO_EXAMPLES, fuzz_root)


@pytest.mark.parametrize("kind", fuzzkit.BATCH_KINDS)
def test_check_reports_malformed_batch_files(kind, fuzz_root):
    _check_kind(kind, True, BATCH_EXAMPLES, fuzz_root)


def test_the_key_rule():
    """The rule a message must meet to name a key, on real message shapes."""
    names = fuzzkit.names_key
    path = ("therapy", "selinexor", 0, "every_days")
    assert names("f.yaml:9: therapy.selinexor.0.every_days = 1e-06: too small", path)
    assert names("f.yaml:9: therapy.selinexor: a course gives 27000001 doses", path)
    assert names("f.yaml:9: every_days = 1e-06: Input should be ...", path)
    assert not names("f.yaml:9: therapy: something is wrong", path)
    assert not names("f.yaml:9: the dosing interval (every days) is too short", path)
    assert names("f.yaml:3: cancer: unknown key", ("cancer",))
    assert not names("f.yaml:3: cancerous: unknown key", ("cancer",))
    assert names("arms.a.overrides.cancer.initial_cells: unknown key", ("arms", "a", "overrides", "cancer.initial_cells"))
    assert fuzzkit.names_line("error: /x/_fuzz_case.yaml:4: YAML syntax error", ("_fuzz_case.yaml",))
    assert not fuzzkit.names_line("error: /x/_fuzz_case.yaml: YAML error", ("_fuzz_case.yaml",))
