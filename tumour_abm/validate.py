"""`tumour-abm validate`: run the review's claims (scenarios/claims/C*.yaml) as one paired batch and test them.

Each claim file is a batch file whose `hypotheses` say which arm should be lower or higher than which. The arms
of all chosen claims are merged (a scenario shared by several claims runs once), run with paired seeds, and every
hypothesis is tested one-sided with Holm's correction across the claims run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from .atomic import write_atomic, write_text_atomic
from .batch import run_batch
from .batchfile import load_batch
from .claims import by_claim, evaluate
from .config_files import ConfigError, Problem
from .outdir import claim_folder
from .report import STYLE, _table
from .rundir import manifest_base, write_json

CLAIMS_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "claims"


def claim_files(ids: list[str] | None) -> list[Path]:
    found = {p.stem: p for p in sorted(CLAIMS_DIR.glob("C*.yaml"), key=lambda p: int(p.stem[1:]))}
    if ids is None:
        return list(found.values())
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ConfigError([Problem(None, None, "--claims", ",".join(unknown), "no such claim",
                                   f"one or more of: {', '.join(found)}", None)])
    return [found[i] for i in ids]


def combined_batch(files: list[Path], replicates: int, folder: Path) -> tuple[Path, list[tuple[dict, str]]]:
    """One batch file holding every distinct arm of the claims, and their hypotheses in its arm names."""
    arms: dict[str, dict] = {}
    names: dict[tuple, str] = {}
    hypotheses = []
    for path in files:
        claim = load_batch(path)
        local = {}
        for arm, spec in claim.params.arms.items():
            key = (str((path.parent / spec.scenario).resolve()), json.dumps(spec.overrides, sort_keys=True))
            if key not in names:
                stem = Path(key[0]).stem
                # A scenario that several claims run with other overrides: named by the claim's own arm.
                names[key] = stem if stem not in arms else f"{path.stem}_{arm}"
                arms[names[key]] = {"scenario": key[0], "overrides": dict(spec.overrides)}
            local[arm] = names[key]
        for h in claim.params.hypotheses:
            fields = h.model_dump()
            fields["arm"] = local[h.arm]
            fields["versus"] = local[h.versus] if h.versus else None
            hypotheses.append((fields, h.statement or claim.params.description))
    spec = {"description": "claims run: " + ", ".join(p.stem for p in files), "arms": arms,
            "reference": next(iter(arms)), "replicates": replicates, "seeds": "paired",
            "outcomes": ["final_tumour", "tumour_auc_cell_days"]}
    folder.mkdir(parents=True, exist_ok=True)
    batch_path = folder / "claims_batch.yaml"
    write_text_atomic(batch_path, yaml.safe_dump(spec, sort_keys=False))
    return batch_path, hypotheses


def run_validation(ids: list[str] | None, *, replicates: int, workers: int | None, out: Path, resume: bool,
                   progress: bool, dask: str | None = None) -> tuple[pd.DataFrame, list[dict], float]:
    files = claim_files(ids)
    claim_folder(out, "validate", reuse=resume, reuse_flag="--resume")
    batch_path, hypotheses = combined_batch(files, replicates, out)
    done = run_batch(batch_path, out=out / "batch", replicates=replicates, workers=workers, dask=dask,
                     resume=resume, progress=progress)
    table = evaluate(hypotheses, pd.read_parquet(done.out / "replicates.parquet"),
                     pd.read_parquet(done.out / "timeseries.parquet"))
    claims = by_claim(table)
    write_atomic(out / "claims.csv", lambda tmp: table.to_csv(tmp, index=False))
    write_text_atomic(out / "claims.json", json.dumps(claims, indent=2) + "\n")
    write_text_atomic(out / "claims.html", claims_report(table, replicates, done.wall_s))
    write_json(out / "manifest.json", {**manifest_base("validate"), "claims": [c["id"] for c in claims],
                                       "replicates": replicates, "wall_s": round(done.wall_s, 1)})
    return table, claims, done.wall_s


def format_table(table: pd.DataFrame) -> str:
    def ci(pair) -> str:
        return f"[{pair[0]:.3g}, {pair[1]:.3g}]"

    shown = pd.DataFrame({
        "claim": table["id"], "outcome": table["outcome"], "arm": table["arm"], "versus": table["versus"],
        "expected": table["expected"],
        "arm mean [95% CI]": [f"{m:.4g} {ci(c)}" for m, c in zip(table["mean_arm"], table["ci_arm"])],
        "versus mean [95% CI]": [f"{m:.4g} {ci(c)}" for m, c in zip(table["mean_versus"], table["ci_versus"])],
        "effect": table["effect"].map(lambda v: f"{v:+.4g}"), "p (Holm)": table["p_holm"].map(lambda v: f"{v:.3g}"),
        "result": table["passed"].map({True: "PASS", False: "FAIL"}),
    })
    return shown.to_string(index=False)


def claims_report(table: pd.DataFrame, replicates: int, wall_s: float) -> str:
    shown = table.assign(ci_arm=table["ci_arm"].map(lambda c: f"[{c[0]:.4g}, {c[1]:.4g}]"),
                         ci_versus=table["ci_versus"].map(lambda c: f"[{c[0]:.4g}, {c[1]:.4g}]"),
                         passed=table["passed"].map({True: "PASS", False: "FAIL"}))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>tumour_abm claims</title><style>{STYLE}</style>"
            f"</head><body><h1>What the model reproduces</h1><p class='note'>{replicates} paired replicates per arm; "
            f"one-sided Wilcoxon tests, Holm-adjusted over the {len(table)} hypotheses; wall time {wall_s:.0f} s; "
            f"{datetime.now(UTC).isoformat(timespec='seconds')}</p>{_table(shown)}</body></html>")
