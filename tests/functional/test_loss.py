"""Loss functions: PyTorch as the oracle (float64), finite differences, hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import close as _close

import gradstep as gs
from gradstep import functional as F
from gradstep.autograd import gradcheck

FAST = settings(max_examples=20, deadline=None)
REDUCTIONS = ("mean", "sum", "none")


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors: one thread avoids torch's thread-pool hand-offs (slow on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _t(a) -> torch.Tensor | None:
    return None if a is None else torch.tensor(a)


def _against_torch(gs_fn, torch_fn, x, target, *, target_grad=False, seed=0):
    """Same loss in gradstep and PyTorch (float64): compare value, input and target gradients."""
    gx = gs.tensor(x, dtype=gs.float64, requires_grad=True)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    if target_grad:
        gt = gs.tensor(target, dtype=gs.float64, requires_grad=True)
        tt = torch.tensor(target, dtype=torch.float64, requires_grad=True)
    else:
        gt, tt = target, torch.tensor(target)
    gy, ty = gs_fn(gx, gt), torch_fn(tx, tt)
    assert gy.shape == tuple(ty.shape)
    assert gy.dtype == np.float64
    _close(gy.data, ty)
    up = np.random.default_rng(seed).standard_normal(gy.shape)
    gy.backward(np.asarray(up))
    ty.backward(torch.tensor(up))
    _close(gx.grad, tx.grad)
    if target_grad:
        _close(gt.grad, tt.grad)


def _scores(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) * 2


def _probs(shape, dim=1, seed=1):
    a = np.exp(np.random.default_rng(seed).standard_normal(shape))
    return a / a.sum(axis=dim, keepdims=True)


# -- cross-entropy with class indices --------------------------------------------------------------
# (input shape, targets): a batch, a K-dim batch (N, C, d1, d2) and one unbatched sample.
_INDEX_CASES = {
    "2d": ((6, 4), np.array([0, 3, 1, 2, 1, 3])),
    "kdim": ((2, 4, 3, 2), np.random.default_rng(5).integers(0, 4, (2, 3, 2))),
    "unbatched": ((4,), np.array(2)),
}


def _with_ignored(t, ignore_index):
    t = t.copy()
    if t.ndim == 0:
        return t
    flat = t.reshape(-1)
    flat[1] = ignore_index
    flat[-1] = ignore_index
    return t


@pytest.mark.parametrize("case", list(_INDEX_CASES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("ignore", [None, -100, 1])
def test_cross_entropy_index_matches_torch(case, reduction, weighted, smoothing, ignore):
    shape, target = _INDEX_CASES[case]
    x = _scores(shape)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if ignore is not None:
        target = _with_ignored(target, ignore)
        kw["ignore_index"] = ignore
    w = np.array([0.5, 2.0, 1.0, 3.0]) if weighted else None
    _against_torch(
        lambda a, t: F.cross_entropy(a, t, weight=w, **kw),
        lambda a, t: TF.cross_entropy(a, t, weight=_t(w), **kw),
        x,
        target,
    )


@pytest.mark.parametrize("shape", [(7, 4), (8, 4), (64, 10), (40, 3, 5)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_plain_cross_entropy_on_either_layout_matches_torch(shape, reduction):
    """Few classes and many rows take the transposed path (from 2·C rows up to NARROW_CLASSES
    classes), the rest the row path: both give PyTorch's loss and gradient."""
    from gradstep.functional.loss import NARROW_CLASSES

    assert shape[1] <= NARROW_CLASSES
    rng = np.random.default_rng(3)
    x = _scores(shape, seed=4)
    target = rng.integers(0, shape[1], shape[:1] + shape[2:])
    _against_torch(
        lambda a, t: F.cross_entropy(a, t, reduction=reduction),
        lambda a, t: TF.cross_entropy(a, t, reduction=reduction),
        x,
        target,
    )
    (g,) = _grad_inputs(x[:, :, 0] if x.ndim == 3 else x)
    assert gradcheck(lambda a: F.cross_entropy(a, target[:, 0] if x.ndim == 3 else target), [g])


