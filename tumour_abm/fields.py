"""Diffusing signals on the grid (IL-10, TGF-β, IFN-γ, chemokine, NET density) as float32 property layers.

Each step solves  du/dt = D∇²u − λu + s  exactly for a source held constant over the step, in the cosine
basis of the no-flux (reflecting) grid Laplacian:  û ← û·e^{−μdt} + ŝ·(1 − e^{−μdt})/μ,  μ = Dκ + λ.
Explicit stepping would be unstable at dt = 30 min (D·dt/dx² ≈ 225); this form is stable at any dt and
does not drift with dt. Concentrations are in arbitrary units (a.u.); secretion in a.u. per cell per hour.

Only the transforms a step needs are made: a diffusing field keeps its spectrum û as its state (one inverse
transform a step, to be read), sources that share a pattern (chemokine and TGF-β from the same cancer cells) share
one forward transform, and a field that forgets its past within a step (IFN-γ: half-life 0.3 min against dt = 30
min) is its quasi-steady response: the source spread by a small fixed kernel where sources are few (no transform
at all), else one transform each way.
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import PropertyLayer
from scipy import fft

from .params import ASSUMED, Params, param, section, variant

FIELD_NAMES = ("il10", "tgfb", "ifng", "chemokine", "nets")
# A field is quasi-steady when its slowest mode keeps less than this of its value over a step (e^{-λ·dt}).
QUASI_STEADY_MEMORY = 1e-6
# Its kernel is cut where what lies outside is below this share of the response's mass ...
KERNEL_TAIL_MASS = 1e-4
# ... after the response to a unit source has been computed out to this many decay lengths, sqrt(D/λ); a field
# whose decay length is so long that this reaches past the grid has no kernel (it takes the transforms).
KERNEL_REACH_LENGTHS = 30
# A field without sources that has fallen below this everywhere is zero from then on (a.u.). Cells respond to
# signals around their half-saturating levels (0.5 a.u. by default): 10^-12 of that moves no cell, while carrying a
# vanishing field on would cost two transforms a step for days after its sources are gone (a cleared tumour's
# chemokine), and float32 arithmetic slows down once values fall below its normal range (~1e-38).
NEGLIGIBLE_AU = 1e-12


class CytokineFieldParams(Params):
    """Transport of one diffusing signal (defaults: IL-10)."""

    diffusion_um2_per_s: float = param(75.0, unit="µm²/s", source=f"{ASSUMED}; 50-100 µm²/s (biology.md)", ge=0)
    half_life_min: float = param(60.0, unit="min", source="IL-10 / TGF-β half-life 60 min (biology.md)", gt=0)


TgfbFieldParams = CytokineFieldParams
IfngFieldParams = variant(
    CytokineFieldParams, "IfngFieldParams",
    diffusion_um2_per_s=(50.0, f"{ASSUMED}; 50-100 µm²/s (biology.md)"),
    half_life_min=(0.3, f"{ASSUMED}: uptake makes IFN-γ spread only 30-40 µm (biology.md); sqrt(D·t½/ln2) ≈ 36 µm"),
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
    """The field layers of one grid, and their exact step.

    A layer is what cells read; write a diffusing field with `set()` (its state is its spectrum)."""

    def __init__(self, grid, params: AllFieldParams, site_um: float, dt_min: float):
        shape = tuple(grid.dimensions)
        self.shape = shape
        self.layers: dict[str, np.ndarray] = {}
        # The state of the diffusing fields: their spectra, as rows of one array so that a step's inverse transform
        # of all of them reads it in place.
        self._spectra: dict[str, np.ndarray] = {}
        self._propagators: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._kernels: dict[str, _Kernel] = {}
        kappa = _neumann_laplacian_eigenvalues(shape, site_um)
        diffusing = [name for name in FIELD_NAMES if getattr(params, name).diffusion_um2_per_s > 0]
        self._state = np.zeros((len(diffusing), *shape), dtype=np.float32)
        for name in FIELD_NAMES:
            layer = PropertyLayer(name, shape, default_value=0.0, dtype=np.float32)
            grid.add_property_layer(layer)
            self.layers[name] = layer.data
            spec = getattr(params, name)
            decay_per_min = np.log(2.0) / spec.half_life_min
            diffusion_um2_per_min = spec.diffusion_um2_per_s * 60.0
            if diffusion_um2_per_min <= 0:
                mu = np.array(decay_per_min)
            else:
                mu = diffusion_um2_per_min * kappa + decay_per_min
            keep = np.exp(-mu * dt_min)
            gain = -np.expm1(-mu * dt_min) / mu  # μ > 0 always: every field decays
            if diffusion_um2_per_min > 0:
                self._spectra[name] = self._state[diffusing.index(name)]
                reach_sites = KERNEL_REACH_LENGTHS * np.sqrt(diffusion_um2_per_min / decay_per_min) / site_um
                if np.exp(-decay_per_min * dt_min) < QUASI_STEADY_MEMORY and reach_sites <= max(shape):
                    self._kernels[name] = _Kernel.of(diffusion_um2_per_min, decay_per_min, dt_min, site_um, shape)
            self._propagators[name] = (keep.astype(np.float32), gain.astype(np.float32))

    def __getitem__(self, name: str) -> np.ndarray:
        return self.layers[name]

    def set(self, name: str, values) -> None:
        """Write a field (e.g. a test's initial condition); a diffusing field's spectrum follows."""
        self.layers[name][...] = values
        if name in self._spectra:
            self._spectra[name][...] = fft.dctn(self.layers[name], type=2, norm="ortho")

    def step(self, sources) -> None:
        """Advance every field one step. `sources`: a list of (amount per site, {field: a.u./min per unit amount})
        — one site pattern (e.g. cancer cells per site) feeding several fields — or a dict field → a.u./min per
        site."""
        if isinstance(sources, dict):
            sources = [(src, {name: 1.0}) for name, src in sources.items()]
        sources = [(np.asarray(a, dtype=np.float32), rates) for a, rates in sources if np.any(a)]
        feeds = {name: [(a, rates[name]) for a, rates in sources if rates.get(name, 0.0) > 0] for name in self.layers}
        by_kernel = {name for name, kernel in self._kernels.items()
                     if kernel.cheaper_than_transforms([a for a, _ in feeds[name]])}
        # A pattern that feeds several transformed fields is transformed once; a field's other patterns are
        # summed in space first, so that each field needs at most one transform of its own.
        uses: dict[int, int] = {}
        for name in self._spectra.keys() - by_kernel:
            for a, _ in feeds[name]:
                uses[id(a)] = uses.get(id(a), 0) + 1
        advancing = [name for name in self._spectra.keys() - by_kernel
                     if feeds[name] or self._spectra[name].any()]  # don't step what does not change
        advancing.sort(key=FIELD_NAMES.index)

        # Every forward transform of the step in one call, then every inverse one (scipy does a stack of
        # transforms faster than one at a time, and each transform is the same as on its own).
        at: dict[object, int] = {}  # a shared pattern's id, or a field's name (its own sum) → its row in inputs
        for name in advancing:
            for a, _ in feeds[name]:
                key = id(a) if uses[id(a)] > 1 else name
                at.setdefault(key, len(at))
        inputs = np.empty((len(at), *self.shape), dtype=np.float32)  # written in place: no stacking copy
        for name in advancing:
            own = None
            for a, rate in feeds[name]:
                if uses[id(a)] == 1:
                    own = _add_scaled(own, a, rate, out=inputs[at[name]])
                else:
                    inputs[at[id(a)]] = a  # a shared pattern (written again by each field it feeds: the same)
        spectra = fft.dctn(inputs, type=2, norm="ortho", axes=(1, 2)) if at else None
        for name in advancing:
            keep, gain = self._propagators[name]
            state = self._spectra[name]
            state *= keep
            made = None  # this step's source, as a spectrum
            for a, rate in feeds[name]:
                if uses[id(a)] > 1:
                    made = _add_scaled(made, spectra[at[id(a)]], rate)
            if name in at:  # the field's own sum: its row is used once
                made = spectra[at[name]] if made is None else np.add(made, spectra[at[name]], out=made)
            if made is not None:
                made *= gain
                state += made
        if advancing:
            every = len(advancing) == len(self._spectra)  # then in FIELD_NAMES order, as the state's rows are
            state = self._state if every else np.stack([self._spectra[name] for name in advancing])
            values = fft.idctn(state, type=2, norm="ortho", axes=(1, 2))
            for name, value in zip(advancing, values):
                # Round-off in the transform can leave tiny negatives where a field is essentially zero.
                np.maximum(value, 0.0, out=self.layers[name])
                if not feeds[name]:
                    self._forget_if_negligible(name)

        for name, u in self.layers.items():
            keep, gain = self._propagators[name]
            if name in by_kernel:
                if not feeds[name] and not u.any():
                    self._spectra[name][...] = 0.0
                    continue  # no source and nothing left: the response stays zero
                u[...] = self._kernels[name].respond(feeds[name])
                self._spectra[name][...] = 0.0  # the past is forgotten within the step: no state carried
            elif name not in self._spectra and (feeds[name] or u.any()):
                u *= keep
                for a, rate in feeds[name]:
                    u += gain * np.float32(rate) * a
                if not feeds[name]:
                    self._forget_if_negligible(name)

    def _forget_if_negligible(self, name: str) -> None:
        """Zero a field with no source once it is below NEGLIGIBLE_AU everywhere; it then stays zero, unstepped,
        until a source appears."""
        layer = self.layers[name]
        if layer.max() < NEGLIGIBLE_AU:
            layer[...] = 0.0
            if name in self._spectra:
                self._spectra[name][...] = 0.0

    def mean(self, name: str) -> float:
        return float(self.layers[name].mean(dtype=np.float64))


class _Kernel:
    """The quasi-steady response to a unit source on one site, cut where its tail is negligible, applied by
    adding it around each source site (reflected at the grid's edges, as the no-flux boundary does)."""

    def __init__(self, dx: np.ndarray, dy: np.ndarray, weights: np.ndarray, shape: tuple[int, int]):
        self.dx, self.dy, self.weights, self.shape = dx, dy, weights, shape

    @classmethod
    def of(cls, diffusion_um2_per_min: float, decay_per_min: float, dt_min: float, site_um: float,
           shape: tuple[int, int]) -> _Kernel:
        # The response on a grid wide enough that its own edges do not matter, by the same exact step.
        length_sites = np.sqrt(diffusion_um2_per_min / decay_per_min) / site_um
        half = int(np.ceil(KERNEL_REACH_LENGTHS * length_sites)) + 2
        n = 2 * half + 1
        kappa = _neumann_laplacian_eigenvalues((n, n), site_um)
        mu = diffusion_um2_per_min * kappa + decay_per_min
        unit = np.zeros((n, n))
        unit[half, half] = 1.0
        response = fft.idctn(-np.expm1(-mu * dt_min) / mu * fft.dctn(unit, norm="ortho"), norm="ortho")
        radius = half
        total = response.sum()
        while radius > 0:
            inner = response[half - radius + 1 : half + radius, half - radius + 1 : half + radius].sum()
            if 1.0 - inner / total > KERNEL_TAIL_MASS:
                break
            radius -= 1
        radius = min(radius, min(shape) - 1)  # a reflection folds an offset back onto the grid only once
        block = response[half - radius : half + radius + 1, half - radius : half + radius + 1]
        dx, dy = np.meshgrid(np.arange(-radius, radius + 1), np.arange(-radius, radius + 1), indexing="ij")
        keep = block > 0
        return cls(dx[keep], dy[keep], block[keep], shape)

    def cheaper_than_transforms(self, amounts: list[np.ndarray]) -> bool:
        """Spreading each source site by the kernel costs its size per site; the transforms cost about the grid."""
        sites = sum(int(np.count_nonzero(a)) for a in amounts)
        return sites * len(self.weights) <= self.shape[0] * self.shape[1]

    def respond(self, feeds: list[tuple[np.ndarray, float]]) -> np.ndarray:
        w, h = self.shape
        total = np.zeros(w * h, dtype=np.float64)
        for amount, rate in feeds:
            xs, ys = np.nonzero(amount)
            if not len(xs):
                continue
            x = _reflect(xs[:, None] + self.dx[None, :], w)
            y = _reflect(ys[:, None] + self.dy[None, :], h)
            strength = (amount[xs, ys].astype(np.float64) * rate)[:, None] * self.weights[None, :]
            total += np.bincount((x * h + y).ravel(), weights=strength.ravel(), minlength=w * h)
        return total.reshape(self.shape).astype(np.float32)


def _add_scaled(total: np.ndarray | None, values: np.ndarray, rate: float, out: np.ndarray | None = None) -> np.ndarray:
    """total + rate·values, the first time into `out` (or a new array); `values` are never written."""
    if total is None:
        return np.multiply(values, np.float32(rate), out=out)
    total += values * np.float32(rate)
    return total


def _reflect(i: np.ndarray, n: int) -> np.ndarray:
    """Fold indices beyond the edges back in, about the edge (the no-flux boundary of the cosine basis)."""
    i = np.where(i < 0, -i - 1, i)
    return np.where(i >= n, 2 * n - 1 - i, i)


def _neumann_laplacian_eigenvalues(shape: tuple[int, int], site_um: float) -> np.ndarray:
    """−∇² eigenvalues of the 5-point Laplacian with reflecting edges, matched to the DCT-II basis."""
    kx = 2.0 - 2.0 * np.cos(np.pi * np.arange(shape[0]) / shape[0])
    ky = 2.0 - 2.0 * np.cos(np.pi * np.arange(shape[1]) / shape[1])
    return (kx[:, None] + ky[None, :]) / site_um**2
