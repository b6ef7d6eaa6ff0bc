"""The tissue: a 2-D grid of 20 µm sites, one cell per site, with vessel sites where immune cells enter."""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import Cell, CellCollection, OrthogonalMooreGrid
from mesa.discrete_space.discrete_space import DiscreteSpace

from .params import ASSUMED, Params, param
from .turns import any_open_neighbour_each, claim_each, push_each

# Moore neighbourhood offsets, in a fixed order so that neighbour choices are reproducible.
MOORE_OFFSETS = np.array([(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)], dtype=np.int64)


class GridParams(Params):
    width_sites: int = param(100, unit="sites", source="biology.md: default grid 100 x 100 (2 mm)", ge=5, le=2000)
    height_sites: int = param(100, unit="sites", source="biology.md: default grid 100 x 100 (2 mm)", ge=5, le=2000)
    site_um: float = param(20.0, unit="µm", source="PhysiCell dx = 20 µm (biology.md)", gt=0)
    vessel_fraction: float = param(
        0.01, unit="1", source=f"{ASSUMED}: share of sites that are vessels (immune entry points)", ge=0, lt=0.5
    )


class TissueCell(Cell):
    """A site of the tissue, made only when something asks for it (an agent's `cell`, `grid[x, y]`).

    What is on it is read from the populations' site indexes and whether it is empty from the grid's `empty`
    layer, both kept by the populations; its neighbours are found when first asked for.
    """

    __slots__ = ("_grid", "_links")

    @property
    def _agents(self) -> list:
        found = self._grid.occupant(self.coordinate)
        return [] if found is None else [found]

    @_agents.setter
    def _agents(self, value) -> None:
        pass  # Cell.__init__ sets an empty list; what is on a site is the populations' to say

    @property
    def is_empty(self) -> bool:
        return bool(self._grid.empty.data[self.coordinate])

    @property
    def is_full(self) -> bool:
        return not self.is_empty

    @property
    def connections(self) -> dict:
        if self._links is None:
            x, y = self.coordinate
            w, h = self._grid.dimensions
            self._links = {(dx, dy): self._grid[(x + dx, y + dy)] for dx, dy in _MOORE
                           if 0 <= x + dx < w and 0 <= y + dy < h}
        return self._links

    @connections.setter
    def connections(self, value: dict) -> None:
        self._links = value or None


class _SitesOnDemand(dict):
    def __init__(self, grid: TissueGrid):
        super().__init__()
        self._grid = grid

    def __missing__(self, coordinate):
        x, y = coordinate
        w, h = self._grid.dimensions
        if not (0 <= x < w and 0 <= y < h):
            raise KeyError(coordinate)
        cell = self._grid.cell_klass((int(x), int(y)), capacity=1, random=self._grid.random)
        cell._grid = self._grid
        self[cell.coordinate] = cell
        return cell


class TissueGrid(OrthogonalMooreGrid):
    """Mesa's bounded Moore grid with capacity one, whose `Cell` objects are made on demand.

    A Mesa grid builds one connected `Cell` per site up front (about 1.5 KB each); the tissue's state lives in
    numpy layers and columns instead, so a 1,000 × 1,000 grid costs its layers, plus a `Cell` for each site that
    is asked for. `occupant` (set by the model) says which agent is on a site.
    """

    def __init__(self, dimensions: tuple[int, int], random) -> None:
        DiscreteSpace.__init__(self, capacity=1, cell_klass=TissueCell, random=random)
        self._mesa_property_layers = {}
        self.torus = False
        self.dimensions = tuple(dimensions)
        self._try_random = True
        self._ndims = 2
        self._validate_parameters()
        self.cell_klass = type("GridCell", (TissueCell,), {"_mesa_properties": set(), "__slots__": ()})
        self._cells = _SitesOnDemand(self)
        self.occupant = lambda coordinate: None
        self.create_property_layer("empty", default_value=True, dtype=bool)

    @property
    def _celllist(self) -> list:
        return [self[c] for c in np.ndindex(*self.dimensions)]

    @property
    def all_cells(self):
        """Every site (made now, if not yet asked for: costly on a large grid)."""
        return CellCollection({cell: cell._agents for cell in self._celllist}, random=self.random)

    def __iter__(self):
        return iter(self._celllist)


def make_grid(params: GridParams, random) -> TissueGrid:
    """A bounded (not toroidal) Moore grid with capacity one: two cells never share a site."""
    return TissueGrid((params.width_sites, params.height_sites), random=random)


def place_vessels(params: GridParams, rng: np.random.Generator) -> np.ndarray:
    """Boolean layer of vessel sites, scattered uniformly; vessels are never occupied by cells."""
    shape = (params.width_sites, params.height_sites)
    n_sites = shape[0] * shape[1]
    n_vessels = int(round(params.vessel_fraction * n_sites))
    vessels = np.zeros(n_sites, dtype=bool)
    vessels[rng.choice(n_sites, size=n_vessels, replace=False)] = True
    return vessels.reshape(shape)


def count_neighbours(mask: np.ndarray) -> np.ndarray:
    """For every site, how many of its (up to eight) Moore neighbours are in `mask`: the 3 × 3 box sum (two
    passes of three shifted adds) less the site itself."""
    w, h = mask.shape
    padded = np.zeros((w + 2, h + 2), dtype=np.int8)
    padded[1:-1, 1:-1] = mask
    rows = padded[:-2] + padded[1:-1]
    rows += padded[2:]
    total = rows[:, :-2] + rows[:, 1:-1]
    total += rows[:, 2:]
    total -= mask
    return total


