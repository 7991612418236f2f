"""Activations, softmax / log-softmax and dropout: finite differences and PyTorch as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from oracle import FAST
from oracle import both as _both
from oracle import close as _close
from oracle import f64 as _f64

import gradstep as gs
from gradstep import functional as F

SOFTPLUS_BETA = (2.0, 3.0)  # (beta, threshold) of the "softplus_beta" case

ACTIVATIONS = {
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "relu": (F.relu, torch.relu),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
    ),
    "softplus": (F.softplus, TF.softplus),
    "softplus_beta": (
        lambda x: F.softplus(x, *SOFTPLUS_BETA),
        lambda x: TF.softplus(x, *SOFTPLUS_BETA),
    ),
    "method_sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    "method_tanh": (lambda x: x.tanh(), lambda x: x.tanh()),
    "method_relu": (lambda x: x.relu(), lambda x: x.relu()),
    "top_sigmoid": (gs.sigmoid, torch.sigmoid),
    "top_tanh": (gs.tanh, torch.tanh),
}


def _softplus_kink(beta: float, threshold: float) -> float:
    """Where softplus switches to the identity (beta·x = threshold): a jump of
    log1p(e^−threshold)/beta in value, so no finite difference across it is meaningful."""
    return threshold / beta


# Where each activation is not smooth, besides 0 (avoided for all: relu's and leaky_relu's kink).
KINKS = {
    "softplus": (_softplus_kink(1.0, 20.0),),  # F.softplus's defaults
    "softplus_beta": (_softplus_kink(*SOFTPLUS_BETA),),
}


@st.composite
def activation_cases(draw):
    """An activation's name and an input whose values all lie 1e-3 or more from its kinks, so
    central differences (step 1e-6) never straddle one."""
    name = draw(st.sampled_from(sorted(ACTIVATIONS)))
    kinks = (0.0, *KINKS.get(name, ()))
    smooth = st.floats(-4, 4).filter(lambda v: all(abs(v - k) > 1e-3 for k in kinks))
    shapes = hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)
    return name, draw(hnp.arrays(np.float64, shapes, elements=smooth))


@FAST
@given(case=activation_cases())
# just outside the band kept clear on either side of softplus_beta's kink
@example(case=("softplus_beta", KINKS["softplus_beta"][0] + np.array([-2e-3, 2e-3])))
def test_activations_gradcheck_and_torch(case):
    name, a = case
    g_fn, t_fn = ACTIVATIONS[name]
    assert gs.gradcheck(g_fn, [_f64(a)])
    _both(g_fn, t_fn, a)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_at_kinks_and_extremes_match_torch(name):
    g_fn, t_fn = ACTIVATIONS[name]
    a = np.array([-50.0, -1.5, -1e-8, 0.0, 1e-8, 1.5, 50.0])
    _both(g_fn, t_fn, a)


def test_relu_derivative_at_zero_is_zero_like_torch():
    x = _f64([0.0, -0.0, 1.0])
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])


@pytest.mark.parametrize("rows", [1, 3, 20_000])  # the last one is past FULL_ZEROS elements
def test_relu_of_infinities_and_nan_matches_torch(rows):
    from gradstep.functional.activation import FULL_ZEROS

    a = np.tile(np.array([-np.inf, np.inf, np.nan, -1.0, 2.5]), (rows, 1))
    assert (a.size > FULL_ZEROS) == (rows == 20_000)
    out, ref = F.relu(_f64(a, requires_grad=False)), torch.relu(torch.tensor(a))
    np.testing.assert_array_equal(out.data, ref.numpy())
    assert out.data.flags.writeable  # never the kept zeros themselves


def test_leaky_relu_derivative_at_zero_is_the_slope_like_torch():
    x = _f64([0.0])
    F.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_allclose(x.grad, [0.1])


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(gs.ones(2), approximate="fast")


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "gelu", "softplus"])
def test_activations_keep_float32_and_accept_integers(name):
    x = gs.tensor([[0.5, -1.0]], requires_grad=True)
    y = getattr(F, name)(x)
    assert y.dtype == gs.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert getattr(F, name)(gs.tensor([1, -2])).dtype == gs.float32


# -- softmax / log_softmax --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_softmax_log_softmax_match_torch(name, dim):
    a = np.random.default_rng(1).standard_normal((2, 3, 4))
    g_fn, t_fn = getattr(F, name), getattr(TF, name)
    _both(lambda x: g_fn(x, dim), lambda x: t_fn(x, dim), a)
    _both(lambda x: g_fn(x, dim=dim), lambda x: getattr(x, name)(dim), a)
    assert gs.gradcheck(lambda x: g_fn(x, dim), [_f64(a)])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_stable_for_huge_inputs(name):
    a = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]])
    g_fn, t_fn = getattr(F, name), getattr(TF, name)
    out = g_fn(_f64(a, requires_grad=False), 1)
    assert np.isfinite(out.data).all()
    _both(lambda x: g_fn(x, 1), lambda x: t_fn(x, 1), a)
    out32 = g_fn(gs.tensor(a), dim=1)
    assert out32.dtype == gs.float32 and np.isfinite(out32.data).all()


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_axis_alias_and_rows_sum_to_one(name):
    a = np.random.default_rng(2).standard_normal((3, 5))
    out = getattr(F, name)(gs.tensor(a, dtype=gs.float64), axis=-1)
    p = out.data if name == "softmax" else np.exp(out.data)
    _close(p.sum(axis=-1), np.ones(3))


@pytest.mark.filterwarnings("ignore:Implicit dimension choice")
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4), (2, 2, 3, 4)])
def test_softmax_without_dim_picks_torchs_legacy_dim(shape):
    a = np.random.default_rng(3).standard_normal(shape)
    _close(F.softmax(_f64(a, False)).data, TF.softmax(torch.tensor(a), dim=None))


# -- dropout ------------------------------------------------------------------------------------
def test_dropout_mask_statistics_and_scaling():
    gs.manual_seed(0)
    p = 0.3
    x = gs.ones(200_000, dtype=gs.float64)
    y = F.dropout(x, p)
    zeros = (y.data == 0).mean()
    assert abs(zeros - p) < 0.005  # ~0.001 standard deviations at this size
    kept = y.data[y.data != 0]
    np.testing.assert_allclose(kept, 1 / (1 - p), rtol=1e-15)
    assert abs(y.data.mean() - 1.0) < 0.01  # inverted dropout keeps the expectation


def test_dropout_gradient_is_the_same_mask():
    gs.manual_seed(1)
    x = gs.tensor(np.random.default_rng(4).standard_normal((50, 20)), requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    scale = np.where(y.data != 0, 2.0, 0.0).astype(np.float32)
    np.testing.assert_allclose(y.data, x.data * scale, rtol=1e-6)
    np.testing.assert_array_equal(x.grad, scale)
    assert x.grad.dtype == np.float32 and y.dtype == gs.float32


def test_dropout_same_seed_same_mask():
    gs.manual_seed(123)
    a = F.dropout(gs.ones(1000), 0.5).data
    b = F.dropout(gs.ones(1000), 0.5).data
    gs.manual_seed(123)
    c = F.dropout(gs.ones(1000), 0.5).data
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_dropout_eval_and_p0_are_the_identity_and_p1_zeros():
    x = gs.tensor(np.random.default_rng(5).standard_normal(100), requires_grad=True)
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=False).data, x.data)
    np.testing.assert_array_equal(F.dropout(x, 0.0).data, x.data)
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.data, np.zeros(100))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros(100))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_a_probability_outside_0_1(p):
    with pytest.raises(ValueError, match="dropout probability"):
        F.dropout(gs.ones(3), p)
