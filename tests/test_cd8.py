"""Endogenous CD8 T cells: what they recognise, the MHC-I antigen's draw and inheritance, PD-L1 induced by IFN-γ, and
the PD-1 axis with and without anti-PD-1."""

import dataclasses

import numpy as np
import pytest

from tumour_abm.model import TumourModel
from tumour_abm.runner import run
from tumour_abm.scenario import Scenario

QUICK = {"time.days": 3, "output.snapshot_days": [], "grid.width_sites": 60, "grid.height_sites": 60,
         "cancer.initial_cells": 400}


def with_cd8(**updates) -> Scenario:
    return Scenario().with_updates({**QUICK, "cd8.initial_count": 20, "cd8.influx_per_d": 5.0, **updates})


def test_cd8_cells_kill_only_cancer_cells_presenting_their_antigen():
    presenting = run(with_cd8(), 2)
    assert presenting.summary["killed_cd8"] > 0 and presenting.timeseries["cd8_total"].max() > 20
    lost = run(with_cd8(**{"cancer.t_cell_antigen": {"positive_fraction": 0.0, "level": 1.0}}), 2)
    assert lost.summary["killed_cd8"] == 0  # MHC-I loss: nothing for the clone to see
    assert (lost.timeseries["cd8_exhausted"] == 0).all() and (lost.timeseries["cd8_pd1_mean"].fillna(0) == 0).all()


def test_a_partial_presentation_is_drawn_per_cell_and_inherited_by_daughters():
    scenario = Scenario().with_updates({**QUICK, "cancer.t_cell_antigen": {"positive_fraction": 0.4, "level": 0.7}})
    model = TumourModel(scenario, seed=5)
    antigen = model.cancer.store["t_cell_antigen"]
    seeded = antigen[model.cancer.rows()]
    assert set(np.unique(seeded).astype(float).round(6)) == {0.0, 0.7}
    share = float(np.mean(seeded > 0))
    assert abs(share - 0.4) < 4 * np.sqrt(0.4 * 0.6 / len(seeded))  # binomial, 4 SD
    for _ in range(48):
        model.step()
    assert model.cancer.divisions > 0
    assert set(np.unique(antigen[model.cancer.rows()]).astype(float).round(6)) <= {0.0, 0.7}


def test_a_presentation_of_all_or_none_draws_nothing():
    """Without T cells to see it, the MHC-I antigen changes nothing; at 0 or 1 it is not drawn at all, so the
    rest of the run's draws (and outputs) are those of a run without it."""
    base = Scenario().with_updates({**QUICK, "nk.initial_count": 10})
    outputs = [run(base.with_updates({"cancer.t_cell_antigen": {"positive_fraction": f, "level": 1.0}}), 3).timeseries
               for f in (0.0, 1.0)]
    assert outputs[0].equals(outputs[1])
    drawn = run(base.with_updates({"cancer.t_cell_antigen": {"positive_fraction": 0.5, "level": 1.0}}), 3).timeseries
    assert not drawn["cancer_alive"].equals(outputs[0]["cancer_alive"])  # a real draw shifts the others


class _Fields(dict):
    def mean(self, name: str) -> float:
        return float(self[name].mean())


def test_pd_l1_rises_from_its_baseline_towards_one_with_local_ifng():
    model = TumourModel(with_cd8(), seed=1)
    cancer, p = model.cancer, model.spec.cancer
    rows = cancer.rows()[:3]
    ifng = np.zeros(model.vessels.shape, dtype=np.float32)
    for row, level in zip(rows, (0.0, p.pd_l1_ifng_half_max, 1e6)):
        ifng[cancer.x[row], cancer.y[row]] = level
    model.fields = _Fields(ifng=ifng)
    assert cancer.pd_l1(rows) == pytest.approx([p.pd_l1_base, (1 + p.pd_l1_base) / 2, 1.0], rel=1e-6)


def test_the_pd1_axis_blocks_killing_in_proportion_and_anti_pd1_lifts_it():
    scenario = with_cd8(**{"cancer.pd_l1_base": 1.0})  # PD-L1 at its full level whatever the IFN-γ
    model = TumourModel(scenario, seed=1)
    targets = model.cancer.rows()[:4]
    pd1 = np.array([0.0, 0.5, 1.0, 1.0])
    w = scenario.cd8.pd1_inhibition_weight
    assert model.cd8.pd1_inhibition(targets, pd1) == pytest.approx(w * pd1)
    model.therapy = dataclasses.replace(model.therapy, pd1_blockade=1.0)
    assert model.cd8.pd1_inhibition(targets, pd1) == pytest.approx(0.0)
    # CAR-T cells carry no PD-L1 term: their PD-1 acts through the exhaustion penalty.
    assert model.car_t.pd1_inhibition(targets, pd1) is None


def test_anti_pd1_raises_cd8_killing_where_pd_l1_is_high():
    """Emergent over paired seeds: with PD-L1 high and exhausting T cells, blockade means more cancer cells killed by
    CD8 T cells in every pair."""
    scenario = with_cd8(**{"cancer.pd_l1_base": 0.8, "cd8.exhaustion_load": 4.0})
    blocked = scenario.with_updates({"therapy.anti_pd1": [{"start_day": 0, "end_day": 3, "every_days": 1}]})
    for seed in (1, 2, 3):
        assert run(blocked, seed).summary["killed_cd8"] > run(scenario, seed).summary["killed_cd8"]


def test_selinexor_raises_granzyme_b_in_cd8_t_cells_not_in_car_t_cells():
    model = TumourModel(with_cd8(), seed=1)
    p = model.spec.cd8
    model.cd8.drug.update(p.checkpoint_ec50_nM)  # half the effect
    assert model.cd8.drug.granzyme == pytest.approx(1 + p.granzyme_drug_gain / 2)
    model.car_t.drug.update(p.checkpoint_ec50_nM)
    assert model.car_t.drug.granzyme == 1.0