def test_plain_cross_entropy_hand_value_on_the_transposed_path():
    """Eight rows of two classes (the transposed path): log(1 + e^{-2}) per row for a margin of
    2 toward the target, log(1 + e^{2}) against it."""
    x = np.tile(np.array([[2.0, 0.0]]), (8, 1))
    t = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    loss = F.cross_entropy(gs.tensor(x, dtype=gs.float64), t, reduction="none")
    good, bad = np.log1p(np.exp(-2.0)), np.log1p(np.exp(2.0))
    np.testing.assert_allclose(loss.data, [good] * 4 + [bad] * 4, rtol=1e-15)


def test_cross_entropy_hand_value():
    # one sample, scores (0, ln 3): softmax = (1/4, 3/4), target 1 -> loss = ln(4/3)
    x = gs.tensor([[0.0, np.log(3.0)]], dtype=gs.float64, requires_grad=True)
    loss = F.cross_entropy(x, np.array([1]))
    assert loss.item() == pytest.approx(np.log(4 / 3), abs=1e-15)
    loss.backward()
    np.testing.assert_allclose(x.grad, [[0.25, -0.25]], atol=1e-15)  # softmax − onehot


def test_cross_entropy_is_one_fused_node():
    x = gs.tensor(_scores((3, 5)), dtype=gs.float64, requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 4, 2]), label_smoothing=0.1)
    assert type(loss.grad_fn).__name__ == "CrossEntropy"
    assert loss.grad_fn.parents == (x,)


def test_cross_entropy_all_ignored_is_nan_with_zero_gradient_as_torch():
    x = _scores((2, 3))
    t = np.array([-100, -100])
    gx = gs.tensor(x, dtype=gs.float64, requires_grad=True)
    out = F.cross_entropy(gx, t)
    tx = torch.tensor(x, requires_grad=True)
    ref = TF.cross_entropy(tx, torch.tensor(t))
    assert np.isnan(out.item()) and torch.isnan(ref)
    out.backward()
    ref.backward()
    _close(gx.grad, tx.grad)
    assert not gx.grad.any()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_ignored_sample_matches_torch(reduction):
    x = _scores((4,))
    for fn, ref in ((F.cross_entropy, TF.cross_entropy), (F.nll_loss, TF.nll_loss)):
        _against_torch(
            lambda a, t, f=fn: f(a, t, ignore_index=2, reduction=reduction),
            lambda a, t, f=ref: f(a, t, ignore_index=2, reduction=reduction),
            x,
            np.array(2),
        )


def test_cross_entropy_full_smoothing_and_large_scores_are_finite():
    x = np.array([[1000.0, -1000.0, 0.0], [-500.0, 500.0, 499.0]])
    t = np.array([1, 2])
    for eps in (0.0, 1.0):
        _against_torch(
            lambda a, b, e=eps: F.cross_entropy(a, b, label_smoothing=e),
            lambda a, b, e=eps: TF.cross_entropy(a, b, label_smoothing=e),
            x,
            t,
        )


# -- cross-entropy with class probabilities --------------------------------------------------------
_PROB_SHAPES = {"2d": (5, 4), "kdim": (2, 4, 3), "unbatched": (4,)}


