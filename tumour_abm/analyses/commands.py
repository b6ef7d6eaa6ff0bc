"""The analyses' command-line commands, registered on the main parser."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from .. import cli_args

EXIT_FAILED = 1
TOP = 5  # parameters printed per outcome


def analysis_kind(data: dict) -> str | None:
    """Which analysis a file's top-level keys make it (a scenario has no `scenario:` key), or None."""
    if "arms" in data or "scenario" not in data:
        return None
    return "optimisation" if "search" in data else "calibration" if "targets" in data else "sensitivity"


def check_analysis(path: Path, kind: str):
    """Load an analysis file as `tumour-abm check` does: (its validated parameters, its scenario, how many runs)."""
    if kind == "optimisation":
        from .optimise_file import load_optimisation

        o = load_optimisation(path)
        p = o.params
        return p, o.scenario_for(o.schedule({})), p.trials * p.replicates + (p.confirm.top + 1) * p.confirm.replicates
    if kind == "calibration":
        from .calibrate_file import load_calibration

        from .calibrate import plan as calibration_plan, prior_points

        c = load_calibration(path)
        return c.params, c.scenario, len(calibration_plan(c, prior_points(c)))
    from .sensitivity import design, plan
    from .sensitivity_file import load_sensitivity

    s = load_sensitivity(path)
    return s.params, s.scenario, len(plan(s, design(s)))  # every design point built: each must be a valid run


def _run(runner, args: argparse.Namespace):
    """Run an analysis into --out (default runs/<file>-<time>); None (after saying why) if some run failed."""
    from .runs import AnalysisIncomplete

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else Path("runs") / f"{Path(args.file).stem}-{stamp}"
    try:
        return runner(args.file, out=out, workers=args.workers, dask=args.dask, resume=args.resume,
                      progress=not args.quiet)
    except AnalysisIncomplete as err:
        print(f"error: {err}", file=sys.stderr)
        return None


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from .sensitivity import run_sensitivity

    done = _run(run_sensitivity, args)
    if done is None:
        return EXIT_FAILED
    print(f"{done.runs} runs ({done.skipped} already done) in {done.wall_s:.1f} s this session")
    index = "mu_star" if "mu_star" in done.indices else "ST"
    for outcome, rows in done.indices.groupby("outcome", sort=False):
        top = rows.nsmallest(TOP, "rank")
        shown = ", ".join(f"{r.parameter} {getattr(r, index):.3g} ± {getattr(r, index + '_ci'):.2g}"
                          for r in top.itertuples())
        print(f"{outcome}: top {len(top)} by {index}: {shown}")
    print(f"report: {done.report}")
    return 0


def cmd_optimise(args: argparse.Namespace) -> int:
    from .optimise import run_optimisation

    done = _run(run_optimisation, args)
    if done is None:
        return EXIT_FAILED
    print(f"{len(done.trials)} candidates searched; {done.wall_s:.0f} s this session")
    for row in done.confirmed.itertuples():
        print(f"candidate {row.candidate} ({row.dose_mg} mg x{row.days_per_week}/week, pre-treatment "
              f"{row.pretreatment_d} d, washout {row.washout_d} d, maintenance {row.maintenance_d} d): {row.objective} "
              f"{row.mean_candidate:.4g} vs standard {row.mean_standard:.4g}, difference {row.difference:+.4g} "
              f"[{row.ci_low:.4g}, {row.ci_high:.4g}], p (Holm) {row.p_holm:.3g}, n {row.n}")
    print(f"report: {done.report}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibrate import run_calibration
    from .calibrate_file import MIN_ESS

    done = _run(run_calibration, args)
    if done is None:
        return EXIT_FAILED
    for row in done.posterior.itertuples():
        print(f"{row.parameter}: {row.median:.4g} (95 % interval {row.ci_low:.4g} to {row.ci_high:.4g}; prior "
              f"{row.prior_low:g} to {row.prior_high:g})")
    print(f"effective sample size {done.ess:.1f}; {done.wall_s:.0f} s this session; scenario fragment: "
          f"{done.out / 'fitted.yaml'}")
    if done.ess < MIN_ESS:
        print(f"warning: fewer than {MIN_ESS:g} effective points: raise samples", file=sys.stderr)
    print(f"report: {done.report}")
    return 0


def _common(p) -> None:
    p.add_argument("--workers", type=cli_args.count, help="worker processes (default: all cores; 1 = serial)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run on Dask: 'local' starts a local cluster, or a scheduler address")
    p.add_argument("--out", help="output folder (default: runs/<file>-<time>)")
    p.add_argument("--resume", action="store_true", help="complete a killed analysis in --out without redoing runs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_commands(sub) -> None:
    p = sub.add_parser("sensitivity", help="Morris screening or Sobol indices of a scenario's outcomes (SALib)")
    p.add_argument("file", help="sensitivity YAML file (e.g. scenarios/analyses/morris_nk_car_t.yaml)")
    _common(p)
    p.set_defaults(func=cmd_sensitivity)

    p = sub.add_parser("optimise", help="search selinexor schedules around an anchor therapy (Optuna), then "
                                        "confirm the best on fresh seeds")
    p.add_argument("file", help="optimisation YAML file (e.g. scenarios/analyses/optimise_car_t_pretreatment.yaml)")
    _common(p)
    p.set_defaults(func=cmd_optimise)

    p = sub.add_parser("calibrate", help="fit parameters to observed statistics (kernel ABC), with intervals")
    p.add_argument("file", help="calibration YAML file (e.g. scenarios/analyses/calibrate_doubling_time.yaml)")
    _common(p)
    p.set_defaults(func=cmd_calibrate)
