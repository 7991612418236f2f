"""Datasets: the abstract map-style Dataset and the in-memory ones built on NumPy arrays.

A dataset that sets ``batch_indexing = True`` accepts an integer index array (or a slice) in
``__getitem__`` and returns a tuple of batched arrays; the DataLoader then fetches a whole batch
with one fancy index per array instead of a per-sample Python loop.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "ConcatDataset",
    "Dataset",
    "Subset",
    "TensorDataset",
    "TransformedDataset",
    "check_finite",
    "random_split",
    "to_numpy",
]

_NON_NUMERIC_KINDS = "OUSVMm"


def to_numpy(value: Any) -> np.ndarray:
    """Return ``value`` as a NumPy array without copying where possible.

    Accepts NumPy arrays, nested lists, pandas objects (through ``to_numpy``) and gradstep
    Tensors (anything with a ``.numpy()`` method whose ``.data`` is a NumPy array).
    """
    if isinstance(value, np.ndarray):
        return value
    if _is_tensor(value):
        return value.data
    to_np = getattr(value, "to_numpy", None)
    if callable(to_np):
        return np.asarray(to_np())
    return np.asarray(value)


def _is_tensor(value: Any) -> bool:
    return callable(getattr(value, "numpy", None)) and isinstance(
        getattr(value, "data", None), np.ndarray
    )


def check_finite(array: Any, name: str = "array") -> np.ndarray:
    """Raise ValueError if ``array`` holds NaN or Inf; return it as a NumPy array otherwise.

    The message names the array, how many values are bad and where the first one is, so data
    problems surface at the boundary instead of as a NaN loss many steps later.
    """
    arr = to_numpy(array)
    if arr.dtype.kind not in "fc":
        return arr
    finite = np.isfinite(arr)
    if finite.all():
        return arr
    n_nan = int(np.count_nonzero(np.isnan(arr)))
    n_inf = int(arr.size - np.count_nonzero(finite) - n_nan)
    first = tuple(int(i) for i in np.unravel_index(int(np.argmin(finite)), arr.shape))
    where = first[0] if len(first) == 1 else first
    raise ValueError(
        f"{name} contains {n_nan} NaN and {n_inf} infinite value(s) out of {arr.size} "
        f"(first at index {where}); remove or impute them before training."
    )


class Dataset:
    """A map-style dataset (PyTorch's protocol): ``len(ds)`` samples, ``ds[i]`` is sample ``i``.

    Subclasses implement ``__getitem__`` and ``__len__``. Set ``batch_indexing = True`` when
    ``__getitem__`` also takes an integer index array and returns a tuple of batched arrays.
    """

    batch_indexing: bool = False

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index).")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__().")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _as_index(index: Any, length: int) -> int | np.ndarray | slice:
    """Normalise an index to an int, a slice, or a 1-D integer index array."""
    if isinstance(index, (int, np.integer)) and not isinstance(index, (bool, np.bool_)):
        i = int(index)
        if not -length <= i < length:
            raise IndexError(f"index {i} is out of range for a dataset of length {length}.")
        return i + length if i < 0 else i
    if isinstance(index, slice):
        return index
    idx = to_numpy(index)
    if idx.dtype == np.bool_:
        if idx.shape != (length,):
            raise IndexError(
                f"a boolean mask must have shape ({length},), got {idx.shape}; "
                "pass one flag per sample."
            )
        return np.flatnonzero(idx)
    if idx.dtype.kind not in "iu" and idx.size:
        raise IndexError(f"dataset indices must be integers, got dtype {idx.dtype}.")
    idx = idx.astype(np.intp, copy=False).reshape(-1)
    if idx.size and (idx.min() < -length or idx.max() >= length):
        bad = idx[(idx < -length) | (idx >= length)][0]
        raise IndexError(f"index {int(bad)} is out of range for a dataset of length {length}.")
    return idx


class TensorDataset(Dataset):
    """Samples are rows of equally long arrays: ``TensorDataset(x, y)[i] == (x[i], y[i])``.

    Inputs may be NumPy arrays, lists, pandas objects or gradstep Tensors. Floating arrays become
    ``float_dtype`` (float32 by default, the engine's default; pass ``float_dtype=None`` to keep
    them as given); Tensors and integer arrays keep their dtype. Floating arrays are checked for
    NaN/Inf unless ``validate=False``. ``ds[idx]`` with an index array or slice returns a tuple of
    batched arrays (the DataLoader's fast path).
    """

    batch_indexing = True

    def __init__(self, *arrays: Any, float_dtype: Any = np.float32, validate: bool = True) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array, e.g. TensorDataset(x, y).")
        converted = []
        for k, value in enumerate(arrays):
            arr = to_numpy(value)
            if arr.ndim == 0:
                raise ValueError(
                    f"TensorDataset array {k} is a scalar; pass arrays whose first dimension "
                    "indexes the samples."
                )
            if arr.dtype.kind in _NON_NUMERIC_KINDS:
                raise TypeError(
                    f"TensorDataset array {k} has non-numeric dtype {arr.dtype}; map labels to "
                    "integers first (e.g. np.unique(y, return_inverse=True))."
                )
            if float_dtype is not None and arr.dtype.kind == "f" and not _is_tensor(value):
                arr = arr.astype(float_dtype, copy=False)
            if validate:
                check_finite(arr, f"TensorDataset array {k}")
            converted.append(arr)
        lengths = [a.shape[0] for a in converted]
        if len(set(lengths)) != 1:
            raise ValueError(
                f"TensorDataset arrays must have the same first dimension, got lengths {lengths}; "
                "pass one row per sample in every array."
            )
        self.arrays: tuple[np.ndarray, ...] = tuple(converted)

    @property
    def tensors(self) -> tuple[np.ndarray, ...]:
        """The stored arrays (PyTorch's attribute name)."""
        return self.arrays

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        idx = _as_index(index, len(self))
        return tuple(a[idx] for a in self.arrays)

    def _batch(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        """Rows ``idx`` (already valid) of every array: the DataLoader's unchecked fast path."""
        arrays = self.arrays
        if len(arrays) == 2:  # (x, y), the common case: no generator
            return arrays[0][idx], arrays[1][idx]
        return tuple([a[idx] for a in arrays])

    def __repr__(self) -> str:
        parts = ", ".join(f"{a.dtype}{list(a.shape)}" for a in self.arrays)
        return f"TensorDataset({parts})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (PyTorch's ``Subset``)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray) -> None:
        n = len(dataset)
        idx = _as_index(indices, n)
        if isinstance(idx, slice):
            idx = np.arange(n)[idx]
        if isinstance(idx, int):
            idx = np.array([idx], dtype=np.intp)
        self.dataset = dataset
        self.indices: np.ndarray = np.where(idx < 0, idx + n, idx)

    @property
    def batch_indexing(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.dataset, "batch_indexing", False))

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, index: Any) -> Any:
        idx = _as_index(index, len(self))
        if isinstance(idx, int):
            return self.dataset[int(self.indices[idx])]
        _require_batch_indexing(self)
        return self.dataset[self.indices[idx]]

    def _batch(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        return _fetch(self.dataset, self.indices[idx])

    def __repr__(self) -> str:
        return f"Subset({self.dataset!r}, {len(self)} samples)"


class ConcatDataset(Dataset):
    """Several datasets one after another (PyTorch's ``ConcatDataset``).

    Batch access (an index array, as the DataLoader uses) joins the parts' arrays once, on first
    use, so each later batch is one fancy index; that copy costs the memory of the data once more.
    """

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset.")
        self.cumulative_sizes: list[int] = np.cumsum([len(d) for d in self.datasets]).tolist()
        self._joined: tuple[np.ndarray, ...] | None = None
        fields = {len(d.arrays) for d in self._leaves() if isinstance(d, TensorDataset)}
        if len(fields) > 1:
            raise ValueError(
                "ConcatDataset parts yield different numbers of arrays per sample "
                f"({sorted(fields)}); concatenate datasets with the same fields."
            )

    def _leaves(self) -> list[Dataset]:
        out: list[Dataset] = []
        for d in self.datasets:
            while isinstance(d, Subset):
                d = d.dataset
            out.append(d)
        return out

    @property
    def batch_indexing(self) -> bool:  # type: ignore[override]
        return all(getattr(d, "batch_indexing", False) for d in self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: Any) -> Any:
        idx = _as_index(index, len(self))
        if isinstance(idx, int):
            part = bisect.bisect_right(self.cumulative_sizes, idx)
            start = self.cumulative_sizes[part - 1] if part else 0
            return self.datasets[part][idx - start]
        _require_batch_indexing(self)
        if isinstance(idx, slice):
            idx = np.arange(len(self))[idx]
        return self._batch(np.where(idx < 0, idx + len(self), idx))

    def _batch(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        if self._joined is None:
            parts = [_fetch(d, np.arange(len(d))) for d in self.datasets]
            self._joined = tuple(np.concatenate(field) for field in zip(*parts))
        return tuple(a[idx] for a in self._joined)

    def __repr__(self) -> str:
        return f"ConcatDataset({len(self.datasets)} datasets, {len(self)} samples)"


class TransformedDataset(Dataset):
    """``dataset`` with ``transform`` applied to each sample's input (its first field) every
    time it is fetched, as torchvision datasets apply ``transform=``: augmentation.

    A batch of a batch-indexable dataset is transformed in one vectorised call (a transform of
    ``gs.data.transforms`` has ``batch``; a plain callable runs sample by sample). Random draws
    come from the generator the DataLoader hands over before each batch (``set_rng``), seeded by
    its seed, the epoch and the batch index: a rerun, or a run resumed at an epoch, gives the
    same augmented batches. Fetched outside a loader, samples draw from a generator taken from
    gradstep's global one (``gs.manual_seed``).

    >>> train = TransformedDataset(TensorDataset(x, y), transforms.RandomShift(1))
    >>> loader = DataLoader(train, batch_size=32, shuffle=True, seed=0)
    """

    def __init__(self, dataset: Dataset, transform: Any) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(
                f"TransformedDataset needs a dataset (with __getitem__ and __len__), got "
                f"{type(dataset).__name__}; wrap arrays in TensorDataset(x, y) first."
            )
        if not callable(transform):
            raise TypeError(
                f"transform must be callable (e.g. transforms.RandomShift(1)), got {transform!r}."
            )
        self.dataset = dataset
        self.transform = transform
        self._rng: np.random.Generator | None = None

    @property
    def batch_indexing(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.dataset, "batch_indexing", False))

    def set_rng(self, rng: np.random.Generator) -> None:
        """The generator the next samples draw from (the DataLoader calls this per batch)."""
        self._rng = rng

    def _generator(self) -> np.random.Generator:
        if self._rng is None:
            from ..random import get_generator

            self._rng = np.random.default_rng(int(get_generator().integers(2**63)))
        return self._rng

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: Any) -> Any:
        from .transforms import apply_sample

        idx = _as_index(index, len(self))
        if not isinstance(idx, int):
            _require_batch_indexing(self)
            if isinstance(idx, slice):
                idx = np.arange(len(self))[idx]
            return self._batch(np.where(idx < 0, idx + len(self), idx))
        sample = self.dataset[idx]
        if isinstance(sample, tuple | list):
            return (apply_sample(self.transform, sample[0], self._generator()), *sample[1:])
        return apply_sample(self.transform, sample, self._generator())

    def _batch(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        from .transforms import apply_batch

        x, *rest = _fetch(self.dataset, idx)
        return (apply_batch(self.transform, x, self._generator()), *rest)

    def __repr__(self) -> str:
        return f"TransformedDataset({self.dataset!r}, {self.transform!r})"


def _require_batch_indexing(dataset: Dataset) -> None:
    if not dataset.batch_indexing:
        raise TypeError(
            f"this {type(dataset).__name__} wraps a dataset without batch indexing; "
            "index it with one integer at a time."
        )


@functools.cache
@functools.cache
def _has_fast_batch(cls: type) -> bool:
    """True when ``cls._batch`` comes with ``cls.__getitem__`` (subclasses may override that);
    asked once per class, as the DataLoader asks it for every batch."""

    def owner(name: str) -> type | None:
        return next((k for k in cls.__mro__ if name in vars(k)), None)

    return owner("_batch") is not None and owner("_batch") is owner("__getitem__")


def _fetch(dataset: Any, idx: np.ndarray) -> tuple[np.ndarray, ...]:
    """Batch ``idx`` (valid indices) of a batch-indexable dataset, skipping re-validation."""
    if _has_fast_batch(type(dataset)):
        return dataset._batch(idx)
    return tuple(dataset[idx])


def _resolve_lengths(lengths: Sequence[float], n: int) -> list[int]:
    """Turn fractions summing to 1 into counts (PyTorch's rule), or check integer counts."""
    values = list(lengths)
    if not values:
        raise ValueError("random_split needs at least one length.")
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        counts = [int(v) for v in values]
        if any(c < 0 for c in counts) or sum(counts) != n:
            raise ValueError(
                f"random_split lengths {counts} must be non-negative and sum to the dataset "
                f"length {n}; pass counts that add up or fractions that sum to 1."
            )
        return counts
    fracs = [float(v) for v in values]
    if any(not 0.0 <= f <= 1.0 for f in fracs) or not np.isclose(sum(fracs), 1.0):
        raise ValueError(
            f"random_split fractions {fracs} must each lie in [0, 1] and sum to 1; "
            "pass fractions that sum to 1 or integer counts."
        )
    counts = [int(np.floor(n * f)) for f in fracs]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(
    dataset: Dataset,
    lengths: Sequence[float],
    seed: int | np.random.Generator | None = None,
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)`` or fractions summing to 1 (the remainder
    of the floors goes round-robin to the first parts, as in PyTorch). ``seed`` (an int or a NumPy
    Generator) makes the split reproducible.
    """
    n = len(dataset)
    counts = _resolve_lengths(lengths, n)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    perm = rng.permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
