"""The immune synapse, shared by NK cells, CAR-T cells and macrophages: finding a neighbouring target and
turning a killing hazard into the chance of killing it this step."""

from __future__ import annotations

import numpy as np

from ..rules import per_step_probability
from ..space import MOORE_OFFSETS
from ..turns import contacts_each, pick_target_each

_DX, _DY = (np.ascontiguousarray(MOORE_OFFSETS[:, axis]) for axis in (0, 1))
_NO_REQUIREMENT = np.zeros(0, dtype=np.float32)


def neighbour_targets(
    row_at: np.ndarray, sites: np.ndarray, rng: np.random.Generator, requires: np.ndarray | None = None
) -> np.ndarray:
    """For each site (n × 2), one cancer cell among its Moore neighbours chosen at random: its row, or −1.

    `requires`, a column indexed by cancer row, restricts the choice to cells where it is > 0 (e.g. the CAR's
    antigen). One target per cell and step: a synapse engages one cell at a time. (Compiled: every cell's eight
    neighbours are looked at in one loop, `turns.pick_target_each`, with one draw per cell.)
    """
    chosen = np.empty(len(sites), dtype=np.int64)
    if len(sites) == 0:
        return chosen
    sites = np.asarray(sites, dtype=np.int64)
    use = requires is not None
    requires = np.asarray(requires, dtype=np.float32) if use else _NO_REQUIREMENT
    pick_target_each(np.asarray(row_at, dtype=np.int64), sites[:, 0], sites[:, 1], _DX, _DY, requires, use,
                     rng.random(len(sites)), chosen)
    return chosen


def resolve_contacts(targets: np.ndarray, p_kill: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """This step's synapses in turn order (`turns.contacts_each`): (kills, gone) over the cells, given each cell's
    target (a cancer row or −1), its chance of killing it (or one chance for all) and its uniform draw. A target killed by a cell earlier in
    the order is gone for those after it."""
    targets = np.ascontiguousarray(targets, dtype=np.int64)
    n = len(targets)
    kills, gone = np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_)
    if n:
        first_of = np.full(max(int(targets.max()) + 1, 0), -1, dtype=np.int64)
        chance = np.empty(n, dtype=np.float64)
        chance[...] = p_kill  # (one chance for all, or one each)
        contacts_each(targets, chance, np.ascontiguousarray(draws, dtype=np.float64), first_of, kills, gone)
    return kills, gone


def kill_probability(hazard_per_h, dt_h: float, net_density, net_shield: float):
    """The chance a synapse kills within one step: the hazard as a per-step probability, reduced where NETs
    shield the target (× (1 − shield·NET), biology.md). Scalars or arrays."""
    return per_step_probability(hazard_per_h, dt_h) * (1.0 - net_shield * np.minimum(net_density, 1.0))


def target_nets(model, targets: np.ndarray) -> np.ndarray:
    """NET density at each target's site (0 where there is no target)."""
    cancer, t = model.cancer, np.maximum(targets, 0)
    return np.where(targets >= 0, model.fields["nets"][cancer.x[t], cancer.y[t]], 0.0)