@pytest.mark.parametrize("case", list(_PROB_SHAPES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probabilities_match_torch(case, reduction, weighted, smoothing):
    shape = _PROB_SHAPES[case]
    x = _scores(shape)
    q = _probs(shape, dim=1 if len(shape) > 1 else 0)
    w = np.array([0.5, 2.0, 1.0, 3.0]) if weighted else None
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    _against_torch(
        lambda a, t: F.cross_entropy(a, t, weight=w, **kw),
        lambda a, t: TF.cross_entropy(a, t, weight=_t(w), **kw),
        x,
        q,
        target_grad=True,
    )


def test_cross_entropy_one_hot_probabilities_equal_indices():
    x = _scores((4, 3))
    t = np.array([2, 0, 1, 1])
    onehot = np.eye(3)[t]
    a = F.cross_entropy(gs.tensor(x, dtype=gs.float64), t)
    b = F.cross_entropy(gs.tensor(x, dtype=gs.float64), onehot)
    assert a.item() == pytest.approx(b.item(), rel=1e-14)


# -- nll -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(_INDEX_CASES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, -100, 3])
def test_nll_loss_matches_torch(case, reduction, weighted, ignore):
    shape, target = _INDEX_CASES[case]
    x = _scores(shape)
    kw = {"reduction": reduction}
    if ignore is not None:
        target = _with_ignored(target, ignore)
        kw["ignore_index"] = ignore
    w = np.array([0.5, 2.0, 1.0, 3.0]) if weighted else None
    _against_torch(
        lambda a, t: F.nll_loss(a, t, weight=w, **kw),
        lambda a, t: TF.nll_loss(a, t, weight=_t(w), **kw),
        x,
        target,
    )


def test_nll_of_log_softmax_equals_cross_entropy():
    x = gs.tensor(_scores((5, 3)), dtype=gs.float64)
    t = np.array([0, 1, 2, 2, 0])
    a = F.nll_loss(F.log_softmax(x, 1), t).item()
    assert a == pytest.approx(F.cross_entropy(x, t).item(), rel=1e-14)


# -- regression ------------------------------------------------------------------------------------
_REGRESSION = {
    "mse": (F.mse_loss, TF.mse_loss),
    "l1": (F.l1_loss, TF.l1_loss),
    "huber": (F.huber_loss, TF.huber_loss),
}


@pytest.mark.parametrize("name", list(_REGRESSION))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_losses_match_torch(name, reduction, weighted):
    ours, ref = _REGRESSION[name]
    x, t = _scores((4, 3), seed=2), _scores((4, 3), seed=3)
    w = np.random.default_rng(4).random((4, 3)) + 0.1 if weighted else None
    _against_torch(
        lambda a, b: ours(a, b, reduction=reduction, weight=w),
        lambda a, b: ref(a, b, reduction=reduction, weight=_t(w)),
        x,
        t,
        target_grad=True,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [0.0, 0.5, 2.0])
def test_smooth_l1_and_huber_delta_match_torch(reduction, beta):
    x, t = _scores((6,), seed=2), _scores((6,), seed=3)
    _against_torch(
        lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
        lambda a, b: TF.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
        x,
        t,
        target_grad=True,
    )
    if beta:
        _against_torch(
            lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=beta),
            lambda a, b: TF.huber_loss(a, b, reduction=reduction, delta=beta),
            x,
            t,
        )


def test_l1_gradient_is_zero_where_input_equals_target():
    x = gs.tensor([1.0, 2.0, 3.0], dtype=gs.float64, requires_grad=True)
    F.l1_loss(x, np.array([1.0, 0.0, 5.0]), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, -1.0])


@pytest.mark.parametrize("shape", [(4, 3), (4,), (3, 2, 2)])
def test_sse_loss_matches_half_torch_sum_and_hand(shape):
    o, t = _scores(shape, seed=6), _scores(shape, seed=7)
    n = shape[0]
    _against_torch(
        lambda a, b: F.sse_loss(a, b),
        lambda a, b: 0.5 * TF.mse_loss(a, b, reduction="sum"),
        o,
        t,
        target_grad=True,
    )
    _against_torch(
        lambda a, b: F.sse_loss(a, b, reduction="mean"),
        lambda a, b: 0.5 * TF.mse_loss(a, b, reduction="sum") / n,
        o,
        t,
        target_grad=True,
    )
    _against_torch(
        lambda a, b: F.sse_loss(a, b, reduction="none"),
        lambda a, b: 0.5 * ((a - b) ** 2).reshape(n, -1).sum(1),
        o,
        t,
        target_grad=True,
    )


def test_sse_loss_hand_computation():
    # E = ½·Σ (t − o)²: sample 1 ½(0.04 + 0.09) = 0.065, sample 2 ½(0.25 + 0) = 0.125
    o = gs.tensor([[0.2, 0.7], [0.5, 1.0]], dtype=gs.float64, requires_grad=True)
    t = np.array([[0.0, 1.0], [1.0, 1.0]])
    e = F.sse_loss(o, t)
    assert e.item() == pytest.approx(0.19, abs=1e-15)
    e.backward()
    np.testing.assert_allclose(o.grad, o.data - t, atol=1e-15)  # ∂E/∂o = o − t
    assert F.sse_loss(o, t, reduction="mean").item() == pytest.approx(0.095, abs=1e-15)
    np.testing.assert_allclose(F.sse_loss(o, t, reduction="none").data, [0.065, 0.125], atol=1e-15)


