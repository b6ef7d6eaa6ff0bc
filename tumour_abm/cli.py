"""The `tumour-abm` command: run, check, params.

User mistakes (a bad scenario, a missing file, a bad option) print one clear message and exit with code 2;
a traceback means a bug in tumour_abm, never a mistake of the user's.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from . import cli_args
from .analyses.commands import add_commands as add_analysis_commands
from .analyses.commands import analysis_kind, check_analysis
from .config_files import ConfigError, dump_yaml
from .outdir import BatchWriteError, OutputFolderError
from .power import MAX_REPLICATES, PILOT_REPLICATES, TARGET_POWER

EXIT_USAGE = 2
EXIT_FAILED = 1  # the input was fine but the work could not be done (e.g. the disk is full)


class UsageError(Exception):
    """A mistake in what the user asked for that no parameter file holds (an option, a folder): one line, exit 2."""


def cmd_run(args: argparse.Namespace) -> int:
    from .outdir import claim_folder
    from .resources import check_memory, run_output_bytes
    from .rundir import default_run_dir, write_run
    from .runner import run
    from .scenario import load_scenario, run_length_updates

    scenario = load_scenario(args.scenario)
    days = args.days
    if args.until_day is not None:
        days = args.until_day - scenario.time.start_day
        if days <= 0:
            raise UsageError(f"--until-day {args.until_day:g} is not after the scenario's first day "
                             f"(time.start_day = {scenario.time.start_day:g} in {args.scenario})")
    if days is not None:
        try:
            scenario = scenario.with_updates(run_length_updates(scenario, days))
        except ConfigError as err:
            option = "--days" if args.until_day is None else "--until-day"
            raise UsageError(f"{option}: {err.problems[0].message} (a run of {days:g} days; "
                             f"allowed: {err.problems[0].allowed})") from None
    check_memory({str(args.scenario): scenario}, where=Path(args.scenario))
    out = Path(args.out) if args.out else default_run_dir(Path("runs"), Path(args.scenario).stem, args.seed)
    claim_folder(out, "run", reuse=args.overwrite, reuse_flag="--overwrite", needs_bytes=run_output_bytes(scenario))
    result = run(scenario, args.seed, progress=not args.quiet)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    write_run(result, out, scenario_file=str(args.scenario))
    print(format_summary(result, out))
    return 0


def format_summary(result, out: Path) -> str:
    from .outcomes import BLOOD_PRODUCTS

    s = result.summary
    rate = result.agent_steps / result.wall_s if result.wall_s else float("nan")
    t = result.scenario.time
    if s["response_not_evaluable"]:
        response = f"not evaluable: {s['response_not_evaluable']}"
    else:
        response = (f"{s['best_response']} (best change {s['best_change']:+.0%}), "
                    + (f"progression {s['time_to_progression_d']:.1f} d after the baseline" if s["progressed"]
                       else "no progression"))
    lines = [
        f"{result.scenario.description or 'run'} (seed {result.seed}, days {t.start_day:g} to {t.end_day:g})",
        f"  tumour: final {s['final_tumour']} cells, nadir {s['min_tumour']} on day {s['nadir_day']:.1f}, "
        f"AUC {s['tumour_auc_cell_days']:.0f} cell-days",
        f"  response: {response}",
        "  deaths: " + ", ".join(f"{k} {v}" for k, v in s.items() if k.startswith(("died_", "killed_"))),
    ]
    for product, label in BLOOD_PRODUCTS.items():
        if s[f"blood_{product}_peak_per_ul"] > 0:
            lines.append(f"  {label} cells in the blood: peak {s[f'blood_{product}_peak_per_ul']:.1f} cells/µL on day "
                         f"{s[f'blood_{product}_peak_day']:.1f}, AUC(28 d) {s[f'blood_{product}_auc_28d']:.0f} "
                         f"cells·d/µL; {s[f'{product}_homed']} cells homed into the section")
    lines += [
        f"  wall time {result.wall_s:.1f} s ({rate:,.0f} cell-steps/s)",
        f"  output: {out}",
    ]
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    """Validate a scenario, a batch file (one with `arms:`) or an analysis file (one with `scenario:`) and print it
    fully resolved; warn of what a run would not do as written."""
    from .batchfile import load_batch
    from .resources import check_memory
    from .scenario import load_scenario
    from .therapy.products import TherapyPlan
    from .therapy.schedule import resolve_events
    from .yaml_tree import read_yaml_tree

    path = Path(args.scenario)
    data, _ = read_yaml_tree(path)
    kind = analysis_kind(data) if isinstance(data, dict) else None
    if "arms" in data:
        batch = load_batch(path)
        scenarios = batch.scenarios
        runs = len(batch.params.arms) * len(batch.params.sweep_points()) * batch.params.replicates
        print(dump_yaml(batch.params), end="")
        print(f"# a batch: {len(scenarios)} arm(s), each scenario valid; {runs:,} runs", file=sys.stderr)
    elif kind:
        params, scenario, runs = check_analysis(path, kind)
        scenarios = {"": scenario}
        print(dump_yaml(params), end="")
        print(f"# an analysis file ({kind}), its scenario valid; {runs:,} runs", file=sys.stderr)
    else:
        scenarios = {"": load_scenario(path)}
        print(dump_yaml(scenarios[""]), end="")
    check_memory(scenarios, where=path)
    for arm, scenario in scenarios.items():
        plan = TherapyPlan(resolve_events(scenario.therapy), scenario.products, scenario.time.start_day)
        for warning in plan.warnings(scenario.time):
            print(f"warning: {path}{f' (arm {arm})' if arm else ''}: {warning}", file=sys.stderr)
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


def cmd_pk(args: argparse.Namespace) -> int:
    """Selinexor exposure of a scenario's doses, or of a regimen given on the command line."""
    import json
    import math

    import numpy as np

    from .plots import plot_pk
    from .scenario import Scenario, load_scenario
    from .therapy.products import T_CELL_IMPAIRMENT_THRESHOLD_NM, TherapyPlan
    from .host.marrow import MARROW_STEP_H, NADIR_FOLLOW_UP_H, relative_anc
    from .outcomes import summarise_blood
    from .therapy.pk import exposure
    from .therapy.schedule import resolve_events

    if args.scenario:
        if args.dose_mg is not None:
            print("error: give a scenario or --dose-mg, not both", file=sys.stderr)
            return EXIT_USAGE
        scenario = load_scenario(args.scenario)
        if not scenario.therapy.selinexor:
            print(f"error: {args.scenario}: the scenario gives no selinexor (therapy.selinexor)", file=sys.stderr)
            return EXIT_USAGE
    elif args.dose_mg is None:
        print("error: give a scenario file, or a regimen with --dose-mg (and --days-of-week or --every-days)",
              file=sys.stderr)
        return EXIT_USAGE
    else:
        # A regimen of D days runs on days 0 to D - 1 (the window's last day is inclusive).
        course = {"dose_mg": args.dose_mg, "start_day": 0.0, "end_day": max(0.0, args.days - 1.0),
                  "days_of_week": args.days_of_week, "every_days": args.every_days}
        scenario = Scenario().with_updates({"therapy.selinexor": ({k: v for k, v in course.items() if v is not None},),
                                            "time.days": args.days, "output.snapshot_days": ()})
    plan = TherapyPlan(resolve_events(scenario.therapy), scenario.products, scenario.time.start_day)
    # Exposure per week over the dosing period: from the first dose to a week after the last (or the run's end).
    times = plan.selinexor.times_h
    window = (float(times.min()), min(float(times.max()) + 7 * 24.0, scenario.time.days * 24.0))
    thresholds = {"100nM": T_CELL_IMPAIRMENT_THRESHOLD_NM, "tcell_ic50": scenario.car_t.impairment_ic50_nM}
    out = {k: round(v, 3) for k, v in exposure(plan.selinexor, window, thresholds).items()}
    # The blood count's nadir lags the doses by the marrow's maturation time: follow it past the last dose.
    marrow_until_h = max(window[1], float(times.max()) + NADIR_FOLLOW_UP_H)
    marrow = scenario.neutrophil.marrow
    n_steps = math.ceil(marrow_until_h / MARROW_STEP_H)
    anc = relative_anc(marrow, plan.selinexor.nM, n_steps, MARROW_STEP_H)
    day = scenario.time.start_day + np.arange(n_steps + 1) * MARROW_STEP_H / 24.0
    blood = summarise_blood(day, anc, marrow)
    out.update({k: round(v, 3) for k, v in blood.items()})
    if args.plot:
        from .atomic import write_atomic

        fig = plot_pk(plan.selinexor, window, {"T-cell impairment": thresholds["100nM"],
                                                "T-cell IC50": thresholds["tcell_ic50"]}, scenario.time.start_day)
        write_atomic(Path(args.plot), lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    if args.json:
        print(json.dumps(out))
    else:
        print(f"first dose ({plan.selinexor.doses_mg[0]:g} mg): Cmax {out['cmax_nM']:,.0f} nM "
              f"({out['cmax_ng_per_ml']:,.0f} ng/mL) at {out['tmax_h']:.1f} h; AUC {out['auc_ng_h_per_ml']:,.0f} ng·h/mL; "
              f"terminal half-life {out['terminal_half_life_h']:.1f} h")
        print(f"hours per week above {thresholds['100nM']:g} nM: {out['hours_above_100nM_per_week']:.1f}; above the "
              f"T-cell IC50 ({thresholds['tcell_ic50']:g} nM): {out['hours_above_tcell_ic50_per_week']:.1f} "
              f"({len(plan.selinexor.times_h)} doses over {(window[1] - window[0]) / 24:g} days)")
        print(f"blood neutrophils: lowest {100 * out['anc_nadir_relative']:.0f} % of baseline on day "
              f"{out['anc_nadir_day']:.1f} (a typical patient, marrow model)")
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    import pandas as pd

    from .batch import run_batch
    from .batch_analysis import arms_without_results, warning_counts

    done = run_batch(args.batch, out=args.out, replicates=args.replicates, workers=args.workers, dask=args.dask,
                     resume=args.resume, progress=not args.quiet)
    print(f"{done.jobs} replicates ({done.skipped} already done, {done.failed} failed) in {done.wall_s:.1f} s")
    replicates = done.replicates
    for row in warning_counts(replicates).itertuples():
        print(f"warning: arm {row.arm}, {row.replicates} replicate(s): {row.warning}", file=sys.stderr)
    comparisons = pd.read_csv(done.out / "comparisons.csv")
    if len(comparisons):
        shown = comparisons[["point_label", "arm", "outcome", "mean_arm", "mean_reference", "p_holm"]]
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"report: {done.report}")
    empty = arms_without_results(replicates, list(replicates["arm"].unique()))
    if empty:
        first = replicates.loc[replicates["arm"] == empty[0], "error"].iloc[0]
        print(f"error: no replicate of arm(s) {', '.join(empty)} succeeded (first error: {first}); the report lists "
              "every failure", file=sys.stderr)
        return EXIT_FAILED
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    import json

    from .batch_analysis import analyse

    out = Path(args.folder)
    manifest_path = out / "manifest.json"
    if not (out / "replicates.parquet").is_file() or not manifest_path.is_file():
        print(f"error: {out} is not a finished batch folder (no replicates.parquet / manifest.json)", file=sys.stderr)
        return EXIT_USAGE
    manifest = json.loads(manifest_path.read_text())
    meta = {"executor": manifest.get("executor"), "wall time (s)": manifest.get("wall_s"),
            "failed": manifest.get("failed"), "rebuilt by": "compare"}
    print(f"report: {analyse(out, meta)}")
    return 0


