"""`tumour-abm validate`: run the review's claims (scenarios/claims/C*.yaml) and the held-out checks (H*.yaml) as
one paired batch and test them; with --pilot, size them first.

Each claim file is a batch file whose `hypotheses` say which arm should be lower or higher than which (or which
difference larger than which), and whose `power` section, written by a pilot, says how many pairs each hypothesis
needs. The arms of all chosen claims are merged (a scenario shared by several claims runs once, at the largest size
any of its hypotheses needs), run with paired seeds, and every hypothesis is tested one-sided on its own first n
pairs, with Holm's correction across the claims run.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import yaml

from .atomic import write_atomic, write_text_atomic
from .batch import run_batch
from .batchfile import EFFECT_DZ_LIMIT, load_batch
from .claims import ALPHA, by_claim, evaluate, outcome_values, paired_differences, signed_differences
from .claims_report import claims_report
from .config_files import ConfigError, Problem
from .outdir import claim_folder
from .power import PILOT_BASE_SEED, TARGET_POWER, effect_dz, replicates_for
from .rundir import manifest_base, write_json

CLAIMS_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "claims"
POWER_HEADER = "# Sized by `tumour-abm validate --pilot`: each hypothesis's pilot effect (d_z) and pairs"
KINDS = ("C", "H")  # the review's claims, then held-out consequences of the mechanisms that no claim states


def claim_files(ids: list[str] | None) -> list[Path]:
    files = [p for p in CLAIMS_DIR.glob("*.yaml") if re.fullmatch(r"[CH][0-9]+", p.stem)]
    found = {p.stem: p for p in sorted(files, key=lambda p: (KINDS.index(p.stem[0]), int(p.stem[1:])))}
    if ids is None:
        return list(found.values())
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ConfigError([Problem(None, None, "--claims", ",".join(unknown), "no such claim",
                                   f"one or more of: {', '.join(found)}", None)])
    return [found[i] for i in ids]


def hypothesis_replicates(claim, replicates: int | None) -> list[tuple[int, float | None]]:
    """(pairs, pilot d_z) for each hypothesis of a claim: `replicates` if given, else its pilot's size."""
    sized = claim.params.power.hypotheses if claim.params.power else [None] * len(claim.params.hypotheses)
    return [(replicates or (s.replicates if s else claim.params.replicates), s.effect_dz if s else None)
            for s in sized]


def combined_batch(files: list[Path], replicates: int | None, folder: Path,
                   base_seed: int = 1) -> tuple[Path, list[tuple[dict, str]]]:
    """One batch file holding every distinct arm of the claims, and their hypotheses in its arm names. Each arm
    runs as many pairs as its most demanding hypothesis needs; each hypothesis reads its own first n."""
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
                arms[names[key]] = {"scenario": key[0], "overrides": dict(spec.overrides), "replicates": 1}
            local[arm] = names[key]
        for h, (n, dz) in zip(claim.params.hypotheses, hypothesis_replicates(claim, replicates)):
            fields = h.model_dump()
            fields.update(arm=local[h.arm], versus=local[h.versus] if h.versus else None, replicates=n, effect_dz=dz)
            if h.than:
                fields["than"] = {"arm": local[h.than.arm], "versus": local[h.than.versus]}
            for arm in h.arms():
                arms[local[arm]]["replicates"] = max(arms[local[arm]]["replicates"], n)
            hypotheses.append((fields, h.statement or claim.params.description))
    spec = {"description": "claims run: " + ", ".join(p.stem for p in files), "arms": arms,
            "reference": next(iter(arms)), "replicates": max(a["replicates"] for a in arms.values()),
            "seeds": "paired", "base_seed": base_seed, "outcomes": ["final_tumour", "tumour_auc_cell_days"]}
    folder.mkdir(parents=True, exist_ok=True)
    batch_path = folder / "claims_batch.yaml"
    write_text_atomic(batch_path, yaml.safe_dump(spec, sort_keys=False))
    return batch_path, hypotheses


def _run_claims(files: list[Path], replicates: int | None, out: Path, base_seed: int, *, workers, dask, resume,
                progress) -> tuple[list[tuple[dict, str]], pd.DataFrame, pd.DataFrame, float]:
    batch_path, hypotheses = combined_batch(files, replicates, out, base_seed)
    done = run_batch(batch_path, out=out / "batch", workers=workers, dask=dask, resume=resume, progress=progress)
    return (hypotheses, pd.read_parquet(done.out / "replicates.parquet"),
            pd.read_parquet(done.out / "timeseries.parquet"), done.wall_s)


