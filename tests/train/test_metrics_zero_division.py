"""Precision, recall and F1 as scikit-learn defines them: per class, macro-averaged over the
classes among the true or predicted labels, with its zero_division rule (the oracle is
``sklearn.metrics.precision_recall_fscore_support``)."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import precision_recall_fscore_support

from gradstep.train.metrics import (
    F1,
    Precision,
    Recall,
    confusion_matrix,
    per_class_scores,
    precision_recall_f1,
)

labels = st.lists(st.integers(0, 5), min_size=1, max_size=40)


@settings(deadline=None, max_examples=150)
@given(data=st.data(), zero_division=st.sampled_from([0.0, 1.0, np.nan]))
def test_macro_and_per_class_scores_equal_scikit_learns(data, zero_division):
    y_true = np.array(data.draw(labels))
    y_pred = np.array(data.draw(st.lists(st.integers(0, 5), min_size=len(y_true),
                                         max_size=len(y_true))))  # fmt: skip
    cm = confusion_matrix(y_true, y_pred, 7)  # classes 6 and maybe others occur nowhere
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        macro = precision_recall_fscore_support(
            y_true, y_pred, average="macro", zero_division=zero_division
        )
        each = precision_recall_fscore_support(
            y_true, y_pred, average=None, zero_division=zero_division
        )
    np.testing.assert_allclose(precision_recall_f1(cm, zero_division), macro[:3], rtol=1e-12)
    scores = per_class_scores(cm, zero_division)
    present = np.flatnonzero(scores["present"])
    np.testing.assert_array_equal(present, np.union1d(y_true, y_pred))
    for i, name in enumerate(("precision", "recall", "f1", "support")):
        np.testing.assert_allclose(scores[name][present], each[i], rtol=1e-12)


def test_a_class_missing_from_the_split_is_left_out_of_the_average():
    # 9 samples of classes 0-2 of a 4-class problem; class 3 is neither present nor predicted
    y_true = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 1, 2, 2, 0])
    p, r, f = precision_recall_f1(confusion_matrix(y_true, y_pred, 4))
    # by hand: precision (3/4 + 1 + 1) / 3, recall (1 + 1 + 2/3) / 3
    assert p == pytest.approx((0.75 + 1 + 1) / 3) and r == pytest.approx((1 + 1 + 2 / 3) / 3)
    assert f == pytest.approx((2 * 3 / 7 + 1 + 2 * 2 / 5) / 3)  # 2tp / (2tp + fp + fn)
    assert np.isnan(precision_recall_f1(np.zeros((3, 3)))[0])


def test_streaming_metrics_match_the_whole_array_scores():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 5))
    logits[:, 4] -= 10  # class 4 is never predicted and never present
    target = rng.integers(0, 4, 50)
    expected = precision_recall_f1(confusion_matrix(target, logits.argmax(1), 5))
    metrics = [Precision(), Recall(), F1()]
    for start in range(0, 50, 16):
        for m in metrics:
            m.update(logits[start : start + 16], target[start : start + 16])
    assert [m.result() for m in metrics] == pytest.approx(list(expected))
