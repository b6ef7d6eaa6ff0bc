"""What a run will need — memory and disk — estimated from its scenario before it starts, so a run too big for the
machine is refused with the numbers instead of being killed (or freezing the machine) halfway."""

from __future__ import annotations

import os
from pathlib import Path

from .config_files import ConfigError, Problem
from .fields import FIELD_NAMES
from .scenario import Scenario

# Measured on the reference machine (benchmarks/scenarios/grid_1000.yaml: 1,000 x 1,000 sites, 100,000 cells,
# 384 MB at peak with the interpreter): the site layers, the fields and their spectra, a step's temporary maps
# and the cells' columns, rounded up.
SITE_BYTES = 300
# Every site may hold a cell (capacity one); its Mesa agent, once asked for, costs about this much.
AGENT_BYTES = 400
# The interpreter with numpy, pandas, scipy, matplotlib and Mesa loaded.
BASE_BYTES = 250_000_000
# Bytes per recorded value: a float in memory and about as much again as CSV text.
VALUE_BYTES = 16
# One PNG figure of a run (time series or a snapshot), at the resolution runs write them.
FIGURE_BYTES = 250_000
# The small files of a run folder together: manifest, resolved scenario, events and summary.
SMALL_FILES_BYTES = 100_000
HISTORY_SERIES = 3  # per-step series a run keeps for its outcomes (tumour, CAR-T, neutrophils)
SNAPSHOT_LAYERS = len(FIELD_NAMES) + 2  # a snapshot's float32 layers: every field, occupancy and HLA-E


def run_memory_bytes(scenario: Scenario) -> int:
    """Peak memory of one run, from its grid, steps, records and snapshots (an upper estimate)."""
    sites = scenario.grid.width_sites * scenario.grid.height_sites
    return int(BASE_BYTES + sites * (SITE_BYTES + AGENT_BYTES) + scenario.time.n_steps * HISTORY_SERIES * VALUE_BYTES
               + _table_bytes(scenario) + len(scenario.output.snapshot_days) * sites * SNAPSHOT_LAYERS * 4)


def run_output_bytes(scenario: Scenario, *, figures: bool = True) -> int:
    """Disk space of one run folder: its tables and, if drawn, its figures."""
    n_figures = 1 + len(scenario.output.snapshot_days) if figures else 0
    return int(_table_bytes(scenario) + n_figures * FIGURE_BYTES + SMALL_FILES_BYTES)


def _table_bytes(scenario: Scenario) -> float:
    """The time series: a row per record (every `record_every_h`, at most every step), a value per column."""
    from .reporters import TIMESERIES

    records = scenario.time.n_steps / max(1.0, scenario.output.record_every_h / scenario.time.dt_h) + 1
    return records * len(TIMESERIES) * VALUE_BYTES


def available_memory_bytes() -> int:
    """Memory the machine can give a new process now (MemAvailable), or its physical memory if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(scenarios: dict[str, Scenario], *, processes: int = 1, where: Path | None = None) -> None:
    """Refuse, naming the grid and steps, runs that would need more memory than the machine has
    (`processes` runs at once, each in its own process)."""
    available = available_memory_bytes()
    for name, scenario in scenarios.items():
        need = run_memory_bytes(scenario) * processes
        if need > available:
            g, t = scenario.grid, scenario.time
            at_once = f" x {processes} runs at once" if processes > 1 else ""
            raise ConfigError([Problem(
                where, None, "grid", None,
                f"{name}: a run needs about {need / 1e9:.1f} GB{at_once} ({g.width_sites} x {g.height_sites} sites, "
                f"{t.n_steps:,} steps); this machine has {available / 1e9:.1f} GB available",
                "a smaller grid (grid.width_sites, grid.height_sites), fewer snapshots, or fewer workers", None)])
