"""The learning-rate range test: train for a few steps while the lr grows exponentially, and watch
where the loss starts to fall fastest and where it blows up.

The model, the optimizer (its state and its lrs), the scheduler, the RNG and the trainer's counters
are restored exactly afterwards, so the test can run before ``fit`` without changing the run.
The suggestions are heuristics, not guarantees: "steepest" is the lr where the smoothed loss falls
fastest against log(lr); "minimum / 10" is a tenth of the lr at the lowest smoothed loss.

>>> result = trainer.lr_find((x, y), start_lr=1e-6, end_lr=1.0)
>>> result.suggestions  # {'steepest': ..., 'minimum / 10': ...}
>>> gs.viz.plot_lr_find(result, "lr_find.png")  # the curve (the plot extra)
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor
from ..validate import integer, real

__all__ = ["LRFindResult", "lr_find"]


@dataclass
class LRFindResult:
    """The lrs tried, the raw and smoothed losses at each, why the test stopped, and the
    suggested lrs (heuristics)."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    stopped_by: str
    suggestions: dict[str, float] = field(default_factory=dict)


def lr_find(
    trainer: Any,
    train: Any,
    batch_size: int | str = 32,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    smooth: float = 0.98,
    diverge: float = 4.0,
) -> LRFindResult:
    """Run the range test on ``trainer``'s model and optimizer: ``num_steps`` steps with the lr
    going from ``start_lr`` to ``end_lr`` geometrically (every param group the same lr), the loss
    smoothed by an exponential average (``smooth``, bias-corrected); it stops early when the
    smoothed loss exceeds ``diverge`` times its minimum or any loss is not finite. Everything it
    changes is restored afterwards."""
    start_lr = real("start_lr", start_lr, 0.0, low_open=True)
    end_lr = real("end_lr", end_lr, start_lr, low_open=True)
    num_steps = integer("num_steps", num_steps, 2)
    smooth = real("smooth", smooth, 0.0, 1.0, high_open=True)
    diverge = real("diverge", diverge, 1.0, low_open=True)
    model, opt = trainer.model, trainer.optimizer
    saved = (
        {k: v.copy() for k, v in model.state_dict().items()},
        copy.deepcopy(opt.state_dict()),
        None if trainer.scheduler is None else copy.deepcopy(trainer.scheduler.state_dict()),
        _random.get_rng_state(),
        trainer.loader_seed,
        model.training,
    )
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    stopped_by = f"reached end_lr {end_lr:g} after {num_steps} steps"
    try:
        loader = trainer._loader(train, batch_size, True, "lr_find")
        ratio = (end_lr / start_lr) ** (1.0 / (num_steps - 1))
        avg, best = 0.0, math.inf
        model.train()
        batches = _endless(loader)
        with np.errstate(over="ignore", invalid="ignore"):
            for i in range(num_steps):
                lr = start_lr * ratio**i
                for g in opt.param_groups:
                    g["lr"] = lr
                batch = next(batches)
                xb, yb = batch[0], batch[1]
                opt.zero_grad()
                out = model(Tensor._make(xb.astype(trainer.dtype, copy=False)))
                if trainer.target_kind != "index" and yb.dtype.kind in "biuf":
                    yb = yb.astype(out.data.dtype, copy=False)
                loss = trainer.loss_fn(out, yb)
                lv = float(loss.data)
                lrs.append(lr)
                losses.append(lv)
                if not math.isfinite(lv):
                    smoothed.append(math.inf)
                    stopped_by = f"the loss became {lv} at lr {lr:.3g}"
                    break
                avg = smooth * avg + (1 - smooth) * lv
                s = avg / (1 - smooth ** (i + 1))
                smoothed.append(s)
                best = min(best, s)
                if s > diverge * best:
                    stopped_by = f"the smoothed loss passed {diverge:g}× its minimum at lr {lr:.3g}"
                    break
                loss.backward()
                opt.step()
    finally:
        weights, opt_state, sched_state, rng, seed, training = saved
        model.load_state_dict(weights)
        opt.load_state_dict(opt_state)
        if sched_state is not None:
            trainer.scheduler.load_state_dict(sched_state)
        _random.set_rng_state(rng)
        trainer.loader_seed = seed
        model.train(training)
    return LRFindResult(lrs, losses, smoothed, stopped_by, _suggest(lrs, smoothed))


def _endless(loader: Any) -> Any:
    """Batches of the loader, epoch after epoch (a small dataset may have fewer batches)."""
    epoch = 0
    while True:
        loader.set_epoch(epoch)
        yield from loader
        epoch += 1


def _suggest(lrs: list[float], smoothed: list[float]) -> dict[str, float]:
    """The two heuristics over the finite part of the curve (none when too short)."""
    s = np.asarray(smoothed, dtype=np.float64)
    ok = np.isfinite(s)
    if ok.sum() < 3:
        return {}
    lr = np.asarray(lrs)[ok]
    s = s[ok]
    slope = np.gradient(s, np.log(lr))
    return {
        "steepest": float(lr[int(np.argmin(slope))]),
        "minimum / 10": float(lr[np.argmin(s)] / 10),
    }
