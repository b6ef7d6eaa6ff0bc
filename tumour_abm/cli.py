"""The `tumour-abm` command: run, check, params.

User mistakes (a bad scenario, a missing file, a bad option) print one clear message and exit with code 2;
a traceback means a bug in tumour_abm, never a mistake of the user's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config_files import ConfigError, dump_yaml

EXIT_USAGE = 2


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def cmd_run(args: argparse.Namespace) -> int:
    from .rundir import default_run_dir, write_run
    from .runner import run
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    out = Path(args.out) if args.out else default_run_dir(Path("runs"), Path(args.scenario).stem, args.seed)
    result = run(scenario, args.seed, days=args.days, progress=not args.quiet)
    write_run(result, out, scenario_file=str(args.scenario))
    print(format_summary(result, out))
    return 0


def format_summary(result, out: Path) -> str:
    s = result.summary
    rate = result.agent_steps / result.wall_s if result.wall_s else float("nan")
    lines = [
        f"{result.scenario.description or 'run'} (seed {result.seed}, {result.scenario.time.days:g} d)",
        f"  tumour: final {s['final_tumour']} cells, nadir {s['min_tumour']} on day {s['nadir_day']:.1f}, "
        f"AUC {s['tumour_auc_cell_days']:.0f} cell-days",
        f"  response: {s['best_response']} (best change {s['best_change']:+.0%}), "
        + (f"progression on day {s['time_to_progression_d']:.1f}" if s["progressed"] else "no progression"),
        "  deaths: " + ", ".join(f"{k} {v}" for k, v in s.items() if k.startswith(("died_", "killed_"))),
        f"  wall time {result.wall_s:.1f} s ({rate:,.0f} cell-steps/s)",
        f"  output: {out}",
    ]
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    from .scenario import load_scenario

    print(dump_yaml(load_scenario(args.scenario)), end="")
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    from .params import iter_params
    from .scenario import Scenario, load_scenario

    scenario = load_scenario(args.scenario) if args.scenario else Scenario()
    rows = list(iter_params(scenario))
    width = max(len(r.path) for r in rows)
    for r in rows:
        print(f"{r.path:<{width}}  {r.value!s:>10}  {r.unit:<14}  {r.source}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tumour-abm", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run one scenario and write its run folder")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")
    p.add_argument("--days", type=_positive_float, help="simulated days (default: the scenario's)")
    p.add_argument("--out", help="run folder (default: runs/<scenario>-seed<N>-<time>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check", help="validate a scenario and print it fully resolved")
    p.add_argument("scenario", help="scenario YAML file")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("params", help="list every parameter with value, unit and source")
    p.add_argument("scenario", nargs="?", help="show this scenario's values (default: built-in defaults)")
    p.set_defaults(func=cmd_params)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as err:
        n = len(err.problems)
        print(("error: " if n == 1 else f"error: {n} problems\n") + str(err), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
