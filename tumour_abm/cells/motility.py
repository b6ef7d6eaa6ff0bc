"""Movement of immune cells, vectorised over a population: a random walk biased up the chemokine gradient.

Each step a cell makes speed·dt/site sub-moves (stochastically rounded). A sub-move goes up the gradient with
probability `bias` (PhysiCell's chemotaxis bias), otherwise to a random neighbour, and only into a free site:
on a section with one cell per site, a packed mass is a wall to be walked along, not through. A cell that comes
next to a target stops there (contact).
"""

from __future__ import annotations

import numpy as np

from ..space import MOORE_OFFSETS, claim_neighbours, first_of_each, neighbour_offsets


class Uphill:
    """For each site, the Moore step towards higher values of a field, as an offset in the padded flat index
    space that `walk` moves in (0 where the field is flat). Taken once a step, in the field's own float32."""

    def __init__(self, field: np.ndarray):
        self.shape = field.shape
        gx, gy = _gradient(field)
        scale = np.maximum(np.abs(gx), np.abs(gy))
        # A component counts when it is at least half the larger one (diagonal moves for diagonal gradients):
        # +1 or −1 by its sign, 0 when it is smaller.
        half = 0.5 * scale
        sx = (gx >= half).astype(np.int64) - (gx <= -half)
        sy = (gy >= half).astype(np.int64) - (gy <= -half)
        # Flat: differences at the level of the field's rounding are no direction.
        flat = scale <= 8 * np.finfo(gx.dtype).eps * max(float(np.abs(field).max()), 1e-30)
        sx *= self.shape[1] + 2
        sx += sy
        sx[flat] = 0
        self.offset = np.zeros((self.shape[0] + 2, self.shape[1] + 2), dtype=np.int64)
        self.offset[1:-1, 1:-1] = sx
        self.offset = self.offset.ravel()


def _gradient(field: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.gradient's central differences (one-sided at the edges) by slicing, in the field's dtype."""
    half = field.dtype.type(0.5)
    gx, gy = np.empty_like(field), np.empty_like(field)
    gx[1:-1] = (field[2:] - field[:-2]) * half
    gx[0], gx[-1] = field[1] - field[0], field[-1] - field[-2]
    gy[:, 1:-1] = (field[:, 2:] - field[:, :-2]) * half
    gy[:, 0], gy[:, -1] = field[:, 1] - field[:, 0], field[:, -1] - field[:, -2]
    return gx, gy


def walk(
    start: np.ndarray,
    sites_per_step: np.ndarray,
    uphill: Uphill,
    bias: float,
    rng: np.random.Generator,
    halt: np.ndarray | None,
    open_: np.ndarray,
) -> np.ndarray:
    """End sites of biased random walks from `start`; all cells advance together, sub-move by sub-move, and only
    the cells still walking are computed. Sites are padded flat indices (`space.padded_flat`): a sub-move into a
    site that is not `open_` (taken, a vessel, off the grid) is not made (the cell waits that sub-move); a cell
    stops once a sub-move leaves it on a `halt` site."""
    n = len(start)
    moves = np.floor(sites_per_step).astype(np.int64) + (rng.random(n) < sites_per_step % 1.0)
    longest = int(moves.max(initial=0))
    pos = start.copy()
    if longest == 0:
        return pos
    offsets = neighbour_offsets(uphill.shape[1])
    random_step = offsets[rng.integers(len(MOORE_OFFSETS), size=(longest, n))]
    follow = rng.random((longest, n)) < bias
    walking = np.flatnonzero(moves > 0)
    # A cell with no open neighbour cannot make any sub-move (the sites do not change during the walk): skip it.
    walking = walking[open_[start[walking, None] + offsets[None, :]].any(axis=1)]
    for k in range(longest):
        here = pos[walking]
        up = uphill.offset[here]
        target = here + np.where(follow[k, walking] & (up != 0), up, random_step[k, walking])
        target = np.where(open_[target], target, here)
        pos[walking] = target
        still = moves[walking] > k + 1
        if halt is not None:
            still &= ~halt[target]
        walking = walking[still]
        if not len(walking):
            break
    return pos


def place(start: np.ndarray, ends: np.ndarray, open_: np.ndarray, height: int, rng: np.random.Generator) -> np.ndarray:
    """Final sites (padded flat indices) of walkers listed in turn order: each gets the end of its walk if no
    walker before it claimed that site; a walker that lost its site takes a random free neighbour of it, or stays
    where it is. `open_` is kept current as cells move.

    All winners move at once; the few losers then claim neighbours in rounds (`claim_neighbours`)."""
    final = start.copy()
    moving = np.flatnonzero(ends != start)
    if not len(moving):
        return final
    first = first_of_each(ends[moving])
    winners, losers = moving[first], moving[~first]
    open_[start[winners]] = True
    open_[ends[winners]] = False
    final[winners] = ends[winners]
    if len(losers):
        taken = claim_neighbours(ends[losers], open_, height, rng, vacate=start[losers])
        final[losers[taken >= 0]] = taken[taken >= 0]
    return final
