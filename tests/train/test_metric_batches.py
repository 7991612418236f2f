"""Metrics fed in batches of batches give the per-batch results, computed here by hand."""

from __future__ import annotations

import numpy as np

from gradstep.train import metric_batches
from gradstep.train.metric_batches import MetricBatches
from gradstep.train.metrics import Accuracy, get_metric


def _batches(seed: int = 0, n: int = 5):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((7, 4)), rng.integers(0, 4, 7)) for _ in range(n)]


def test_accuracy_over_kept_batches_equals_the_count_by_hand():
    batches = _batches()
    acc = Accuracy()
    mb = MetricBatches([acc])
    for out, y in batches:
        mb.add(out, y, None)
    assert acc.total == 0  # nothing is computed per step
    mb.flush()
    correct = sum(int((out.argmax(1) == y).sum()) for out, y in batches)
    assert acc.result() == correct / 35


def test_a_full_buffer_is_flushed_on_the_way(monkeypatch):
    monkeypatch.setattr(metric_batches, "FLUSH_SIZE", 50)  # two batches of 28 values
    acc = Accuracy()
    mb = MetricBatches([acc])
    batches = _batches(n=3)
    for out, y in batches[:2]:
        mb.add(out, y, None)
    assert acc.total == 14 and mb.size == 0
    mb.add(*batches[2], None)
    mb.flush()
    assert acc.total == 21


def test_weighted_batches_and_regression_metrics():
    rng = np.random.default_rng(1)
    mse = get_metric("mse", "argmax")
    mb = MetricBatches([mse])
    outs = [rng.standard_normal((5, 2)) for _ in range(3)]
    ys = [rng.standard_normal((5, 2)) for _ in range(3)]
    mb.add(outs[0], ys[0], None)
    mb.add(outs[1], ys[1], np.ones(5))  # a weighted batch: kept ones go first, then this one
    mb.add(outs[2], ys[2], None)
    mb.flush()
    by_hand = np.mean([((o - y) ** 2).mean() for o, y in zip(outs, ys)])
    assert np.isclose(mse.result(), by_hand)
