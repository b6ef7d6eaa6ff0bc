"""One run: a scenario and a seed in, a Result out (time series, events, summary, spatial snapshots)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from .model import TumourModel
from .outcomes import (BLOOD_PRODUCTS, summarise_assay, summarise_blood, summarise_blood_pool, summarise_burden,
                       summarise_immune, summarise_kills)
from .reporters import DEATH_OUTPUTS
from .scenario import Scenario, run_length_updates

EVENT_COLUMNS = ["day", "time_h", "kind", "name", "detail"]


@dataclass(frozen=True)
class Snapshot:
    """The tissue on one day: site codes, current HLA-E per cancer site (NaN elsewhere) and each field."""

    day: float
    occupancy: np.ndarray
    hla_e: np.ndarray
    fields: dict[str, np.ndarray]


@dataclass
class Result:
    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    events: pd.DataFrame
    summary: dict
    snapshots: list[Snapshot] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    started: str = ""
    finished: str = ""
    wall_s: float = 0.0
    agent_steps: int = 0
    assay_markers: dict[str, np.ndarray] | None = None  # co-culture: each target's markers when effectors were added

    def plot(self):
        """Population, drug and surface-marker time series as one matplotlib Figure."""
        from .plots import plot_timeseries

        return plot_timeseries(self.timeseries, title=self.scenario.description)


def take_snapshot(model: TumourModel) -> Snapshot:
    rows = model.cancer.rows()
    hla = np.full(model.vessels.shape, np.nan, dtype=np.float32)
    hla[model.cancer.x[rows], model.cancer.y[rows]] = model.cancer.hla_e(rows)
    return Snapshot(
        day=model.day,
        occupancy=model.occupancy(),
        hla_e=hla,
        fields={name: layer.copy() for name, layer in model.fields.layers.items()},
    )


def run(scenario: Scenario, seed: int, *, days: float | None = None, progress: bool = False) -> Result:
    """Run one replicate to the scenario's end (or for `days` from its start), returning its outputs; writes
    nothing."""
    if days is not None:
        scenario = scenario.with_updates(run_length_updates(scenario, days))
    # A run is one core's work (a batch runs replicates in parallel processes): BLAS threads of its own would only
    # contend for the cores with the other replicates (measured: twice the CPU seconds for the same run).
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(scenario, seed, progress)


def _run(scenario: Scenario, seed: int, progress: bool) -> Result:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    model = TumourModel(scenario, seed)
    start = scenario.time.start_day
    snapshot_steps = {int(round((d - start) * 24.0 / model.dt_h)) for d in scenario.output.snapshot_days}
    snapshots = [take_snapshot(model)] if 0 in snapshot_steps else []
    agent_steps = 0
    with tqdm(total=model.n_steps, desc="simulating", unit="step", disable=not progress, leave=False) as bar:
        while model.running:
            model.step()
            agent_steps += model.n_cells
            if model.steps in snapshot_steps:
                snapshots.append(take_snapshot(model))
            bar.update(1)
            if progress:
                bar.set_postfix(day=f"{model.day:.1f}", cancer=model.cancer.n_alive, refresh=False)
    wall_s = time.perf_counter() - t0

    timeseries = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    history = {name: np.array(values) for name, values in model.history.items()}
    day = start + np.arange(len(history["cancer"])) * model.dt_h / 24.0
    summary = summarise_burden(day, history["cancer"], response_baseline_day(scenario, model.plan), scenario.response)
    summary.update({name: int(model.cancer.deaths[cause]) for name, cause in DEATH_OUTPUTS.items()})
    summary.update(summarise_kills(model.nk.kills_by, model.nk.engagements, model.nk.most_kills, model.nk.store.births,
                                   model.nk.killers))
    summary["nets_formed"] = int(model.neutrophils.events["nets_formed"])
    m1 = model.macrophages.count("m2", False)
    summary.update(summarise_immune(day, history["car_t"], history["neutrophils"], m1, model.macrophages.count() - m1))
    summary.update({"cd8_final": model.cd8.count(), "treg_final": model.tregs.count(),
                    "mdsc_final": model.mdscs.count()})
    summary.update(summarise_blood(day, model.neutrophils.blood_anc[: len(day)], scenario.neutrophil.marrow))
    summary.update(summarise_assay(model.assay_start, model.cancer.deaths))
    for product in BLOOD_PRODUCTS:
        pool, cells = getattr(model, f"blood_{product}"), getattr(model, product)
        infused_day = None if pool.infused_h is None else start + pool.infused_h / 24.0
        summary.update(summarise_blood_pool(product, day, history[f"blood_{product}"], infused_day,
                                            cells.events["homed"], cells.events["egressed"]))
    return Result(
        scenario=scenario,
        seed=seed,
        timeseries=timeseries,
        events=events_table(model.plan),
        summary=summary,
        snapshots=snapshots,
        started=started,
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        wall_s=wall_s,
        agent_steps=agent_steps,
        assay_markers=model.assay_markers,
        warnings=model.plan.warnings(scenario.time) + model.warnings,
    )


def response_baseline_day(scenario: Scenario, plan) -> float:
    """Responses are measured from `response.baseline_day`, else from the first therapy event, else the start."""
    if scenario.response.baseline_day is not None:
        return scenario.response.baseline_day
    days = [e.day for e in plan.events if scenario.time.start_day <= e.day <= scenario.time.end_day]
    return min(days) if days else scenario.time.start_day


def events_table(plan) -> pd.DataFrame:
    """Every dose and infusion, dated, as written to events.csv."""
    rows = []
    for e in plan.events:
        if e.kind == "infusion" and e.course.into_blood:
            detail = f"{e.amount:.3g} cells/kg into the blood"
        elif e.kind == "infusion":
            detail = f"{int(e.amount)} cells"
        else:
            detail = f"{e.amount:g} mg" if e.amount else "dose"
        rows.append({"day": e.day, "time_h": e.day * 24.0, "kind": e.kind, "name": e.product, "detail": detail})
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)
