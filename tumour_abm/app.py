"""The browser view (Mesa's SolaraViz): watch one run, change the scenario and the main therapy choices, reset.

Started by `tumour-abm viz [SCENARIO]`, or `solara run tumour_abm.app:page`. The controls' defaults are read from
the scenario being shown, never typed here a second time.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from .model import TumourModel
from .scenario import Scenario, load_scenario
from .therapy.products import DLBCL_DOSE_MG
from .therapy.schedule import CarTInfusion
from .view_figures import FIELD_OVERLAYS, run_figure, tissue_figure

SCENARIO_DIR = Path(os.environ.get("TUMOUR_ABM_SCENARIO_DIR", Path(__file__).resolve().parents[1] / "scenarios"))
STRATEGIES = ("as in the scenario", "none", "pre-treatment", "concurrent")
PRE_TREATMENT_DAYS = (-21.0, -1.0)  # days relative to the CAR-T infusion (claims.md C9)
CONCURRENT_DAYS = (0.0, 20.0)
TWICE_WEEKLY = (1, 3)


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def _with_choices(base: Scenario, dose_mg: float, strategy: str, car_t_day: float, car_t_count: int) -> Scenario:
    """The scenario as the view runs it. "as in the scenario" keeps its therapy; any other strategy replaces it with
    the controls' choices: a CAR-T infusion (none if the count is 0) and selinexor twice weekly for three weeks,
    before or from the infusion (or from day 0 without one)."""
    updates: dict = {"output.record_every_h": base.time.dt_h, "output.snapshot_days": ()}
    if strategy != STRATEGIES[0]:
        updates["therapy.car_t"] = ({"day": car_t_day, "count": car_t_count},) if car_t_count > 0 else ()
        updates["therapy.selinexor"] = ()
    if strategy in ("pre-treatment", "concurrent"):
        start, end = PRE_TREATMENT_DAYS if strategy == "pre-treatment" else CONCURRENT_DAYS
        anchor = {"relative_to": "car_t"} if car_t_count > 0 else {}
        zero = car_t_day if car_t_count > 0 else 0.0
        updates["therapy.selinexor"] = ({"dose_mg": dose_mg, "days_of_week": TWICE_WEEKLY, "start_day": start,
                                         "end_day": end, **anchor},)
        if zero + start < base.time.start_day:  # start early enough for the whole pre-treatment
            updates["time.start_day"] = zero + start
            updates["time.days"] = base.time.end_day - (zero + start)
    return base.with_updates(updates)


class ViewModel(TumourModel):
    """A TumourModel built from the view's controls (Mesa's Reset calls this with them)."""

    def __init__(self, scenario_file: str, seed: int, selinexor_dose_mg: float, strategy: str, car_t_day: float,
                 car_t_count: int):
        base = load_scenario(SCENARIO_DIR / f"{scenario_file}.yaml")
        super().__init__(_with_choices(base, selinexor_dose_mg, strategy, car_t_day, int(car_t_count)), int(seed))


def controls(scenario_file: str) -> dict:
    """The view's controls, their defaults taken from the scenario."""
    s = load_scenario(SCENARIO_DIR / f"{scenario_file}.yaml")
    dose = s.therapy.selinexor[0].dose_mg if s.therapy.selinexor else DLBCL_DOSE_MG
    infusion = s.therapy.car_t[0] if s.therapy.car_t else CarTInfusion()
    return {
        "scenario_file": {"type": "Select", "value": scenario_file, "values": scenario_names(), "label": "scenario"},
        "seed": {"type": "SliderInt", "value": 1, "min": 0, "max": 100, "step": 1, "label": "seed"},
        "selinexor_dose_mg": {"type": "SliderFloat", "value": dose, "min": 20.0, "max": 100.0, "step": 20.0,
                              "label": "selinexor dose (mg, twice weekly)"},
        "strategy": {"type": "Select", "value": STRATEGIES[0], "values": list(STRATEGIES),
                     "label": "therapy: as in the scenario, or selinexor strategy with the controls below"},
        "car_t_day": {"type": "SliderFloat", "value": infusion.day, "min": 0.0, "max": 28.0, "step": 1.0,
                      "label": "CAR-T infusion day"},
        "car_t_count": {"type": "SliderInt", "value": infusion.count, "min": 0, "max": 100, "step": 5,
                        "label": "CAR-T cells infused (0 = none)"},
    }


@solara.component
def TissueView(model):
    update_counter.get()  # redraw after every step
    field, set_field = solara.use_state("IL-10")
    solara.Select("field overlay", value=field, values=list(FIELD_OVERLAYS), on_value=set_field)
    solara.Markdown(f"**day {model.day:.2f}** — {model.spec.description}")
    _show(tissue_figure(model, field))


@solara.component
def RunView(model):
    update_counter.get()
    _show(run_figure(model))


def _show(fig) -> None:
    solara.FigureMatplotlib(fig, format="png")
    plt.close(fig)  # drawn into the page already; pyplot must not keep every frame


START = os.environ.get("TUMOUR_ABM_SCENARIO", "tme_default")
_params = controls(START)
page = SolaraViz(
    ViewModel(**{k: v["value"] for k, v in _params.items()}),
    components=[(TissueView, 0), (RunView, 0)],
    model_params=_params,
    name="tumour_abm",
)
