"""The estimators in scikit-learn's tooling (Pipeline, GridSearchCV, cross_val_score, clone,
pickle), NeuralNet* modules, what scikit-learn declined (dropout, per-layer activations, other
optimizers, the validation-loss curve), seeding, and the errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelBinarizer, StandardScaler

import gradstep as gs
from gradstep import nn
from gradstep import random as gs_random
from gradstep.sklearn import MLPClassifier, MLPRegressor, NeuralNetClassifier, NeuralNetRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, Y = load_iris(return_X_y=True)
XS = StandardScaler().fit_transform(X)
FAST = dict(learning_rate_init=0.01, batch_size=16, max_iter=30, random_state=0)


def net(in_features: int, out_features: int, width: int = 8, p: float = 0.0) -> nn.Module:
    return nn.Sequential(
        nn.Linear(in_features, width), nn.Tanh(), nn.Dropout(p), nn.Linear(width, out_features)
    )


# -- scikit-learn's tooling ------------------------------------------------------------------------
def test_grid_search_over_two_parameters_in_a_pipeline() -> None:
    pipe = make_pipeline(StandardScaler(), MLPClassifier(**FAST))
    grid = {"mlpclassifier__hidden_layer_sizes": [(2,), (16,)], "mlpclassifier__alpha": [1e-4, 1]}
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, cv=cv).fit(X, Y)
    assert len(search.cv_results_["params"]) == 4
    best = clone(pipe).set_params(**search.best_params_)
    assert search.best_score_ == pytest.approx(cross_val_score(best, X, Y, cv=cv).mean())
    assert search.best_estimator_.score(X, Y) > 0.9


def test_cross_val_score_with_a_module_and_its_arguments() -> None:
    clf = NeuralNetClassifier(net, module__width=16, **FAST)
    pipe = make_pipeline(StandardScaler(), clf)
    scores = cross_val_score(pipe, X, Y, cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and scores.min() > 0.8
    search = GridSearchCV(
        pipe, {"neuralnetclassifier__module__width": [2, 16], "neuralnetclassifier__alpha": [0.1]}
    )
    search.fit(X, Y)
    assert search.best_params_["neuralnetclassifier__module__width"] in (2, 16)
    assert (
        search.best_estimator_[-1].module_[0].out_features
        == (search.best_params_["neuralnetclassifier__module__width"])
    )


def test_clone_and_params_with_prefixed_arguments() -> None:
    clf = MLPClassifier(solver="adamw", optimizer__weight_decay=0.3, alpha=0.5)
    params = clf.get_params()
    assert params["optimizer__weight_decay"] == 0.3 and params["alpha"] == 0.5
    twin = clone(clf)
    assert twin.get_params() == params
    clf.set_params(optimizer__weight_decay=0.1, alpha=0.2)
    assert clf.optimizer__weight_decay == 0.1 and twin.optimizer__weight_decay == 0.3
    clf.fit(XS, Y)
    assert clf._trainer.optimizer.param_groups[0]["weight_decay"] == 0.1
    assert not hasattr(clone(clf), "module_")
    with pytest.raises(ValueError, match="Invalid parameter"):
        clf.set_params(learning_rat=0.1)


def test_pickle_keeps_predictions_and_the_training_state() -> None:
    clf = MLPClassifier(hidden_layer_sizes=(8,), dropout=0.2, random_state=3)
    clf.partial_fit(XS, Y, classes=[0, 1, 2])
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(XS), clf.predict_proba(XS))
    clf.partial_fit(XS, Y)
    copy.partial_fit(XS, Y)
    np.testing.assert_array_equal(copy.loss_curve_, clf.loss_curve_)
    np.testing.assert_array_equal(copy.coefs_[0], clf.coefs_[0])
    # the optimizer's state travelled: a fresh Adam would step differently
    fresh = pickle.loads(pickle.dumps(copy))
    fresh._optimizer_state = None
    fresh._trainer = None
    fresh.partial_fit(XS, Y)
    copy.partial_fit(XS, Y)
    assert not np.allclose(fresh.coefs_[0], copy.coefs_[0])


# -- seeding ---------------------------------------------------------------------------------------
def test_random_state_alone_drives_init_shuffling_and_dropout() -> None:
    kw = dict(hidden_layer_sizes=(16,), dropout=0.3, batch_size=32, max_iter=5)
    gs.manual_seed(1)
    before = gs_random.get_rng_state()
    a = MLPClassifier(random_state=5, **kw).fit(XS, Y)
    assert gs_random.get_rng_state() == before  # the engine's generator is left as it was
    gs.manual_seed(2)
    b = MLPClassifier(random_state=5, **kw).fit(XS, Y)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    c = MLPClassifier(random_state=6, **kw).fit(XS, Y)
    assert a.loss_curve_ != c.loss_curve_
    # dropout is active in training only: predictions are deterministic
    np.testing.assert_array_equal(a.predict_proba(XS), a.predict_proba(XS))
    no_drop = MLPClassifier(random_state=5, **{**kw, "dropout": 0.0}).fit(XS, Y)
    np.testing.assert_array_equal(no_drop.coefs_[0].shape, a.coefs_[0].shape)
    assert a.loss_curve_ != no_drop.loss_curve_


def test_module_construction_is_seeded_by_random_state() -> None:
    a = NeuralNetClassifier(net, random_state=4, max_iter=2).fit(XS, Y)
    gs.manual_seed(99)
    b = NeuralNetClassifier(net, random_state=4, max_iter=2).fit(XS, Y)
    np.testing.assert_array_equal(a.module_[0].weight.data, b.module_[0].weight.data)


# -- NeuralNet* ------------------------------------------------------------------------------------
def test_default_module_is_sklearns_default_mlp() -> None:
    a = NeuralNetClassifier(max_iter=5, random_state=0).fit(XS, Y)
    b = MLPClassifier(max_iter=5, random_state=0).fit(XS, Y)
    assert a.module_[0].out_features == 100 and isinstance(a.module_[1], nn.ReLU)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)


def test_module_instance_is_copied_and_factory_arguments_filled() -> None:
    start = net(4, 3, width=5)
    w0 = start[0].weight.data.copy()
    clf = NeuralNetClassifier(start, max_iter=3, random_state=0).fit(XS, Y)
    np.testing.assert_array_equal(start[0].weight.data, w0)  # the parameter is untouched
    assert not np.array_equal(clf.module_[0].weight.data, w0)
    reg = NeuralNetRegressor(net, module__width=3, max_iter=3, random_state=0)
    reg.fit(XS[:, :3], np.c_[XS[:, 3], XS[:, 0]])
    assert reg.module_[0].in_features == 3 and reg.module_[-1].out_features == 2
    assert reg.predict(XS[:, :3]).shape == (150, 2)
    assert reg.module_[0].weight.dtype == np.float64


def test_module_with_the_wrong_output_width_is_named() -> None:
    clf = NeuralNetClassifier(lambda: net(4, 2))
    with pytest.raises(ValueError, match="3 output"):
        clf.fit(XS, Y)


# -- what scikit-learn declined --------------------------------------------------------------------
def test_per_layer_activations_and_dropout() -> None:
    clf = MLPClassifier(
        hidden_layer_sizes=(6, 5), activation=["tanh", "gelu"], dropout=[0.25, 0.0], max_iter=2
    ).fit(XS, Y)
    kinds = [type(m).__name__ for m in clf.module_]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "GELU", "Linear"]
    assert clf.module_[2].p == 0.25
    assert [c.shape for c in clf.coefs_] == [(4, 6), (6, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [(6,), (5,), (3,)]
    with pytest.raises(ValueError, match="2 hidden layers"):
        MLPClassifier(hidden_layer_sizes=(6, 5), activation=["tanh"]).fit(XS, Y)


@pytest.mark.parametrize("solver", ["rmsprop", "adagrad", "adamw", "momentum", gs.optim.RMSprop])
def test_gradstep_optimizers_train(solver) -> None:
    clf = MLPClassifier(solver=solver, hidden_layer_sizes=(16,), **FAST).fit(XS, Y)
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]


def test_validation_loss_curve_is_the_loss_on_the_held_out_split() -> None:
    kw = dict(hidden_layer_sizes=(8,), early_stopping=True, validation_fraction=0.3, max_iter=1)
    clf = MLPClassifier(random_state=0, **kw).fit(XS, Y)
    # scikit-learn's order of draws: the weights, then train_test_split with the same state
    rs = np.random.RandomState(0)
    for fan_in, fan_out in ((4, 8), (8, 3)):
        rs.uniform(size=(fan_in, fan_out))
        rs.uniform(size=fan_out)
    onehot = LabelBinarizer().fit_transform(Y)
    _, x_val, _, y_val = train_test_split(XS, onehot, random_state=rs, test_size=0.3)
    want = log_loss(y_val.argmax(1), clf.predict_proba(x_val), labels=[0, 1, 2])
    assert clf.validation_loss_curve_ == [pytest.approx(want, rel=1e-10)]
    assert len(clf.validation_scores_) == 1
    plain = MLPClassifier(max_iter=1).fit(XS, Y)
    assert plain.validation_loss_curve_ is None and plain.validation_scores_ is None


def test_regressor_losses_and_huber_delta() -> None:
    x, y = XS[:, :3], XS[:, 3]
    for loss in ("absolute_error", "huber"):
        reg = MLPRegressor(loss=loss, hidden_layer_sizes=(16,), **FAST).fit(x, y)
        assert reg.score(x, y) > 0.8
    with pytest.raises(ValueError, match="huber_delta"):
        MLPRegressor(loss="huber", huber_delta=0).fit(x, y)
    with pytest.raises(ValueError, match=">= 0 for loss='poisson'"):
        MLPRegressor(loss="poisson").fit(x, y)


# -- behaviour and errors --------------------------------------------------------------------------
def test_verbose_prints_sklearns_lines(capsys) -> None:
    MLPClassifier(max_iter=2, verbose=True, random_state=0).fit(XS, Y)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Iteration 1, loss = ") and out[1].startswith("Iteration 2, loss")


def test_convergence_warning_at_max_iter_only() -> None:
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        MLPClassifier(max_iter=3).fit(XS, Y)
    clf = MLPClassifier(max_iter=500, tol=0.5, n_iter_no_change=1).fit(XS, Y)
    assert clf.n_iter_ < 500


def test_coefs_setter_checks_shapes() -> None:
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=1).fit(XS, Y)
    with pytest.raises(ValueError, match=r"coefs_\[0\] must have shape \(4, 5\)"):
        clf.coefs_ = [np.zeros((5, 4)), np.zeros((5, 3))]
    with pytest.raises(AttributeError, match="call fit first"):
        MLPClassifier().coefs_  # noqa: B018


def test_divergence_is_reported() -> None:
    y = XS[:, 0] * 1e200
    with pytest.raises(ValueError, match="diverged|non-finite"):
        MLPRegressor(solver="sgd", learning_rate_init=10.0, max_iter=5).fit(XS, y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"solver": "newton"}, "solver must be one of"),
        ({"activation": "swish"}, "activation must be one of"),
        ({"dropout": 1.0}, "dropout must be"),
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes must be > 0"),
        ({"learning_rate": "cosine"}, "learning_rate must be one of"),
        ({"class_weight": "even"}, "class_weight must be"),
        ({"warmup": -1}, "warmup"),
        ({"solver": "lbfgs", "dropout": 0.1}, "L-BFGS"),
        ({"optimizer_weight_decay": 0.1}, "optimizer__<name>"),
    ],
)
def test_bad_parameters_are_named(params: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        MLPClassifier(**params).fit(XS, Y)


def test_partial_fit_rules() -> None:
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifier().partial_fit(XS, Y)
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(XS, Y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="compute_class_weight"):
        MLPClassifier(class_weight="balanced").partial_fit(XS, Y, classes=[0, 1, 2])
    clf = MLPClassifier(max_iter=1).partial_fit(XS[Y < 2], Y[Y < 2], classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2] and clf.predict_proba(XS).shape == (150, 3)
    with pytest.raises(ValueError, match="not in `self.classes_`"):
        clf.partial_fit(XS[:2], [0, 7])


def test_refit_starts_over_and_warm_start_may_change_the_solver() -> None:
    clf = MLPClassifier(hidden_layer_sizes=(8,), tol=0.5, n_iter_no_change=1, random_state=0)
    first = clf.fit(XS, Y).loss_curve_
    again = clf.set_params(tol=1e-4, n_iter_no_change=10, max_iter=6).fit(XS, Y)
    fresh = MLPClassifier(hidden_layer_sizes=(8,), max_iter=6, random_state=0).fit(XS, Y)
    assert len(first) < 6 and again.loss_curve_ == fresh.loss_curve_
    clf = MLPClassifier(solver="lbfgs", max_iter=5, warm_start=True, random_state=0).fit(XS, Y)
    assert not hasattr(clf, "loss_curve_")
    clf.set_params(solver="adam", early_stopping=True, max_iter=3).fit(XS, Y)
    assert len(clf.loss_curve_) == len(clf.validation_scores_) == 3 and clf.best_loss_ is None
    clf.set_params(early_stopping=False).fit(XS, Y)
    assert len(clf.loss_curve_) == 6 and clf.best_loss_ == min(clf.loss_curve_[3:])
