"""The claims suite's machinery, and a fast subset of it: two claims with three paired replicates each.

Three replicates cannot reach p < 0.05 after Holm correction, so this checks the plumbing and the direction of the
effects that are large in every replicate; `make validate` runs every claim at its pilot-sized replicates."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tumour_abm.batchfile import load_batch
from tumour_abm.claims import evaluate
from tumour_abm.config_files import ConfigError
from tumour_abm.validate import CLAIMS_DIR, claim_files, combined_batch, store_power

ROOT = Path(__file__).resolve().parents[1]


def test_every_claim_of_claims_md_and_each_held_out_check_has_a_sized_file():
    files = claim_files(None)
    stems = [p.stem for p in files]
    assert stems[:17] == [f"C{i}" for i in range(1, 18)] and len(stems) >= 20 and stems[17] == "H1"
    for path in files:
        batch = load_batch(path)
        hypotheses, power = batch.params.hypotheses, batch.params.power
        assert hypotheses and all(h.id == path.stem for h in hypotheses)
        assert "Setting" in batch.params.description  # every claim names where it is tested
        # Sized by a pilot: one size per hypothesis, the file's replicates the largest of them.
        assert power is not None and power.pilot_replicates >= 10 and power.pilot_base_seed != batch.params.base_seed
        assert len(power.hypotheses) == len(hypotheses)
        assert batch.params.replicates == max(s.replicates for s in power.hypotheses)


def test_shared_arms_run_once_at_the_most_demanding_hypothesis_size(tmp_path):
    path, hypotheses = combined_batch(claim_files(["C1", "C7", "C8"]), None, tmp_path)
    arms = load_batch(path).params.arms
    assert sorted(arms) == ["selinexor_mono", "tme_default"]  # three claims, two distinct scenarios
    assert len(hypotheses) == 1 + 1 + 3
    sizes = [h["replicates"] for h, _ in hypotheses]
    assert arms["selinexor_mono"].replicates == max(sizes)  # every hypothesis reads selinexor_mono
    assert all(h["effect_dz"] is None or h["effect_dz"] > -20 for h, _ in hypotheses)
    fixed, _ = combined_batch(claim_files(["C1"]), 4, tmp_path / "fixed")
    assert {a.replicates for a in load_batch(fixed).params.arms.values()} == {4}


def test_the_pilots_sizes_are_written_into_a_claim_file_and_replaced_on_the_next_pilot(tmp_path):
    claim = tmp_path / "C99.yaml"
    scenario = (CLAIMS_DIR.parent / "tme_default.yaml").resolve()
    claim.write_text(f"description: test\narms:\n  a: {{scenario: {scenario}}}\n  b: {{scenario: {scenario}}}\n"
                     "reference: a\nreplicates: 20\nhypotheses:\n"
                     "  - {id: C99, outcome: final_tumour, arm: a, versus: b, expected: less}\n")
    for dz, n in ((1.5, 12), (0.4, 60)):
        store_power(claim, {"pilot_replicates": 10, "pilot_base_seed": 7, "target_power": 0.8, "alpha": 0.002,
                            "cap": 60, "hypotheses": [{"outcome": "final_tumour", "arm": "a", "effect_dz": dz,
                                                       "replicates": n}]})
        params = load_batch(claim).params
        assert params.replicates == n and params.power.hypotheses[0].effect_dz == dz
    assert [line[:6] for line in claim.read_text().splitlines()].count("power:") == 1
    assert claim.read_text().count("# Sized by") == 1
    text = claim.read_text().replace("arm: a, effect_dz", "arm: b, effect_dz")  # edited after its pilot
    claim.write_text(text)
    with pytest.raises(ConfigError, match="validate --pilot again"):
        load_batch(claim)


def test_unknown_claim_is_a_clear_error():
    with pytest.raises(ConfigError, match="no such claim"):
        claim_files(["C99"])


def _table(values: dict[str, list[float]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [{"status": "ok", "point": 0, "arm": arm, "replicate": i, "x": v}
            for arm, vs in values.items() for i, v in enumerate(vs)]
    series = [{"arm": r["arm"], "point": 0, "replicate": r["replicate"], "day": d, "y": r["x"] * d}
              for r in rows for d in (0.0, 1.0, 2.0)]
    return pd.DataFrame(rows), pd.DataFrame(series)


def _h(id_, arm, versus=None, value=None, expected="less", **more):
    return ({"id": id_, "outcome": "x", "arm": arm, "versus": versus, "value": value, "expected": expected,
             **more}, "")


def test_evaluation_applies_one_sided_tests_and_holm():
    reps, ts = _table({"a": [10.0 + i for i in range(8)], "b": [20.0 + i for i in range(8)]})
    hyps = [_h("H1", "a", "b"), _h("H2", "a", "b", expected="greater"), _h("H3", "a", value=5.0, expected="greater")]
    table = evaluate(hyps, reps, ts).set_index("id")
    # 8 pairs, all a − b = −10: one-sided exact p = 1/256; Holm over three.
    assert table.loc["H1", "p"] == pytest.approx(1 / 256) and table.loc["H1", "passed"]
    assert table.loc["H1", "effect"] == -10.0 and not table.loc["H2", "passed"]
    assert table.loc["H3", "passed"] and table.loc["H1", "p_holm"] == pytest.approx(3 / 256)
    assert table.loc["H2", "verdict"] == "FAIL"  # the wrong way: a failure whatever the power
    assert table.loc["H1", "ci_effect"] == (-10.0, -10.0)


def test_an_interaction_compares_two_paired_differences_on_each_hypothesis_own_pairs():
    rng = np.random.default_rng(3)
    base = rng.normal(50, 5, 12)
    # A drug adds 8 without a blocker and 1 with it: the blocker removes most of the gain.
    reps, ts = _table({"u": list(base), "d": list(base + 8 + rng.normal(0, 1, 12)),
                       "ub": list(base - 3), "db": list(base - 2 + rng.normal(0, 1, 12))})
    hyps = [_h("I1", "d", "u", expected="greater", than={"arm": "db", "versus": "ub"}, replicates=10),
            _h("I2", "d", "u", expected="less", than={"arm": "db", "versus": "ub"})]
    table = evaluate(hyps, reps, ts).set_index("id")
    assert table.loc["I1", "n"] == 10 and table.loc["I2", "n"] == 12
    assert table.loc["I1", "effect"] == pytest.approx(7.0, abs=1.5) and table.loc["I1", "passed"]
    assert table.loc["I1", "versus"] == "u, than db − ub" and table.loc["I2", "verdict"] == "FAIL"


def test_a_right_way_effect_without_significance_is_under_powered_only_when_the_pilot_said_so():
    reps, ts = _table({"a": [1.0, 2.0, 0.5, 3.0, 2.5, 1.0], "b": [1.5, 1.0, 0.0, 2.0, 2.6, 0.7]})
    weak = evaluate([_h("W", "a", "b", expected="greater", effect_dz=0.3)], reps, ts).iloc[0]
    strong = evaluate([_h("S", "a", "b", expected="greater", effect_dz=4.0)], reps, ts).iloc[0]
    assert weak["effect"] > 0 and weak["p_holm"] >= 0.05
    assert weak["power"] < 0.8 and weak["verdict"] == "UNDER-POWERED"
    assert strong["power"] >= 0.8 and strong["verdict"] == "FAIL"  # enough pairs for the pilot's effect: a failure


@pytest.mark.slow
def test_fast_subset_runs_and_effects_point_the_right_way(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tumour_abm.cli", "validate", "--claims", "C2,C7",
                           "--replicates", "3", "--workers", "2", "--json", "--out", str(tmp_path / "v")],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    claims = json.loads(done.stdout)
    assert [c["id"] for c in claims] == ["C2", "C7"]
    assert all({"id", "passed", "p", "effect"} <= set(c) for c in claims)
    c2 = claims[0]["hypotheses"]
    # C2 runs in its co-culture: HLA-E read on the targets when the NK cells are added, after 18 h at 1,000 nM
    # (about a third lower), and NKG2A+ cells' granzyme kills per contact rise as HLA-E falls.
    assert c2[0]["outcome"] == "assay_hla_e_mean" and c2[0]["effect"] < -0.2
    assert c2[1]["outcome"] == "nk_granzyme_per_engagement_nkg2a_pos" and c2[1]["effect"] > 0
    assert claims[1]["effect"] < 0  # and IL-10 over days 7-21
    assert np.isfinite(claims[0]["p"]) and (tmp_path / "v" / "claims.html").is_file()
    assert CLAIMS_DIR.is_dir()