# -- binary cross-entropy --------------------------------------------------------------------------
_BIN_WEIGHTS = {
    "none": None,
    "per_class": np.array([0.5, 2.0, 1.5]),
    "full": np.random.default_rng(8).random((4, 3)) + 0.1,
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", list(_BIN_WEIGHTS))
def test_binary_cross_entropy_matches_torch(reduction, weight):
    rng = np.random.default_rng(9)
    p = rng.uniform(0.02, 0.98, (4, 3))
    t = rng.random((4, 3))
    t[0] = [0.0, 1.0, 1.0]
    w = _BIN_WEIGHTS[weight]
    _against_torch(
        lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction),
        lambda a, b: TF.binary_cross_entropy(a, b, weight=_t(w), reduction=reduction),
        p,
        t,
        target_grad=True,
    )


def test_binary_cross_entropy_clamps_logs_at_minus_100_as_torch():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.3])
    _against_torch(
        lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
        lambda a, b: TF.binary_cross_entropy(a, b, reduction="none"),
        p,
        t,
    )
    assert F.binary_cross_entropy(gs.tensor(p[:1]), t[:1]).item() == pytest.approx(100.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", list(_BIN_WEIGHTS))
@pytest.mark.parametrize("pos_weight", [None, np.array([1.0, 3.0, 0.5])])
def test_bce_with_logits_matches_torch(reduction, weight, pos_weight):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((4, 3)) * 3
    t = rng.random((4, 3))
    t[0] = [0.0, 1.0, 1.0]
    w = _BIN_WEIGHTS[weight]
    _against_torch(
        lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, weight=w, reduction=reduction, pos_weight=pos_weight
        ),
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, weight=_t(w), reduction=reduction, pos_weight=_t(pos_weight)
        ),
        x,
        t,
        target_grad=True,
    )


@pytest.mark.parametrize("pos_weight", [None, np.array([2.0])])
def test_bce_with_logits_is_stable_at_1000(pos_weight):
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    t = np.array([0.0, 1.0, 1.0, 0.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow anywhere
        _against_torch(
            lambda a, b: F.binary_cross_entropy_with_logits(
                a, b, reduction="none", pos_weight=pos_weight
            ),
            lambda a, b: TF.binary_cross_entropy_with_logits(
                a, b, reduction="none", pos_weight=_t(pos_weight)
            ),
            x,
            t,
        )
        out = F.binary_cross_entropy_with_logits(
            gs.tensor(x, dtype=gs.float64), t, reduction="none", pos_weight=pos_weight
        )
    pw = 1.0 if pos_weight is None else 2.0
    np.testing.assert_allclose(out.data, [1000.0, 1000.0 * pw, 0.0, 0.0], atol=1e-12)


def test_bce_with_logits_equals_bce_of_sigmoid():
    x = _scores((5,), seed=11)
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.5])
    a = F.binary_cross_entropy_with_logits(gs.tensor(x, dtype=gs.float64), t).item()
    b = F.binary_cross_entropy(F.sigmoid(gs.tensor(x, dtype=gs.float64)), t).item()
    assert a == pytest.approx(b, rel=1e-12)


# -- finite differences ----------------------------------------------------------------------------
def _grad_inputs(*arrays):
    return [gs.tensor(a, dtype=gs.float64, requires_grad=True) for a in arrays]


_W4 = np.array([0.5, 2.0, 1.0, 3.0])
_GRADCHECKS = {
    "cross_entropy": lambda x: F.cross_entropy(
        x, np.array([0, -100, 3, 1, 2]), weight=_W4, label_smoothing=0.2
    ),
    "cross_entropy_kdim": lambda x: F.cross_entropy(
        x.reshape(1, 4, 5), np.array([[0, 1, 3, 2, 2]]), reduction="none"
    ),
    "nll_loss": lambda x: F.nll_loss(x, np.array([0, 1, 3, 2, 2]), weight=_W4),
    "mse_loss": lambda x: F.mse_loss(x, np.ones((5, 4))),
    "sse_loss": lambda x: F.sse_loss(x, np.ones((5, 4)), reduction="none"),
    "l1_loss": lambda x: F.l1_loss(x, np.full((5, 4), 0.123)),
    "huber_loss": lambda x: F.huber_loss(x, np.full((5, 4), 0.123), delta=0.7),
    "smooth_l1_loss": lambda x: F.smooth_l1_loss(x, np.full((5, 4), 0.123), beta=0.5),
    "binary_cross_entropy": lambda x: F.binary_cross_entropy(
        F.sigmoid(x), np.full((5, 4), 0.3), weight=_W4
    ),
    "binary_cross_entropy_with_logits": lambda x: F.binary_cross_entropy_with_logits(
        x, np.full((5, 4), 0.3), weight=_W4, pos_weight=_W4[::-1].copy()
    ),
}


