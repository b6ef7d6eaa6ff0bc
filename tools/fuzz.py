"""Fuzz `tumour-abm check FILE` at length: many malformed files of every kind, derived from the real ones.

    .venv/bin/python tools/fuzz.py [--scenario-cases 1000] [--batch-cases 300] [--seed N] [--kinds type,deep]

Cases are drawn with hypothesis (generation only, seeded: the same --seed gives the same cases) and checked
in-process (see tests/fuzzkit/verdicts.py for the rules). Prints counts by kind and verdict, the failures grouped by
root cause, and the first few failures of each class with the file text and stderr. Exits 1 if any case failed.
"""

from __future__ import annotations

import argparse
import collections
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.append(str(ROOT))  # after the venv's install (and PYTHONPATH), as a fallback

import fuzzkit  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario-cases", type=int, default=1000, help="cases from scenario files (default 1000)")
    parser.add_argument("--batch-cases", type=int, default=300, help="cases from batch files (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0)")
    parser.add_argument("--kinds", help="only these kinds, e.g. scale,deep (default: all)")
    parser.add_argument("--show", type=int, default=3, help="failures shown in full per class (default 3)")
    parser.add_argument("--time-limit", type=float, default=fuzzkit.TIME_LIMIT_S, help="seconds per case")
    parser.add_argument("--quiet", action="store_true", help="no progress line per kind")
    args = parser.parse_args(argv)
    only = set(args.kinds.split(",")) if args.kinds else None

    plan = [("scenario", k, False) for k in fuzzkit.SCENARIO_KINDS] + [("batch", k, True) for k in fuzzkit.BATCH_KINDS]
    plan = [p for p in plan if only is None or p[1] in only]
    totals = {"scenario": args.scenario_cases, "batch": args.batch_cases}
    counts = {group: sum(1 for g, _, _ in plan if g == group) for group in totals}

    outcomes: list[fuzzkit.Outcome] = []
    seconds = collections.Counter()
    with tempfile.TemporaryDirectory(prefix="tumour-fuzz-") as tmp:
        root = fuzzkit.make_root(Path(tmp))
        for index, (group, kind, batch) in enumerate(plan):
            if not counts[group] or not totals[group]:
                continue
            n = math.ceil(totals[group] / counts[group])
            start = time.perf_counter()
            got = fuzzkit.run_cases(fuzzkit.case_strategy(kind, batch), root, n, seed=args.seed * 1000 + index,
                                    time_limit=args.time_limit)
            took = time.perf_counter() - start
            seconds[group] += took
            for o in got:
                o.group = group
            outcomes.extend(got)
            if not args.quiet:
                tally = collections.Counter(o.verdict for o in got)
                print(f"{group}/{kind}: {len(got)} cases in {took:.1f} s: "
                      + ", ".join(f"{v} {c}" for v, c in tally.most_common()), file=sys.stderr, flush=True)
    report(outcomes, seconds, args.show)
    return 1 if any(o.failed for o in outcomes) else 0


def report(outcomes: list[fuzzkit.Outcome], seconds: collections.Counter, show: int) -> None:
    verdicts = ["ok", "accepted", *fuzzkit.FAILURES]
    print(f"\n{len(outcomes)} cases; wall time: " + ", ".join(f"{g} {s:.1f} s" for g, s in seconds.items()))
    header = f"{'kind':<22}{'cases':>6}" + "".join(f"{v:>10}" for v in verdicts)
    print(header)
    rows = collections.defaultdict(collections.Counter)
    for o in outcomes:
        rows[f"{o.group}/{o.case.kind}"][o.verdict] += 1
    for name, tally in rows.items():
        print(f"{name:<22}{sum(tally.values()):>6}" + "".join(f"{tally[v]:>10}" for v in verdicts))
    total = collections.Counter(o.verdict for o in outcomes)
    print(f"{'all':<22}{len(outcomes):>6}" + "".join(f"{total[v]:>10}" for v in verdicts))
    exit2 = sum(1 for o in outcomes if o.code == 2)
    print(f"\nexit 2: {exit2}; accepted (exit 0): {total['accepted']}; tracebacks: {total['traceback']}; "
          f"time-outs: {total['timeout']}; over 1 GB: {total['over_1gb']}; other exit codes: {total['bad_exit']}; "
          f"message without file: {total['no_file']}, without key: {total['no_key']}, without line: {total['no_line']}")
    slowest = max(outcomes, key=lambda o: o.seconds, default=None)
    if slowest:
        print(f"slowest case: {slowest.seconds:.2f} s ({slowest.case.describe()[:120]}); "
              f"largest memory rise: {max(o.rise_kb for o in outcomes) / 1024:.0f} MB")

    distinct = len({(o.case.main, o.case.text) for o in outcomes})
    print(f"distinct case files: {distinct} of {len(outcomes)}")
    accepted = [o for o in outcomes if o.verdict == "accepted"]
    if accepted:
        print(f"\naccepted (exit 0, not failures; the mutated file may still be valid), first {min(show, len(accepted))}:")
        for o in accepted[:show]:
            print(f"  {fuzzkit.printable(o.case.describe())[:160]}")
    suspicious = [o for o in accepted if fuzzkit.non_finite(o)]
    if suspicious:
        print(f"\naccepted with a non-finite number in the mutation (not counted as failures): {len(suspicious)}")
        for o in suspicious[:5]:
            print(f"  {fuzzkit.printable(o.case.describe())[:160]}")

    failed = [o for o in outcomes if o.failed]
    if not failed:
        print("\nno failures")
        return
    groups: dict[str, list[fuzzkit.Outcome]] = collections.defaultdict(list)
    for o in failed:
        groups[fuzzkit.signature(o)].append(o)
    print(f"\n{len(failed)} failures in {len(groups)} groups (by root cause):")
    for sig, items in sorted(groups.items(), key=lambda kv: (kv[0].split(":")[0], -len(kv[1]))):
        o = items[0]
        print(f"  {len(items):>4} x {sig}\n         e.g. {o.case.describe()[:150]}")
    for verdict in fuzzkit.FAILURES:
        items = [o for o in failed if o.verdict == verdict]
        if not items:
            continue
        print(f"\n===== {verdict}: {len(items)} (first {min(show, len(items))}) =====")
        for o in items[:show]:
            print(fuzzkit.format_outcome(o))
            print()


if __name__ == "__main__":
    sys.exit(main())
