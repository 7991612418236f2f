"""What ``Trainer.fit`` does under MPI, in one place: start every process from rank 0's state,
average each step's gradients (carrying the step's loss and stop flag in the same exchange), and
reduce what the epoch reports exactly (sums and counts), so that all processes take the same
decisions at the same step and none is left waiting in a collective call.

>>> sync = FitSync(trainer, summed=False)   # at the start of fit, when world_size() > 1
>>> lv, count, stop = sync.step(lv, count, trainer.stop_training)   # after backward
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import random as _random
from .broadcast import broadcast_optimizer_state, broadcast_parameters
from .metrics import reduce_metrics
from .optimizer import DistributedOptimizer
from .world import allgather_object, allreduce, broadcast_object, rank, world_size

__all__ = ["FitSync"]


class FitSync:
    """The collective side of one ``fit`` on several processes (``trainer`` duck-typed: the
    Trainer's model, optimizer, loader_seed, stop_training and stop_reason).

    At construction: rank 0's weights, optimizer state and loader seed on every process, and a
    DistributedOptimizer around the trainer's optimizer (``op="sum"`` for a summed loss)."""

    def __init__(self, trainer: Any, summed: bool) -> None:
        self.world = world_size()
        self.rank = rank()
        opt = trainer.optimizer
        self.optimizer = (
            opt
            if isinstance(opt, DistributedOptimizer)
            else DistributedOptimizer(opt, op="sum" if summed else "average")
        )
        self.summed = summed
        broadcast_parameters(trainer.model)
        broadcast_optimizer_state(opt)
        if trainer.loader_seed is None:  # drawn as a single process would, then rank 0's kept
            trainer.loader_seed = int(_random.get_generator().integers(2**31 - 1))
        trainer.loader_seed = broadcast_object(trainer.loader_seed)

    def check_batches(self, n_batches: int) -> None:
        """Every process must take the same number of steps per epoch (each step is a
        collective call); a DataLoader without a DistributedSampler may break that."""
        counts = allgather_object(n_batches)
        if len(set(counts)) > 1:
            raise ValueError(
                f"the processes have different numbers of batches per epoch ({counts}); give "
                "each the same data with DataLoader(..., sampler=DistributedSampler(dataset)), "
                "or pass (x, y) arrays or a Dataset and let fit split them."
            )

    def step(self, loss: float, count: float, stop: bool) -> tuple[float, float, bool]:
        """After backward: average the gradients (weighted by each process's sample count or
        weight sum for a mean loss) and return the whole step's loss, its count, and whether
        any process asked to stop (then no process takes this step)."""
        weight = None if self.summed else count
        part = loss if self.summed else loss * count
        total_loss, total_count, stops = self.optimizer.synchronize(
            weight=weight, values=(part, count, float(bool(stop)))
        )
        if self.summed:
            value = total_loss
        else:
            value = total_loss / total_count if total_count else math.nan
        return float(value), float(total_count), bool(stops > 0)

    def metrics(self, metrics: list[Any]) -> list[Any]:
        """The metrics' results over every process's samples."""
        return reduce_metrics(metrics)

    def evaluation(
        self, loss_sum: float, n_seen: float, metrics: list[Any]
    ) -> tuple[float, float, list[Any]]:
        """An evaluation pass over each process's share: the whole's loss sum, count, and
        metric results."""
        sums = allreduce(np.array([loss_sum, n_seen], dtype=np.float64))
        return float(sums[0]), float(sums[1]), reduce_metrics(metrics)

    def max(self, value: float) -> float:
        """The largest ``value`` over the processes."""
        return float(allreduce(float(value), "max"))

    def agree_on_stop(self, trainer: Any) -> None:
        """After an epoch: when any process stops (a time budget, a callback of its own), all
        stop, with the reason of the lowest rank that gave one."""
        votes = allgather_object((bool(trainer.stop_training), trainer.stop_reason))
        if any(stop or reason is not None for stop, reason in votes):
            trainer.stop_training = True
            trainer.stop_reason = next((r for _, r in votes if r is not None), None)
