"""The co-culture setting: a well with the tissue's mechanisms, a pre-treatment that is washed out, effectors added at
an E:T ratio, and readouts as a killing assay reports them."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tumour_abm.config_files import ConfigError
from tumour_abm.model import TumourModel
from tumour_abm.rundir import write_run
from tumour_abm.runner import run
from tumour_abm.scenario import load_scenario

ASSAYS = Path(__file__).resolve().parents[1] / "scenarios" / "assays"
SEEDS = range(1, 5)


def _scenario(tmp_path, text: str, name: str = "well.yaml"):
    path = tmp_path / name
    path.write_text(f"extends: {ASSAYS / 'nk_killing.yaml'}\n{text}")
    return load_scenario(path)


def test_the_well_has_its_own_clock_no_vessels_and_effectors_only_from_day_0():
    scenario = load_scenario(ASSAYS / "nk_killing_selinexor.yaml")
    assert scenario.time.start_day == pytest.approx(-18 / 24) and scenario.time.days == pytest.approx(22 / 24)
    model = TumourModel(scenario, seed=1)
    assert not model.vessels.any() and model.nk.count() == 0
    while model.time_h < 18.0:
        assert model.nk.count() == 0 and model.drug_nM in (0.0, 1000.0)
        model.step()
    model.step()  # the first co-culture step: the effectors are in, the drug washed out
    assert model.drug_nM == 0.0
    targets = model.assay_start["assay_targets"]
    assert model.nk.store.births == round(1.0 * targets)


def test_pretreatment_lowers_hla_e_raises_trail_r_and_releases_nkg2a_positive_killing():
    plain = [run(load_scenario(ASSAYS / "nk_killing.yaml"), seed).summary for seed in SEEDS]
    treated = [run(load_scenario(ASSAYS / "nk_killing_selinexor.yaml"), seed).summary for seed in SEEDS]
    for a, b in zip(plain, treated):
        assert b["assay_hla_e_mean"] < a["assay_hla_e_mean"] - 0.2
        assert b["assay_trail_r_mean"] > a["assay_trail_r_mean"] + 0.3
    def mean(runs, key):
        return np.mean([r[key] for r in runs])
    gain_pos = mean(treated, "nk_granzyme_per_engagement_nkg2a_pos") - mean(plain, "nk_granzyme_per_engagement_nkg2a_pos")
    gain_neg = mean(treated, "nk_granzyme_per_engagement_nkg2a_neg") - mean(plain, "nk_granzyme_per_engagement_nkg2a_neg")
    # HLA-E gates only NKG2A+ cells: their granule kills per contact rise, the NKG2A- cells' barely move.
    assert gain_pos > 0.1 and abs(gain_neg) < gain_pos / 2


def test_specific_lysis_counts_the_effectors_kills_of_the_targets_present_at_day_0(tmp_path):
    s = run(_scenario(tmp_path, "coculture: {effector_to_target: 0.2}"), seed=2).summary
    effector_kills = s["killed_nk_granzyme"] + s["killed_nk_adcc"] + s["killed_nk_trail"]
    assert 0 < s["specific_lysis_pct"] < 100
    assert s["specific_lysis_pct"] == pytest.approx(100.0 * effector_kills / s["assay_targets"])


def test_trail_blockade_removes_death_receptor_kills_and_an_antibody_adds_adcc(tmp_path):
    blocked = run(_scenario(tmp_path, "coculture: {cotreatments: [trail_blockade]}"), seed=3).summary
    assert blocked["killed_nk_trail"] == 0 and blocked["killed_nk_granzyme"] > 0
    coated = run(_scenario(tmp_path, "coculture: {cotreatments: [rituximab]}"), seed=3).summary
    assert coated["killed_nk_adcc"] > 0
    plain = run(_scenario(tmp_path, ""), seed=3).summary
    assert plain["killed_nk_adcc"] == 0 and plain["killed_nk_trail"] > 0


def test_targets_do_not_divide_in_the_well_unless_asked(tmp_path):
    still = TumourModel(_scenario(tmp_path, ""), seed=1)
    growing = TumourModel(_scenario(tmp_path, "coculture: {growth: true}"), seed=1)
    for model in (still, growing):
        while model.running:
            model.step()
    assert still.cancer.divisions == 0 and growing.cancer.divisions > 0



def test_a_btk_inhibitor_slows_the_targets_of_a_growing_well_as_in_tissue(tmp_path):
    scenario = _scenario(tmp_path, "coculture: {growth: true, cotreatments: [ibrutinib]}")
    slowed = scenario.products.ibrutinib.tumour_growth_factor
    assert slowed < 1.0
    model = TumourModel(scenario, seed=1)
    in_coculture_h = scenario.coculture.pretreatment.hours + 1.0  # co-treatments join with the effectors
    assert model.plan.effects(in_coculture_h).tumour_growth_factor == pytest.approx(slowed)
    untreated = TumourModel(_scenario(tmp_path, "coculture: {growth: true}", "plain.yaml"), seed=1)
    assert untreated.plan.effects(in_coculture_h).tumour_growth_factor == 1.0

def test_a_tissue_run_has_no_assay_readouts():
    result = run(load_scenario(ASSAYS.parent / "nk.yaml"), seed=1, days=0.5)
    assert np.isnan(result.summary["specific_lysis_pct"]) and np.isnan(result.summary["assay_hla_e_mean"])
    assert result.assay_markers is None


def test_a_wells_folder_has_each_targets_markers_and_their_histograms(tmp_path):
    result = run(load_scenario(ASSAYS / "car_t_killing_selinexor.yaml"), seed=4)
    out = write_run(result, tmp_path / "run")
    markers = pd.read_csv(out / "assay_markers.csv")
    s = result.summary
    # One row per target when the CAR-T cells were added; the summary's statistics are those of these rows.
    assert len(markers) == s["assay_targets"] and list(markers) == ["hla_e", "trail_r"]
    assert markers["hla_e"].mean() == pytest.approx(s["assay_hla_e_mean"], rel=1e-3)
    assert markers["trail_r"].quantile(0.9) == pytest.approx(s["assay_trail_r_p90"], rel=1e-2)
    assert (out / "figures" / "assay_markers.png").stat().st_size > 10_000


@pytest.mark.parametrize("text, key", [
    ("therapy: {selinexor: {dose_mg: 60}}", "therapy.selinexor"),
    ("time: {days: 2}", "time.days"),
    ("grid: {vessel_fraction: 0.02}", "grid.vessel_fraction"),
    ("macrophage: {influx_per_d: 10}", "macrophage.influx_per_d"),
    ("nk: {initial_count: 10}", "nk.initial_count"),
    ("coculture: {hours: 0.7}", "coculture.hours"),
    ("coculture: {cotreatments: [pembrolizumab]}", "coculture.cotreatments"),
])
def test_what_a_well_cannot_have_is_an_error_naming_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as caught:
        _scenario(tmp_path, text)
    assert key in str(caught.value)


def test_a_coculture_section_in_a_tissue_scenario_is_an_error(tmp_path):
    path = tmp_path / "tissue.yaml"
    path.write_text(f"extends: {ASSAYS.parent / 'nk.yaml'}\ncoculture: {{hours: 6}}\n")
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert "coculture" in str(caught.value) and "setting" in str(caught.value)


def test_an_update_of_the_wells_hours_moves_its_clock_as_in_a_file():
    well = load_scenario(ASSAYS / "nk_killing.yaml")
    longer = well.with_updates({"coculture.hours": 24, "coculture.pretreatment.hours": 6})
    assert (longer.time.start_day, longer.time.days) == (-0.25, 1.25) and longer.grid.vessel_fraction == 0.0
    with pytest.raises(ConfigError, match="time.days"):  # the clock itself still comes only from the hours
        well.with_updates({"time.days": 3})