def box_count(mask: np.ndarray, radius: int) -> np.ndarray:
    """For every site, how many sites of `mask` lie within `radius` sites of it in each direction (the
    (2r + 1)² box, the site itself included, cut at the grid's edges): a summed-area table over the grid padded by
    the radius, read by slices."""
    w, h = mask.shape
    k = 2 * radius + 1
    summed = np.zeros((w + k, h + k), dtype=np.int32)
    summed[radius + 1: radius + 1 + w, radius + 1: radius + 1 + h] = mask
    np.cumsum(summed, axis=0, out=summed)
    np.cumsum(summed, axis=1, out=summed)
    return summed[k:, k:] - summed[:-k, k:] - summed[k:, :-k] + summed[:-k, :-k]


def next_to(mask: np.ndarray) -> np.ndarray:
    """Sites with a Moore neighbour in `mask` (where a walking cell meets one), as a padded flat map."""
    return padded_flat(count_neighbours(mask) > 0, False)


_MOORE = tuple((int(dx), int(dy)) for dx, dy in MOORE_OFFSETS)


def padded_flat(values: np.ndarray, fill) -> np.ndarray:
    """The grid with a one-site border of `fill`, flattened: neighbours are then fixed offsets (`neighbour_offsets`)
    and a site's neighbour off the grid is a border site, never free and never a cell."""
    out = np.full((values.shape[0] + 2, values.shape[1] + 2), fill, dtype=values.dtype)
    out[1:-1, 1:-1] = values
    return out.ravel()


def neighbour_offsets(height: int) -> np.ndarray:
    """The Moore neighbours as offsets in the padded flat index of a grid `height` sites high (MOORE_OFFSETS order)."""
    return MOORE_OFFSETS[:, 0] * (height + 2) + MOORE_OFFSETS[:, 1]


def padded_index(sites: np.ndarray, height: int) -> np.ndarray:
    return (sites[:, 0] + 1) * (height + 2) + sites[:, 1] + 1


def unpad(flat: np.ndarray, height: int) -> np.ndarray:
    """Sites (n × 2) from padded flat indices."""
    return np.stack(unpad_xy(flat, height), axis=1)


def unpad_xy(flat: np.ndarray, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The x and y of sites from padded flat indices."""
    x, y = np.divmod(flat, height + 2)
    x -= 1
    y -= 1
    return x, y


def has_free_neighbour(sites: np.ndarray, free: np.ndarray) -> np.ndarray:
    """For each site (n × 2), whether one of its Moore neighbours is `free` (looked at only around these sites)."""
    out = np.empty(len(sites), dtype=np.bool_)
    if len(sites):
        h = free.shape[1]
        any_open_neighbour_each(padded_index(np.asarray(sites, dtype=np.int64), h), padded_flat(free, False),
                                neighbour_offsets(h), out)
    return out


def claim_free_neighbours(centres: np.ndarray, free: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A free Moore neighbour of each centre (n × 2) for claimants listed in turn order (a dividing cell's
    daughter), one after another (`turns.claim_each`), on a `free` map, which is kept current; (−1, −1) where
    no site was left."""
    h = free.shape[1]
    open_ = padded_flat(free, False)
    n = len(centres)
    taken = np.empty(n, dtype=np.int64)
    none = np.full(n, -1, dtype=np.int64)
    claim_each(none, padded_index(np.asarray(centres, dtype=np.int64), h), none, open_, neighbour_offsets(h),
               rng.random(n), taken)
    placed = taken >= 0
    chosen = np.where(placed[:, None], unpad(taken, h), -1)
    free[chosen[placed, 0], chosen[placed, 1]] = False
    return chosen


def push_free_neighbours(centres: np.ndarray, row_at: np.ndarray, free: np.ndarray, reach: int,
                         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A site for the daughter of each centre (n × 2, dividing cells in turn order): a free neighbour, else one made
    by pushing the cells between it and the nearest free site within `reach` outward (`turns.push_each`); (−1, −1)
    where none was in reach. `row_at` (site → row of the pushed population, −1) and `free` are kept current, a
    daughter's site left for the caller to fill. Also the rows that moved and their new sites (m × 2)."""
    h = free.shape[1]
    open_ = padded_flat(free, False)
    rows = padded_flat(row_at, -1).astype(np.int64, copy=False)
    n = len(centres)
    daughters = np.empty(n, dtype=np.int64)
    site_of = np.full(int(row_at.max()) + 1 if row_at.size else 0, -1, dtype=np.int64)
    size = len(open_)
    push_each(padded_index(np.asarray(centres, dtype=np.int64), h), rows, open_, neighbour_offsets(h), reach,
              rng.random(n), daughters, site_of, np.zeros(size, dtype=np.int64), np.empty(size, dtype=np.int64),
              np.empty(size, dtype=np.int64))
    row_at[...] = rows.reshape(free.shape[0] + 2, h + 2)[1:-1, 1:-1]
    free[...] = open_.reshape(free.shape[0] + 2, h + 2)[1:-1, 1:-1]
    moved = np.flatnonzero(site_of >= 0)
    placed = daughters >= 0
    chosen = np.where(placed[:, None], unpad(np.where(placed, daughters, 0), h), -1)
    return chosen, moved, unpad(site_of[moved], h)
