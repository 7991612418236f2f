"""Batches in scikit-learn's order, and the arrays a fit trains on.

scikit-learn's MLP shuffles a running permutation of the sample indices at the start of every
epoch (``sample_idx = shuffle(sample_idx, random_state)``) and cuts it into consecutive batches;
:class:`EpochLoader` does the same with the same random state, so a gradstep estimator sees its
batches in the order scikit-learn's would. The weight of each sample, when the fit is weighted,
travels as one more target column.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..data.dataset import TensorDataset
from ..data.loader import DataLoader

__all__ = ["EpochLoader", "batch_size_for", "pack_targets"]


def batch_size_for(batch_size: Any, n_samples: int) -> int:
    """scikit-learn's rule: "auto" is min(200, n_samples); larger values are clipped (warning)."""
    if isinstance(batch_size, str):
        return min(200, n_samples)
    if batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
            stacklevel=3,
        )
    return int(np.clip(batch_size, 1, n_samples))


def pack_targets(y: np.ndarray, w: np.ndarray | None, dtype: np.dtype) -> np.ndarray:
    """The 2-D target array the objective reads: ``y`` and, if given, the weights as a last
    column, in ``dtype``."""
    cols = [y.reshape(len(y), -1).astype(dtype, copy=False)]
    if w is not None:
        cols.append(w.astype(dtype, copy=False)[:, None])
    return np.ascontiguousarray(np.hstack(cols)) if len(cols) > 1 else np.ascontiguousarray(cols[0])


class EpochLoader(DataLoader):
    """Batches of ``(x, targets)`` in scikit-learn's order: each epoch permutes the previous
    epoch's order with ``random_state.shuffle`` (when ``shuffle``) and slices it. The rows of an
    epoch are gathered once, so each batch is a view."""

    def __init__(
        self,
        x: np.ndarray,
        targets: np.ndarray,
        batch_size: int,
        shuffle: bool,
        random_state: np.random.RandomState,
    ) -> None:
        dataset = TensorDataset(x, targets, float_dtype=None, validate=False)
        super().__init__(dataset, batch_size=batch_size, seed=0)  # the order is random_state's
        self.x, self.targets = x, targets
        self.reshuffle = bool(shuffle)
        self.random_state = random_state
        self.sample_idx = np.arange(len(x))

    def order(self, epoch: int | None = None) -> np.ndarray:
        return self.sample_idx

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        self.epoch += 1
        x, t = self.x, self.targets
        if self.reshuffle:
            perm = np.arange(len(x))
            self.random_state.shuffle(perm)
            self.sample_idx = self.sample_idx[perm]
            x, t = x[self.sample_idx], t[self.sample_idx]
        n, step = len(x), int(self.batch_size)
        return ((x[i : i + step], t[i : i + step]) for i in range(0, n, step))
