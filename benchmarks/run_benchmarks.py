"""Speed and memory on fixed reference workloads, each beside the figure stored in baseline.json.

Per scenario: cell-steps per second (Σ over steps of live agents ÷ wall seconds of the whole run, building
included), CPU seconds per simulated day and peak memory, the best of `--repeat` runs (a shared machine's speed
drifts by tens of per cent between runs; the best run is the least disturbed one), with the slowest beside it.
Start-up (importing the package and loading its compiled rules, in a fresh process) is reported on its own. The batch workload (the CAR-T scheduling arms) reports
wall seconds on the machine's cores and the CPU seconds of all its processes. Each workload runs in a fresh process,
so that its peak resident memory and CPU time are its own.

    python benchmarks/run_benchmarks.py [--only NAME ...] [--save-baseline]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
SCENARIOS = ("small", "medium", "large", "nk_2mm", "car_t_2mm", "all_cells_2mm", "grid_1000")
BATCHES = ("car_t_schedule",)
BASELINE = HERE / "baseline.json"
BATCH_WORKERS = 2  # the reference machine's cores


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def measure_scenario(path: Path, seed: int) -> dict:
    from tumour_abm.runner import run
    from tumour_abm.scenario import load_scenario

    scenario = load_scenario(path)
    cpu0 = _cpu_s(resource.RUSAGE_SELF)
    result = run(scenario, seed)
    cpu_s = _cpu_s(resource.RUSAGE_SELF) - cpu0
    steps = scenario.time.n_steps
    return {
        "name": path.stem,
        "mean_agents": result.agent_steps / steps,
        "wall_s": result.wall_s,
        "cell_steps_per_s": result.agent_steps / result.wall_s,
        "cpu_s_per_day": cpu_s / scenario.time.days,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def measure_batch(path: Path) -> dict:
    from tumour_abm.batch import run_batch

    with tempfile.TemporaryDirectory(prefix="tumour-bench-") as tmp:
        t0 = time.perf_counter()
        done = run_batch(path, out=Path(tmp) / "batch", workers=BATCH_WORKERS)
        wall_s = time.perf_counter() - t0
    cpu_s = _cpu_s(resource.RUSAGE_SELF) + _cpu_s(resource.RUSAGE_CHILDREN)
    return {"name": path.stem, "runs": done.jobs, "failed": done.failed, "wall_s": wall_s, "cpu_s": cpu_s,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def measure_startup() -> dict:
    """CPU seconds to import the model in a fresh process (the compiled rules come from their on-disk cache)."""
    code = ("import time; t = time.process_time(); import tumour_abm.runner; "
            "print(time.process_time() - t)")
    runs = [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
            for _ in range(3)]
    return {"name": "startup", "cpu_s": min(runs)}


def _best_of(runs: list[dict]) -> dict:
    best = dict(min(runs, key=lambda r: r["cpu_s_per_day"]))
    best["slowest_cpu_s_per_day"] = max(r["cpu_s_per_day"] for r in runs)
    best["repeats"] = len(runs)
    return best


def _in_fresh_process(kind: str, path: Path, seed: int) -> dict:
    out = subprocess.run([sys.executable, __file__, f"--one-{kind}", str(path), "--seed", str(seed)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _before(baseline: dict, name: str, key: str) -> str:
    value = baseline.get("results", {}).get(name, {}).get(key)
    return "-" if value is None else f"{value:,.3g}" if value < 100 else f"{value:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one-scenario", type=Path, help=argparse.SUPPRESS)  # internal: one workload, JSON out
    parser.add_argument("--one-batch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each scenario workload; all figures shown are the run with the least CPU per day")
    parser.add_argument("--only", choices=SCENARIOS + BATCHES, nargs="*", help="run only these workloads")
    parser.add_argument("--save-baseline", action="store_true",
                        help="store these figures in baseline.json as the 'before' of later runs")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.one_scenario:
        print(json.dumps(measure_scenario(args.one_scenario, args.seed)))
        return
    if args.one_batch:
        print(json.dumps(measure_batch(args.one_batch)))
        return

    baseline = json.loads(BASELINE.read_text()) if BASELINE.is_file() else {}
    if baseline:
        print(f"before: {baseline.get('commit', '?')[:10]} on {baseline.get('machine', '?')}, {baseline.get('date', '?')}")
    chosen = args.only or SCENARIOS + BATCHES
    results = {}
    startup = results["startup"] = measure_startup()
    print(f"start-up (import, CPU s): {startup['cpu_s']:.2f} (before {_before(baseline, 'startup', 'cpu_s')})")
    print(f"the run with the least CPU s/day of {args.repeat}; 'slowest' is the slowest run's CPU s/day")
    print(f"{'workload':<16} {'mean agents':>12} {'cell-steps/s':>13} {'(before)':>10} {'CPU s/day':>10} "
          f"{'(before)':>9} {'slowest':>8} {'peak MB':>8} {'(before)':>9}")
    for name in (n for n in chosen if n in SCENARIOS):
        path = HERE / "scenarios" / f"{name}.yaml"
        r = results[name] = _best_of([_in_fresh_process("scenario", path, args.seed) for _ in range(args.repeat)])
        print(f"{name:<16} {r['mean_agents']:>12,.0f} {r['cell_steps_per_s']:>13,.0f} "
              f"{_before(baseline, name, 'cell_steps_per_s'):>10} {r['cpu_s_per_day']:>10.3f} "
              f"{_before(baseline, name, 'cpu_s_per_day'):>9} {r['slowest_cpu_s_per_day']:>8.3f} "
              f"{r['peak_mb']:>8.0f} {_before(baseline, name, 'peak_mb'):>9}", flush=True)
    for name in (n for n in chosen if n in BATCHES):
        r = results[name] = _in_fresh_process("batch", HERE / "batches" / f"{name}.yaml", args.seed)
        print(f"{name:<16} {r['runs']} runs on {BATCH_WORKERS} workers: {r['wall_s']:,.0f} s wall "
              f"(before {_before(baseline, name, 'wall_s')}), {r['cpu_s']:,.0f} CPU s "
              f"(before {_before(baseline, name, 'cpu_s')}), {r['failed']} failed", flush=True)
    if args.save_baseline:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True).stdout.strip()
        merged = {**baseline.get("results", {}), **results}
        BASELINE.write_text(json.dumps({"commit": commit, "date": datetime.now(UTC).date().isoformat(),
                                        "machine": f"{platform.machine()}, {_cores()} cores, Python "
                                                   f"{platform.python_version()}",
                                        "results": merged}, indent=2) + "\n")
        print(f"saved as the baseline: {BASELINE}")


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    main()
