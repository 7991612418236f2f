"""From what a user passes to ``fit`` / ``evaluate`` to a dataset the training loop can use.

Arrays are checked once at the boundary (NaN/Inf, matching lengths, label ranges) and cast once
to the model's dtype, so the loop itself never converts or checks a batch again.

>>> ds = as_dataset((np.zeros((4, 2)), np.array([0, 1, 1, 0])), "training")
>>> prepare(ds, np.dtype("float32"), "index", "training").arrays[0].dtype
dtype('float32')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dataset import Dataset, TensorDataset, check_finite, to_numpy

__all__ = ["as_dataset", "check_class_count", "prepare"]


def as_dataset(data: Any, what: str) -> Dataset:
    """A Dataset as given, or a TensorDataset from an ``(x, y)`` pair of arrays (checked for
    NaN/Inf and equal lengths). ``what`` names the data in messages ("training", ...)."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data, tuple | list) and len(data) == 2:
        x, y = data
        x, y = to_numpy(x), to_numpy(y)
        if x.dtype.kind not in "biuf":
            raise TypeError(
                f"{what} inputs (x) have dtype {x.dtype}; pass numbers (encode text or category "
                "columns as numbers first)."
            )
        if y.dtype.kind not in "biuf":
            raise TypeError(
                f"{what} targets (y) have dtype {y.dtype}; map the labels to integers first "
                "(labels, y = np.unique(y, return_inverse=True))."
            )
        x = check_finite(x, f"{what} inputs (x)")
        if y.dtype.kind == "f":
            check_finite(y, f"{what} targets (y)")
        if len(x) != len(y):
            raise ValueError(
                f"{what} x has {len(x)} samples but y has {len(y)}; pass arrays with the "
                "same first dimension."
            )
        return TensorDataset(x, y, float_dtype=None, validate=False)  # checked above
    raise TypeError(
        f"{what} data must be a Dataset, a DataLoader or an (x, y) pair of arrays, got "
        f"{type(data).__name__}."
    )


def prepare(
    ds: Dataset,
    dtype: np.dtype,
    target_kind: str | None,
    what: str,
    *,
    loss_name: str = "the loss",
    ignore_index: int | None = None,
) -> Dataset:
    """Cast in-memory features (and non-index targets) once to ``dtype`` and check class-index
    targets (``target_kind == "index"``): integral floats become int64, negative labels other
    than ``ignore_index`` are an error. Other datasets pass through unchanged."""
    if not isinstance(ds, TensorDataset):
        return ds
    arrays = list(ds.arrays)
    changed = False
    if arrays[0].dtype.kind in "biuf" and arrays[0].dtype != dtype:
        arrays[0] = arrays[0].astype(dtype)
        changed = True
    if len(arrays) > 1:
        y = arrays[1]
        if target_kind == "index":
            y = _class_indices(y, what, loss_name, ignore_index)
        elif y.dtype.kind in "biuf" and y.dtype != dtype:
            y = y.astype(dtype)
        if y is not arrays[1]:
            arrays[1] = y
            changed = True
    return TensorDataset(*arrays, float_dtype=None, validate=False) if changed else ds


def _class_indices(y: np.ndarray, what: str, loss_name: str, ignore: int | None) -> np.ndarray:
    if y.dtype.kind == "f":
        if y.size and np.all(y == np.round(y)) and y.ndim == 1:
            y = y.astype(np.int64)
        elif y.ndim < 2:  # 2-D float targets are class probabilities, which the loss takes
            raise TypeError(
                f"{what} targets are floats but {loss_name} needs class indices; pass integer "
                "labels (y.astype(int))."
            )
    if y.dtype.kind in "iu" and y.size and y.min() < 0:
        bad = y[(y < 0) & (y != ignore)] if ignore is not None else y[y < 0]
        if bad.size:
            raise ValueError(
                f"{what} labels must be class indices >= 0, found {int(bad.min())}; map the "
                "labels to 0..n_classes-1."
            )
    return y


def check_class_count(ds: Any, n_outputs: int, what: str) -> None:
    """Raise ValueError when an in-memory dataset's largest class index does not fit a model
    with ``n_outputs`` outputs (checked once, on the first batch's output width)."""
    if isinstance(ds, TensorDataset) and len(ds.arrays) > 1:
        y = ds.arrays[1]
        if y.dtype.kind in "iu" and y.size:
            top = int(y.max())
            if top >= n_outputs:
                raise ValueError(
                    f"{what} labels go up to {top} but the model outputs {n_outputs} classes; "
                    f"give the last layer {top + 1} outputs."
                )
