"""Losses, penalty and one gradient step of the estimators against NumPy by hand: one full-batch
epoch from known weights, so ``loss_curve_`` is the loss at those weights and the new weights are
one step of plain gradient descent (or of scikit-learn's Adam) from them."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from scipy.special import expit, xlogy

import gradstep.sklearn as gsk
from gradstep import nn
from gradstep.sklearn._optim import SklearnAdam

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(11)
X = RNG.standard_normal((24, 3))
W1, B1 = RNG.standard_normal((3, 5)), RNG.standard_normal(5)


def _one_step(est, y, w2, b2, sample_weight=None):
    """Set the weights, take one full-batch epoch of plain SGD (lr 0.1) from them."""
    params = dict(
        hidden_layer_sizes=(5,),
        solver="sgd",
        momentum=0.0,
        learning_rate_init=0.1,
        batch_size=len(X),
        shuffle=False,
        random_state=0,
    )
    est.set_params(**params, max_iter=1)
    est.fit(X, y, sample_weight=sample_weight)
    est.coefs_ = [W1, w2]
    est.intercepts_ = [B1, b2]
    est.set_params(warm_start=True)
    return est.fit(X, y, sample_weight=sample_weight)


def _hidden():
    return np.maximum(X @ W1 + B1, 0.0)


def _expected_step(dz, w2, b2, alpha, total):
    """Plain backpropagation: dz is d(data loss)/dz summed over samples (already / total)."""
    h = _hidden()
    g_w2 = h.T @ dz + alpha * w2 / total
    g_b2 = dz.sum(axis=0)
    dh = (dz @ w2.T) * (h > 0)
    g_w1 = X.T @ dh + alpha * W1 / total
    g_b1 = dh.sum(axis=0)
    lr = 0.1
    return [W1 - lr * g_w1, w2 - lr * g_w2], [B1 - lr * g_b1, b2 - lr * g_b2]


def _check(est, loss, coefs, intercepts) -> None:
    assert est.loss_curve_[-1] == pytest.approx(loss, rel=1e-12)
    for got, want in zip(est.coefs_ + est.intercepts_, coefs + intercepts):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_log_loss_with_l2_on_weights_only(weighted: bool) -> None:
    y = np.arange(24) % 3
    w2, b2 = RNG.standard_normal((5, 3)), RNG.standard_normal(3)
    sw = np.linspace(0.5, 2.0, 24) if weighted else np.ones(24)
    alpha = 0.7
    est = _one_step(gsk.MLPClassifier(alpha=alpha), y, w2, b2, sw if weighted else None)
    z = _hidden() @ w2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    total = sw.sum()
    penalty = 0.5 * alpha * ((W1**2).sum() + (w2**2).sum()) / total
    loss = -(sw * np.log(p[np.arange(24), y])).sum() / total + penalty
    dz = sw[:, None] * (p - np.eye(3)[y]) / total
    _check(est, loss, *_expected_step(dz, w2, b2, alpha, total))


def test_binary_logistic_output() -> None:
    y = np.array(["no", "yes"])[np.arange(24) % 2]
    w2, b2 = RNG.standard_normal((5, 1)), RNG.standard_normal(1)
    est = _one_step(gsk.MLPClassifier(alpha=0.0), y, w2, b2)
    t = (y == "yes").astype(float)[:, None]
    p = expit(_hidden() @ w2 + b2)
    loss = -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean()
    _check(est, loss, *_expected_step((p - t) / 24, w2, b2, 0.0, 24))
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], expit(_hidden_after(est)).ravel())


def _hidden_after(est):
    h = np.maximum(X @ est.coefs_[0] + est.intercepts_[0], 0.0)
    return h @ est.coefs_[1] + est.intercepts_[1]


def _huber(r, d):
    a = np.abs(r)
    return np.where(a <= d, 0.5 * r * r, d * (a - 0.5 * d))


REGRESSION = {
    # loss name: (per-element loss of residual r = z − y, d loss / d z per element)
    "squared_error": (lambda r: 0.5 * r * r, lambda r: r),
    "absolute_error": (np.abs, np.sign),
    "huber": (lambda r: _huber(r, 0.8), lambda r: np.clip(r, -0.8, 0.8)),
}


@pytest.mark.parametrize("name", sorted(REGRESSION))
def test_regression_losses_average_outputs_and_sum_their_gradients(name: str) -> None:
    # two outputs: the reported loss is the mean over outputs, the gradient that of their sum
    y = RNG.standard_normal((24, 2))
    w2, b2 = RNG.standard_normal((5, 2)), RNG.standard_normal(2)
    est = _one_step(gsk.MLPRegressor(loss=name, alpha=0.2, huber_delta=0.8), y, w2, b2)
    value, grad = REGRESSION[name]
    r = _hidden() @ w2 + b2 - y
    penalty = 0.5 * 0.2 * ((W1**2).sum() + (w2**2).sum()) / 24
    loss = value(r).mean() + penalty
    _check(est, loss, *_expected_step(grad(r) / 24, w2, b2, 0.2, 24))


def test_poisson_loss_with_exponential_output() -> None:
    y = RNG.poisson(2.0, size=(24, 1)).astype(float)
    w2, b2 = 0.3 * RNG.standard_normal((5, 1)), RNG.standard_normal(1)
    est = _one_step(gsk.MLPRegressor(loss="poisson", alpha=0.0), y.ravel(), w2, b2)
    p = np.exp(_hidden() @ w2 + b2)
    loss = (xlogy(y, y / p) - y + p).mean()
    _check(est, loss, *_expected_step((p - y) / 24, w2, b2, 0.0, 24))


def test_sklearn_adam_formula_by_hand() -> None:
    # w −= lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m/(√v + ε), ε outside the bias correction
    p = nn.Parameter(np.array([0.5, -1.0, 2.0]))
    opt = SklearnAdam([p], lr=0.1, betas=(0.8, 0.9), eps=1e-3)
    m = v = np.zeros(3)
    w = p.data.copy()
    for t, g in enumerate([np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -4.0])], start=1):
        p.grad = g
        opt.step()
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g * g
        w = w - 0.1 * np.sqrt(1 - 0.9**t) / (1 - 0.8**t) * m / (np.sqrt(v) + 1e-3)
        np.testing.assert_allclose(p.data, w, rtol=1e-15)
    assert opt.state[p]["step"] == 2


def test_warmup_scales_the_first_steps() -> None:
    # plain SGD, full batch: step s of the warm-up runs at lr·(s + 1)/warmup
    y = np.arange(24) % 3
    kw = dict(hidden_layer_sizes=(5,), solver="sgd", momentum=0.0, batch_size=24, shuffle=False)
    warm = gsk.MLPClassifier(learning_rate_init=0.2, warmup=4, max_iter=2, random_state=0)
    warm.set_params(**kw).fit(X, y)
    ref = gsk.MLPClassifier(learning_rate_init=0.05, max_iter=1, random_state=0).set_params(**kw)
    ref.fit(X, y)
    ref.set_params(warm_start=True, learning_rate_init=0.1).fit(X, y)
    np.testing.assert_allclose(warm.loss_curve_, ref.loss_curve_, rtol=1e-13)
    for a, b in zip(warm.coefs_, ref.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_class_weight_is_a_sample_weight() -> None:
    y = np.array([0] * 16 + [1] * 6 + [2] * 2)
    kw = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0, batch_size=8)
    balanced = gsk.MLPClassifier(class_weight="balanced", **kw).fit(X, y)
    by_hand = gsk.MLPClassifier(**kw).fit(X, y, sample_weight=24 / (3 * np.bincount(y)[y]))
    np.testing.assert_allclose(balanced.loss_curve_, by_hand.loss_curve_, rtol=1e-13)
    sw = np.linspace(1, 2, 24)
    both = gsk.MLPClassifier(class_weight={0: 1.0, 1: 3.0, 2: 5.0}, **kw).fit(X, y, sw)
    product = gsk.MLPClassifier(**kw).fit(X, y, sw * np.array([1.0, 3.0, 5.0])[y])
    np.testing.assert_allclose(both.loss_curve_, product.loss_curve_, rtol=1e-13)
    unweighted = gsk.MLPClassifier(**kw).fit(X, y)
    assert not np.allclose(unweighted.loss_curve_, balanced.loss_curve_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sklearn_adam_numba_loop_gives_the_numpy_forms_numbers(dtype, monkeypatch) -> None:
    """The one-pass numba loop (used for the flat parameter when numba is installed) keeps
    scikit-learn's order of operations: 20 steps leave the same bits as the NumPy form."""
    from gradstep.optim import kernels

    rng = np.random.default_rng(3)
    start = rng.standard_normal(1000).astype(dtype)
    grads = [rng.standard_normal(1000).astype(dtype) for _ in range(20)]
    before = kernels.kernel_choice()
    results = {}
    try:
        for path in ("numpy", "numba"):
            assert kernels.select_kernels(path) == path
            p = nn.Parameter(start.copy())
            opt = SklearnAdam([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8)
            for g in grads:
                p.grad = g
                opt.step()
            results[path] = (p.data.copy(), opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"])
    finally:
        kernels.select_kernels(before)
    for a, b in zip(results["numpy"], results["numba"]):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(results["numpy"][0], start)


def _tanh_net(in_features: int, out_features: int) -> nn.Module:
    return nn.Sequential(nn.Linear(in_features, 7), nn.Tanh(), nn.Linear(7, out_features))


@pytest.mark.parametrize(
    ("make", "y", "weighted"),
    [
        (lambda: gsk.MLPClassifier(alpha=1e-3), (X[:, 0] > 0).astype(int) + (X[:, 1] > 0), False),
        (lambda: gsk.MLPClassifier(), np.stack([X[:, 0] > 0, X[:, 1] > 0], axis=1), False),
        (lambda: gsk.MLPRegressor(alpha=1e-2, loss="huber"), X @ [1.0, -2.0, 0.5], True),
        (gsk.MLPClassifier, None, True),
        (lambda: gsk.MLPClassifier(dropout=0.3, class_weight="balanced"), X[:, 0] > 0.3, False),
        (lambda: gsk.MLPRegressor(solver="sgd", early_stopping=True), X[:, :2] * 2.0, False),
        (lambda: gsk.NeuralNetClassifier(_tanh_net, solver="rmsprop"), X[:, 1] > 0, False),
    ],
)
def test_fits_are_replayed_and_equal_eager_fits(monkeypatch, make, y, weighted):
    """The estimators' training steps are recorded by gs.capture (the Trainer's default) and a
    fit replays them: its loss curve and weights are bit for bit those of an eager fit
    (GRADSTEP_CAPTURE=0): softmax and logistic outputs, L2 penalty, sample weights."""
    if y is None:  # float32 inputs: the dtype follows the data
        x, y = X.astype(np.float32), (X[:, 2] > 0).astype(int)
    else:
        x = X
    w = np.linspace(0.5, 2.0, len(x)) if weighted else None
    kw = dict(hidden_layer_sizes=(7,), batch_size=8, max_iter=6, random_state=0)
    kw = {k: v for k, v in kw.items() if k in make().get_params()}
    monkeypatch.setenv("GRADSTEP_CAPTURE", "1")  # the default, whatever the suite runs under
    captured = make().set_params(**kw).fit(x, y, sample_weight=w)
    assert captured._trainer._forward_backward.captured
    monkeypatch.setenv("GRADSTEP_CAPTURE", "0")
    eager = make().set_params(**kw).fit(x, y, sample_weight=w)
    assert eager._trainer._forward_backward is None or not eager._trainer._forward_backward.captured
    assert captured.loss_curve_ == eager.loss_curve_
    ours, theirs = captured.module_.state_dict(), eager.module_.state_dict()
    assert ours.keys() == theirs.keys()
    for k, a in ours.items():
        assert a.dtype == x.dtype
        np.testing.assert_array_equal(a, theirs[k])


@pytest.mark.skipif(
    importlib.util.find_spec("numba") is None, reason="numba is not installed (the `fast` extra)"
)
def test_sklearn_adam_waits_for_numba_on_the_numpy_form_and_counts_its_time(monkeypatch) -> None:
    """With "auto", scikit-learn's Adam runs the NumPy form while numba waits to load, its time
    counted towards the load (an injected clock: 0.4 of the load time a step), then the numba
    loop; the numbers are the NumPy form's throughout."""
    from gradstep.optim import kernels

    rng = np.random.default_rng(4)
    start = rng.standard_normal(2000)
    grads = [rng.standard_normal(2000) for _ in range(5)]

    def run() -> np.ndarray:
        p = nn.Parameter(start.copy())
        opt = SklearnAdam([p], lr=0.01)
        for g in grads:
            p.grad = g
            opt.step()
        return p.data.copy()

    monkeypatch.setattr(kernels, "_choice", kernels.kernel_choice())  # restored after
    assert kernels.select_kernels("numpy") == "numpy"
    want = run()
    loads, ticks = [], iter(range(100))
    real_load = kernels._load_numba
    monkeypatch.setattr(kernels, "_load_numba", lambda: (loads.append(1), real_load())[1])
    monkeypatch.setattr(kernels, "_numba_module", None)
    monkeypatch.setattr(kernels, "_spent", 0.0)
    monkeypatch.setattr(kernels, "clock", lambda: 0.4 * kernels.NUMBA_LOAD_AFTER * next(ticks))
    monkeypatch.setattr(kernels, "_numba_installed", lambda: True)
    assert kernels.select_kernels("auto") == "numba"
    got = run()
    assert loads == [1]  # after three NumPy steps (1.2 of the load time)
    assert kernels._spent == pytest.approx(1.2 * kernels.NUMBA_LOAD_AFTER)
    np.testing.assert_array_equal(got, want)
