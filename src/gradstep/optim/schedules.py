"""Closed-form learning-rate schedules: pure functions from a step count to a multiplier (or an lr).

Each function answers "what is the value at step t" without looking at any earlier learning rate,
so a schedule resumes from the step count alone (optax's shape). The scheduler classes in
``lr_scheduler`` are thin stateful wrappers around these.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence


def step_decay(t: int, step_size: int, gamma: float) -> float:
    """gamma ** floor(t / step_size): decay by ``gamma`` every ``step_size`` steps."""
    return gamma ** (t // step_size)


def multistep_decay(t: int, milestones: Sequence[int], gamma: float) -> float:
    """gamma ** (number of sorted ``milestones`` <= t); a repeated milestone counts each time."""
    return gamma ** bisect_right(milestones, t)


def exponential_decay(t: int, gamma: float) -> float:
    """gamma ** t."""
    return gamma**t


def constant_factor(t: int, factor: float, total_iters: int) -> float:
    """``factor`` for t < total_iters, then 1."""
    return factor if t < total_iters else 1.0


def linear_factor(t: int, start: float, end: float, total_iters: int) -> float:
    """start + (end − start)·min(t, total_iters)/total_iters; ``end`` at once if total_iters = 0."""
    if total_iters == 0:
        return end
    return start + (end - start) * min(t, total_iters) / total_iters


def polynomial_decay(t: int, total_iters: int, power: float) -> float:
    """(1 − min(t, total_iters)/total_iters) ** power; 0 from total_iters on (total_iters >= 1)."""
    return (1.0 - min(t, total_iters) / total_iters) ** power


def cosine_annealing(t: float, period: float, base: float, eta_min: float) -> float:
    """eta_min + (base − eta_min)·½(1 + cos(π·t/period)): base at t = 0, eta_min at t = period."""
    return eta_min + (base - eta_min) * (1.0 + math.cos(math.pi * t / period)) / 2.0


def warm_restarts_position(t: float, T_0: int, T_mult: int) -> tuple[float, int]:
    """(T_cur, T_i) for SGDR at epoch ``t``: periods T_0, T_0·T_mult, T_0·T_mult², ... end to end.

    Exact for integer epochs (no logarithm), O(log t) steps when T_mult > 1.
    """
    if T_mult == 1:
        return t % T_0, T_0
    period = T_0
    while t >= period:
        t -= period
        period *= T_mult
    return t, period


def linear_warmup(s: int, warmup_steps: int) -> float:
    """(s + 1)/warmup_steps for s < warmup_steps, then 1: never 0, 1 at s = warmup_steps − 1."""
    if s < warmup_steps:
        return (s + 1) / warmup_steps
    return 1.0


def cosine_decay(t: int, decay_steps: int) -> float:
    """½(1 + cos(π·min(t, decay_steps)/decay_steps)): 1 at t = 0, 0 from t = decay_steps on."""
    return (1.0 + math.cos(math.pi * min(t, decay_steps) / decay_steps)) / 2.0


def linear_decay(t: int, decay_steps: int) -> float:
    """1 − min(t, decay_steps)/decay_steps: 1 at t = 0, 0 from t = decay_steps on."""
    return 1.0 - min(t, decay_steps) / decay_steps


def anneal_cos(start: float, end: float, pct: float) -> float:
    """Cosine from ``start`` (pct 0) to ``end`` (pct 1): end + (start − end)·½(1 + cos(π·pct))."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)


def anneal_linear(start: float, end: float, pct: float) -> float:
    """Straight line from ``start`` (pct = 0) to ``end`` (pct = 1)."""
    return (end - start) * pct + start


def one_cycle_phases(total_steps: int, pct_start: float, three_phase: bool) -> list[tuple]:
    """1cycle's phases as (end_step, start, end, momentum_start, momentum_end), torch's bounds.

    The names refer to per-group values: "initial", "max", "min" (lr) and "max", "base" (momentum).
    """
    up_end = float(pct_start * total_steps) - 1
    if three_phase:
        return [
            (up_end, "initial", "max", "max", "base"),
            (float(2 * pct_start * total_steps) - 2, "max", "initial", "base", "max"),
            (total_steps - 1, "initial", "min", "max", "max"),
        ]
    return [
        (up_end, "initial", "max", "max", "base"),
        (total_steps - 1, "max", "min", "base", "max"),
    ]


def one_cycle_position(s: int, phases: list[tuple]) -> tuple[tuple, float]:
    """The phase that step ``s`` falls in and the fraction of it done (1 in a zero-length phase)."""
    start = 0.0
    for i, phase in enumerate(phases):
        end = phase[0]
        if s <= end or i == len(phases) - 1:
            pct = 1.0 if end == start else (s - start) / (end - start)
            return phase, pct
        start = end
    raise AssertionError("unreachable: the last phase always matches")
