"""What each therapy does: every effect moves its target the right way, on small models or the plan itself."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tumour_abm.model import TumourModel
from tumour_abm.runner import run
from tumour_abm.scenario import Scenario, load_scenario
from tumour_abm.therapy.products import TherapyPlan
from tumour_abm.therapy.schedule import TherapyParams, resolve_events

ROOT = Path(__file__).resolve().parents[1]
SELINEXOR = {"dose_mg": 60.0, "days_of_week": (1, 3), "start_day": 0.0, "end_day": 6.0}


def small(**updates) -> Scenario:
    return Scenario().with_updates({"grid.width_sites": 40, "grid.height_sites": 40, "cancer.initial_cells": 300,
                                    "time.days": 3.0, "output.snapshot_days": (), **updates})


def plan_for(therapy: dict, scenario: Scenario | None = None) -> TherapyPlan:
    scenario = scenario or Scenario()
    return TherapyPlan(resolve_events(TherapyParams.model_validate(therapy)), scenario.products, 0.0)


def test_selinexor_lowers_hla_e_raises_trail_r_and_kills_cancer_cells():
    untreated = run(small(), seed=1)
    treated = run(small(**{"therapy.selinexor": (SELINEXOR,)}), seed=1)
    day1 = lambda r, col: r.timeseries.loc[r.timeseries["day"] == 1.0, col].item()  # noqa: E731
    assert day1(treated, "hla_e_mean") < 0.85 * day1(untreated, "hla_e_mean")
    assert day1(treated, "trail_r_mean") > 1.2 * day1(untreated, "trail_r_mean")
    assert treated.summary["died_drug"] > 0 == untreated.summary["died_drug"]
    assert treated.summary["final_tumour"] < untreated.summary["final_tumour"]
    assert treated.timeseries["selinexor_nM"].max() > 500


def test_selinexor_slows_division_impairs_t_cells_and_shifts_macrophages():
    m = TumourModel(small(**{"therapy.selinexor": (SELINEXOR,)}), seed=1)
    m.steps = 6  # three hours after the first dose: near the peak (Tmax 2.8 h)
    m._update_drug()
    assert m.drug_nM > 500
    # T cells and NETs respond to the plasma level at once ...
    assert m.car_t.drug.impairment > 0.85 and m.car_t.drug.checkpoint > 0.8
    assert m.neutrophils.drug.net_suppression > 0.4
    # ... tissue effects follow XPO1 occupancy, which builds over hours, and priming lags behind it.
    occupied = m.xpo1.value
    assert 0.0 < occupied < 0.9 and m.cancer.drug.prolif == occupied == m.macrophages.drug.effect
    assert m.cancer.drug.apoptosis < occupied


def test_the_drug_effect_chain_outlasts_the_plasma_level():
    m = TumourModel(small(**{"therapy.selinexor": ({"dose_mg": 60.0, "start_day": 0.0},), "time.days": 5.0}), seed=1)
    trace = []
    for step in range(1, 5 * 48):
        m.steps = step
        m._update_drug()
        trace.append((m.drug_nM, m.xpo1.value, m.cancer.drug.priming.value))
    c, occupancy, priming = np.array(trace).T
    assert occupancy.max() > 0.6
    day2 = 2 * 48 - 1
    # Two days after one dose the plasma level is under 2 % of its peak; XPO1 is still partly bound, and priming,
    # slower to build, is slower to fade: it now exceeds the occupancy.
    assert c[day2] < 0.02 * c.max()
    assert occupancy[day2] > 0.2 and priming[day2] > occupancy[day2]
    # Recovery of XPO1 after washout: its half-life (24 h).
    assert occupancy[day2 + 48] / occupancy[day2] == pytest.approx(0.5, rel=0.05)


def test_rituximab_coats_cd20_cells_and_wanes_with_its_half_life():
    plan = plan_for({"rituximab": {"start_day": 0}})
    assert plan.effects(1.0).opsonins == {"CD20": pytest.approx(0.5 ** (1 / (21 * 24)))}
    assert plan.effects(21 * 24.0).opsonins["CD20"] == pytest.approx(0.5)
    assert plan.effects(-1.0).opsonins == {}
    obinutuzumab = plan_for({"obinutuzumab": {"start_day": 0}}).effects(0.0).opsonins["CD20"]
    assert obinutuzumab == pytest.approx(1.5)  # glyco-engineered: ADCC x 1.5
    assert plan_for({"daratumumab": {"start_day": 0}}).effects(0.0).opsonins == {"CD38": 1.0}


def test_antibody_raises_nk_killing_of_antigen_positive_cells():
    # Per contact, NKG2A+ NK on a high-HLA-E target (inhibition 0.8 × 2): without antibody only death receptors
    # kill; with ADCC the activation 1 + 2 × coating = 3 outweighs the inhibition, so granules kill too: 2 × (3 − 1.6)
    # /h. CD16 does not raise death-receptor killing (0.3 /h either way).
    from test_immune import nk_kill_fraction  # isolated NK–target pairs on one grid

    plain = nk_kill_fraction(hla_e=2.0)
    coated = nk_kill_fraction(hla_e=2.0, opsonins={"CD20": 1.0})
    assert plain == pytest.approx(1 - np.exp(-0.5 * 0.3), abs=0.06)
    assert coated == pytest.approx(1 - np.exp(-0.5 * (2 * (3 - 1.6) + 0.3)), abs=0.07)

    # In a small tumour over two days, kills are capped by contacts and granules, but still rise.
    def nk_kills(therapy):
        sc = small(**{"nk.initial_count": 20, "time.days": 2.0, **therapy})
        return np.mean([run(sc, seed=s).summary["killed_nk"] for s in range(3)])
    assert nk_kills({"therapy.rituximab": ({"start_day": 0.0},)}) > 1.1 * nk_kills({})


def test_btk_inhibitors_impair_nk_cells_unequally_and_slow_growth_while_dosed():
    daily = {"dose_mg": 420.0, "every_days": 1.0, "start_day": 0.0, "end_day": 6.0}
    ibr = plan_for({"ibrutinib": daily}).effects(12.0)
    acal = plan_for({"acalabrutinib": {**daily, "dose_mg": 100.0}}).effects(12.0)
    assert ibr.nk_impairment == 0.7 and acal.nk_impairment == 0.2
    assert ibr.tumour_growth_factor == acal.tumour_growth_factor == 0.8
    after = plan_for({"ibrutinib": daily}).effects(8 * 24.0)  # a day after the last daily dose
    assert after.nk_impairment == 0.0 and after.tumour_growth_factor == 1.0


def test_anti_nkg2a_and_anti_pd1_block_while_on_and_wane():
    nkg2a = plan_for({"anti_nkg2a": {"start_day": 0}})
    assert nkg2a.effects(0.0).nkg2a_blockade == pytest.approx(0.9)
    assert nkg2a.effects(14 * 24.0).nkg2a_blockade == pytest.approx(0.45)
    assert plan_for({"anti_pd1": {"start_day": 0}}).effects(0.0).pd1_blockade == 1.0


@pytest.mark.parametrize("product, half_life_d", [("pembrolizumab", 22.0), ("nivolumab", 25.0),
                                                   ("atezolizumab", 27.0)])
def test_checkpoint_antibodies_block_the_pd1_axis_and_wane_with_their_labelled_half_lives(product, half_life_d):
    plan = plan_for({product: {"dose_mg": 200, "start_day": 0}})
    assert plan.effects(0.0).pd1_blockade == pytest.approx(1.0)
    assert plan.effects(half_life_d * 24.0).pd1_blockade == pytest.approx(0.5)
    assert plan.effects(2 * half_life_d * 24.0).pd1_blockade == pytest.approx(0.25)


def test_two_pd1_axis_blockers_leave_free_only_what_neither_blocks():
    plan = plan_for({"pembrolizumab": {"start_day": 0}, "atezolizumab": {"start_day": 0}})
    t = 30 * 24.0
    free = (1 - 0.5 ** (30 / 22.0)) * (1 - 0.5 ** (30 / 27.0))
    assert plan.effects(t).pd1_blockade == pytest.approx(1 - free)


def test_a_checkpoint_antibody_without_t_cells_is_a_clear_error():
    from tumour_abm.config_files import ConfigError
    with pytest.raises(ConfigError) as err:
        Scenario().with_updates({"therapy.pembrolizumab": {"start_day": 0}})
    assert "therapy.pembrolizumab: acts on CAR-T and CD8 T cells" in str(err.value)
    fine = Scenario().with_updates({"therapy.pembrolizumab": {"start_day": 0}, "cd8.influx_per_d": 1.0})
    assert fine.therapy.pembrolizumab[0].start_day == 0


def test_infusions_add_cells_next_to_vessels_on_their_day():
    sc = small(**{"therapy.car_t": ({"day": 1.0, "count": 12},),
                  "therapy.nk_cells": ({"day": 0.0, "count": 40, "nkg2a_positive_fraction": 0.8},)})
    m = TumourModel(sc, seed=2)
    assert m.car_t.count() == 0 and m.nk.count() == 40
    assert 0.6 < np.mean([a.nkg2a for a in m.nk.agents()]) <= 1.0
    while m.day < 1.0:
        m.step()
    assert m.car_t.count() >= 12 - 1  # a cell may already have died; none came before day 1
    first_seen = [a.cell.coordinate for a in m.car_t.agents()]
    assert len(first_seen) > 0


def test_pretreatment_leaving_drug_at_the_infusion_is_warned():
    bad = small(**{"time.start_day": -2.0, "time.days": 4.0,
                   "therapy.car_t": ({"day": 0.0, "count": 5},),
                   "therapy.selinexor": ({"dose_mg": 80.0, "start_day": -0.1, "relative_to": "car_t"},)})
    result_warnings = TherapyPlan(resolve_events(bad.therapy), bad.products, bad.time.start_day).warnings(bad.time)
    assert any("above the 100 nM" in w for w in result_warnings)
    good = bad.with_updates({"therapy.selinexor": ({"dose_mg": 80.0, "start_day": -2.0, "relative_to": "car_t"},)})
    assert not TherapyPlan(resolve_events(good.therapy), good.products, good.time.start_day).warnings(good.time)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "tumour_abm.cli", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)


def test_pk_command_prints_label_values_as_json():
    done = cli("pk", "--dose-mg", 80, "--days", 2, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {"cmax_nM", "cmax_ng_per_ml", "tmax_h", "auc_ng_h_per_ml", "hours_above_100nM_per_week"} <= set(out)
    assert out["cmax_ng_per_ml"] == pytest.approx(680, rel=0.1) and out["auc_ng_h_per_ml"] == pytest.approx(5386, rel=0.1)
    assert 2 <= out["tmax_h"] <= 4 and out["cmax_nM"] == pytest.approx(out["cmax_ng_per_ml"] * 2.256, rel=1e-3)
    assert 6 <= out["terminal_half_life_h"] <= 8  # label: 6-8 h
    assert 0 < out["anc_nadir_relative"] < 1 and out["anc_nadir_day"] > 4  # after the marrow's maturation delay
    bad = cli("pk", "--dose-mg", -5)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_pretreatment_run_writes_doses_infusion_and_zero_drug_at_infusion(tmp_path):
    scenario = load_scenario(ROOT / "scenarios" / "car_t_pretreatment.yaml")
    result = run(scenario, seed=1, days=22.0)  # to day 1 after the infusion
    ev = result.events
    assert ev["kind"].tolist() == ["dose"] * 6 + ["infusion"]
    assert ev.loc[ev["kind"] == "dose", "day"].tolist() == [-21, -19, -14, -12, -7, -5]
    assert ev.loc[ev["kind"] == "infusion", ["day", "name"]].values.tolist() == [[0.0, "car_t"]]
    ts = result.timeseries
    assert ts.loc[ts["day"] == 0.0, "selinexor_nM"].item() < 0.1  # 5 days after the last dose: washed out
    assert ts.loc[ts["day"] == -20.75, "selinexor_nM"].item() > 500  # six hours after the first dose
    assert not result.warnings
    assert isinstance(ev, pd.DataFrame)
