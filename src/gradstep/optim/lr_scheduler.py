"""Learning-rate schedulers with PyTorch's names, arguments and results, computed in closed form.

Every scheduler (except ReduceLROnPlateau, which reacts to a metric) computes the lr of step t from
t alone: lr = f(t, base_lrs). torch.optim.lr_scheduler instead multiplies the *current* lr at each
step. Both give the same numbers on an ordinary run (tests compare them to 1e-12); they differ where
the recurrence is fragile, and there this module follows the closed form:

* Resuming needs only the step count. ``load_state_dict`` writes the lr of the saved step into the
  optimizer, and a scheduler built with ``last_epoch=N`` sets the lr of step N + 1 whatever the
  optimizer's lr is (torch's StepLR resumed on a decay step decays twice; its SequentialLR resumed
  from a state_dict continues from the wrong lr unless the optimizer is loaded after it).
* A hand-made change of ``group["lr"]`` lasts until the next ``step()``, which writes
  base_lr · f(t) again; torch's chainable schedulers would keep scaling the changed value. To
  change the schedule's level for good, set ``group["initial_lr"]`` and ``scheduler.base_lrs``.
* Two schedulers stepping the same optimizer do not multiply (the last one to step wins); compose
  them with SequentialLR, with_warmup, or one LambdaLR.

Each class has ``interval``: "step" (call ``step()`` after every batch) or "epoch" (after every
epoch), so a Trainer can drive it; the per-epoch classes take ``interval="step"`` to change that.
At construction a scheduler sets ``group["initial_lr"] = group["lr"]`` (if absent) and performs
torch's initial step: ``last_epoch`` becomes 0 and the lr is that of step 0.

This module gathers the public names; the code lives in one file per job: scheduler_base.py
(LRScheduler), lambda_lr.py, closed_form.py, sequential.py, one_cycle.py, plateau.py, warmup.py.
"""

from __future__ import annotations

from .closed_form import (
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LinearLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from .lambda_lr import LambdaLR, MultiplicativeLR
from .one_cycle import OneCycleLR
from .plateau import ReduceLROnPlateau
from .scheduler_base import LRScheduler
from .sequential import SequentialLR
from .warmup import WarmupLR, warmup_constant, warmup_cosine, warmup_linear, with_warmup

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "SequentialLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "WarmupLR",
    "warmup_cosine",
    "warmup_linear",
    "warmup_constant",
    "with_warmup",
]
