"""Reductions: sum/mean/var/std/max/min/argmax/argmin/amax/amin/logsumexp against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from oracle import FAST
from oracle import both as _both
from oracle import close as _close
from oracle import f64 as _f64

import gradstep as gs
from gradstep import functional as F


def _rand(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


@st.composite
def shape_and_dim(draw, min_dims: int = 1):
    """A shape and a dim argument: None, one (possibly negative) axis, or a tuple of axes."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=3))
    nd = len(shape)
    axes = st.integers(-nd, nd - 1)
    dim = draw(
        st.none() | axes | st.lists(st.integers(0, nd - 1), min_size=1, unique=True).map(tuple)
    )
    return shape, dim


# -- sum / mean ----------------------------------------------------------------------------------
@FAST
@given(sd=shape_and_dim(), keepdim=st.booleans(), name=st.sampled_from(["sum", "mean"]))
def test_sum_mean_dims_gradcheck_and_torch(sd, keepdim, name):
    shape, dim = sd
    a = _rand(shape, seed=1)

    def g_fn(x):
        return getattr(x, name)() if dim is None and not keepdim else getattr(x, name)(dim, keepdim)

    def t_fn(x):
        if dim is None:
            return (
                getattr(x, name)() if not keepdim else getattr(x, name)(tuple(range(x.ndim)), True)
            )
        return getattr(x, name)(dim, keepdim)

    if dim is None and keepdim:
        _close(
            getattr(_f64(a), name)(None, True).data.reshape(-1), t_fn(torch.tensor(a)).reshape(-1)
        )
        return
    assert gs.gradcheck(g_fn, [_f64(a)])
    _both(g_fn, t_fn, a)


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_numpy_aliases_axis_keepdims(name):
    a = _rand((2, 3, 4), seed=2)
    x = _f64(a, requires_grad=False)
    ref = getattr(np, name)(a, axis=(0, -1), keepdims=True)
    out = getattr(x, name)(axis=(0, -1), keepdims=True)
    assert out.shape == ref.shape
    _close(out.data, ref)
    _close(getattr(F, name)(x, axis=1).data, getattr(np, name)(a, axis=1))


@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_result_shapes_equal_torch(dim, keepdim):
    a = np.ones((2, 3))
    ref = torch.tensor(a).sum() if dim is None else torch.tensor(a).sum(dim, keepdim)
    out = gs.tensor(a).sum() if dim is None else gs.tensor(a).sum(dim, keepdim)
    assert out.shape == tuple(ref.shape)


def test_sum_of_0d_tensor_and_integer_dtypes_like_torch():
    x = _f64(3.0)
    y = x.sum()
    y.backward()
    assert y.shape == () and x.grad == 1.0
    assert gs.tensor([True, True, False]).sum().item() == 2
    assert gs.tensor([True, False]).sum().dtype == gs.int64
    assert gs.tensor(np.array([1, 2], dtype=np.int32)).sum().dtype == gs.int64
    assert gs.tensor([1.0, 2.0]).sum(dtype=gs.float64).dtype == gs.float64


def test_mean_of_integer_tensor_is_a_clear_type_error():
    with pytest.raises(TypeError, match="floating-point"):
        gs.tensor([1, 2, 3]).mean()


@pytest.mark.parametrize("name", ["sum", "mean", "max", "argmax", "var"])
def test_dim_out_of_range_is_an_index_error(name):
    with pytest.raises(IndexError, match="out of range"):
        getattr(gs.ones(2, 3), name)(2)


# -- var / std -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("correction", [0, 1])
def test_var_std_match_torch(name, dim, keepdim, correction):
    a = _rand((3, 2, 4), seed=3)

    def g_fn(x):
        return getattr(x, name)(dim, keepdim, correction=correction)

    def t_fn(x):
        return getattr(torch, name)(x, dim=dim, keepdim=keepdim, correction=correction)

    _both(g_fn, t_fn, a)


def test_var_std_gradcheck_and_aliases():
    a = _rand((3, 4), seed=4)
    assert gs.gradcheck(lambda x: x.var(1), [_f64(a)])
    assert gs.gradcheck(lambda x: F.std(x, 0, unbiased=False), [_f64(a)])
    x = _f64(a, requires_grad=False)
    _close(F.var(x, axis=0, keepdims=True).data, np.var(a, axis=0, ddof=1, keepdims=True))
    _close(F.std(x, unbiased=False).data, np.std(a))


# -- max / min over a dim: values, indices, gradient to the chosen index -------------------------
@FAST
@given(sd=shape_and_dim(), keepdim=st.booleans(), name=st.sampled_from(["max", "min"]))
def test_max_min_over_dim_match_torch(sd, keepdim, name):
    shape, dim = sd
    if not isinstance(dim, int):
        dim = -1
    a = np.round(_rand(shape, seed=5), 1)  # rounding makes ties likely
    x, tx = _f64(a), torch.tensor(a, requires_grad=True)
    out, ref = getattr(x, name)(dim, keepdim), getattr(tx, name)(dim, keepdim)
    _close(out.values.data, ref.values)
    np.testing.assert_array_equal(out.indices.data, ref.indices.numpy())
    assert out.indices.dtype == gs.int64
    w = _rand(tuple(ref.values.shape), seed=6)
    out.values.backward(w)
    ref.values.backward(torch.tensor(w))
    _close(x.grad, tx.grad)