@pytest.mark.parametrize("name", list(_GRADCHECKS))
def test_gradcheck(name):
    (x,) = _grad_inputs(_scores((5, 4), seed=12))
    assert gradcheck(_GRADCHECKS[name], [x])


def test_gradcheck_probability_targets_both_inputs():
    x, q = _grad_inputs(_scores((3, 4), seed=13), _probs((3, 4)))
    w = _W4
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, weight=w, label_smoothing=0.1), [x, q])


# -- random shapes ---------------------------------------------------------------------------------
@FAST
@given(
    n=st.integers(1, 6),
    c=st.integers(1, 7),
    extra=st.lists(st.integers(1, 3), max_size=2),
    reduction=st.sampled_from(REDUCTIONS),
    smoothing=st.sampled_from([0.0, 0.1, 0.9]),
    weighted=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_cross_entropy_random_shapes(n, c, extra, reduction, smoothing, weighted, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *extra)) * 3
    t = rng.integers(0, c, (n, *extra))
    w = rng.random(c) + 0.1 if weighted else None
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    _against_torch(
        lambda a, b: F.cross_entropy(a, b, weight=w, **kw),
        lambda a, b: TF.cross_entropy(a, b, weight=_t(w), **kw),
        x,
        t,
        seed=seed,
    )
    q = rng.random((n, c, *extra))
    _against_torch(
        lambda a, b: F.cross_entropy(a, b, weight=w, **kw),
        lambda a, b: TF.cross_entropy(a, b, weight=_t(w), **kw),
        x,
        q,
        target_grad=True,
        seed=seed,
    )


