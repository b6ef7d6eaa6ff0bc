"""Rules that are sequential by nature, compiled: cells taking their turns one after another, each seeing what the
ones before it did (a walker's site, a daughter's site). numpy cannot express "one after another" without a Python
loop over cells; these loops run compiled (numba, cached on disk after the first run) at C speed.

Every random number is drawn beforehand by the caller from the model's generator (how many may depend on the
cells' state, e.g. their speed), so a run depends only on its seed. Sites are padded flat indices
(`space.padded_flat`): a neighbour is a fixed offset and the border is never open.

The loops are compiled for their argument types (int64 sites, float32 field) when this module is imported, from an
on-disk cache after the first time; where no cache folder can be written (numba tries the package's __pycache__,
then the user's cache folder), they are compiled for the process alone, which costs a few seconds at start-up.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def _compiled(signature: str):
    """numba's eager compilation for `signature`, cached on disk where a cache folder can be written."""

    def compile_(function):
        try:
            return njit(signature, cache=True)(function)
        except RuntimeError:  # numba found no writable cache location
            return njit(signature)(function)

    return compile_


@_compiled("int64(float32[:, :], int64, int64, float32, int64)")
def _uphill_offset(field, x, y, flat_below, padded_height):
    """The Moore step towards higher `field` at site (x, y), as a padded flat offset; 0 where it is flat.

    The gradient is np.gradient's (central differences, one-sided at the edges), in the field's own float32. A
    component counts when it is at least half the larger one (diagonal moves for diagonal gradients)."""
    w, h = field.shape
    half = np.float32(0.5)
    if w < 2:
        gx = np.float32(0.0)
    elif x == 0:
        gx = field[1, y] - field[0, y]
    elif x == w - 1:
        gx = field[w - 1, y] - field[w - 2, y]
    else:
        gx = (field[x + 1, y] - field[x - 1, y]) * half
    if h < 2:
        gy = np.float32(0.0)
    elif y == 0:
        gy = field[x, 1] - field[x, 0]
    elif y == h - 1:
        gy = field[x, h - 1] - field[x, h - 2]
    else:
        gy = (field[x, y + 1] - field[x, y - 1]) * half
    scale = max(abs(gx), abs(gy))
    if scale <= flat_below:
        return 0
    limit = scale * half
    sx = (1 if gx >= limit else 0) - (1 if gx <= -limit else 0)
    sy = (1 if gy >= limit else 0) - (1 if gy <= -limit else 0)
    return sx * padded_height + sy


@_compiled("void(int64[:], int64[:], uint8[:], boolean[:], int64[:], float32[:, :], float32, boolean[:], boolean[:],"
           " boolean)")
