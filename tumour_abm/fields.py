"""Diffusing signals on the grid (IL-10, TGF-β, IFN-γ, chemokine, NET density) as float32 property layers.

Each step solves  du/dt = D∇²u − λu + s  exactly for a source held constant over the step, in the cosine
basis of the no-flux (reflecting) grid Laplacian:  û ← û·e^{−μdt} + ŝ·(1 − e^{−μdt})/μ,  μ = Dκ + λ.
Explicit stepping would be unstable at dt = 30 min (D·dt/dx² ≈ 225); this form is stable at any dt and
does not drift with dt. Concentrations are in arbitrary units (a.u.); secretion in a.u. per cell per hour.

Only the transforms a step needs are made, and only as large as needed:
- A diffusing field keeps its spectrum û as its state, in the modes it resolves (`cosine_modes`). The long-range
  signals keep about a third of them along each axis, and are transformed by small matrix products where that is
  cheaper than full transforms. Reading a field costs one inverse transform a step.
- Sources that share a pattern (chemokine and TGF-β from the same cancer cells) share one forward transform.
- A field that forgets its past within a step (IFN-γ: half-life 0.3 min against dt = 30 min) is its quasi-steady
  response: the source spread by a small fixed kernel where sources are few (no transform at all), else one
  transform each way.
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import PropertyLayer
from scipy import fft

from .cosine_modes import CosineModes, modes_are_cheaper, resolved_modes
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
        # The state of a diffusing field is its spectrum: in the lowest cosine modes, if it needs no more of them
        # and that is cheaper (`_modal`, projected and expanded by `_basis`), else in all of them (`_spectra`, rows
        # of one array so that a step's inverse transform of all of them reads it in place).
        self._spectra: dict[str, np.ndarray] = {}
        self._modal: dict[str, np.ndarray] = {}
        self._propagators: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._kernels: dict[str, _Kernel] = {}
        # Diffusing fields known to be zero everywhere (no source, nothing left), which cells need not read; the
        # NET layer is written by neutrophils directly, so it is never listed.
        self.silent: set[str] = set()
        kappa = _neumann_laplacian_eigenvalues(shape, site_um)
        specs = {name: getattr(params, name) for name in FIELD_NAMES}
        modes = {}
        for name, spec in specs.items():
            if spec.diffusion_um2_per_s > 0:
                rates = (spec.diffusion_um2_per_s * 60.0, np.log(2.0) / spec.half_life_min, dt_min)
                resolved = tuple(resolved_modes(n, site_um, *rates) for n in shape)
                if modes_are_cheaper(shape, resolved):  # (on small grids, even all the modes may be)
                    modes[name] = resolved
        full = [name for name in FIELD_NAMES if specs[name].diffusion_um2_per_s > 0 and name not in modes]
        self._state = np.zeros((len(full), *shape), dtype=np.float32)
        self._basis = CosineModes(shape, tuple(max(m[axis] for m in modes.values()) for axis in (0, 1))) \
            if modes else None
        for name, spec in specs.items():
            layer = PropertyLayer(name, shape, default_value=0.0, dtype=np.float32)
            grid.add_property_layer(layer)
            self.layers[name] = layer.data
            decay_per_min = np.log(2.0) / spec.half_life_min
            diffusion_um2_per_min = spec.diffusion_um2_per_s * 60.0
            if diffusion_um2_per_min <= 0:
                mu = np.array(decay_per_min)
            else:
                mu = diffusion_um2_per_min * kappa + decay_per_min
            if name in modes:
                mu = mu[: modes[name][0], : modes[name][1]]
                self._modal[name] = np.zeros(modes[name], dtype=np.float32)
            keep = np.exp(-mu * dt_min)
            gain = -np.expm1(-mu * dt_min) / mu  # μ > 0 always: every field decays
            if name in full:
                self._spectra[name] = self._state[full.index(name)]
            if diffusion_um2_per_min > 0:
                reach_sites = KERNEL_REACH_LENGTHS * np.sqrt(diffusion_um2_per_min / decay_per_min) / site_um
                if np.exp(-decay_per_min * dt_min) < QUASI_STEADY_MEMORY and reach_sites <= max(shape):
                    self._kernels[name] = _Kernel.of(diffusion_um2_per_min, decay_per_min, dt_min, site_um, shape)
            self._propagators[name] = (keep.astype(np.float32), gain.astype(np.float32))
            if diffusion_um2_per_min > 0:
                self.silent.add(name)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.layers[name]

    def set(self, name: str, values) -> None:
        """Write a field (e.g. a test's initial condition); a diffusing field's spectrum follows."""
        self.layers[name][...] = values
        if self.layers[name].any():
            self.silent.discard(name)
        if name in self._spectra:
            self._spectra[name][...] = fft.dctn(self.layers[name], type=2, norm="ortho")
        elif name in self._modal:  # the layer shows what was set until the next step; the state, its modes
            self._modal[name][...] = self._basis.project(self.layers[name], self._modal[name].shape)

    def step(self, sources) -> None:
        """Advance every field one step. `sources`: a list of (amount per site, {field: a.u./min per unit amount})
        — one site pattern (e.g. cancer cells per site) feeding several fields — or a dict field → a.u./min per
        site."""
        if isinstance(sources, dict):
            sources = [(src, {name: 1.0}) for name, src in sources.items()]
        sources = [(np.asarray(a, dtype=np.float32), rates) for a, rates in sources if a.any()]
        feeds = {name: [(a, rates[name]) for a, rates in sources if rates.get(name, 0.0) > 0] for name in self.layers}
        by_kernel = {name for name, kernel in self._kernels.items()
                     if kernel.cheaper_than_transforms([a for a, _ in feeds[name]])}
        for name in by_kernel:
            self._clear_state(name)  # the past is forgotten within the step: no state carried
            if feeds[name] or self.layers[name].any():  # else no source and nothing left: it stays zero
                self.layers[name][...] = self._kernels[name].respond(feeds[name])
        # Don't step what does not change.
        modal = [name for name, state in self._modal.items() if name not in by_kernel and (feeds[name] or state.any())]
        full = [name for name, state in self._spectra.items()
                if name not in by_kernel and (feeds[name] or state.any())]
        stepped = set(modal) | set(full)
        self.silent = {name for name in (*self._modal, *self._spectra)
                       if not feeds[name] and (name in by_kernel or name not in stepped)}
        if modal:
            self._step_modes(modal, feeds)
        if full:
            self._step_transforms(full, feeds)
        for name in FIELD_NAMES:
            if name in self._modal or name in self._spectra or name in by_kernel:
                continue
            u = self.layers[name]
            if feeds[name] or u.any():  # a field that does not diffuse decays where it is
                keep, gain = self._propagators[name]
                u *= keep
                for a, rate in feeds[name]:
                    u += gain * np.float32(rate) * a
                if not feeds[name]:
                    self._forget_if_negligible(name)

    def _sources(self, names: list[str], feeds) -> tuple[np.ndarray, dict[str, list[tuple[int, float]]]]:
        """This step's sources of `names` as rows to transform, and each field's rows. A pattern that feeds several
        of them is a row of its own (transformed once, scaled in the spectrum by each field's rate); a field's other
        patterns are summed in space into one row, so that each field needs at most one transform of its own."""
        uses: dict[int, int] = {}
        for name in names:
            for a, _ in feeds[name]:
                uses[id(a)] = uses.get(id(a), 0) + 1
        at: dict[object, int] = {}  # a shared pattern's id, or a field's name (its own sum) → its row
        for name in names:
            for a, _ in feeds[name]:
                at.setdefault(id(a) if uses[id(a)] > 1 else name, len(at))
        rows = np.empty((len(at), *self.shape), dtype=np.float32)  # written in place: no stacking copy
        scaled: dict[str, list[tuple[int, float]]] = {}  # field → (row, rate to scale its spectrum by)
        for name in names:
            own = None
            scaled[name] = []
            for a, rate in feeds[name]:
                if uses[id(a)] == 1:
                    own = _add_scaled(own, a, rate, out=rows[at[name]])
                else:
                    rows[at[id(a)]] = a  # a shared pattern (written again by each field it feeds: the same)
                    scaled[name].append((at[id(a)], rate))
            if own is not None:
                scaled[name].append((at[name], 1.0))
        return rows, scaled

    def _propagate(self, name: str, state: np.ndarray, spectra, rows: list[tuple[int, float]]) -> None:
        """One step of a field's spectrum: its past decays, this step's source is added, in place."""
        keep, gain = self._propagators[name]
        state *= keep
        k0, k1 = state.shape
        for row, rate in rows:
            state += (gain * np.float32(rate)) * spectra[row][:k0, :k1]

    def _step_modes(self, names: list[str], feeds) -> None:
        """Advance the fields carried in their lowest modes, by the basis matrices; a row of sources is projected
        onto as many modes as the widest of the fields it feeds keeps."""
        rows, scaled = self._sources(names, feeds)
        widest = [(0, 0)] * len(rows)
        for name in names:
            for row, _ in scaled[name]:
                widest[row] = tuple(max(k, w) for k, w in zip(self._modal[name].shape, widest[row]))
        spectra = [self._basis.project(values, modes) for values, modes in zip(rows, widest)]
        for name in names:
            state, layer = self._modal[name], self.layers[name]
            self._propagate(name, state, spectra, scaled[name])
            self._basis.expand(state, out=layer)
            # The modes left out, and round-off, can leave small ripples below zero where a field is about zero.
            np.maximum(layer, 0.0, out=layer)
            if not feeds[name]:
                self._forget_if_negligible(name)

    def _step_transforms(self, names: list[str], feeds) -> None:
        """Advance the fields carried in all their modes, by full cosine transforms: every forward transform of the
        step in one call, then every inverse one (scipy does a stack of transforms faster than one at a time, and
        each transform is the same as on its own)."""
        rows, scaled = self._sources(names, feeds)
        spectra = fft.dctn(rows, type=2, norm="ortho", axes=(1, 2)) if len(rows) else None
        for name in names:
            self._propagate(name, self._spectra[name], spectra, scaled[name])
        names.sort(key=FIELD_NAMES.index)
        every = len(names) == len(self._spectra)  # then in FIELD_NAMES order, as the state's rows are
        state = self._state if every else np.stack([self._spectra[name] for name in names])
        for name, value in zip(names, fft.idctn(state, type=2, norm="ortho", axes=(1, 2))):
            np.maximum(value, 0.0, out=self.layers[name])  # round-off can leave tiny negatives about zero
            if not feeds[name]:
                self._forget_if_negligible(name)

    def _clear_state(self, name: str) -> None:
        for states in (self._spectra, self._modal):
            if name in states:
                states[name][...] = 0.0

    def _forget_if_negligible(self, name: str) -> None:
        """Zero a field with no source once it is below NEGLIGIBLE_AU everywhere; it then stays zero, unstepped,
        until a source appears."""
        layer = self.layers[name]
        if layer.max() < NEGLIGIBLE_AU:
            layer[...] = 0.0
            self._clear_state(name)
            if name in self._modal or name in self._spectra:
                self.silent.add(name)

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
