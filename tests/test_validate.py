"""The claims suite's machinery, and a fast subset of it: two claims with three paired replicates each.

Three replicates cannot reach p < 0.05 after Holm correction, so this checks the plumbing and the direction of the
effects that are large in every replicate; `make validate` runs all twelve with twenty replicates."""

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
from tumour_abm.validate import CLAIMS_DIR, claim_files, combined_batch

ROOT = Path(__file__).resolve().parents[1]


def test_every_claim_of_claims_md_has_a_valid_file_with_hypotheses():
    files = claim_files(None)
    assert [p.stem for p in files] == [f"C{i}" for i in range(1, 13)]
    for path in files:
        batch = load_batch(path)
        assert batch.params.hypotheses and all(h.id == path.stem for h in batch.params.hypotheses)
        assert batch.params.replicates >= 20


def test_shared_arms_run_once(tmp_path):
    path, hypotheses = combined_batch(claim_files(["C1", "C7", "C8"]), 2, tmp_path)
    arms = load_batch(path).params.arms
    assert sorted(arms) == ["selinexor_mono", "tme_default"]  # three claims, two distinct scenarios
    assert len(hypotheses) == 1 + 1 + 3


def test_unknown_claim_is_a_clear_error():
    with pytest.raises(ConfigError, match="no such claim"):
        claim_files(["C13"])


def test_evaluation_applies_one_sided_tests_and_holm():
    rows, series = [], []
    for i in range(8):
        for arm, value in (("a", 10.0 + i), ("b", 20.0 + i)):
            rows.append({"status": "ok", "point": 0, "arm": arm, "replicate": i, "x": value})
            series += [{"arm": arm, "point": 0, "replicate": i, "day": d, "y": value * d} for d in (0.0, 1.0, 2.0)]
    reps, ts = pd.DataFrame(rows), pd.DataFrame(series)
    hyps = [({"id": "H1", "outcome": "x", "arm": "a", "versus": "b", "value": None, "expected": "less"}, ""),
            ({"id": "H2", "outcome": "x", "arm": "a", "versus": "b", "value": None, "expected": "greater"}, ""),
            ({"id": "H3", "outcome": "x", "arm": "a", "versus": None, "value": 5.0, "expected": "greater"}, "")]
    table = evaluate(hyps, reps, ts).set_index("id")
    # 8 pairs, all a − b = −10: one-sided exact p = 1/256; Holm over three.
    assert table.loc["H1", "p"] == pytest.approx(1 / 256) and table.loc["H1", "passed"]
    assert table.loc["H1", "effect"] == -10.0 and not table.loc["H2", "passed"]
    assert table.loc["H3", "passed"] and table.loc["H1", "p_holm"] == pytest.approx(3 / 256)


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
