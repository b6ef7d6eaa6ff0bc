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


def count_neighbours(mask: np.ndarray) -> np.ndarray:
    """For every site, how many of its (up to eight) Moore neighbours are in `mask`; vectorised by slicing."""
    padded = np.pad(mask.astype(np.int8), 1, constant_values=0)
    w, h = mask.shape
    total = np.zeros(mask.shape, dtype=np.int8)
    for dx, dy in MOORE_OFFSETS:
        total += padded[1 + dx : 1 + dx + w, 1 + dy : 1 + dy + h]
    return total


def moore_dilate(mask: np.ndarray) -> np.ndarray:
    """Sites that are in `mask` or next to a site in it (Moore neighbourhood), by slicing."""
    return (count_neighbours(mask) > 0) | mask


_MOORE = tuple((int(dx), int(dy)) for dx, dy in MOORE_OFFSETS)


def free_neighbour_sites(
    x: int, y: int, free: np.ndarray, blocked: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """The Moore neighbours of one site that are `free` (and not `blocked`), in MOORE_OFFSETS order.

    Plain Python on purpose: for eight sites it is several times faster than building numpy arrays,
    and it runs for every cell that divides or has to step aside.
    """
    w, h = free.shape
    return [
        (i, j)
        for i, j in moore_neighbours(x, y, w, h)
        if free.item(i, j) and (blocked is None or not blocked.item(i, j))
    ]


def moore_neighbours(x: int, y: int, w: int, h: int) -> list[tuple[int, int]]:
    """The in-bounds Moore neighbours of (x, y) on a w × h grid, in MOORE_OFFSETS order."""
    return [(x + dx, y + dy) for dx, dy in _MOORE if 0 <= x + dx < w and 0 <= y + dy < h]
