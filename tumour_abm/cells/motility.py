"""Movement of immune cells, vectorised over a population: a random walk biased up the chemokine gradient.

Each step a cell makes speed·dt/site sub-moves (stochastically rounded). A sub-move goes up the gradient with
probability `bias` (PhysiCell's chemotaxis bias), otherwise to a random neighbour, and only into a free site:
on a section with one cell per site, a packed mass is a wall to be walked along, not through. A cell that comes
next to a target stops there (contact).
"""

from __future__ import annotations

import numpy as np

from ..space import MOORE_OFFSETS, claim_neighbours, neighbour_offsets, padded_flat, padded_index, unpad


class Uphill:
    """For each site, the Moore step towards higher values of a field, as an offset in the padded flat index
    space that `walk` moves in (0 where the field is flat). Taken once a step, in the field's own float32."""

    def __init__(self, field: np.ndarray):
        self.shape = field.shape
        gx, gy = _gradient(field)
        ax, ay = np.abs(gx), np.abs(gy)
        scale = np.maximum(ax, ay)
        # A component counts when it is at least half the larger one: diagonal moves for diagonal gradients.
        sx = np.where(ax >= 0.5 * scale, np.sign(gx), 0).astype(np.int64)
        sy = np.where(ay >= 0.5 * scale, np.sign(gy), 0).astype(np.int64)
        # Flat: differences at the level of the field's rounding are no direction.
        flat = scale <= 8 * np.finfo(gx.dtype).eps * max(float(np.abs(field).max()), 1e-30)
        offset = np.where(flat, 0, sx * (self.shape[1] + 2) + sy)
        self.offset = np.zeros((self.shape[0] + 2, self.shape[1] + 2), dtype=np.int64)
        self.offset[1:-1, 1:-1] = offset
        self.offset = self.offset.ravel()

    def steps(self) -> np.ndarray:
        """(dx, dy) per site, e.g. for a figure of the gradient's directions."""
        h = self.shape[1] + 2
        inner = self.offset.reshape(self.shape[0] + 2, h)[1:-1, 1:-1]
        dx = np.round(inner / h).astype(np.int64)
        return np.stack([dx, inner - dx * h], axis=-1)


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
    stop: np.ndarray | None,
    free: np.ndarray | None = None,
) -> np.ndarray:
    """End sites of biased random walks from `start` (n × 2); all cells advance together, sub-move by sub-move,
    and only the cells still walking are computed. With `free`, a sub-move into a site that is not free is not
    made (the cell waits that sub-move); nor is one off the grid. A cell stops once a sub-move leaves it on a
    `stop` site."""
    n = len(start)
    w, h = uphill.shape
    moves = np.floor(sites_per_step).astype(np.int64) + (rng.random(n) < sites_per_step % 1.0)
    longest = int(moves.max(initial=0))
    if longest == 0:
        return start.copy()
    # The walk runs on flat indices of the grid padded by a border that is never free and never a stop.
    open_ = padded_flat(np.ones((w, h), dtype=bool) if free is None else free, False)
    halt = None if stop is None else padded_flat(stop, False)
    random_step = neighbour_offsets(h)[rng.integers(len(MOORE_OFFSETS), size=(longest, n))]
    follow = rng.random((longest, n)) < bias
    pos = padded_index(start, h)
    walking = np.flatnonzero(moves > 0)
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
    return unpad(pos, h)


def place(start: np.ndarray, ends: np.ndarray, free: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Final sites of walkers listed in turn order: each gets the end of its walk if no walker before it claimed
    that site; a walker that lost its site takes a random free neighbour of it, or stays where it is. `free`
    (free and not a vessel) is kept current as cells move.

    All winners move at once; the few losers then claim neighbours in rounds (`claim_neighbours`)."""
    final = start.copy()
    moving = np.flatnonzero((ends != start).any(axis=1))
    if not len(moving):
        return final
    key = ends[moving, 0].astype(np.int64) * free.shape[1] + ends[moving, 1]
    first = np.zeros(len(key), dtype=bool)
    first[np.unique(key, return_index=True)[1]] = True
    winners, losers = moving[first], moving[~first]
    free[start[winners, 0], start[winners, 1]] = True
    free[ends[winners, 0], ends[winners, 1]] = False
    final[winners] = ends[winners]
    if len(losers):
        chosen = claim_neighbours(ends[losers], free, rng, vacate=start[losers])
        placed = chosen[:, 0] >= 0
        final[losers[placed]] = chosen[placed]
    return final
