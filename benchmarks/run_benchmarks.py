"""Speed and memory on the fixed reference scenarios: cell-steps per second and peak memory, one row each.

cell-steps per second = Σ over steps of live agents ÷ wall seconds of the whole run (building included).
Each scenario runs in a fresh process so that its peak resident memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCENARIOS = ("small", "medium", "large")


def measure(path: Path, seed: int) -> dict:
    from tumour_abm.runner import run
    from tumour_abm.scenario import load_scenario

    scenario = load_scenario(path)
    result = run(scenario, seed)
    steps = scenario.time.n_steps
    return {
        "scenario": path.stem,
        "mean_agents": result.agent_steps / steps,
        "steps": steps,
        "wall_s": result.wall_s,
        "cell_steps_per_s": result.agent_steps / result.wall_s,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # internal: measure one file, print JSON
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=SCENARIOS, nargs="*", help="run only these scenarios")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.seed)))
        return

    print(f"{'scenario':<8} {'mean agents':>12} {'steps':>6} {'wall s':>8} {'cell-steps/s':>14} {'peak MB':>8}")
    for name in args.only or SCENARIOS:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(HERE / "scenarios" / f"{name}.yaml"), "--seed", str(args.seed)],
            check=True, capture_output=True, text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['scenario']:<8} {r['mean_agents']:>12,.0f} {r['steps']:>6} {r['wall_s']:>8.2f} "
              f"{r['cell_steps_per_s']:>14,.0f} {r['peak_mb']:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