def walk_each(pos, moves, directions, follow, offsets, field, flat_below, open_, halt, use_halt):
    """Biased random walks, in place on `pos`. Walker i makes moves[i] sub-moves, and its draws are the next
    moves[i] entries of `directions` and `follow` (walker after walker): a sub-move goes up `field` when it
    follows and the field is not flat there, else to the Moore neighbour offsets[direction % 8]; a sub-move into
    a site that is not open is not made (the cell waits it out); with `use_halt`, a walker stops once it is on a
    `halt` site.

    The open map does not change during the walks (where the walkers end is settled afterwards, in turn order, by
    `claim_each`), so each walk is independent of the others."""
    padded_height = field.shape[1] + 2
    k = 0
    for i in range(pos.shape[0]):
        p = pos[i]
        for j in range(moves[i]):
            step = offsets[directions[k + j] & 7]
            if follow[k + j]:
                up = _uphill_offset(field, p // padded_height - 1, p % padded_height - 1, flat_below, padded_height)
                if up != 0:
                    step = up
            if open_[p + step]:
                p += step
            if use_halt and halt[p]:
                break
        k += moves[i]
        pos[i] = p


@_compiled("int64(int64, boolean[:], int64[:], float64)")
def _open_neighbour(centre, open_, offsets, draw):
    """The `draw`-th share of the open Moore neighbours of `centre` (draw in [0, 1)), or −1 if none is open."""
    count = 0
    for o in offsets:
        if open_[centre + o]:
            count += 1
    if count == 0:
        return -1
    pick = int(draw * count)
    for o in offsets:
        if open_[centre + o]:
            if pick == 0:
                return centre + o
            pick -= 1
    return -1


@_compiled("void(int64[:], boolean[:], int64[:], boolean[:])")
def any_open_neighbour_each(centres, open_, offsets, out):
    """out[i]: whether site centres[i] has an open Moore neighbour."""
    for i in range(centres.shape[0]):
        found = False
        for o in offsets:
            if open_[centres[i] + o]:
                found = True
                break
        out[i] = found


@_compiled("void(int64[:], int64[:], int64[:], boolean[:], int64[:], float64[:], int64[:])")
def claim_each(wanted, fallback_centres, leave, open_, offsets, draws, taken):
    """Claimants in turn order, one after another: claimant i takes site wanted[i] if it is open (wanted[i] < 0:
    it wants none in particular), else a random open Moore neighbour of fallback_centres[i] (the draws[i]-th
    share of them), else nothing (taken[i] = −1). A claimant that takes a site leaves its `leave` site (≥ 0),
    which opens for those after it. `open_` is kept current."""
    for i in range(wanted.shape[0]):
        site = wanted[i]
        if site < 0 or not open_[site]:
            site = _open_neighbour(fallback_centres[i], open_, offsets, draws[i])
        taken[i] = site
        if site >= 0:
            open_[site] = False
            if leave[i] >= 0:
                open_[leave[i]] = True


@_compiled("int64(int64[:], int64[:], int64[:], boolean[:], int64[:], float64[:], int32[:, :], boolean[:, :], int32[:],"
           " int32[:])")
def settle_each(rows, start, ends, open_, offsets, draws, row_at, empty, xs, ys):
    """Walkers in turn order, after their walks (`walk_each`), one after another: each that walked away from its
    start claims its walk's end as `claim_each` does (the next draw of `draws` for each, in order), and moves there:
    its row's site in `xs`/`ys`, the site index `row_at` and the grid's `empty` layer are updated in place (unpadded
    sites; `open_` is padded flat and kept current). Returns how many moved."""
    padded_height = row_at.shape[1] + 2
    k = 0
    moved = 0
    for i in range(rows.shape[0]):
        if ends[i] == start[i]:
            continue
        site = ends[i]
        if not open_[site]:
            site = _open_neighbour(site, open_, offsets, draws[k])
        k += 1
        if site < 0:
            continue
        open_[site] = False
        open_[start[i]] = True
        x0, y0 = start[i] // padded_height - 1, start[i] % padded_height - 1
        x1, y1 = site // padded_height - 1, site % padded_height - 1
        row_at[x0, y0] = -1
        empty[x0, y0] = True
        row_at[x1, y1] = rows[i]
        empty[x1, y1] = False
        xs[rows[i]] = x1
        ys[rows[i]] = y1
        moved += 1
    return moved


@_compiled("void(int64[:, :], int64[:], int64[:], int64[:], int64[:], float32[:], boolean, float64[:], int64[:])")
def pick_target_each(row_at, xs, ys, dx, dy, requires, use_requires, draws, chosen):
    """For each site (xs[i], ys[i]), one of the cells of `row_at` (site → row, −1) among its Moore neighbours
    (offsets dx, dy, in their order): the draws[i]-th share of them, counting only those > 0 in `requires`
    (indexed by row) if `use_requires`; −1 where there is none."""
    w, h = row_at.shape
    for i in range(xs.shape[0]):
        chosen[i] = -1
        count = 0
        for j in range(dx.shape[0]):
            x, y = xs[i] + dx[j], ys[i] + dy[j]
            if 0 <= x < w and 0 <= y < h:
                r = row_at[x, y]
                if r >= 0 and (not use_requires or requires[r] > 0):
                    count += 1
        if count == 0:
            continue
        pick = min(int(draws[i] * count), count - 1)
        for j in range(dx.shape[0]):
            x, y = xs[i] + dx[j], ys[i] + dy[j]
            if 0 <= x < w and 0 <= y < h:
                r = row_at[x, y]
                if r >= 0 and (not use_requires or requires[r] > 0):
                    if pick == 0:
                        chosen[i] = r
                        break
                    pick -= 1


@_compiled("void(int64[:], int64[:], boolean[:], int64[:], int64, float64[:], int64[:], int64[:], int64[:], int64[:],"
           " int64[:])")
def push_each(mothers, row_at, open_, offsets, reach, draws, daughters, site_of, seen, parent, queue):
    """Dividing cells in turn order, one after another, each making room for its daughter: on a random open
    neighbour if it has one (the draws[i]-th share of them), else by pushing the cells between it and the nearest
    open site outward by one site along the shortest path through cells (breadth-first, at most `reach` steps,
    neighbours tried from a random start); with no open site in reach it does not divide (daughters[i] = −1).

    `row_at` (padded flat: site → row, −1 empty) and `open_` are kept current; a daughter's site is left at −1 in
    `row_at` and closed in `open_` for the caller to fill. A pushed row's final site is written to site_of[row]
    (rows that did not move keep what the caller put there). `seen`, `parent`, `queue`: scratch arrays of the
    padded grid's size (seen holds a stamp per search, so it is never cleared)."""
    for i in range(mothers.shape[0]):
        centre = mothers[i]
        daughters[i] = _open_neighbour(centre, open_, offsets, draws[i])
        if daughters[i] >= 0:
            open_[daughters[i]] = False
            continue
        # Breadth-first through cells, from the mother, to the nearest open site.
        stamp = i + 1
        start = int(draws[i] * offsets.shape[0])
        seen[centre] = stamp
        head, tail, depth_end, depth, found = 0, 0, 1, 0, -1
        queue[tail] = centre
        tail += 1
        while head < tail and found < 0:
            if head == depth_end:
                depth += 1
                depth_end = tail
                if depth >= reach:
                    break
            site = queue[head]
            head += 1
            for j in range(offsets.shape[0]):
                nxt = site + offsets[(start + j) % offsets.shape[0]]
                if seen[nxt] == stamp:
                    continue
                seen[nxt] = stamp
                parent[nxt] = site
                if open_[nxt]:
                    found = nxt
                    break
                if row_at[nxt] >= 0:
                    queue[tail] = nxt
                    tail += 1
        if found < 0:
            continue
        # Shift the chain outward: each cell on the path moves one site towards the open end.
        site = found
        while parent[site] != centre:
            back = parent[site]
            row = row_at[back]
            row_at[site] = row
            site_of[row] = site
            site = back
        row_at[site] = -1
        open_[found] = False
        daughters[i] = site


@_compiled("void(int64[:], float64[:], float64[:], int64[:], boolean[:], boolean[:])")
def contacts_each(targets, p_kill, draws, first_of, kills, gone):
    """Synapses in turn order: cell i (targets[i] ≥ 0: a cancer row; −1: none) succeeds when draws[i] < p_kill[i];
    a target dies by the first cell that succeeds on it. kills[i]: cell i killed its target; gone[i]: its target was
    killed by a cell before it (so it met none). `first_of` (−1 everywhere, one entry per target row) is scratch."""
    n = targets.shape[0]
    for i in range(n):
        c = targets[i]
        if c >= 0 and draws[i] < p_kill[i] and first_of[c] < 0:
            first_of[c] = i
    for i in range(n):
        c = targets[i]
        winner = first_of[c] if c >= 0 else -1
        kills[i] = winner == i
        gone[i] = 0 <= winner < i
