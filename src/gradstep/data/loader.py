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

__all__ = ["DataLoader", "default_collate"]


def _new_seed() -> int:
    """A seed drawn once per loader from gradstep's generator, so ``gs.manual_seed`` makes
    shuffling repeatable (as ``torch.manual_seed`` does) and the loader's epochs stay consistent."""
    from ..random import get_generator

    return int(get_generator().integers(2**63))


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

    Arguments follow PyTorch: ``batch_size`` (int or ``"full"``), ``shuffle``, ``drop_last``,
    ``collate_fn``; ``seed`` replaces PyTorch's ``generator`` (None draws one at construction).
    In-memory datasets (``batch_indexing``) are batched with one fancy index per array per batch.
    Every iteration starts a new epoch: it uses ``self.epoch`` and then advances it by one, so
    ``set_epoch(e)`` (or ``load_state_dict``) chooses which epoch's order comes next.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | str = 1,
        shuffle: bool = False,
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
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.seed = _check_seed(seed)
        self.epoch = 0

    # -- sizes ---------------------------------------------------------------------------------
    def _step(self, n: int) -> int:
        return max(n, 1) if self.batch_size == "full" else int(self.batch_size)

    def __len__(self) -> int:
        n = len(self.dataset)
        step = self._step(n)
        return n // step if self.drop_last else -(-n // step)

    # -- epochs and state ------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration uses."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}.")
        self.epoch = int(epoch)

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
        """The sample order of ``epoch`` (default: the next one): a permutation or arange."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        e = self.epoch if epoch is None else epoch
        return np.random.default_rng([self.seed, e]).permutation(n)

    # -- iteration -------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        order = self.order()
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order: np.ndarray) -> Iterator[Any]:
        n = order.shape[0]
        step = self._step(n)
        stop = n - n % step if self.drop_last else n
        fast = self.collate_fn is None and bool(getattr(self.dataset, "batch_indexing", False))
        plain = fast and not self.shuffle and type(self.dataset) is TensorDataset
        collate = self.collate_fn or default_collate
        for start in range(0, stop, step):
            end = min(start + step, n)
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
            f"batches={len(self)})"
        )
