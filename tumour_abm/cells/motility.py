"""Movement of immune cells, a whole population at once: a random walk biased up the chemokine gradient.

Each step a cell makes speed·dt/site sub-moves (stochastically rounded). A sub-move goes up the gradient with
probability `bias` (PhysiCell's chemotaxis bias), otherwise to a random neighbour, and only into a free site:
on a section with one cell per site, a packed mass is a wall to be walked along, not through. A cell that comes
next to a target stops there (contact).
"""

from __future__ import annotations

import numpy as np

from ..space import neighbour_offsets
from ..turns import settle_each, walk_each


class Uphill:
    """The field walkers climb (the chemokine), read where they are: the step towards higher values is taken at a
    walker's site when it needs it (`turns.walk_each`), in float32. It reads a copy of the field as it was made."""

    def __init__(self, field: np.ndarray):
        self.field = np.array(field, dtype=np.float32, order="C")
        self.shape = field.shape
        # Differences at the level of the field's rounding are no direction.
        largest = max(float(self.field.max()), -float(self.field.min()), 1e-30)  # |field| at most, without a copy
        self.flat_below = np.float32(8 * np.finfo(np.float32).eps * largest)


def walk(
    start: np.ndarray,
    sites_per_step: np.ndarray,
    uphill: Uphill,
    bias: float,
    rng: np.random.Generator,
    halt: np.ndarray | None,
    open_: np.ndarray,
) -> np.ndarray:
    """End sites of biased random walks from `start` (`turns.walk_each`). Sites are padded flat indices
    (`space.padded_flat`): a sub-move into a site that is not `open_` (taken, a vessel, off the grid) is not made
    (the cell waits that sub-move); a cell stops once a sub-move leaves it on a `halt` site."""
    start = np.asarray(start, dtype=np.int64)
    n = len(start)
    moves = np.floor(sites_per_step).astype(np.int64) + (rng.random(n) < sites_per_step % 1.0)
    total = int(moves.sum())
    pos = start.copy()
    if total == 0:
        return pos
    # A random byte's low three bits are a uniform choice among the eight neighbours.
    directions = np.frombuffer(bytearray(rng.bytes(total)), dtype=np.uint8)
    follow = rng.random(total, dtype=np.float32) < bias
    use_halt = halt is not None
    walk_each(pos, moves, directions, follow, neighbour_offsets(uphill.shape[1]), uphill.field, uphill.flat_below,
              open_, halt if use_halt else open_, use_halt)
    return pos


def settle(rows: np.ndarray, start: np.ndarray, ends: np.ndarray, open_: np.ndarray, rng: np.random.Generator,
           row_at: np.ndarray, empty: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> int:
    """Walkers (`rows`, in turn order) take the ends of their walks (padded flat indices): each gets its end if no
    walker before it claimed that site; one that lost its site takes a random free neighbour of it, or stays where
    it is (`turns.settle_each`, one after another). Their sites (`xs`, `ys` columns over rows), the population's
    `row_at` and the grid's `empty` layer are updated in place, and `open_` is kept current; returns how many
    moved."""
    start, ends = np.asarray(start, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    draws = rng.random(int(np.count_nonzero(ends != start)))  # one for each walker that walked away
    return settle_each(np.asarray(rows, dtype=np.int64), start, ends, open_, neighbour_offsets(row_at.shape[1]),
                       draws, row_at, empty, xs, ys)
