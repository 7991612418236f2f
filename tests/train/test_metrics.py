"""Metrics against hand computations and scikit-learn."""

import numpy as np
import pytest
from sklearn import metrics as skm

from gradstep.train import metrics as M


def test_accuracy_by_hand():
    out = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    y = np.array([1, 0, 0, 0])
    assert M.accuracy(out, y) == 0.75


def test_accuracy_rules_for_binary_outputs():
    logits = np.array([[2.0], [-1.0], [0.5]])
    y = np.array([[1.0], [0.0], [0.0]])
    assert M.accuracy(logits, y, rule="logit") == pytest.approx(2 / 3)
    probs = np.array([[0.9], [0.4], [0.6]])
    assert M.accuracy(probs, y, rule="probability") == pytest.approx(2 / 3)


def test_streaming_equals_whole_array():
    rng = np.random.default_rng(0)
    out = rng.standard_normal((103, 5))
    y = rng.integers(0, 5, 103)
    acc = M.Accuracy()
    f1 = M.F1()
    prec = M.Precision()
    rec = M.Recall()
    for i in range(0, 103, 10):
        for m in (acc, f1, prec, rec):
            m.update(out[i : i + 10], y[i : i + 10])
    pred = out.argmax(1)
    assert acc.result() == pytest.approx(np.mean(pred == y))
    assert f1.result() == pytest.approx(skm.f1_score(y, pred, average="macro", zero_division=0))
    assert prec.result() == pytest.approx(
        skm.precision_score(y, pred, average="macro", zero_division=0)
    )
    assert rec.result() == pytest.approx(
        skm.recall_score(y, pred, average="macro", zero_division=0)
    )


def test_confusion_matrix_matches_sklearn():
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    p = np.array([0, 2, 2, 2, 1, 1, 0])
    np.testing.assert_array_equal(M.confusion_matrix(y, p, 3), skm.confusion_matrix(y, p))


def test_top_k():
    out = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1]])
    y = np.array([2, 2])
    assert M.top_k_accuracy(out, y, k=1) == 0.0
    assert M.top_k_accuracy(out, y, k=2) == 0.5
    m = M.get_metric("top2_accuracy")
    m.update(out, y)
    assert m.result() == 0.5


def test_regression_streaming_matches_sklearn():
    rng = np.random.default_rng(1)
    t = rng.standard_normal((57, 2))
    o = t + 0.3 * rng.standard_normal((57, 2))
    ms = [M.MSE(), M.MAE(), M.R2()]
    for i in range(0, 57, 8):
        for m in ms:
            m.update(o[i : i + 8], t[i : i + 8])
    assert ms[0].result() == pytest.approx(skm.mean_squared_error(t, o))
    assert ms[1].result() == pytest.approx(skm.mean_absolute_error(t, o))
    assert ms[2].result() == pytest.approx(skm.r2_score(t, o))
    assert M.r2(o, t) == pytest.approx(skm.r2_score(t, o))


def test_max_error_by_hand():
    assert M.max_error(np.array([[0.1, 0.9]]), np.array([[0.0, 1.0]])) == pytest.approx(0.1)
    m = M.MaxError()
    m.update(np.array([[0.5]]), np.array([[1.0]]))
    m.update(np.array([[0.0]]), np.array([[0.2]]))
    assert m.result() == pytest.approx(0.5)


def test_unknown_metric_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        M.get_metric("acuracy")
