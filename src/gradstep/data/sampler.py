"""DistributedSampler: each process of a data-parallel job takes its share of every epoch.

PyTorch's semantics: one permutation per epoch (with ``shuffle``), padded by repeating its first
indices up to a multiple of the number of processes (or cut down with ``drop_last``); process
``r`` takes every ``num_replicas``-th index starting at ``r``. The permutation is the one the
DataLoader's own shuffle draws for the same seed and epoch, so with ``num_replicas=1`` the sampler
gives a single process's order, and two processes with batch 16 see together, step by step,
exactly the samples one process with batch 32 sees.

>>> sampler = DistributedSampler(ds, seed=7)           # rank and world size from MPI
>>> loader = DataLoader(ds, batch_size=16, sampler=sampler)
>>> for epoch in range(epochs):
...     sampler.set_epoch(epoch)                       # or loader.set_epoch(epoch)
...     for x, y in loader: ...
"""

from __future__ import annotations

from collections.abc import Iterator, Sized
from typing import Any

import numpy as np

from .loader import shuffled_order

__all__ = ["DistributedSampler"]


def _count(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


class DistributedSampler:
    """The indices of ``dataset`` that process ``rank`` of ``num_replicas`` trains on.

    ``num_replicas`` and ``rank`` default to the MPI world's size and this process's rank (1 and
    0 when not started by mpiexec). ``len(sampler)`` is the share of one process:
    ``ceil(len(dataset) / num_replicas)``, or ``floor`` with ``drop_last``. Call
    ``set_epoch(e)`` before each epoch (``DataLoader.set_epoch`` passes it on; the Trainer does
    it), otherwise every epoch repeats the same order.
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if not hasattr(dataset, "__len__"):
            raise TypeError(
                f"dataset must have a length, got {type(dataset).__name__}; pass a Dataset."
            )
        if num_replicas is None or rank is None:
            from .. import distributed

            num_replicas = distributed.world_size() if num_replicas is None else num_replicas
            rank = distributed.rank() if rank is None else rank
        self.num_replicas = _count(num_replicas, "num_replicas", 1)
        if isinstance(rank, bool) or not isinstance(rank, int | np.integer):
            raise ValueError(f"rank must be an integer, got {rank!r}.")
        if not 0 <= rank < self.num_replicas:
            raise ValueError(
                f"rank {rank} is not in [0, {self.num_replicas - 1}]; pass a rank below "
                f"num_replicas ({self.num_replicas})."
            )
        for flag, value in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(value, bool | np.bool_):
                raise TypeError(f"{flag} must be True or False, got {value!r}.")
        self.rank = int(rank)
        self.dataset = dataset
        self.shuffle = bool(shuffle)
        self.seed = _count(seed, "seed", 0)
        self.drop_last = bool(drop_last)
        self.epoch = 0

    @property
    def num_samples(self) -> int:
        """How many indices each process gets per epoch."""
        n, r = len(self.dataset), self.num_replicas
        if self.drop_last:
            return n // r
        return -(-n // r)

    @property
    def total_size(self) -> int:
        """The padded (or cut) length of the epoch's order that the processes share."""
        return self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose permutation the next iteration uses (as in PyTorch)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int | np.integer) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}.")
        self.epoch = int(epoch)

    def indices(self, epoch: int | None = None) -> np.ndarray:
        """This process's indices for ``epoch`` (default: the one ``set_epoch`` chose)."""
        n = len(self.dataset)
        e = self.epoch if epoch is None else epoch
        order = shuffled_order(n, self.seed, e) if self.shuffle else np.arange(n)
        total = self.total_size
        if total > n:  # pad with the first indices, repeated as often as needed (tiny datasets)
            order = np.resize(order, total) if n else order
        else:
            order = order[:total]
        return order[self.rank : total : self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (
            f"DistributedSampler(num_replicas={self.num_replicas}, rank={self.rank}, "
            f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last}, "
            f"num_samples={self.num_samples})"
        )
