"""The shipped scenario files: all valid, and the immune ones kill through the mechanisms they are about."""

from pathlib import Path

import pytest
import yaml

from tumour_abm.runner import run
from tumour_abm.scenario import load_scenario

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"


def _is_batch_file(path: Path) -> bool:
    """Batch files (in batches/, trials/ and at the top of claims/) are the ones with arms."""
    return isinstance(data := yaml.safe_load(path.read_text()), dict) and "arms" in data


# Scenario files only: analysis files live in analyses/.
SCENARIOS = sorted(p for p in SCENARIO_DIR.rglob("*.yaml") if "analyses" not in p.parts and not _is_batch_file(p))

# The time-series columns DESIGN.md promises.
DESIGN_COLUMNS = """time_h day cancer_alive killed_nk killed_car_t killed_macrophage died_drug nk_total nk_nkg2a_pos
nk_exhausted car_t_total car_t_exhausted macrophage_m1 macrophage_m2 neutrophils nets_active selinexor_nM hla_e_mean
trail_r_mean il10_mean tgfb_mean ifng_mean""".split()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_scenario_file_is_valid_and_described(path):
    scenario = load_scenario(path)
    assert scenario.description, f"{path.name} needs a one-line description"


def test_tme_default_kills_through_nk_cells_and_macrophages():
    result = run(load_scenario(SCENARIO_DIR / "tme_default.yaml"), seed=1, days=7.0)
    s = result.summary
    assert s["killed_nk_granzyme"] > 0 and s["killed_nk_trail"] > 0 and s["killed_macrophage"] > 0
    assert s["killed_car_t"] == 0 and s["died_drug"] == 0  # no CAR-T and no drug in this scenario
    ts = result.timeseries
    assert set(DESIGN_COLUMNS) <= set(ts.columns)
    assert ts["il10_mean"].iloc[-1] > 0 and ts["nets_active"].iloc[-1] > 0 and ts["nk_nkg2a_pos"].iloc[-1] > 0
    assert ts[DESIGN_COLUMNS].notna().all().all()


def test_car_t_scenario_expands_and_kills_then_antigen_negative_cells_remain():
    result = run(load_scenario(SCENARIO_DIR / "car_t.yaml"), seed=1, days=7.0)
    s = result.summary
    assert s["killed_car_t"] > 100 and s["killed_nk"] == 0
    assert s["car_t_peak"] > 10 * 10  # ten infused cells expand more than tenfold
    model_cd19 = result.scenario.cancer.antigens["CD19"].positive_fraction
    assert model_cd19 < 1.0 and s["final_tumour"] > 0  # the CD19-negative clone is not a CAR-T target
