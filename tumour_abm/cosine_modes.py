"""The lowest modes of the grid's cosine basis, for fields that need no more of it.

A long-range signal (IL-10, TGF-β, chemokine: decay lengths of 25-30 sites) answers a source mostly in its slow,
smooth modes: the steady response of a mode to a source is λ/(Dκ + λ) of the uniform mode's, which is below 10^-3
from about a third of the modes along each axis on. Such a field is carried in the modes it resolves only, and its
transforms become two small matrix products each way (the basis rows as a matrix), several times cheaper than a
full cosine transform of the grid and exact in the modes kept.
"""

from __future__ import annotations

import numpy as np
from scipy import fft

# A field keeps the modes (along each axis) whose steady response to a source is at least this share of the uniform
# mode's, or that keep at least this share of themselves over one step (a field that lives long remembers its
# detail). What is dropped is below the grid's own error: where this cut falls for the default fields the 5-point
# Laplacian's eigenvalue is 9-14 % off the continuum's. Measured against the full basis over the reference
# scenarios: fields at occupied sites within 2 % of the full solution's peak, medians within 0.2 %.
MODE_SHARE = 1e-3
# A multiply-add of a matrix product costs about this share of one site's work per level (log2 of the sites) of a
# full cosine transform (measured with scipy's and numpy's libraries on grids of 100-1,000 sites a side); a field
# takes the modes only where that is cheaper than the transforms.
PRODUCT_TO_TRANSFORM_COST = 1 / 20


def resolved_modes(n: int, site_um: float, diffusion_um2_per_min: float, decay_per_min: float, dt_min: float) -> int:
    """How many of the n cosine modes along one axis a field resolves (a prefix: both shares fall with the mode)."""
    kappa = (2.0 - 2.0 * np.cos(np.pi * np.arange(n) / n)) / site_um**2
    mu = diffusion_um2_per_min * kappa + decay_per_min
    kept = (decay_per_min / mu >= MODE_SHARE) | (np.exp(-mu * dt_min) >= MODE_SHARE)
    return max(1, int(np.count_nonzero(kept)))


def modes_are_cheaper(shape: tuple[int, int], modes: tuple[int, int]) -> bool:
    """Whether projecting onto and expanding from `modes` costs less than the full transforms."""
    (n0, n1), (k0, k1) = shape, modes
    products = n0 * n1 * k1 + n0 * k0 * k1  # one way: along the second axis, then the first
    return products * PRODUCT_TO_TRANSFORM_COST < n0 * n1 * np.log2(n0 * n1)


class CosineModes:
    """The first rows of the orthonormal DCT-II matrices of a grid's two axes; a field's spectrum restricted to its
    first k0 × k1 modes is `project(u)[:k0, :k1]`, and the field of such a spectrum is `expand(s)`."""

    def __init__(self, shape: tuple[int, int], modes: tuple[int, int]):
        self.shape, self.modes = shape, modes
        self._rows = [fft.dct(np.eye(n), norm="ortho", axis=0)[:k].astype(np.float32) for n, k in zip(shape, modes)]

    def project(self, values: np.ndarray, modes: tuple[int, int] | None = None) -> np.ndarray:
        """The first `modes` (default: all this basis has) of the cosine spectrum of `values`."""
        k0, k1 = modes or self.modes
        c0, c1 = self._rows[0][:k0], self._rows[1][:k1]
        return c0 @ (np.asarray(values, dtype=np.float32) @ c1.T)

    def expand(self, spectrum: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The field on the grid of a spectrum of the first k0 × k1 modes (its shape)."""
        k0, k1 = spectrum.shape
        c0, c1 = self._rows[0][:k0], self._rows[1][:k1]
        return np.matmul(c0.T, spectrum @ c1, out=out)
