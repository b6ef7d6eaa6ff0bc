"""The equivalence check (tools/equivalence.py): it finds a moved outcome distribution and passes an unmoved one."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

spec = importlib.util.spec_from_file_location("equivalence", Path(__file__).parents[1] / "tools" / "equivalence.py")
equivalence = importlib.util.module_from_spec(spec)
spec.loader.exec_module(equivalence)


def sample(shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for name in equivalence.SCENARIOS:
        for s in range(40):
            row = {"scenario": name, "seed": s + 1}
            row.update({k: float(rng.lognormal(5, 0.5)) for k in equivalence.OUTCOMES})
            row["final_tumour"] *= 1 + shift
            row["killed_car_t"] = 0.0  # an outcome that is constant (e.g. no CAR-T in an NK run) is not tested
            rows.append(row)
    return pd.DataFrame(rows)


def test_a_shifted_outcome_is_found_and_an_unshifted_one_is_not():
    before = sample(0.0, 1)
    same = equivalence.compare(before, sample(0.0, 2))
    moved = equivalence.compare(before, sample(1.0, 3))
    assert len(same) == len(equivalence.SCENARIOS) * len(equivalence.OUTCOMES)
    assert (same.p_holm >= 0.05).all()
    flagged = moved[moved.p_holm < 0.05]
    assert set(flagged.outcome) == {"final_tumour"} and len(flagged) == len(equivalence.SCENARIOS)
    assert (moved[moved.outcome == "killed_car_t"].p == 1.0).all()
