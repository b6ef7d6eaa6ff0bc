"""Did a change that alters random draws leave the model's outcome distributions where they were?

    .venv/bin/python tools/equivalence.py                      # compare the code here with the stored sample
    .venv/bin/python tools/equivalence.py --sample FILE.csv    # write this code's sample (e.g. of an old commit)
    .venv/bin/python tools/equivalence.py --after FILE.csv     # compare two stored samples

Runs each reference scenario with seeds 1..N (default 40), collects the outcomes a user reads, and compares
them with a stored sample of the same scenarios made by an earlier version of the model (`--before`, default
benchmarks/equivalence_before.csv): a two-sided Mann-Whitney U test per scenario and outcome (the two samples are
of different code, so seeds are not paired), Holm-corrected over the whole table. Prints the table; exits 1 if any
difference is significant at --alpha after correction.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("nk", "car_t_alone", "car_t_pretreatment", "tme_default")
OUTCOMES = ("final_tumour", "tumour_auc_cell_days", "car_t_peak", "killed_nk_granzyme", "killed_nk_trail",
            "killed_car_t", "killed_macrophage", "died_drug")
BEFORE = ROOT / "benchmarks" / "equivalence_before.csv"


def one_run(job: tuple[str, int]) -> dict:
    from tumour_abm.runner import run
    from tumour_abm.scenario import load_scenario

    name, seed = job
    summary = run(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), seed).summary
    return {"scenario": name, "seed": seed, **{k: summary[k] for k in OUTCOMES}}


def sample(seeds: int, workers: int) -> pd.DataFrame:
    jobs = [(name, seed) for name in SCENARIOS for seed in range(1, seeds + 1)]
    with ProcessPoolExecutor(workers) as pool:
        rows = list(pool.map(one_run, jobs))
    return pd.DataFrame(rows)


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per scenario and outcome: medians, the Mann-Whitney p and its Holm adjustment over the table."""
    from tumour_abm.stats import holm, unpaired_test

    rows = []
    for name in SCENARIOS:
        b, a = before[before.scenario == name], after[after.scenario == name]
        for outcome in OUTCOMES:
            x, y = b[outcome].to_numpy(float), a[outcome].to_numpy(float)
            constant = len(np.unique(np.concatenate([x, y]))) == 1  # e.g. no CAR-T kills in an NK run
            p = 1.0 if constant else unpaired_test(x, y)[1]
            rows.append({"scenario": name, "outcome": outcome, "n_before": len(x), "n_after": len(y),
                         "median_before": float(np.median(x)), "median_after": float(np.median(y)), "p": p})
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p"])
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40, help="seeds 1..N per scenario (default 40)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--before", type=Path, default=BEFORE, help="the stored sample to compare with")
    parser.add_argument("--sample", type=Path, help="only write this code's sample to this CSV file")
    parser.add_argument("--after", type=Path, help="compare this stored sample instead of running the code here")
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args(argv)
    after = pd.read_csv(args.after) if args.after else sample(args.seeds, args.workers)
    if args.sample:
        after.to_csv(args.sample, index=False)
        print(f"wrote {len(after)} runs to {args.sample}")
        return 0
    table = compare(pd.read_csv(args.before), after)
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    significant = table[table.p_holm < args.alpha]
    print(f"\n{len(table)} comparisons; {len(significant)} significant at alpha {args.alpha} after Holm correction")
    return 1 if len(significant) else 0


if __name__ == "__main__":
    sys.exit(main())