def test_max_dim_returns_a_named_pair_and_ties_go_to_the_first_index():
    x = _f64([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    out = x.max(dim=1)
    values, indices = out
    assert out.values is values and out.indices is indices
    np.testing.assert_array_equal(indices.data, [1, 0])
    values.sum().backward()
    tx = torch.tensor(x.data, requires_grad=True)
    tx.max(dim=1).values.sum().backward()
    _close(x.grad, tx.grad)
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])


def test_max_min_with_numpy_aliases():
    a = _rand((2, 3), seed=7)
    x = _f64(a, requires_grad=False)
    v, i = x.max(axis=-1, keepdims=True)
    _close(v.data, a.max(axis=-1, keepdims=True))
    np.testing.assert_array_equal(i.data, a.argmax(axis=-1)[:, None])
    v, i = F.min(x, axis=0)
    _close(v.data, a.min(axis=0))


# -- max / min over all elements: ties share the gradient evenly ---------------------------------
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_all_elements_share_ties_evenly_like_torch(name):
    a = np.array([[1.0, 3.0, 3.0], [-1.0, 3.0, -1.0]])
    if name == "min":
        a = -a
    _both(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), a)
    x = _f64(a)
    getattr(x, name)().backward()
    np.testing.assert_allclose(x.grad, np.where(a == getattr(a, name)(), 1 / 3, 0.0))


def test_max_all_with_nan_sends_the_gradient_to_the_nan_like_torch():
    a = np.array([1.0, np.nan, 3.0])
    x, tx = _f64(a), torch.tensor(a, requires_grad=True)
    out, ref = x.max(), tx.max()
    assert np.isnan(out.item()) and np.isnan(ref.item())
    out.backward()
    ref.backward()
    _close(x.grad, tx.grad)


def test_max_of_empty_tensor_is_a_clear_error():
    with pytest.raises(ValueError, match="empty"):
        gs.zeros(0).max()


@FAST
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(max_dims=3, max_side=3),
        elements=st.integers(-30, 30).map(float),
        unique=True,  # distinct values: no kink within eps of any element
    )
)
def test_max_min_all_gradcheck(a):
    assert gs.gradcheck(lambda x: x.max(), [_f64(a)])
    assert gs.gradcheck(lambda x: x.min(), [_f64(a)])


# -- amax / amin: several dims, ties share evenly (torch.amax) ----------------------------------
@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("dim", [None, 1, -1, (0, 2), ()])
@pytest.mark.parametrize("keepdim", [False, True])
def test_amax_amin_match_torch(name, dim, keepdim):
    a = np.round(_rand((2, 3, 2), seed=8))  # integers: plenty of ties

    def t_fn(x):
        return getattr(torch, name)(x, () if dim is None else dim, keepdim)

    _both(lambda x: getattr(F, name)(x, dim, keepdim), t_fn, a)
    _both(lambda x: getattr(x, name)(dim, keepdim), t_fn, a)


# -- argmax / argmin -----------------------------------------------------------------------------
@FAST
@given(sd=shape_and_dim(), keepdim=st.booleans(), name=st.sampled_from(["argmax", "argmin"]))
def test_argmax_argmin_match_torch(sd, keepdim, name):
    shape, dim = sd
    a = np.round(_rand(shape, seed=9), 1)
    t = torch.tensor(a)
    if not isinstance(dim, int):
        out, ref = getattr(gs.tensor(a), name)(), getattr(t, name)()
    else:
        out, ref = getattr(gs.tensor(a), name)(dim, keepdim), getattr(t, name)(dim, keepdim)
    assert out.dtype == gs.int64
    assert out.shape == tuple(ref.shape)
    np.testing.assert_array_equal(out.data, ref.numpy())
    assert not out.requires_grad


def test_argmax_axis_alias():
    a = _rand((3, 4), seed=10)
    np.testing.assert_array_equal(F.argmax(gs.tensor(a), axis=0).data, a.argmax(0))
    np.testing.assert_array_equal(F.argmin(gs.tensor(a), axis=-1).data, a.argmin(-1))


# -- logsumexp ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_matches_torch(dim, keepdim):
    a = _rand((3, 4), seed=11)
    _both(lambda x: x.logsumexp(dim, keepdim), lambda x: x.logsumexp(dim, keepdim), a)
    assert gs.gradcheck(lambda x: F.logsumexp(x, dim, keepdim), [_f64(a)])


def test_logsumexp_is_stable_for_huge_and_minus_inf_inputs():
    a = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1.0, -np.inf, 2.0]])
    _both(lambda x: x.logsumexp(1), lambda x: x.logsumexp(1), a)
    assert np.isfinite(F.logsumexp(_f64(a), 1).data).all()


def test_logsumexp_of_integers_gives_the_default_float_like_torch():
    out = F.logsumexp(gs.tensor([1, 2, 3]), 0)
    assert out.dtype == gs.float32
    ref = torch.logsumexp(torch.tensor([1.0, 2.0, 3.0]), 0)
    np.testing.assert_allclose(out.data, ref.numpy(), rtol=1e-6)


# -- float32 stays float32 -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.sum(0),
        lambda x: x.mean(),
        lambda x: x.var(1),
        lambda x: x.std(),
        lambda x: x.max(),
        lambda x: x.max(1).values,
        lambda x: x.amax((0, 1)),
        lambda x: x.logsumexp(1),
    ],
)
def test_reductions_keep_float32(fn):
    x = gs.tensor(_rand((2, 3), seed=12), requires_grad=True)
    y = fn(x)
    assert y.dtype == gs.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