@FAST
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    reduction=st.sampled_from(REDUCTIONS),
    seed=st.integers(0, 2**16),
)
def test_binary_and_regression_losses_random_shapes(shape, reduction, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 4
    t = rng.random(shape)
    pairs = [
        (F.mse_loss, TF.mse_loss, x),
        (F.l1_loss, TF.l1_loss, x),
        (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, x),
        (F.binary_cross_entropy, TF.binary_cross_entropy, 1 / (1 + np.exp(-x))),
    ]
    for ours, ref, inp in pairs:
        _against_torch(
            lambda a, b, f=ours: f(a, b, reduction=reduction),
            lambda a, b, f=ref: f(a, b, reduction=reduction),
            inp,
            t,
            target_grad=True,
            seed=seed,
        )


# -- dtypes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("target_dtype", [np.int64, np.int32, np.uint8])
def test_integer_target_dtypes_are_class_indices(target_dtype):
    x = gs.tensor(_scores((3, 4)), dtype=gs.float64)
    t = np.array([0, 3, 2])
    ref = F.cross_entropy(x, t).item()
    assert F.cross_entropy(x, t.astype(target_dtype)).item() == ref
    assert F.cross_entropy(x, gs.tensor(t.astype(target_dtype))).item() == ref


def test_float32_stays_float32():
    x32 = gs.tensor(_scores((4, 3)), requires_grad=True)
    assert x32.dtype == np.float32
    q64 = _probs((4, 3))
    w64 = np.array([1.0, 2.0, 3.0])
    outs = [
        F.cross_entropy(x32, np.array([0, 1, 2, 0]), weight=w64, label_smoothing=0.1),
        F.cross_entropy(x32, q64, weight=w64),
        F.nll_loss(x32, np.array([0, 1, 2, 0]), weight=w64),
        F.mse_loss(x32, q64),
        F.sse_loss(x32, q64),
        F.l1_loss(x32, q64),
        F.huber_loss(x32, q64),
        F.smooth_l1_loss(x32, q64),
        F.binary_cross_entropy(F.sigmoid(x32), q64, weight=w64),
        F.binary_cross_entropy_with_logits(x32, q64, weight=w64, pos_weight=w64),
    ]
    for out in outs:
        assert out.dtype == np.float32
        x32.grad = None
        out.backward()
        assert x32.grad.dtype == np.float32
    ref = TF.cross_entropy(torch.tensor(x32.data), torch.tensor([0, 1, 2, 0]))
    assert F.cross_entropy(x32, np.array([0, 1, 2, 0])).item() == pytest.approx(
        ref.item(), rel=1e-6
    )


def test_integer_and_bool_targets_for_regression_and_bce_are_cast():
    x = gs.tensor([0.2, 0.8, 0.6], dtype=gs.float64)
    a = F.binary_cross_entropy(x, np.array([0, 1, 1])).item()
    b = F.binary_cross_entropy(x, np.array([False, True, True])).item()
    c = F.binary_cross_entropy(x, np.array([0.0, 1.0, 1.0])).item()
    assert a == b == c
    assert F.mse_loss(x, np.array([0, 1, 1])).item() == pytest.approx(0.08)


def test_plain_arrays_and_lists_are_accepted_and_need_no_grad():
    out = F.cross_entropy(np.array([[1.0, 2.0, 0.5]]), [1])
    assert not out.requires_grad
    assert out.item() == pytest.approx(
        TF.cross_entropy(torch.tensor([[1.0, 2.0, 0.5]]), torch.tensor([1])).item(), rel=1e-6
    )  # noqa: E501
    assert F.mse_loss([1.0, 2.0], [0.0, 0.0]).item() == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("size_average", "reduce", "expected"),
    [(None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, False, "none")],
)
def test_legacy_size_average_and_reduce(size_average, reduce, expected):
    x = _scores((3, 4))
    t = np.array([0, 1, 2])
    with pytest.warns(UserWarning, match=rf"use reduction='{expected}' instead"):
        legacy = F.cross_entropy(
            gs.tensor(x, dtype=gs.float64), t, None, size_average, -100, reduce
        )
    modern = F.cross_entropy(gs.tensor(x, dtype=gs.float64), t, reduction=expected)
    np.testing.assert_array_equal(legacy.data, modern.data)


# -- errors ----------------------------------------------------------------------------------------
def _x(shape=(3, 10)):
    return gs.tensor(np.zeros(shape), dtype=gs.float64)


def test_target_out_of_range():
    with pytest.raises(
        ValueError,
        match=r"target 10 is out of range for 10 classes: class indices must be in \[0, 9\]",
    ):
        F.cross_entropy(_x(), np.array([1, 10, 2]))
    with pytest.raises(ValueError, match=r"target -1 is out of range for 10 classes"):
        F.nll_loss(_x(), np.array([1, -1, 2]))
    with pytest.raises(ValueError, match=r"target -100 is out of range .*ignore_index=3"):
        F.cross_entropy(_x(), np.array([1, -100, 2]), ignore_index=3)
    with pytest.raises(ValueError, match=r"target 4 is out of range for 4 classes"):
        F.cross_entropy(_x((2, 4, 3)), np.array([[0, 1, 4], [0, 0, 0]]))


def test_float_targets_where_indices_are_required():
    with pytest.raises(
        TypeError, match=r"class indices must be integers, so pass target\.long\(\)"
    ):
        F.cross_entropy(_x(), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match=r"nll_loss needs class indices as integers.*target\.long"):
        F.nll_loss(_x(), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match=r"use cross_entropy\(logits, probabilities\)"):
        F.nll_loss(_x(), np.zeros((3, 10)))


