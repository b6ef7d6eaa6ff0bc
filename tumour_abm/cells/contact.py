"""The immune synapse, shared by NK cells, CAR-T cells and macrophages: finding a neighbouring target and
turning a killing hazard into the chance of killing it this step."""

from __future__ import annotations

import numpy as np

from ..rules import per_step_probability
from ..space import MOORE_OFFSETS


def neighbour_targets(
    row_at: np.ndarray, sites: np.ndarray, rng: np.random.Generator, requires: np.ndarray | None = None
) -> np.ndarray:
    """For each site (n × 2), one cancer cell among its Moore neighbours chosen at random: its row, or −1.

    Vectorised over a whole population: the eight neighbours of every cell are gathered at once.
    `requires`, a column indexed by cancer row, restricts the choice to cells where it is > 0 (e.g. the CAR's
    antigen). One target per cell and step: a synapse engages one cell at a time.
    """
    n = len(sites)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    padded = np.pad(row_at, 1, constant_values=-1)
    x, y = sites[:, 0] + 1, sites[:, 1] + 1
    rows = np.stack([padded[x + dx, y + dy] for dx, dy in MOORE_OFFSETS], axis=1)  # n × 8
    valid = rows >= 0
    if requires is not None:
        valid &= requires[np.maximum(rows, 0)] > 0
    count = valid.sum(axis=1)
    pick = np.floor(rng.random(n) * count).astype(np.int64)  # the pick-th valid neighbour
    chosen = (np.cumsum(valid, axis=1) == (pick + 1)[:, None]) & valid
    return np.where(count > 0, rows[np.arange(n), chosen.argmax(axis=1)], -1)


def kill_probability(hazard_per_h: float, dt_h: float, net_density: float, net_shield: float) -> float:
    """The chance a synapse kills within one step: the hazard as a per-step probability, reduced where NETs
    shield the target (× (1 − shield·NET), biology.md)."""
    return float(per_step_probability(hazard_per_h, dt_h)) * (1.0 - net_shield * min(float(net_density), 1.0))
