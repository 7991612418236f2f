"""DataLoader: batches of NumPy arrays from a Dataset, with seeded, resumable shuffling.

``batch_size=1`` is stochastic (per-sample) gradient descent, ``k`` mini-batch descent and
``"full"`` the whole set in one batch (batch gradient descent). With shuffling, epoch ``e`` uses the
permutation drawn from ``np.random.default_rng([seed, e])``, so a run resumed at epoch ``e`` sees
exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .dataset import Dataset, TensorDataset, _fetch, to_numpy

__all__ = ["DataLoader", "default_collate", "shuffled_order"]


def _new_seed() -> int:
    """A seed drawn once per loader from gradstep's generator, so ``gs.manual_seed`` makes
    shuffling repeatable (as ``torch.manual_seed`` does) and the loader's epochs stay consistent."""
    from ..random import get_generator

    return int(get_generator().integers(2**63))


def shuffled_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The permutation of ``range(n)`` for ``epoch`` of a loader seeded with ``seed``: the order
    a shuffling DataLoader uses, and the one DistributedSampler splits between processes."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def _collate_field(values: Sequence[Any], field: int | str | None) -> np.ndarray:
    first = values[0]
    if type(first) is float:
        return np.asarray(values, dtype=np.float32)
    if isinstance(first, (list, tuple)):
        out = np.asarray(values)
        return out.astype(np.float32) if out.dtype == np.float64 else out
    arrays = [to_numpy(v) for v in values]
    try:
        return np.stack(arrays)
    except ValueError as err:
        shapes = sorted({a.shape for a in arrays}, key=str)[:2]
        where = "the samples" if field is None else f"field {field!r} of the samples"
        raise ValueError(
            f"cannot stack {where} into a batch: shapes {shapes[0]} and {shapes[-1]} differ; "
            "make every sample the same shape or pass collate_fn."
        ) from err


