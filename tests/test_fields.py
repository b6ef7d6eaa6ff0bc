"""The field step: exact decay, steady state, conservation, stability at dt = 30 min, no negatives."""

import numpy as np
import pytest
from scipy import fft
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
    f.set("il10", 1.0)
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
    start = np.zeros((40, 40), dtype=np.float32)
    start[20, 20] = 100.0
    f.set("chemokine", start)
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


def reference_step(u, src, spec, dt_min=30.0, site_um=20.0, modes=None):
    """The field step written out in full (transform the field and the source, propagate, transform back), in the
    lowest `modes` only if given."""
    n = u.shape[0]
    k = 2.0 - 2.0 * np.cos(np.pi * np.arange(n) / n)
    mu = spec.diffusion_um2_per_s * 60.0 * (k[:, None] + k[None, :]) / site_um**2 + np.log(2.0) / spec.half_life_min
    keep, gain = np.exp(-mu * dt_min), -np.expm1(-mu * dt_min) / mu
    spectrum = keep * fft.dctn(u, norm="ortho") + gain * fft.dctn(src, norm="ortho")
    if modes is not None:
        spectrum[modes[0]:, :] = 0.0
        spectrum[:, modes[1]:] = 0.0
    return fft.idctn(spectrum, norm="ortho")


@pytest.mark.parametrize("path", ["lowest modes", "all modes by matrices", "all modes by transforms"])
def test_spectra_kept_as_state_and_shared_source_transforms_give_the_full_step(path, monkeypatch):
    if path != "lowest modes":  # every mode resolved
        monkeypatch.setattr("tumour_abm.cosine_modes.MODE_SHARE", 0.0)
    if path == "all modes by transforms":  # and matrix products priced out
        monkeypatch.setattr("tumour_abm.cosine_modes.PRODUCT_TO_TRANSFORM_COST", 1e9)
    f = make_fields()
    params = AllFieldParams()
    names = ("chemokine", "tgfb")
    all_modes = path != "lowest modes"
    states = f._spectra if path == "all modes by transforms" else f._modal
    for name in names:
        kept = states[name].shape[0]
        assert kept == 40 if all_modes else kept < 20, (name, kept)
    rng = np.random.default_rng(3)
    expected = {name: np.zeros((40, 40)) for name in names}
    for _ in range(10):
        cells = (rng.random((40, 40)) < 0.1).astype(np.float32)
        f.step([(cells, {"chemokine": 0.02, "tgfb": 0.002})])  # one pattern, two fields, one transform
        for name, rate in (("chemokine", 0.02), ("tgfb", 0.002)):
            modes = None if all_modes else f._modal[name].shape
            expected[name] = reference_step(expected[name], cells * rate, getattr(params, name), modes=modes)
            assert np.abs(f[name] - np.maximum(expected[name], 0)).max() < 1e-4 * expected[name].max(), name


@pytest.mark.parametrize("pattern", ["scattered", "disc"])
def test_long_range_fields_in_their_lowest_modes_stay_close_to_the_full_solution(pattern):
    """The default IL-10, TGF-β and chemokine keep about a third of the modes along each axis; at the sources'
    sites, where cells read them, they differ from the full solution by at most a few per cent of its peak."""
    n = 100
    f = make_fields(n=n)
    params = AllFieldParams()
    rng = np.random.default_rng(5)
    if pattern == "scattered":  # e.g. macrophages, one site in 20
        src = (rng.random((n, n)) < 0.05).astype(np.float32)
    else:  # a tumour disc
        xs, ys = np.mgrid[:n, :n]
        src = ((xs - 40) ** 2 + (ys - 55) ** 2 < 15**2).astype(np.float32)
    full = {name: np.zeros((n, n)) for name in ("il10", "tgfb", "chemokine")}
    for _ in range(12):
        f.step({name: src * 0.01 for name in full})
        for name in full:
            full[name] = reference_step(full[name], src * 0.01, getattr(params, name))
    for name, u in full.items():
        assert f._modal[name].shape[0] < n / 2, name  # what makes it cheap
        error = np.abs(f[name] - u)[src > 0]
        assert error.max() < 0.03 * u.max(), name
        assert np.median(error) < 0.005 * u.max(), name


@pytest.mark.parametrize("n_sources", [3, 400])  # few: the kernel; many: the transforms
def test_ifng_is_its_quasi_steady_response_either_way(n_sources):
    n = 120
    f = make_fields(n=n)
    rng = np.random.default_rng(n_sources)
    src = np.zeros((n, n), dtype=np.float32)
    src.flat[rng.choice(n * n, size=n_sources, replace=False)] = 1.0
    src[0, 0] = src[n - 1, 17] = 1.0  # at the edges too, where the no-flux boundary reflects
    assert f._kernels["ifng"].cheaper_than_transforms([src]) == (n_sources < 10)
    f.step({"ifng": src * 0.5})
    expected = reference_step(np.zeros((n, n)), src * 0.5, AllFieldParams().ifng)
    assert np.abs(f["ifng"] - expected).max() < 1e-3 * expected.max()
    assert f["ifng"].sum() == pytest.approx(expected.sum(), rel=1e-3)


@pytest.mark.parametrize("name", ["chemokine", "nets"])
def test_a_field_without_sources_is_zeroed_once_negligible_and_only_then(name):
    from tumour_abm.fields import NEGLIGIBLE_AU

    f = make_fields()
    f.set(name, 1.0)
    steps_above = 0
    while f[name].max() > 0 and steps_above < 20_000:
        before = float(f[name].max())
        f.step({})
        if f[name].max() > 0:
            steps_above += 1
            assert f[name].max() >= NEGLIGIBLE_AU  # nothing above the floor is dropped ...
        else:
            # ... and the step that zeroes it had left less than the floor everywhere (it decays by keep ≤ 1)
            assert before * float(f._propagators[name][0].max()) < NEGLIGIBLE_AU * 1.01
    assert not f[name].any()
    f.step({})  # with no source it stays zero and is not stepped
    assert not f[name].any()
    source = np.zeros((40, 40), dtype=np.float32)
    source[5, 5] = 1.0
    f.step({name: source})  # a new source brings it back
    assert f[name][5, 5] > 0


@pytest.mark.parametrize("name", ["il10", "chemokine", "ifng"])
def test_silent_lists_a_diffusing_field_exactly_while_it_is_zero_everywhere(name):
    """Cells skip reading a silent field; it must never be listed while any site holds some of it."""
    f = make_fields()
    assert name in f.silent and not f[name].any()
    source = np.zeros((40, 40), dtype=np.float32)
    source[5, 5] = 1.0
    f.step({name: source})
    assert name not in f.silent and f[name].any()
    steps = 0
    while name not in f.silent and steps < 20_000:
        f.step({})
        steps += 1
        assert (name in f.silent) == (not f[name].any())
    assert name in f.silent
    f.set(name, 0.5)
    assert name not in f.silent
    assert "nets" not in f.silent  # written by neutrophils directly: never known to be zero
