"""T-cell engagers and anti-CTLA-4 as products: their exposure over time, whom they let T cells kill, and the
errors for a scenario they cannot act in."""

import numpy as np
import pytest

from tumour_abm.config_files import ConfigError
from tumour_abm.model import TumourModel
from tumour_abm.runner import run
from tumour_abm.scenario import Scenario, load_scenario
from tumour_abm.therapy.products import TherapyPlan
from tumour_abm.therapy.schedule import TherapyParams, resolve_events

QUICK = {"time.days": 3, "output.snapshot_days": [], "grid.width_sites": 60, "grid.height_sites": 60,
         "cancer.initial_cells": 400}
# T cells whose TCR does not see the tumour: only an engager makes them kill.
BYSTANDERS = {"cd8.initial_count": 30, "cd8.influx_per_d": 5.0, "cancer.t_cell_antigen.positive_fraction": 0.0}


def plan_for(therapy: dict) -> TherapyPlan:
    return TherapyPlan(resolve_events(TherapyParams.model_validate(therapy)), Scenario().products, 0.0)


@pytest.mark.parametrize("product, target, half_life_d", [
    ("mosunetuzumab", "CD20", 16.0), ("epcoritamab", "CD20", 22.0), ("elranatamab", "BCMA", 22.0),
    ("trail_r2_cd3", "TRAIL-R2", 14.0)])
def test_an_engager_binds_its_target_and_wanes_with_its_half_life(product, target, half_life_d):
    plan = plan_for({product: {"start_day": 0}})
    occupancy = Scenario().products.model_dump()[product]["occupancy"]
    assert plan.effects(0.0).engagers == {target: pytest.approx(occupancy)}
    assert plan.effects(half_life_d * 24.0).engagers[target] == pytest.approx(occupancy / 2)
    assert plan_for({}).effects(0.0).engagers == {}


def test_two_engagers_on_one_target_leave_free_only_what_neither_binds():
    plan = plan_for({"mosunetuzumab": {"start_day": 0}, "epcoritamab": {"start_day": 0}})
    assert plan.effects(0.0).engagers == {"CD20": pytest.approx(1 - 0.1 * 0.1)}


def test_ipilimumab_blocks_ctla4_with_its_labelled_half_life():
    plan = plan_for({"ipilimumab": {"start_day": 0}})
    assert plan.effects(0.0).ctla4_blockade == pytest.approx(1.0)
    assert plan.effects(15.4 * 24.0).ctla4_blockade == pytest.approx(0.5)
    assert plan.effects(0.0).pd1_blockade == 0.0


def test_an_engager_lets_t_cells_kill_only_cells_bearing_its_target():
    updates = {**QUICK, **BYSTANDERS, "cancer.antigens": {"CD20": {"positive_fraction": 0.5, "level": 1.0}}}
    assert run(Scenario().with_updates(updates), 1).summary["killed_cd8"] == 0
    model = TumourModel(Scenario().with_updates({**updates, "therapy.mosunetuzumab": {"start_day": 0}}), seed=1)
    cd20 = model.cancer.store["antigen_CD20"]
    killed_cd20: list[float] = []  # the CD20 level of each cell the CD8 T cells kill, as it is killed
    kill = model.cancer.kill
    model.cancer.kill = lambda rows, cause: (killed_cd20.extend(cd20[rows].tolist() if cause == "cd8" else []),
                                             kill(rows, cause))
    for _ in range(int(3 * 24 / model.dt_h)):
        model.step()
    assert len(killed_cd20) > 20 and min(killed_cd20) > 0
    assert np.mean(cd20[model.cancer.rows()] > 0) < 0.5  # the CD20-negative half is left
    requirement = model.cd8.target_requirement()[model.cancer.rows()]
    level = cd20[model.cancer.rows()] * model.therapy.engagers["CD20"]
    assert np.allclose(requirement, level)


def test_selinexor_raises_the_bridge_a_trail_r2_engager_makes():
    updates = {**QUICK, **BYSTANDERS, "therapy.trail_r2_cd3": {"start_day": 0}}
    plain = TumourModel(Scenario().with_updates(updates), seed=1)
    treated = TumourModel(Scenario().with_updates(
        {**updates, "therapy.selinexor": {"dose_mg": 60.0, "start_day": 0.0}}), seed=1)
    for model in (plain, treated):
        for _ in range(24):
            model.step()
    bridge = [m.cd8.target_requirement()[m.cancer.rows()].mean() for m in (plain, treated)]
    assert bridge[1] > 1.2 * bridge[0]


@pytest.mark.parametrize("updates, message", [
    ({"therapy.mosunetuzumab": {"start_day": 0}}, "therapy.mosunetuzumab: redirects endogenous T cells"),
    ({"therapy.elranatamab": {"start_day": 0}, "cd8.influx_per_d": 1.0},
     "therapy.elranatamab: targets BCMA, which no cancer cell carries"),
    ({"therapy.ipilimumab": {"start_day": 0}}, "therapy.ipilimumab: primes CD8 T cells and depletes Tregs"),
])
def test_a_t_cell_product_without_what_it_acts_on_is_a_clear_error(updates, message):
    with pytest.raises(ConfigError) as err:
        Scenario().with_updates(updates)
    assert message in str(err.value)


def test_in_a_well_t_cells_kill_only_with_the_engager_and_its_target_rises_after_selinexor():
    assay = load_scenario("scenarios/assays/trail_r2_cd3_killing.yaml")
    pretreated = load_scenario("scenarios/assays/trail_r2_cd3_killing_selinexor.yaml")
    without = assay.with_updates({"coculture.cotreatments": []})
    assert run(without, 1).summary["specific_lysis_pct"] == 0
    lysis = [run(s, 1).summary for s in (assay, pretreated)]
    assert 20 < lysis[0]["specific_lysis_pct"] < 80
    assert lysis[1]["assay_trail_r_mean"] > lysis[0]["assay_trail_r_mean"]