def test_integer_targets_where_probabilities_are_expected():
    with pytest.raises(
        TypeError, match=r"class probabilities must be floating point.*target\.float"
    ):
        F.cross_entropy(_x(), np.zeros((3, 10), dtype=np.int64))
    with pytest.raises(TypeError, match=r"got a bool target"):
        F.cross_entropy(_x(), np.array([True, False, True]))


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"target shape \(4,\) does not fit input shape \(3, 10\)"):
        F.cross_entropy(_x(), np.array([1, 2, 3, 4]))
    with pytest.raises(
        ValueError, match=r"target shape \(3, 9\) does not fit input shape \(3, 10\)"
    ):
        F.cross_entropy(_x(), np.zeros((3, 9)))
    with pytest.raises(
        ValueError, match=r"mse_loss target shape \(3,\) does not match input shape \(3, 1\)"
    ):  # noqa: E501
        F.mse_loss(_x((3, 1)), np.zeros(3))
    for fn in (F.sse_loss, F.l1_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        with pytest.raises(ValueError, match=r"target shape \(3,\) does not match input shape"):
            fn(_x((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match=r"needs an input of shape \(N, C\)"):
        F.cross_entropy(gs.tensor(1.0), np.array(0))


def test_wrong_weight_length():
    with pytest.raises(ValueError, match=r"weight has shape \(3,\) but the input has 10 classes"):
        F.cross_entropy(_x(), np.array([1, 2, 3]), weight=np.ones(3))
    with pytest.raises(ValueError, match=r"nll_loss weight has shape \(10, 1\)"):
        F.nll_loss(_x(), np.array([1, 2, 3]), weight=np.ones((10, 1)))
    with pytest.raises(ValueError, match=r"weight of shape \(4,\) does not broadcast to the input"):
        F.binary_cross_entropy(_x(), np.zeros((3, 10)), weight=np.ones(4))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(_x(), np.zeros((3, 10)), pos_weight=np.ones(2))
    with pytest.raises(ValueError, match=r"mse_loss weight has shape \(10,\) but the input"):
        F.mse_loss(_x(), np.zeros((3, 10)), weight=np.ones(10))


def test_bce_values_outside_unit_interval():
    with pytest.raises(
        ValueError, match=r"input must hold probabilities in \[0, 1\].*apply sigmoid"
    ):
        F.binary_cross_entropy(gs.tensor([0.5, 1.2]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target must hold values in \[0, 1\]"):
        F.binary_cross_entropy(gs.tensor([0.5, 0.2]), np.array([0.0, 1.5]))


def test_unknown_reduction_lists_the_valid_ones():
    msg = r"reduction must be one of 'mean', 'sum' or 'none', got 'avg'"
    x = _x((3, 2))
    calls = [
        lambda: F.cross_entropy(x, np.array([0, 1, 1]), reduction="avg"),
        lambda: F.nll_loss(x, np.array([0, 1, 1]), reduction="avg"),
        lambda: F.mse_loss(x, x, reduction="avg"),
        lambda: F.sse_loss(x, x, reduction="avg"),
        lambda: F.l1_loss(x, x, reduction="avg"),
        lambda: F.huber_loss(x, x, reduction="avg"),
        lambda: F.smooth_l1_loss(x, x, reduction="avg"),
        lambda: F.binary_cross_entropy(x, x, reduction="avg"),
        lambda: F.binary_cross_entropy_with_logits(x, x, reduction="avg"),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=msg):
            call()


def test_other_argument_errors():
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        F.cross_entropy(_x(), np.array([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"ignore_index applies only to class-index targets"):
        F.cross_entropy(_x(), np.zeros((3, 10)), ignore_index=0)
    with pytest.raises(ValueError, match=r"huber_loss delta must be > 0"):
        F.huber_loss(_x(), _x(), delta=0.0)
    with pytest.raises(ValueError, match=r"smooth_l1_loss beta must be >= 0"):
        F.smooth_l1_loss(_x(), _x(), beta=-1.0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_non_finite_inputs_pass_through_unchecked():
    x = gs.tensor([[np.nan, 0.0], [1.0, np.inf]], dtype=gs.float64)
    assert np.isnan(F.cross_entropy(x, np.array([0, 1])).item())
    assert np.isnan(F.mse_loss(x, np.zeros((2, 2))).item())


def test_every_public_name_is_listed():
    from gradstep.functional import elementwise_loss, loss

    homes = (loss.__name__, elementwise_loss.__name__)
    assert sorted(loss.__all__) == sorted(
        n for n in dir(loss) if not n.startswith("_") and callable(getattr(loss, n)) and n.islower()
        and getattr(loss, n).__module__ in homes
    )  # fmt: skip
    assert set(elementwise_loss.__all__) <= set(loss.__all__)
    for name in loss.__all__:
        assert getattr(F, name) is getattr(loss, name)
