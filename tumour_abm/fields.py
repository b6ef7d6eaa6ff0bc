"""Diffusing signals on the grid (IL-10, TGF-β, IFN-γ, chemokine, NET density) as float32 property layers.

Each step solves  du/dt = D∇²u − λu + s  exactly for a source held constant over the step, in the cosine
basis of the no-flux (reflecting) grid Laplacian:  û ← û·e^{−μdt} + ŝ·(1 − e^{−μdt})/μ,  μ = Dκ + λ.
Explicit stepping would be unstable at dt = 30 min (D·dt/dx² ≈ 225); this form is stable at any dt and
does not drift with dt. Concentrations are in arbitrary units (a.u.); secretion in a.u. per cell per hour.
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import PropertyLayer
from scipy import fft

from .params import ASSUMED, Params, param, section, variant

FIELD_NAMES = ("il10", "tgfb", "ifng", "chemokine", "nets")


class CytokineFieldParams(Params):
    """Transport of one diffusing signal (defaults: IL-10)."""

    diffusion_um2_per_s: float = param(75.0, unit="µm²/s", source=f"{ASSUMED}; 50-100 µm²/s (biology.md)", ge=0)
    half_life_min: float = param(60.0, unit="min", source="IL-10 / TGF-β half-life 60 min (biology.md)", gt=0)


TgfbFieldParams = CytokineFieldParams
IfngFieldParams = variant(
    CytokineFieldParams, "IfngFieldParams",
    diffusion_um2_per_s=(50.0, f"{ASSUMED}; 50-100 µm²/s (biology.md)"),
    half_life_min=(0.3, f"{ASSUMED}: uptake makes IFN-γ spread only 30-40 µm (biology.md); sqrt(D·t½/ln2) ≈ 33 µm"),
)
ChemokineFieldParams = variant(
    CytokineFieldParams, "ChemokineFieldParams",
    diffusion_um2_per_s=(100.0, f"{ASSUMED}; small chemokines diffuse faster than cytokines"),
    half_life_min=(30.0, f"{ASSUMED}: gradient reaches a few hundred µm (sqrt(D·t½/ln2) ≈ 510 µm)"),
)
NetsFieldParams = variant(
    CytokineFieldParams, "NetsFieldParams",
    diffusion_um2_per_s=(0.0, "NETs are deposited chromatin and do not diffuse"),
    half_life_min=(24 * 60.0, f"NET half-life 24 h ({ASSUMED}, biology.md)"),
)


class AllFieldParams(Params):
    il10: CytokineFieldParams = section(CytokineFieldParams, "IL-10, secreted by M2 macrophages")
    tgfb: TgfbFieldParams = section(TgfbFieldParams, "TGF-β, secreted by M2 macrophages and cancer cells")
    ifng: IfngFieldParams = section(IfngFieldParams, "IFN-γ, secreted by active NK cells and M1 macrophages")
    chemokine: ChemokineFieldParams = section(ChemokineFieldParams, "chemokine, secreted by cancer cells")
    nets: NetsFieldParams = section(NetsFieldParams, "NET density, left where neutrophils make NETs")


class Fields:
    """The field layers of one grid, and their exact step."""

    def __init__(self, grid, params: AllFieldParams, site_um: float, dt_min: float):
        shape = tuple(grid.dimensions)
        self.layers: dict[str, np.ndarray] = {}
        self._propagators: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._spectral: dict[str, bool] = {}
        kappa = _neumann_laplacian_eigenvalues(shape, site_um)
        for name in FIELD_NAMES:
            layer = PropertyLayer(name, shape, default_value=0.0, dtype=np.float32)
            grid.add_property_layer(layer)
            self.layers[name] = layer.data
            spec = getattr(params, name)
            decay_per_min = np.log(2.0) / spec.half_life_min
            diffusion_um2_per_min = spec.diffusion_um2_per_s * 60.0
            self._spectral[name] = diffusion_um2_per_min > 0
            mu = diffusion_um2_per_min * kappa + decay_per_min if self._spectral[name] else np.array(decay_per_min)
            keep = np.exp(-mu * dt_min)
            gain = -np.expm1(-mu * dt_min) / mu  # μ > 0 always: every field decays
            self._propagators[name] = (keep.astype(np.float32), gain.astype(np.float32))

    def __getitem__(self, name: str) -> np.ndarray:
        return self.layers[name]

    def step(self, sources_per_min: dict[str, np.ndarray]) -> None:
        """Advance every field one step; `sources_per_min` maps field name → a.u./min per site (absent = none)."""
        for name, u in self.layers.items():
            src = sources_per_min.get(name)
            has_source = src is not None and bool(np.any(src))
            if not has_source and not np.any(u):
                continue  # nothing there and nothing made: don't step what does not change
            keep, gain = self._propagators[name]
            src = np.zeros_like(u) if src is None else np.asarray(src, dtype=np.float32)
            if self._spectral[name]:
                new = fft.idctn(
                    keep * fft.dctn(u, type=2, norm="ortho") + gain * fft.dctn(src, type=2, norm="ortho"),
                    type=2,
                    norm="ortho",
                )
            else:
                new = keep * u + gain * src
            # Round-off in the transforms can leave tiny negatives where a field is essentially zero.
            np.maximum(new, 0.0, out=u)

    def mean(self, name: str) -> float:
        return float(self.layers[name].mean(dtype=np.float64))


def _neumann_laplacian_eigenvalues(shape: tuple[int, int], site_um: float) -> np.ndarray:
    """−∇² eigenvalues of the 5-point Laplacian with reflecting edges, matched to the DCT-II basis."""
    kx = 2.0 - 2.0 * np.cos(np.pi * np.arange(shape[0]) / shape[0])
    ky = 2.0 - 2.0 * np.cos(np.pi * np.arange(shape[1]) / shape[1])
    return (kx[:, None] + ky[None, :]) / site_um**2
