"""The immune synapse, shared by NK cells, CAR-T cells and macrophages: finding a neighbouring target and
turning a killing hazard into the chance of killing it this step."""

from __future__ import annotations

import numpy as np

from ..rules import per_step_probability
from ..space import MOORE_OFFSETS
from ..turns import first_success_each, pick_target_each

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


def first_claims(claimed: np.ndarray, success: np.ndarray) -> np.ndarray:
    """For each claimant i (in turn order), the index of the first claimant that succeeded on the same object as
    i (a cancer row, a site key), or −1 if none did. Claimants with `claimed` < 0 claim nothing."""
    claimed = np.ascontiguousarray(claimed, dtype=np.int64)
    first = np.empty(len(claimed), dtype=np.int64)
    if not len(claimed):
        return first
    first_of = np.full(max(int(claimed.max()) + 1, 0), -1, dtype=np.int64)
    first_success_each(claimed, np.ascontiguousarray(success, dtype=np.bool_), first_of, first)
    return first


def kill_probability(hazard_per_h, dt_h: float, net_density, net_shield: float):
    """The chance a synapse kills within one step: the hazard as a per-step probability, reduced where NETs
    shield the target (× (1 − shield·NET), biology.md). Scalars or arrays."""
    return per_step_probability(hazard_per_h, dt_h) * (1.0 - net_shield * np.minimum(net_density, 1.0))


def target_nets(model, targets: np.ndarray) -> np.ndarray:
    """NET density at each target's site (0 where there is no target)."""
    cancer, t = model.cancer, np.maximum(targets, 0)
    return np.where(targets >= 0, model.fields["nets"][cancer.x[t], cancer.y[t]], 0.0)