def default_collate(items: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, keeping their structure.

    Tuples/lists of fields become a tuple of stacked arrays, dicts a dict; NumPy arrays and
    Tensors keep their dtype, Python floats become float32 and Python ints int64.
    """
    first = items[0]
    if isinstance(first, (tuple, list)):
        width = len(first)
        if any(len(it) != width for it in items):
            raise ValueError("samples in one batch have different numbers of fields.")
        return tuple(_collate_field([it[k] for it in items], k) for k in range(width))
    if isinstance(first, Mapping):
        return {key: _collate_field([it[key] for it in items], key) for key in first}
    return _collate_field(items, None)


def _check_batch_size(batch_size: Any) -> int | str:
    if isinstance(batch_size, str):
        if batch_size != "full":
            raise ValueError(
                f"batch_size must be a positive integer or 'full', got {batch_size!r}."
            )
        return batch_size
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(
            f"batch_size must be a positive integer or 'full', got {type(batch_size).__name__} "
            f"{batch_size!r}."
        )
    if batch_size < 1:
        raise ValueError(
            f"batch_size must be >= 1, got {int(batch_size)}; use 1 for per-sample updates "
            "or 'full' for the whole set."
        )
    return int(batch_size)


def _check_seed(seed: Any) -> int:
    if seed is None:
        return _new_seed()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}.")
    return int(seed)


class DataLoader:
    """Iterate over ``dataset`` in batches; each batch is a tuple of NumPy arrays (x, y, ...).

    Arguments follow PyTorch: ``batch_size`` (int or ``"full"``), ``shuffle``, ``sampler``,
    ``drop_last``, ``collate_fn``; ``seed`` replaces PyTorch's ``generator`` (None draws one at
    construction). In-memory datasets (``batch_indexing``) are batched with one fancy index per
    array per batch. Every iteration starts a new epoch: it uses ``self.epoch`` and then advances
    it by one, so ``set_epoch(e)`` (or ``load_state_dict``) chooses which epoch's order comes next.

    ``sampler`` (any sized iterable of indices, e.g. a ``DistributedSampler``) decides the order
    instead, as in PyTorch: it excludes ``shuffle=True``, ``len(loader)`` counts its indices, and
    ``set_epoch(e)`` is passed on to a sampler that has one (iterating does not advance it).

    >>> loader = DataLoader(ds, batch_size=16, sampler=DistributedSampler(ds, seed=7))
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | str = 1,
        shuffle: bool = False,
        sampler: Any = None,
        seed: int | None = None,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] | None = None,
    ) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(
                f"dataset must have __getitem__ and __len__, got {type(dataset).__name__}; "
                "wrap arrays in TensorDataset(x, y)."
            )
        for flag, value in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{flag} must be True or False, got {value!r}.")
        if sampler is not None:
            if not hasattr(sampler, "__iter__") or not hasattr(sampler, "__len__"):
                raise TypeError(
                    f"sampler must be a sized iterable of indices (a DistributedSampler, a list), "
                    f"got {type(sampler).__name__}."
                )
            if shuffle:
                raise ValueError(
                    "sampler and shuffle=True exclude each other (the sampler decides the "
                    "order); leave shuffle False, or pass shuffle to the sampler."
                )
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn must be callable or None, got {collate_fn!r}.")
        self.batch_size = _check_batch_size(batch_size)
        if self.batch_size == "full" and drop_last:
            raise ValueError(
                "drop_last=True has no meaning with batch_size='full' (the one batch is the "
                "whole set); leave drop_last False."
            )
        self.dataset = dataset
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.seed = _check_seed(seed)
        self.epoch = 0

    # -- sizes ---------------------------------------------------------------------------------
    def _step(self, n: int) -> int:
        return max(n, 1) if self.batch_size == "full" else int(self.batch_size)

    def __len__(self) -> int:
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        step = self._step(n)
        return n // step if self.drop_last else -(-n // step)

    # -- epochs and state ------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration uses (passed on to the sampler)."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}.")
        self.epoch = int(epoch)
        if self.sampler is not None and hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(self.epoch)

    def state_dict(self) -> dict[str, int]:
        """The seed and the next epoch: all a resumed run needs to continue identically."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the seed and epoch saved by ``state_dict()``."""
        missing = {"seed", "epoch"} - set(state)
        if missing:
            raise ValueError(
                f"DataLoader state is missing {sorted(missing)}; pass what state_dict() returned."
            )
        self.seed = _check_seed(int(state["seed"]))
        self.set_epoch(int(state["epoch"]))

    def order(self, epoch: int | None = None) -> np.ndarray:
        """The sample order of ``epoch`` (default: the next one): a permutation or arange, or
        the sampler's indices (for ``epoch`` when it has ``indices(epoch)``, else as it is)."""
        if self.sampler is not None:
            if hasattr(self.sampler, "indices"):
                return np.asarray(self.sampler.indices(epoch), dtype=np.int64)
            return np.fromiter(iter(self.sampler), dtype=np.int64, count=len(self.sampler))
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        e = self.epoch if epoch is None else epoch
        return shuffled_order(n, self.seed, e)

    # -- iteration -------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        order = self.order()
        epoch = self.epoch
        self.epoch += 1
        return self._batches(order, epoch)

    def _batches(self, order: np.ndarray, epoch: int | None = None) -> Iterator[Any]:
        """The batches in ``order``; a dataset with ``set_rng`` (augmentation) gets a generator
        seeded by (seed, epoch, batch index, sampler rank) before each batch."""
        reseed = getattr(self.dataset, "set_rng", None)
        epoch = self.epoch if epoch is None else epoch
        rank = int(getattr(self.sampler, "rank", 0) or 0)
        n = order.shape[0]
        step = self._step(n)
        stop = n - n % step if self.drop_last else n
        fast = self.collate_fn is None and bool(getattr(self.dataset, "batch_indexing", False))
        plain = (
            fast
            and not self.shuffle
            and self.sampler is None
            and type(self.dataset) is TensorDataset
        )
        collate = self.collate_fn or default_collate
        for b, start in enumerate(range(0, stop, step)):
            end = min(start + step, n)
            if reseed is not None:
                reseed(np.random.default_rng([self.seed, epoch, b, rank]))
            if plain:
                yield tuple(a[start:end].copy() for a in self.dataset.arrays)
            elif fast:
                yield _fetch(self.dataset, order[start:end])
            else:
                yield collate([self.dataset[int(i)] for i in order[start:end]])

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size!r}, "
            f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last}, "
            + ("" if self.sampler is None else f"sampler={type(self.sampler).__name__}, ")
            + f"batches={len(self)})"
        )