def run_validation(ids: list[str] | None, *, replicates: int | None, workers: int | None, out: Path, resume: bool,
                   progress: bool, dask: str | None = None) -> tuple[pd.DataFrame, list[dict], float]:
    """Every chosen claim at its pilot-sized replicates (or `replicates` for all), tested together."""
    files = claim_files(ids)
    claim_folder(out, "validate", reuse=resume, reuse_flag="--resume")
    hypotheses, reps, series, wall_s = _run_claims(files, replicates, out, 1, workers=workers, dask=dask,
                                                   resume=resume, progress=progress)
    table = evaluate(hypotheses, reps, series)
    claims = by_claim(table)
    write_atomic(out / "claims.csv", lambda tmp: table.to_csv(tmp, index=False))
    write_text_atomic(out / "claims.json", json.dumps(claims, indent=2) + "\n")
    write_text_atomic(out / "claims.html", claims_report(table, hypotheses, reps, series, wall_s))
    write_json(out / "manifest.json", {**manifest_base("validate"), "claims": [c["id"] for c in claims],
                                       "replicates": replicates or "from each claim's pilot",
                                       "wall_s": round(wall_s, 1)})
    return table, claims, wall_s


def run_pilot(ids: list[str] | None, *, pilot_replicates: int, cap: int, workers: int | None, out: Path,
              resume: bool, progress: bool, dask: str | None = None) -> tuple[pd.DataFrame, float]:
    """Run the claims at `pilot_replicates` pairs on seeds of their own, size each hypothesis for the target power
    at 0.05 over the suite's hypotheses (Holm's strictest step), and store the sizes in the claim files."""
    files = claim_files(ids)
    claim_folder(out, "validate", reuse=resume, reuse_flag="--resume")
    hypotheses, reps, series, wall_s = _run_claims(files, pilot_replicates, out, PILOT_BASE_SEED, workers=workers,
                                                   dask=dask, resume=resume, progress=progress)
    suite = sum(len(load_batch(p).params.hypotheses) for p in claim_files(None))
    alpha = ALPHA / suite
    rows = []
    for h, _ in hypotheses:
        _, y, d = paired_differences(h, lambda arm, h=h: outcome_values(reps, series, h["outcome"], arm))
        dz = effect_dz(signed_differences(h, y, d))
        rows.append({"id": h["id"], "outcome": h["outcome"], "arm": h["arm"], "effect_dz": dz,
                     "replicates": replicates_for(dz, alpha, TARGET_POWER, cap)})
    table = pd.DataFrame(rows)
    for path in files:
        mine = table[table["id"] == path.stem]
        own = load_batch(path).params.hypotheses  # the file's own arm names, not the combined batch's
        store_power(path, {"pilot_replicates": pilot_replicates, "pilot_base_seed": PILOT_BASE_SEED,
                           "target_power": TARGET_POWER, "alpha": float(f"{alpha:.6g}"), "cap": cap,
                           "hypotheses": [{"outcome": h.outcome, "arm": h.arm, "effect_dz": stored_dz(r.effect_dz),
                                           "replicates": int(r.replicates)}
                                          for h, r in zip(own, mine.itertuples())]})
    write_atomic(out / "pilot.csv", lambda tmp: table.to_csv(tmp, index=False))
    return table, wall_s


def stored_dz(dz: float) -> float | None:
    """The d_z a claim file keeps: rounded, within ±EFFECT_DZ_LIMIT, null when unknown."""
    return None if math.isnan(dz) else round(max(-EFFECT_DZ_LIMIT, min(EFFECT_DZ_LIMIT, dz)), 3)


def store_power(path: Path, power: dict) -> None:
    """Write the pilot's `power` section as the claim file's last block (replacing an earlier one) and set the
    file's `replicates` to its largest size; the rest of the file is kept as written."""
    text = path.read_text()
    text = re.split(r"(?m)^(?:# Sized by\b|power:)", text)[0].rstrip("\n") + "\n"
    largest = max(h["replicates"] for h in power["hypotheses"])
    text, found = re.subn(r"(?m)^replicates: *[0-9]+ *$", f"replicates: {largest}", text)
    if found != 1:
        raise ValueError(f"{path}: expected one top-level 'replicates:' line to update")
    block = yaml.safe_dump({"power": {k: v for k, v in power.items() if k != "hypotheses"}}, sort_keys=False)
    block += "  hypotheses:\n" + "".join(
        "    - " + yaml.safe_dump(h, default_flow_style=True, sort_keys=False, width=10_000) for h in power["hypotheses"])
    write_text_atomic(path, f"{text}{POWER_HEADER}\n{block}")
    load_batch(path)  # the file must still be valid
