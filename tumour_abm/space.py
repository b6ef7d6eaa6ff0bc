"""The tissue: a 2-D grid of 20 µm sites, one cell per site, with vessel sites where immune cells enter."""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid

from .params import ASSUMED, Params, param

# Moore neighbourhood offsets, in a fixed order so that neighbour choices are reproducible.
MOORE_OFFSETS = np.array([(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)], dtype=np.int64)


class GridParams(Params):
    width_sites: int = param(100, unit="sites", source="biology.md: default grid 100 x 100 (2 mm)", ge=5, le=2000)
    height_sites: int = param(100, unit="sites", source="biology.md: default grid 100 x 100 (2 mm)", ge=5, le=2000)
    site_um: float = param(20.0, unit="µm", source="PhysiCell dx = 20 µm (biology.md)", gt=0)
    vessel_fraction: float = param(
        0.01, unit="1", source=f"{ASSUMED}: share of sites that are vessels (immune entry points)", ge=0, lt=0.5
    )


def make_grid(params: GridParams, random) -> OrthogonalMooreGrid:
    """A bounded (not toroidal) Moore grid with capacity one: two cells never share a site."""
    return OrthogonalMooreGrid((params.width_sites, params.height_sites), torus=False, capacity=1, random=random)


def place_vessels(params: GridParams, rng: np.random.Generator) -> np.ndarray:
    """Boolean layer of vessel sites, scattered uniformly; vessels are never occupied by cells."""
    shape = (params.width_sites, params.height_sites)
    n_sites = shape[0] * shape[1]
    n_vessels = int(round(params.vessel_fraction * n_sites))
    vessels = np.zeros(n_sites, dtype=bool)
    vessels[rng.choice(n_sites, size=n_vessels, replace=False)] = True
    return vessels.reshape(shape)


def count_free_neighbours(free: np.ndarray) -> np.ndarray:
    """For every site, how many of its (up to eight) Moore neighbours are free; vectorised by slicing."""
    padded = np.pad(free.astype(np.int8), 1, constant_values=0)
    w, h = free.shape
    total = np.zeros(free.shape, dtype=np.int8)
    for dx, dy in MOORE_OFFSETS:
        total += padded[1 + dx : 1 + dx + w, 1 + dy : 1 + dy + h]
    return total


def free_neighbour_sites(x: int, y: int, free: np.ndarray) -> np.ndarray:
    """The free Moore neighbours of one site, as an (n, 2) array in MOORE_OFFSETS order."""
    cand = MOORE_OFFSETS + (x, y)
    w, h = free.shape
    inside = (cand[:, 0] >= 0) & (cand[:, 0] < w) & (cand[:, 1] >= 0) & (cand[:, 1] < h)
    cand = cand[inside]
    return cand[free[cand[:, 0], cand[:, 1]]]