def cmd_viz(args: argparse.Namespace) -> int:
    """Serve the browser view of a scenario (its folder's other scenarios can be chosen in the page)."""
    import importlib.util
    import os
    import subprocess

    from .scenario import load_scenario

    if importlib.util.find_spec("solara") is None:
        print("error: the browser view needs the viz extra: pip install 'tumour_abm[viz]'", file=sys.stderr)
        return EXIT_USAGE
    path = Path(args.scenario)
    load_scenario(path)  # a bad file is reported here, not as a broken page
    env = {**os.environ, "TUMOUR_ABM_SCENARIO": path.stem, "TUMOUR_ABM_SCENARIO_DIR": str(path.resolve().parent),
           "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}  # no calls out from the page's server
    if not cli_args.is_loopback(args.host):
        print(f"warning: --host {args.host} lets anyone who can reach this machine on port {args.port} use the view; "
              "it has no authentication (the default, 127.0.0.1, is this machine only)", file=sys.stderr)
    print(f"tumour_abm view of {path} at http://{args.host}:{args.port}  (Ctrl-C stops it)", flush=True)
    cmd = [sys.executable, "-m", "solara", "run", "tumour_abm.app:page", "--host", args.host,
           "--port", str(args.port), "--production"]
    return subprocess.call(cmd, env=env)


def cmd_validate(args: argparse.Namespace) -> int:
    """Run the claims; a failing claim is a finding, printed and reported, not an error (exit 0). With --pilot, run
    a pilot and store each claim's replicates for the target power in its file."""
    import json

    from .claims_report import format_table
    from .validate import run_pilot, run_validation

    ids = [c.strip() for c in args.claims.split(",")] if args.claims else None
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else Path("runs") / f"{'pilot' if args.pilot else 'validate'}-{stamp}"
    progress = not (args.quiet or args.json)
    if args.pilot:
        sized, wall_s = run_pilot(ids, pilot_replicates=args.pilot, cap=args.max_replicates, workers=args.workers,
                                  out=out, resume=args.resume, progress=progress, dask=args.dask)
        if args.json:
            print(sized.to_json(orient="records"))
        else:
            print(sized.to_string(index=False))
            print(f"pilot of {args.pilot} pairs ({wall_s:.0f} s); replicates stored in each claim file")
        return 0
    table, claims, wall_s = run_validation(ids, replicates=args.replicates, workers=args.workers, out=out,
                                           resume=args.resume, progress=progress, dask=args.dask)
    if args.json:
        print(json.dumps(claims))
    else:
        print(format_table(table))
        passed = sum(c["passed"] for c in claims)
        pairs = f"{args.replicates} paired replicates" if args.replicates else "replicates from each claim's pilot"
        print(f"{passed} of {len(claims)} claims pass ({pairs}, {wall_s:.0f} s); report: {out / 'claims.html'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tumour-abm", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run one scenario and write its run folder")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--seed", type=cli_args.seed, default=1, help="random seed (default 1)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--days", type=cli_args.positive_float,
                        help="simulated days, counted from the scenario's first day (time.start_day, which may be "
                             "negative); default: the scenario's time.days")
    length.add_argument("--until-day", type=cli_args.finite_float, metavar="DAY",
                        help="run until this day of the scenario's day axis (day 0 = e.g. the infusion)")
    p.add_argument("--out", help="run folder, new or empty (default: runs/<scenario>-seed<N>-<time>)")
    p.add_argument("--overwrite", action="store_true", help="write into --out even if it holds an earlier run")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check", help="validate a scenario, batch or analysis file and print it fully resolved")
    p.add_argument("scenario", metavar="FILE", help="scenario or batch YAML file (a batch file has arms:)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("pk", help="selinexor exposure: Cmax, Tmax, AUC, hours above the T-cell thresholds")
    p.add_argument("scenario", nargs="?", help="use this scenario's selinexor doses")
    p.add_argument("--dose-mg", type=cli_args.positive_float, help="dose of a regimen given here (mg)")
    p.add_argument("--days-of-week", type=cli_args.days_of_week, help="weekdays of each dose, e.g. 1,3 (twice weekly)")
    p.add_argument("--every-days", type=cli_args.positive_float, help="interval between doses (days)")
    p.add_argument("--days", type=cli_args.positive_float, default=7.0, help="length of the regimen (days, default 7)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", help="write a PNG of concentration over time")
    p.set_defaults(func=cmd_pk)

    p = sub.add_parser("batch", help="run arms x replicates (paired seeds), with statistics and a report")
    p.add_argument("batch", help="batch YAML file")
    p.add_argument("--replicates", type=cli_args.count, help="replicates per arm (default: the batch file's)")
    p.add_argument("--workers", type=cli_args.count, help="worker processes (default: all cores; 1 = serial)")
    p.add_argument("--dask", metavar="ADDRESS", help="run on Dask: 'local' starts a local cluster, or a scheduler address")
    p.add_argument("--out", help="batch folder (default: runs/<batch>-<time>)")
    p.add_argument("--resume", action="store_true", help="complete a killed batch in --out without redoing finished runs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("compare", help="rebuild statistics, figures and the report of a finished batch")
    p.add_argument("folder", help="batch folder")
    p.set_defaults(func=cmd_compare)

    add_analysis_commands(sub)

    p = sub.add_parser("viz", help="the browser view of one run (Mesa SolaraViz)")
    p.add_argument("scenario", nargs="?", default=str(Path("scenarios") / "tme_default.yaml"),
                   help="scenario to show first (default scenarios/tme_default.yaml)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=cli_args.port, default=8765, help="port (default 8765)")
    p.set_defaults(func=cmd_viz)

    p = sub.add_parser("validate", help="run the review's claims as paired comparisons and test them")
    p.add_argument("--claims", help="which, e.g. C1,C5 (default: all)")
    p.add_argument("--replicates", type=cli_args.count,
                   help="paired replicates for every hypothesis (default: each claim's, sized by its pilot)")
    p.add_argument("--pilot", type=cli_args.count, nargs="?", const=PILOT_REPLICATES, metavar="PAIRS",
                   help=f"run a pilot of PAIRS pairs (default {PILOT_REPLICATES}) on seeds of its own and store each "
                        f"claim's replicates for {TARGET_POWER * 100:.0f} %% power in its file")
    p.add_argument("--max-replicates", type=cli_args.count, default=MAX_REPLICATES,
                   help=f"with --pilot: at most this many pairs per hypothesis (default {MAX_REPLICATES})")
    p.add_argument("--workers", type=cli_args.count, help="worker processes (default: all cores)")
    p.add_argument("--dask", metavar="ADDRESS", help="run on Dask: 'local' or a scheduler address")
    p.add_argument("--json", action="store_true", help="print a JSON list: id, passed, p, effect per claim")
    p.add_argument("--out", help="folder (default: runs/validate-<time>)")
    p.add_argument("--resume", action="store_true", help="complete an interrupted run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_validate)

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
    except (FileExistsError, UsageError, OutputFolderError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BatchWriteError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`): nothing left to tell
        sys.stdout = None
        return EXIT_FAILED
    except OSError as err:  # the disk filled up, a folder became read-only...: the input was fine
        where = f" {err.filename}" if err.filename else ""
        print(f"error: cannot write{where}: {err.strerror or err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
