"""Checking cases in-process with `tumour_abm.cli.main`, under a time limit (SIGALRM) and a memory guard, and
drawing many cases with hypothesis (generation only)."""

from __future__ import annotations

import contextlib
import io
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from .cases import Case
from .limits import AS_GUARD_BYTES, TIME_LIMIT_S
from .real_files import ROOT
from .verdicts import Outcome, classify

PACKAGE_DIR = Path(__file__).resolve().parent  # frames in here are the harness, not the code under test


class CaseTimeout(BaseException):
    """Raised by SIGALRM inside the checked code (BaseException, so `except Exception` there cannot swallow it)."""


def _on_alarm(signum, frame):
    raise CaseTimeout()


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_kb() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() // 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _vm_size_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except OSError:
        return None


@contextlib.contextmanager
def _address_space_guard():
    """A soft RLIMIT_AS of the current address space + AS_GUARD_BYTES for the duration of one case (numpy keeps
    working under it; an allocation beyond it raises MemoryError instead of waking the OOM killer)."""
    size = _vm_size_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = None if size is None else size + AS_GUARD_BYTES
    if limit is None or (soft != resource.RLIM_INFINITY and soft <= limit) or (
            hard != resource.RLIM_INFINITY and hard < limit):
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _where(tb) -> str:
    frames = [f for f in traceback.extract_tb(tb) if Path(f.filename).resolve().parent != PACKAGE_DIR]
    ours = [f for f in frames if "tumour_abm" in f.filename.replace("\\", "/")]
    parts = []
    if ours:
        f = ours[-1]
        parts.append(f"{Path(f.filename).relative_to(ROOT) if f.filename.startswith(str(ROOT)) else f.filename}"
                     f":{f.lineno} in {f.name}")
    if frames and (not ours or frames[-1] is not ours[-1]):
        f = frames[-1]
        parts.append(f"innermost {Path(f.filename).name}:{f.lineno} in {f.name}")
    return "; ".join(parts)


def run_check(path: Path, time_limit: float = TIME_LIMIT_S) -> dict:
    """`tumour-abm check PATH` in-process: code, output, exception, seconds, rise of the memory high-water mark."""
    from tumour_abm.cli import main

    out, err = io.StringIO(), io.StringIO()
    code, exc_type, exc_text, where, timed_out = None, None, None, None, False
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    reset = _reset_peak()
    before = _rss_kb() if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    old = signal.signal(signal.SIGALRM, _on_alarm) if use_alarm else None
    try:
        try:
            with _address_space_guard(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, time_limit)
                try:
                    code = main(["check", str(path)])
                except SystemExit as exit_:
                    code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
                    if not isinstance(exit_.code, int) and exit_.code is not None:
                        print(exit_.code, file=err)
                finally:
                    if use_alarm:
                        signal.setitimer(signal.ITIMER_REAL, 0)
        except CaseTimeout as exc:
            timed_out, exc_type = True, "CaseTimeout"
            where = _where(exc.__traceback__)
            exc.__traceback__ = None
        except BaseException as exc:  # noqa: BLE001 - anything escaping main is the finding
            if isinstance(exc, KeyboardInterrupt):
                raise
            exc_type = type(exc).__name__
            exc_text = "".join(traceback.format_exception(exc, limit=-12))
            where = _where(exc.__traceback__)
            exc.__traceback__ = None
            del exc
    finally:
        if use_alarm:
            signal.signal(signal.SIGALRM, old)
    seconds = time.perf_counter() - start
    rise = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    if seconds > time_limit:
        timed_out = True
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(), "exc_type": exc_type,
            "exc_text": exc_text, "where": where, "seconds": seconds, "rise_kb": rise, "timed_out": timed_out}


def check_case(case: Case, root: Path, time_limit: float = TIME_LIMIT_S) -> Outcome:
    """Write the case's files into the scenarios copy, check the case file, remove them, classify."""
    written = []
    try:
        for rel, data in case.files.items():
            path = root / rel
            path.write_bytes(data)
            written.append(path)
        result = run_check(root / case.main, time_limit)
    finally:
        for path in written:
            path.unlink(missing_ok=True)
    timed_out = result.pop("timed_out")
    outcome = Outcome(case, **{k: v for k, v in result.items()})
    outcome.stdout = outcome.stdout[:2000]
    outcome.verdict, outcome.detail = classify(case, outcome, timed_out)
    return outcome


def run_cases(strategy: st.SearchStrategy[Case], root: Path, max_examples: int, *, seed: int | None = None,
              derandomize: bool = False, budget_s: float | None = None, min_cases: int = 0,
              stop_on: tuple[str, ...] = (), time_limit: float = TIME_LIMIT_S,
              on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Draw up to max_examples cases with hypothesis (generation only: no shrinking, no database) and check each.
    Never raises for a failing case: outcomes are returned. `budget_s` stops running cases (after `min_cases`)
    once that much time has passed; `stop_on` stops after the first outcome with one of those verdicts.
    With derandomize, hypothesis seeds from the source of `body` (decorators included): editing it changes the
    cases the pytest run draws."""
    outcomes: list[Outcome] = []
    start = time.monotonic()
    state = {"stop": False}

    @settings(max_examples=max_examples, deadline=None, derandomize=derandomize, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=strategy)
    def body(case: Case) -> None:
        if state["stop"]:
            return
        outcome = check_case(case, root, time_limit)
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
        if outcome.verdict in stop_on:
            state["stop"] = True
        if budget_s is not None and len(outcomes) >= min_cases and time.monotonic() - start > budget_s:
            state["stop"] = True

    if seed is not None and not derandomize:
        body = hypothesis_seed(seed)(body)
    body()
    return outcomes
