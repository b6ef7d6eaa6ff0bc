"""Cells stored as columns, with Mesa agents as views on their rows.

Every cell type keeps its per-cell state in numpy arrays indexed by row (`RowStore`), so that a step is a few
vectorised operations over a population rather than a Python call per cell. Each living cell also has a Mesa agent
(`CellView`), with `cell` and its state attributes read from (and written to) its row: `model.agents` and
`model.agents_by_type[...]` list every living cell. The columns are the truth, and a view holds no copy of the
state; views are made when the model's agents are asked for (see `TumourModel.agents`), so a run that never looks
at them pays nothing for them, and one that does pays once per cell.
"""

from __future__ import annotations

import numpy as np
from mesa import Agent
from mesa.discrete_space import CellAgent


class RowStore:
    """Named columns over rows; rows of removed cells are reused (last freed, first reused)."""

    def __init__(self, spec: dict[str, tuple[type, object]], capacity: int = 64):
        self._spec = {"alive": (bool, False), "x": (np.int32, 0), "y": (np.int32, 0), "agent": (object, None), **spec}
        self.n_rows = 0
        self._free: list[int] = []
        self._live: np.ndarray | None = None  # rows of living cells, until a cell is born or freed
        self.births = 0  # cells made living so far (what a map of where cells are is current for)
        self.columns: dict[str, np.ndarray] = {}
        self.views = 0  # Mesa agents made for rows so far (none: removing a cell has no agent to remove)
        self._grow(max(capacity, 1))

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def _grow(self, capacity: int) -> None:
        for name, (dtype, fill) in self._spec.items():
            new = np.full(capacity, fill, dtype=dtype)
            old = self.columns.get(name)
            if old is not None:
                new[: len(old)] = old
            self.columns[name] = new

    @property
    def capacity(self) -> int:
        return len(self.columns["alive"])

    def new_rows(self, n: int) -> np.ndarray:
        """n rows for new cells, every column at its fill value but for the caller's writes."""
        k = min(n, len(self._free))
        reuse = self._free[len(self._free) - k:][::-1]  # popped from the end, one by one
        del self._free[len(self._free) - k:]
        fresh = n - len(reuse)
        if self.n_rows + fresh > self.capacity:
            self._grow(max(2 * self.capacity, self.n_rows + fresh))
        rows = np.concatenate([np.array(reuse, dtype=np.int64), np.arange(self.n_rows, self.n_rows + fresh)])
        self.n_rows += fresh
        if reuse:
            for name, (_, fill) in self._spec.items():
                self.columns[name][rows[: len(reuse)]] = fill
        return rows

    def revive(self, rows: np.ndarray) -> None:
        """Mark new cells' rows as living (once their state is written)."""
        self.columns["alive"][rows] = True
        self._live = None
        self.births += len(rows)

    def free_rows(self, rows: np.ndarray) -> None:
        self._live = None
        self.columns["alive"][rows] = False
        if self.views:
            self.columns["agent"][rows] = None
        self._free.extend(np.asarray(rows, dtype=np.int64).tolist())

    def rows(self) -> np.ndarray:
        """The rows of living cells, in ascending order (read-only: it is kept until a cell is born or freed)."""
        if self._live is None:
            self._live = np.flatnonzero(self.columns["alive"][: self.n_rows])
            self._live.flags.writeable = False
        return self._live

    def without_views(self) -> np.ndarray:
        """Rows of living cells whose Mesa agent has not been made yet."""
        rows = self.rows()
        return rows[np.equal(self.columns["agent"][rows], None)]

    def count(self, mask_column: str | None = None, value=True) -> int:
        if mask_column is None:
            return len(self.rows())
        alive = self.columns["alive"][: self.n_rows]
        return int((alive & (self.columns[mask_column][: self.n_rows] == value)).sum())


class CellView(CellAgent):
    """The Mesa agent of one cell: its site and state live in its population's columns, at `row`.

    `cell` is read from the row's site (and moving an agent by assigning `cell` moves its row); `remove()` removes
    the cell from its population. Populations create and remove views themselves, in bulk.
    """

    def __init__(self, model, population, row: int):
        Agent.__init__(self, model)
        self.population = population
        self.row = row

    @property
    def cell(self):
        store = self.population.store
        return self.model.grid[(int(store["x"][self.row]), int(store["y"][self.row]))]

    @cell.setter
    def cell(self, cell) -> None:
        if cell is None:
            return  # Mesa detaches a removed agent this way; the population has already freed the row
        self.population.move_row(self.row, cell.coordinate)

    def remove(self) -> None:
        self.population.remove_rows(np.array([self.row]))


def column_attribute(name: str, kind: type, doc: str = ""):
    """A state attribute of a view that reads and writes its row of column `name`, as a Python `kind`."""

    def get(self):
        return kind(self.population.store[name][self.row])

    def set(self, value) -> None:
        self.population.store[name][self.row] = value

    return property(get, set, doc=doc)


class SitedPopulation:
    """A population whose cells each hold one site: its columns (`store`), its site index (`row_at`: site → row,
    −1) and the grid's `empty` layer are kept together here. Subclasses set `model`, `store`, `row_at` and
    `agent_class`."""

    model: object
    store: RowStore
    row_at: np.ndarray
    agent_class: type[CellView]

    def sites(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The sites (n × 2) of `rows`, or of every living cell."""
        rows = self.store.rows() if rows is None else rows
        out = np.empty((len(rows), 2), dtype=np.int64)
        out[:, 0], out[:, 1] = self.store["x"][rows], self.store["y"][rows]
        return out

    def occupy(self, rows: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        """New cells at rows take their sites (the caller has filled their state)."""
        self.store["x"][rows], self.store["y"][rows] = x, y
        self.store.revive(rows)
        self.row_at[x, y] = rows
        self.model.grid.empty.data[x, y] = False

    def remove_rows(self, rows: np.ndarray) -> None:
        if not len(rows):
            return
        x, y = self.store["x"][rows], self.store["y"][rows]
        self.row_at[x, y] = -1
        self.model.grid.empty.data[x, y] = True
        if self.store.views:
            for agent in self.store["agent"][rows]:
                if agent is not None:  # Mesa's own removal of the views that were made
                    Agent.remove(agent)
        self.store.free_rows(rows)

    def move_row(self, row: int, site: tuple[int, int]) -> None:
        """Move one cell to a free, placeable site (an agent's `cell` assigned by hand)."""
        m = self.model
        if not (m.grid.empty.data[site] and m.placeable[site]):
            raise ValueError(f"site {site} is not free")
        store = self.store
        old = (int(store["x"][row]), int(store["y"][row]))
        self.row_at[old], m.grid.empty.data[old] = -1, True
        store["x"][row], store["y"][row] = site
        self.row_at[site], m.grid.empty.data[site] = row, False

    def make_views(self) -> None:
        """Mesa agents for the living cells that have none yet."""
        store = self.store
        for row in store.without_views().tolist():
            store["agent"][row] = self.agent_class(self.model, self, row)
            store.views += 1
