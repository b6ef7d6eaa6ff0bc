"""Movement of immune cells, vectorised over a population: a random walk biased up the chemokine gradient.

Each step a cell makes speed·dt/site sub-moves (stochastically rounded). A sub-move goes up the gradient with
probability `bias` (PhysiCell's chemotaxis bias), otherwise to a random neighbour, and only into a free site:
on a section with one cell per site, a packed mass is a wall to be walked along, not through. A cell that comes
next to a target stops there (contact).
"""

from __future__ import annotations

import numpy as np

from ..space import MOORE_OFFSETS, free_neighbour_sites


def uphill_steps(field: np.ndarray) -> np.ndarray:
    """For each site, the Moore step (dx, dy in −1..1) towards higher `field`; (0, 0) where it is flat."""
    gx, gy = np.gradient(field.astype(np.float64))
    scale = np.maximum(np.abs(gx), np.abs(gy))
    flat = scale <= 1e-12 * max(float(np.abs(field).max()), 1e-30)
    # A component counts when it is at least half the larger one: diagonal moves for diagonal gradients.
    sx = np.where(np.abs(gx) >= 0.5 * scale, np.sign(gx), 0)
    sy = np.where(np.abs(gy) >= 0.5 * scale, np.sign(gy), 0)
    steps = np.stack([sx, sy], axis=-1).astype(np.int8)
    steps[flat] = 0
    return steps


def walk(
    start: np.ndarray,
    sites_per_step: np.ndarray,
    uphill: np.ndarray,
    bias: float,
    rng: np.random.Generator,
    stop: np.ndarray | None,
    free: np.ndarray | None = None,
) -> np.ndarray:
    """End sites of biased random walks from `start` (n × 2); all cells advance together, sub-move by sub-move.
    With `free`, a sub-move into a site that is not free is not made (the cell waits that sub-move)."""
    n = len(start)
    moves = np.floor(sites_per_step).astype(np.int64) + (rng.random(n) < sites_per_step % 1.0)
    pos = start.copy()
    walking = moves > 0
    upper = np.array(uphill.shape[:2]) - 1
    for k in range(int(moves.max(initial=0))):
        active = walking & (k < moves)
        if not active.any():
            break
        random_dir = MOORE_OFFSETS[rng.integers(len(MOORE_OFFSETS), size=n)]
        up = uphill[pos[:, 0], pos[:, 1]].astype(np.int64)
        follow = (rng.random(n) < bias) & up.any(axis=1)
        step = np.where(follow[:, None], up, random_dir)
        target = np.clip(pos + step, 0, upper)
        if free is not None:
            active &= free[target[:, 0], target[:, 1]]
        pos = np.where(active[:, None], target, pos)
        if stop is not None:
            walking &= ~stop[pos[:, 0], pos[:, 1]]
    return pos


def place(agents: list, start: np.ndarray, ends: np.ndarray, grid, free: np.ndarray, rng: np.random.Generator) -> None:
    """Move each agent whose walk went somewhere to its end site, or to a free neighbour of it if another walker
    took it first, or leave it where it is. `free` (free and not a vessel) is kept current as cells move."""
    for i in rng.permutation(np.flatnonzero((ends != start).any(axis=1))):
        x, y = int(ends[i, 0]), int(ends[i, 1])
        if not free[x, y]:
            options = free_neighbour_sites(x, y, free)
            if not options:
                continue
            x, y = options[rng.integers(len(options))]
        agent = agents[i]
        free[agent.cell.coordinate] = True
        free[x, y] = False
        agent.cell = grid[(x, y)]
