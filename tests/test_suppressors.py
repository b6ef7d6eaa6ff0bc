"""Tregs and MDSCs: local suppression of effector T and NK cells, recruitment by tumour chemokine, selinexor's
effects on MDSCs, anti-CTLA-4's depletion of Tregs."""

import numpy as np
import pytest
from scipy.ndimage import convolve

from tumour_abm.cells.suppressors import LocalSuppression
from tumour_abm.model import TumourModel
from tumour_abm.runner import run
from tumour_abm.scenario import Scenario
from tumour_abm.space import box_count

QUICK = {"time.days": 3, "output.snapshot_days": [], "grid.width_sites": 60, "grid.height_sites": 60,
         "cancer.initial_cells": 400}
SELINEXOR = {"dose_mg": 60.0, "days_of_week": (1, 3), "start_day": 0.0, "end_day": 6.0}


def scenario(**updates) -> Scenario:
    return Scenario().with_updates({**QUICK, **updates})


@pytest.mark.parametrize("radius", [0, 1, 2, 4])
def test_box_count_counts_the_mask_within_reach_cut_at_the_edges(radius):
    mask = np.random.default_rng(radius).random((23, 31)) < 0.2
    box = np.ones((2 * radius + 1, 2 * radius + 1), dtype=int)
    assert (box_count(mask, radius) == convolve(mask.astype(int), box, mode="constant")).all()


def one_cell_each(treg_site, mdsc_site=None) -> TumourModel:
    """A model with one Treg (and maybe one MDSC) placed by hand, nothing else immune."""
    model = TumourModel(scenario(**{"cancer.initial_cells": 0}), seed=1)
    model.tregs.add(np.array([treg_site]))
    if mdsc_site is not None:
        model.mdscs.add(np.array([mdsc_site]))
    return model


def test_a_treg_suppresses_its_neighbourhood_as_saturating_in_number():
    model = one_cell_each((30, 30))
    p = model.spec.treg
    s = LocalSuppression.of(model.suppressors)
    expected = 1.0 / (1.0 + p.half_max_cells)  # one Treg within reach
    assert s.t_cells[31, 29] == pytest.approx(p.t_cell_max_suppression * expected)
    assert s.nk[30, 30] == pytest.approx(p.nk_max_suppression * expected)
    assert s.t_cells[32, 30] == 0.0 and s.nk[30, 33] == 0.0  # beyond its 20 µm reach
    assert LocalSuppression.of(TumourModel(scenario(), seed=1).suppressors) is None  # none present: no map


def test_tregs_and_mdscs_combine_as_independent_suppressors_and_selinexor_blunts_mdscs():
    model = one_cell_each((30, 30), (31, 30))
    t, m = model.spec.treg, model.spec.mdsc
    treg = t.t_cell_max_suppression / (1.0 + t.half_max_cells)
    mdsc = m.t_cell_max_suppression / (1.0 + m.half_max_cells)
    assert LocalSuppression.of(model.suppressors).t_cells[30, 30] == pytest.approx(1 - (1 - treg) * (1 - mdsc))
    model.mdscs.drug.update(1.0)  # XPO1 fully occupied
    blunted = mdsc * (1 - m.drug_max_reduction)
    assert LocalSuppression.of(model.suppressors).t_cells[30, 30] == pytest.approx(1 - (1 - treg) * (1 - blunted))
    assert model.mdscs.reach_sites == 2 and LocalSuppression.of(model.suppressors).t_cells[33, 30] > 0


def test_suppressors_weaken_cd8_killing_and_expansion():
    cd8 = {"cd8.initial_count": 20, "cd8.influx_per_d": 5.0}
    suppressed = {**cd8, "treg.initial_count": 150, "mdsc.initial_count": 150}
    for seed in (1, 2, 3):
        free, held = run(scenario(**cd8), seed), run(scenario(**suppressed), seed)
        assert held.summary["killed_cd8"] < free.summary["killed_cd8"]
        assert held.timeseries["cd8_total"].iloc[-1] < free.timeseries["cd8_total"].iloc[-1]
        assert held.timeseries["t_cell_suppression_mean"].iloc[1:].gt(0).all()
        assert free.timeseries["t_cell_suppression_mean"].iloc[1:].eq(0).all()


def test_suppressors_weaken_nk_killing():
    nk = {"nk.initial_count": 60}
    for seed in (1, 2, 3):
        free = run(scenario(**nk), seed).summary["killed_nk"]
        held = run(scenario(**nk, **{"treg.initial_count": 200, "mdsc.initial_count": 200}), seed).summary["killed_nk"]
        assert held < free


def test_recruitment_follows_the_tumour_chemokine():
    influx = {"treg.influx_per_d": 40.0, "mdsc.influx_per_d": 40.0, "time.days": 4}
    with_tumour = run(scenario(**influx), 1).timeseries
    without = run(scenario(**influx, **{"cancer.initial_cells": 0}), 1).timeseries
    assert with_tumour["treg_total"].iloc[-1] > 0 and with_tumour["mdsc_total"].iloc[-1] > 0
    assert without["treg_total"].iloc[-1] == 0 and without["mdsc_total"].iloc[-1] == 0


def test_selinexor_raises_mdsc_infiltration_only_when_switched_on():
    drug = {"mdsc.influx_per_d": 60.0, "therapy.selinexor": SELINEXOR, "time.days": 4}
    for seed in (1, 2, 3):
        off = run(scenario(**drug), seed).timeseries["mdsc_total"].sum()
        on = run(scenario(**drug, **{"mdsc.selinexor_raises_infiltration": True}), seed).timeseries["mdsc_total"].sum()
        assert on > off


def test_ipilimumab_depletes_tregs_unless_its_depletion_is_set_to_zero():
    tregs = {"treg.initial_count": 200, "time.days": 5}
    ipi = {**tregs, "therapy.ipilimumab": {"start_day": 0}}
    plain = run(scenario(**tregs), 4).timeseries["treg_total"].iloc[-1]
    depleted = run(scenario(**ipi), 4).timeseries["treg_total"].iloc[-1]
    p = Scenario().treg
    expected = 200 * np.exp(-(1 / p.lifespan_d + p.ctla4_depletion_per_d) * 5) / np.exp(-5 / p.lifespan_d)
    assert depleted < plain and depleted == pytest.approx(plain * expected / 200, rel=0.35)
    no_fc = run(scenario(**ipi, **{"treg.ctla4_depletion_per_d": 0.0}), 4).timeseries["treg_total"]
    assert no_fc.equals(run(scenario(**tregs), 4).timeseries["treg_total"])  # the human reading: no depletion


def test_ipilimumab_primes_more_cd8_t_cells():
    cd8 = {"cd8.influx_per_d": 20.0, "cancer.t_cell_antigen.positive_fraction": 0.0, "time.days": 4}
    plain = run(scenario(**cd8), 2).timeseries["cd8_total"].iloc[-1]
    primed = run(scenario(**cd8, **{"therapy.ipilimumab": {"start_day": 0}}), 2).timeseries["cd8_total"].iloc[-1]
    gain = 1 + Scenario().cd8.ctla4_priming_gain  # at full occupancy (it wanes by < 20 % over 4 days)
    assert primed > 1.3 * plain and primed < 1.2 * gain * plain
