"""Metrics over several processes, simulated in one: each "rank" updates a metric on its shard,
the exchange is replaced by the list of their states, and the reduced result must equal
scikit-learn's value on all the data (exact, where a mean of the ranks' results is not)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import gradstep.distributed.metrics as DM
from gradstep.train import metrics as M


def shards(n: int, sizes: list[int], seed: int = 0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 4))
    y = rng.integers(0, 4, size=n)
    y[: n // 2] = np.minimum(y[: n // 2], 1)  # the first shard sees classes 0-1 only
    w = rng.uniform(0.1, 3.0, size=n)
    cuts = np.cumsum([0, *sizes])
    return logits, y, w, [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:])]


def reduce_over(monkeypatch, make, parts, update):
    """Each part's metrics updated by ``update(metrics, part)``; rank 0's list reduced with the
    others' states as the allgather's answer."""
    per_rank = []
    for part in parts:
        ms = make()
        update(ms, part)
        per_rank.append(ms)
    states = [
        [{k: getattr(m, k) for k in DM.state_reductions(m)} for m in ms] for ms in per_rank[1:]
    ]
    monkeypatch.setattr(DM, "allgather_object", lambda mine: [mine, *states])
    return DM.reduce_metrics(per_rank[0])


@pytest.mark.parametrize("weighted", [False, True])
def test_classification_metrics_equal_scikit_learns_on_all_the_data(monkeypatch, weighted):
    n = 60
    logits, y, w, parts = shards(n, [30, 7, 23])

    def make():
        return [M.Accuracy(), M.F1(), M.Precision(), M.Recall(), M.TopKAccuracy(2)]

    def update(ms, part):
        for m in ms:
            m.update(logits[part], y[part], weight=w[part] if weighted else None)

    acc, f1, prec, rec, top2 = reduce_over(monkeypatch, make, parts, update)
    pred = logits.argmax(1)
    sw = w if weighted else None
    assert acc == pytest.approx(skm.accuracy_score(y, pred, sample_weight=sw), abs=1e-12)
    kw = {"average": "macro", "zero_division": 0, "sample_weight": sw, "labels": range(4)}
    assert f1 == pytest.approx(skm.f1_score(y, pred, **kw), abs=1e-12)
    assert prec == pytest.approx(skm.precision_score(y, pred, **kw), abs=1e-12)
    assert rec == pytest.approx(skm.recall_score(y, pred, **kw), abs=1e-12)
    top = skm.top_k_accuracy_score(y, logits, k=2, sample_weight=sw, labels=range(4))
    assert top2 == pytest.approx(top, abs=1e-12)


def test_regression_metrics_and_the_largest_error(monkeypatch):
    rng = np.random.default_rng(1)
    out = rng.normal(size=(50, 2))
    t = (
        out
        + rng.normal(scale=0.5, size=(50, 2))
        + np.array([0.0, 3.0]) * (np.arange(50) > 40)[:, None]
    )
    parts = [slice(0, 41), slice(41, 50)]  # the second rank's targets are shifted: R² differs

    def make():
        return [M.MSE(), M.MAE(), M.R2(), M.MaxError()]

    def update(ms, part):
        for m in ms:
            m.update(out[part], t[part])

    mse, mae, r2, worst = reduce_over(monkeypatch, make, parts, update)
    assert mse == pytest.approx(skm.mean_squared_error(t, out), abs=1e-12)
    assert mae == pytest.approx(skm.mean_absolute_error(t, out), abs=1e-12)
    assert r2 == pytest.approx(skm.r2_score(t, out), abs=1e-12)
    assert worst == pytest.approx(np.abs(t - out).max(), abs=0)
    means = np.mean([skm.r2_score(t[p], out[p]) for p in parts])
    assert abs(means - r2) > 0.05  # what a mean of the ranks' results would have said


class Count(M.Metric):
    name = "count"
    state_reductions = {"seen": "sum", "biggest": "max"}

    def __init__(self):
        self.seen, self.biggest = 0, -np.inf

    def update(self, output, target):
        self.seen += len(target)
        self.biggest = max(self.biggest, float(np.max(output)))

    def result(self):
        return self.seen + self.biggest


class Opaque(M.Metric):
    name = "opaque"

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def test_own_metrics_declare_their_reductions_or_get_a_warned_mean(monkeypatch):
    a, b = Count(), Count()
    a.update(np.array([1.0, 5.0]), np.zeros(2))
    b.update(np.array([9.0]), np.zeros(1))
    monkeypatch.setattr(DM, "allgather_object", lambda mine: [mine, [{"seen": 1, "biggest": 9.0}]])
    assert DM.reduce_metrics([a]) == [3 + 9.0]
    monkeypatch.setattr(DM, "allgather_object", lambda mine: [mine, [{"result": 4.0}]])
    with pytest.warns(UserWarning, match="state_reductions"):
        assert DM.reduce_metrics([Opaque(1.0)]) == [2.5]
