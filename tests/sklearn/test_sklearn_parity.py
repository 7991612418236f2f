"""The estimators against scikit-learn's MLP as the oracle: with the same parameters and
random_state they start from the same weights, see the same batches and take the same steps, so
their numbers agree to rounding (float64)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import neural_network as skn
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import gradstep.sklearn as gsk

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _iris():
    x, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(x), y


def _close_lists(a, b, rtol=1e-10, atol=1e-12) -> None:
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=atol)


def _same_fit(ours, theirs, with_weights=False) -> None:
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10, atol=1e-12)
    _close_lists(ours.coefs_, theirs.coefs_)
    _close_lists(ours.intercepts_, theirs.intercepts_)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    assert ours.out_activation_ == theirs.out_activation_
    assert ours.n_layers_ == theirs.n_layers_
    assert ours.n_outputs_ == theirs.n_outputs_
    if theirs.best_loss_ is None:
        assert ours.best_loss_ is None
    else:
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-10)
    if theirs.validation_scores_ is not None:
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)
        assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_one_step_from_the_same_weights(solver: str) -> None:
    # Both estimators get identical coefs_/intercepts_ and take one full-batch step.
    x, y = _iris()
    rng = np.random.default_rng(7)
    params = dict(hidden_layer_sizes=(5,), solver=solver, batch_size=len(x), shuffle=False)
    ours = gsk.MLPClassifier(max_iter=1, random_state=1, **params).fit(x, y)
    theirs = skn.MLPClassifier(max_iter=1, random_state=2, **params).fit(x, y)
    coefs = [rng.standard_normal((4, 5)), rng.standard_normal((5, 3))]
    intercepts = [rng.standard_normal(5), rng.standard_normal(3)]
    for est in (ours, theirs):
        est.coefs_ = [c.copy() for c in coefs]
        est.intercepts_ = [b.copy() for b in intercepts]
        est.set_params(warm_start=True, learning_rate_init=0.05)
        est.fit(x, y)
    assert not np.allclose(ours.coefs_[0], coefs[0])  # it moved
    _close_lists(ours.coefs_, theirs.coefs_, rtol=0, atol=1e-6)
    _close_lists(ours.intercepts_, theirs.intercepts_, rtol=0, atol=1e-6)
    _close_lists(ours.coefs_, theirs.coefs_)  # in fact to rounding
    assert ours.loss_curve_[-1] == pytest.approx(theirs.loss_curve_[-1], rel=1e-12)


CLASSIFIER_CASES = [
    dict(),
    dict(solver="sgd"),
    dict(solver="sgd", nesterovs_momentum=False),
    dict(solver="sgd", momentum=0.0),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1),
    dict(solver="sgd", learning_rate="adaptive", tol=1e-2, n_iter_no_change=2),
    dict(early_stopping=True, validation_fraction=0.2),
    dict(batch_size=16, activation="tanh"),
    dict(activation="logistic", alpha=0.1),
    dict(activation="identity", hidden_layer_sizes=(4, 3)),
    dict(tol=1e-2, n_iter_no_change=3),
]


@pytest.mark.parametrize("params", CLASSIFIER_CASES, ids=lambda p: str(p) or "defaults")
def test_classifier_follows_sklearn(params: dict) -> None:
    x, y = _iris()
    kw = {"hidden_layer_sizes": (8,), "max_iter": 40, "random_state": 1, **params}
    ours = gsk.MLPClassifier(**kw).fit(x, y)
    theirs = skn.MLPClassifier(**kw).fit(x, y)
    _same_fit(ours, theirs)
    np.testing.assert_allclose(ours.predict_proba(x), theirs.predict_proba(x), atol=1e-12)
    np.testing.assert_array_equal(ours.predict(x), theirs.predict(x))


def test_binary_with_early_stopping_and_weights_follows_sklearn() -> None:
    x, y = load_breast_cancer(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    kw = dict(hidden_layer_sizes=(6,), max_iter=15, random_state=3, early_stopping=True)
    ours = gsk.MLPClassifier(**kw).fit(x, y, sample_weight=w)
    theirs = skn.MLPClassifier(**kw).fit(x, y, sample_weight=w)
    assert ours.out_activation_ == "logistic" and ours.coefs_[-1].shape == (6, 1)
    _same_fit(ours, theirs)
    assert ours.predict_proba(x).shape == (len(x), 2)


def test_multilabel_follows_sklearn() -> None:
    x, y = make_multilabel_classification(n_samples=120, n_classes=4, random_state=0)
    kw = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    ours = gsk.MLPClassifier(**kw).fit(x, y)
    theirs = skn.MLPClassifier(**kw).fit(x, y)
    _same_fit(ours, theirs)
    np.testing.assert_array_equal(ours.predict(x), theirs.predict(x))


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressor_follows_sklearn(loss: str) -> None:
    x, y = make_regression(n_samples=120, n_features=5, n_targets=2, random_state=0)
    y = np.abs(y) / 100 if loss == "poisson" else y / 100
    kw = dict(loss=loss, hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    ours = gsk.MLPRegressor(**kw).fit(x, y)
    theirs = skn.MLPRegressor(**kw).fit(x, y)
    _same_fit(ours, theirs)
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x), rtol=1e-10, atol=1e-12)


def test_one_dimensional_regression_targets_give_one_dimensional_predictions() -> None:
    x, y = make_regression(n_samples=60, n_features=3, random_state=0)
    kw = dict(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    ours = gsk.MLPRegressor(**kw).fit(x, y / 100)
    theirs = skn.MLPRegressor(**kw).fit(x, y / 100)
    assert ours.predict(x).shape == (60,)
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x), rtol=1e-10, atol=1e-12)


def test_partial_fit_follows_sklearn_and_keeps_the_optimizer() -> None:
    x, y = _iris()
    ours = gsk.MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    theirs = skn.MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(4):
        ours.partial_fit(x, y, classes=[0, 1, 2])
        theirs.partial_fit(x, y, classes=[0, 1, 2])
    assert ours.n_iter_ == theirs.n_iter_ == 1
    _same_fit(ours, theirs)
    assert ours._trainer.optimizer.state_dict()["state"][0]["step"] == 4 * 1  # one batch each


def test_warm_start_continues_like_sklearn() -> None:
    x, y = _iris()
    kw = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0, warm_start=True)
    ours, theirs = gsk.MLPClassifier(**kw), skn.MLPClassifier(**kw)
    for _ in range(3):
        ours.fit(x, y)
        theirs.fit(x, y)
    assert len(ours.loss_curve_) == 15
    _same_fit(ours, theirs)


def test_lbfgs_follows_sklearn() -> None:
    x, y = _iris()
    kw = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=40, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = gsk.MLPClassifier(**kw).fit(x, y)
        theirs = skn.MLPClassifier(**kw).fit(x, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-8)
    _close_lists(ours.coefs_, theirs.coefs_, rtol=1e-5, atol=1e-7)
    assert not hasattr(ours, "loss_curve_") and not hasattr(ours, "partial_fit")


def test_lbfgs_warns_when_it_stops_at_max_iter() -> None:
    x, y = _iris()
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        gsk.MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=3).fit(x, y)


def test_float32_stays_float32() -> None:
    x, y = _iris()
    x = x.astype(np.float32)
    kw = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    ours = gsk.MLPClassifier(**kw).fit(x, y)
    theirs = skn.MLPClassifier(**kw).fit(x, y)
    assert ours.coefs_[0].dtype == np.float32 and ours.predict_proba(x).dtype == np.float32
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-5)
    # integer inputs compute in float64, as scikit-learn's
    ints = gsk.MLPClassifier(**kw).fit((x * 10).astype(np.int64), y)
    assert ints.coefs_[0].dtype == np.float64


def test_digits_accuracy_matches_sklearn() -> None:
    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x / 16.0, y, test_size=0.3, random_state=0)
    kw = dict(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=25, random_state=0)
    ours = gsk.MLPClassifier(**kw).fit(x_tr, y_tr).score(x_te, y_te)
    theirs = skn.MLPClassifier(**kw).fit(x_tr, y_tr).score(x_te, y_te)
    assert ours > 0.93
    assert abs(ours - theirs) <= 0.01
