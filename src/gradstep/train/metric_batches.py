"""The Trainer's metrics fed in batches of batches: outputs and targets are kept as they come and
handed to the metrics together, about every million output values and at the end of the epoch.

Streaming metrics (accuracy, mse, confusion counts) give the same result for one update over
concatenated batches as for one update per batch, and a training step then costs two list
appends instead of an argmax, a comparison and a count.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

FLUSH_SIZE = 1 << 20
"""Output values kept before the metrics are updated (4 MiB of float32 outputs)."""


class MetricBatches:
    """``add(out, y, w)`` per training step, ``flush()`` before reading the metrics.

    >>> from gradstep.train.metrics import Accuracy
    >>> acc = Accuracy()
    >>> mb = MetricBatches([acc])
    >>> mb.add(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]), None)
    >>> mb.add(np.array([[0.3, 0.7]]), np.array([1]), None)
    >>> mb.flush(); acc.result()
    0.6666666666666666
    """

    def __init__(self, metrics: list[Any]) -> None:
        self.metrics = metrics
        self.outs: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []
        self.weights: list[np.ndarray] = []
        self.size = 0

    def add(self, out: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
        """Keep one batch (the arrays are not copied: the Trainer's batches are its own)."""
        if not self.metrics:
            return
        if w is not None or self.weights:  # weighted batches go one by one
            self.flush()
            update(self.metrics, out, y, w)
            return
        self.outs.append(out)
        self.targets.append(y)
        self.size += out.size
        if self.size >= FLUSH_SIZE:
            self.flush()

    def flush(self) -> None:
        """Update the metrics with every batch kept so far."""
        outs, targets = self.outs, self.targets
        if not outs:
            return
        if len(outs) == 1:
            update(self.metrics, outs[0], targets[0], None)
        else:
            update(self.metrics, np.concatenate(outs), np.concatenate(targets), None)
        outs.clear()
        targets.clear()
        self.size = 0


def update(metrics: list[Any], out: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
    """Feed a batch to the metrics, with its weights to those that take them."""
    for m in metrics:
        if w is not None and _update_takes_weight(type(m)):
            m.update(out, y, weight=w)
        else:
            m.update(out, y)


@functools.cache
def _update_takes_weight(cls: type) -> bool:
    """Whether a metric class's ``update`` takes ``weight`` (asked once per class)."""
    import inspect

    try:
        return "weight" in inspect.signature(cls.update).parameters
    except (TypeError, ValueError, AttributeError):
        return False
