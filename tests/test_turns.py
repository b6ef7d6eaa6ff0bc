"""The compiled turn-order rules against plain-Python statements of the same rules."""

import numpy as np
import pytest

from tumour_abm.cells.contact import resolve_contacts
from tumour_abm.cells.motility import Uphill
from tumour_abm.space import neighbour_offsets, padded_flat, padded_index
from tumour_abm.turns import claim_each, walk_each


def _uphill_reference(field, x, y, flat_below, padded_height):
    """The step up np.gradient's gradient, as the rule states it."""
    gx, gy = (g[x, y] for g in np.gradient(field))
    scale = max(abs(gx), abs(gy))
    if scale <= flat_below:
        return 0
    sx = int(gx >= scale / 2) - int(gx <= -scale / 2)
    sy = int(gy >= scale / 2) - int(gy <= -scale / 2)
    return sx * padded_height + sy


def _walk_reference(pos, moves, directions, follow, offsets, field, flat_below, open_, halt):
    hp = field.shape[1] + 2
    out, k = pos.copy(), 0
    for i in range(len(pos)):
        p = pos[i]
        for j in range(moves[i]):
            step = offsets[directions[k + j] % 8]
            if follow[k + j]:
                up = _uphill_reference(field, p // hp - 1, p % hp - 1, flat_below, hp)
                step = up or step
            if open_[p + step]:
                p += step
            if halt is not None and halt[p]:
                break
        k += moves[i]
        out[i] = p
    return out


@pytest.mark.parametrize("case", range(12))
def test_compiled_walks_match_the_rule(case):
    rng = np.random.default_rng(case)
    w, h = (int(v) for v in rng.integers(2, 30, size=2))
    field = (rng.random((w, h)) ** 3).astype(np.float32)
    if case % 4 == 0:
        field[:] = 1.0  # flat: every sub-move is random
    free = rng.random((w, h)) < 0.7
    sites = np.argwhere(free)[:20]
    free[sites[:, 0], sites[:, 1]] = False
    pos, open_ = padded_index(sites, h), padded_flat(free, False)
    halt = padded_flat(rng.random((w, h)) < 0.1, False) if case % 2 else None
    moves = rng.integers(0, 9, size=len(pos))
    directions = rng.integers(0, 256, size=int(moves.sum())).astype(np.uint8)
    follow = rng.random(int(moves.sum())) < 0.6
    uphill, offsets = Uphill(field), neighbour_offsets(h)
    expected = _walk_reference(pos, moves, directions, follow, offsets, field, uphill.flat_below, open_, halt)
    got = pos.copy()
    walk_each(got, moves, directions, follow, offsets, uphill.field, uphill.flat_below, open_,
              open_ if halt is None else halt, halt is not None)
    assert got.tolist() == expected.tolist()
    assert open_[got[got != pos]].all()  # walkers only ever enter open sites (the map is not changed)


def test_claimants_take_their_turns_one_after_another():
    free = np.zeros((5, 5), dtype=bool)
    free[2, 2] = True  # one free site, wanted by three claimants
    open_ = padded_flat(free, False)
    h, site = 5, padded_index(np.array([(2, 2)]), 5)[0]
    leave = padded_index(np.array([(2, 1), (0, 0), (4, 4)]), h)
    taken = np.empty(3, dtype=np.int64)
    claim_each(np.full(3, site), np.full(3, site), leave, open_, neighbour_offsets(h), np.zeros(3), taken)
    # The first takes it and frees (2, 1), next to the centre: the second takes that; the third finds none.
    assert taken[0] == site and taken[1] == leave[0] and taken[2] == -1
    assert open_[leave[1]] and not open_[leave[2]] and not open_[site]


def test_a_claimant_picks_among_the_free_neighbours_uniformly():
    h, n = 3, 4000
    free = np.ones((3, 3), dtype=bool)
    free[1, 1] = False
    centre = padded_index(np.array([(1, 1)]), h)[0]
    taken = np.empty(1, dtype=np.int64)
    picks = []
    for u in np.random.default_rng(3).random(n):  # each claim alone on a fresh grid
        claim_each(np.array([-1]), np.array([centre]), np.array([-1]), padded_flat(free, False),
                   neighbour_offsets(h), np.array([u]), taken)
        picks.append(int(taken[0]))
    sites, counts = np.unique(picks, return_counts=True)
    assert sorted(sites - centre) == sorted(neighbour_offsets(h).tolist())
    assert np.all(np.abs(counts / n - 1 / 8) < 0.02)


def test_contacts_are_resolved_in_turn_order():
    """Against the rule written as the loop it stands for: cells act one after another; a cell whose target is
    still alive kills it when its draw is below its chance; a cell whose target died before its turn meets none."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(0, 40))
        targets = rng.integers(-1, 8, n)
        p_kill, draws = rng.random(n), rng.random(n)
        alive, kills, gone = set(range(8)), [], []
        for i, t in enumerate(targets):
            met = t >= 0 and t in alive
            gone.append(bool(t >= 0 and not met))
            kills.append(bool(met and draws[i] < p_kill[i]))
            if kills[-1]:
                alive.discard(t)
        got_kills, got_gone = resolve_contacts(targets, p_kill, draws)
        assert got_kills.tolist() == kills and got_gone.tolist() == gone
