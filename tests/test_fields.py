"""The field step: exact decay, steady state, conservation, stability at dt = 30 min, no negatives."""

import numpy as np
import pytest
from mesa.discrete_space import OrthogonalMooreGrid

from tumour_abm.fields import AllFieldParams, Fields
from tumour_abm.scenario import Scenario


def make_fields(dt_min=30.0, n=40, **overrides):
    params = AllFieldParams()
    if overrides:
        params = Scenario().with_updates({f"fields.{k}": v for k, v in overrides.items()}).fields
    import random

    grid = OrthogonalMooreGrid((n, n), capacity=1, random=random.Random(0))
    return Fields(grid, params, site_um=20.0, dt_min=dt_min)


def test_uniform_field_decays_exactly_by_its_half_life():
    f = make_fields()
    f["il10"][:] = 1.0
    f.step({})
    assert f["il10"].mean() == pytest.approx(np.exp(-np.log(2) * 30 / 60), rel=1e-5)


def test_uniform_source_reaches_source_over_decay_steady_state():
    f = make_fields()
    source = np.full((40, 40), 0.01, dtype=np.float32)  # a.u./min per site
    for _ in range(60):
        f.step({"tgfb": source})
    assert f["tgfb"].mean() == pytest.approx(0.01 / (np.log(2) / 60), rel=1e-3)


def test_diffusion_conserves_mass_and_spreads_symmetrically():
    f = make_fields(**{"chemokine.half_life_min": 1e6})
    f["chemokine"][20, 20] = 100.0
    for _ in range(4):
        f.step({})
    u = f["chemokine"]
    assert u.sum() == pytest.approx(100.0, rel=1e-4)
    assert u[20, 20] < 100.0 and u[20, 25] > 0
    assert u[15, 20] == pytest.approx(u[25, 20], rel=1e-4) and u[20, 15] == pytest.approx(u[20, 25], rel=1e-4)


def test_step_is_stable_and_non_negative_with_spiky_sources():
    f = make_fields()
    rng = np.random.default_rng(1)
    for _ in range(200):
        src = (rng.random((40, 40)) < 0.02).astype(np.float32) * 5.0
        f.step({name: src for name in ("il10", "tgfb", "ifng", "chemokine", "nets")})
    for name, u in f.layers.items():
        assert u.dtype == np.float32
        assert np.isfinite(u).all() and (u >= 0).all(), name
        assert u.max() < 1e4, name


def test_result_barely_depends_on_dt():
    coarse, fine = make_fields(dt_min=30.0), make_fields(dt_min=15.0)
    src = np.zeros((40, 40), dtype=np.float32)
    src[10:14, 25:30] = 1.0
    for _ in range(8):
        coarse.step({"il10": src})
    for _ in range(16):
        fine.step({"il10": src})
    assert np.abs(coarse["il10"] - fine["il10"]).max() < 0.02 * fine["il10"].max()
