"""The rule forms every mechanism uses (biology.md): Hill signals, drug effects, rates to per-step probabilities.

Written once here so that each cell module states only its numbers, never its own variant of the maths.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def hill(signal: ArrayLike, half_max: float, power: float = 1.0) -> np.ndarray | float:
    """H(s) = s^n / (s50^n + s^n), 0 for s <= 0."""
    if isinstance(signal, float | int | np.floating):  # one cell's signal: plain floats are much cheaper
        sn = max(float(signal), 0.0) ** power
        return sn / (half_max**power + sn)
    s = np.maximum(np.asarray(signal, dtype=np.float64), 0.0)
    sn = s**power
    out = sn / (half_max**power + sn)
    return out if out.ndim else float(out)


def drug_effect(conc_nM: ArrayLike, ec50_nM: float, hill_n: float) -> np.ndarray | float:
    """E(C) = C^h / (EC50^h + C^h), C in nM: the fraction of maximal drug effect."""
    return hill(conc_nM, ec50_nM, hill_n)


def modulate(
    base: ArrayLike,
    *,
    up_to: float | None = None,
    up_signal: ArrayLike = 0.0,
    down_to: float | None = None,
    down_signal: ArrayLike = 0.0,
) -> np.ndarray | float:
    """PhysiCell's rule: rate = base + (max - base)·H_up, then rate + (min - rate)·H_down.

    `up_signal` and `down_signal` are already Hill-transformed (0..1), so one call reads as the rule does.
    """
    rate = np.asarray(base, dtype=np.float64)
    if up_to is not None:
        rate = rate + (up_to - rate) * np.asarray(up_signal, dtype=np.float64)
    if down_to is not None:
        rate = rate + (down_to - rate) * np.asarray(down_signal, dtype=np.float64)
    return rate if rate.ndim else float(rate)


def per_step_probability(rate_per_h: ArrayLike, dt_h: float) -> np.ndarray | float:
    """p = 1 - exp(-rate·dt): the chance that an event with hazard `rate` happens within one step.

    Exact for a constant hazard, so halving dt changes outcomes only by noise.
    """
    if isinstance(rate_per_h, float | int | np.floating):  # one cell's event: plain floats are much cheaper
        return -math.expm1(-max(float(rate_per_h), 0.0) * dt_h)
    p = -np.expm1(-np.maximum(np.asarray(rate_per_h, dtype=np.float64), 0.0) * dt_h)
    return p if p.ndim else float(p)


def per_hour(rate_per_day: float) -> float:
    return rate_per_day / 24.0
