"""Shape and indexing ops: reshape, transpose, permute, squeeze, expand, indexing, cat, stack."""

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


def _same(fn, shape=(2, 3, 4), seed: int = 0) -> None:
    """The same expression in both libraries, plus finite differences."""
    a = _rand(shape, seed)
    _both(fn, fn, a)
    assert gs.gradcheck(fn, [_f64(a)])


# -- reshape / view / flatten ------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.reshape(6, 4),
        lambda x: x.reshape((4, -1)),
        lambda x: x.reshape(-1),
        lambda x: x.view(3, 8),
        lambda x: x.view_as(x.reshape(24)),
        lambda x: x.flatten(),
        lambda x: x.flatten(1),
        lambda x: x.flatten(0, 1),
        lambda x: x.flatten(-2, -1),
    ],
)
def test_reshape_view_flatten(fn):
    _same(fn)


def test_flatten_functional_and_0d():
    x = _f64(2.0)
    assert F.flatten(x).shape == (1,) == tuple(torch.flatten(torch.tensor(2.0)).shape)
    assert F.flatten(_f64(_rand((2, 3, 4))), start_dim=1).shape == (2, 12)


def test_reshape_and_flatten_errors():
    with pytest.raises(ValueError, match="number of elements"):
        gs.ones(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match="start_dim"):
        gs.ones(2, 3, 4).flatten(2, 1)


# -- transpose / .T / permute ------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.transpose(0, 2),
        lambda x: x.transpose(-1, -2),
        lambda x: x.permute(2, 0, 1),
        lambda x: x.permute((1, 2, 0)),
        lambda x: x.permute(-1, 0, 1),
        lambda x: x.mT,
    ],
)
def test_transpose_permute(fn):
    _same(fn)


def test_dot_t_of_a_matrix_and_functional_t():
    _same(lambda x: x.T, shape=(3, 4))
    _same(lambda x: x.t(), shape=(3, 4))
    a = _rand((3, 4), seed=8)
    _both(lambda x: F.transpose(x, 0, 1) @ x, lambda x: torch.transpose(x, 0, 1) @ x, a)
    x = _f64(_rand(3))
    assert x.T.shape == (3,)


def test_transpose_dims_out_of_range_are_an_index_error():
    with pytest.raises(IndexError, match="out of range"):
        gs.ones(3).transpose(0, 2)
    with pytest.raises(IndexError, match="out of range"):
        gs.ones(2, 3).transpose(0, -3)
    assert gs.ones(3).transpose(0, -1).shape == (3,)


def test_permute_needs_every_dim_once():
    with pytest.raises(ValueError, match="exactly once"):
        gs.ones(2, 3, 4).permute(0, 0, 1)


# -- squeeze / unsqueeze / expand --------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.squeeze(),
        lambda x: x.squeeze(0),
        lambda x: x.squeeze(-1),
        lambda x: x.squeeze(1),  # not of size 1: unchanged, as torch
        lambda x: x.squeeze((0, 2)),
        lambda x: x.unsqueeze(0),
        lambda x: x.unsqueeze(-1),
        lambda x: x.unsqueeze(2),
        lambda x: x.expand(4, 3, 5),
        lambda x: x.expand(2, -1, 3, -1),
        lambda x: x.expand_as(gs.zeros(1, 3, 5)) if isinstance(x, gs.Tensor) else x.expand(1, 3, 5),
    ],
)
def test_squeeze_unsqueeze_expand(fn):
    _same(fn, shape=(1, 3, 1))


@pytest.mark.parametrize("shape", [(4,), (2, 4), (3,)])
def test_expand_to_an_incompatible_shape_is_a_clear_error(shape):
    src = gs.ones(3) if shape != (3,) else gs.ones(2, 3)
    with pytest.raises(ValueError, match="cannot expand shape"):
        src.expand(*shape)


def test_expand_gradient_sums_over_the_copies():
    x = _f64([[1.0], [2.0]])
    x.expand(2, 5).sum().backward()
    np.testing.assert_array_equal(x.grad, [[5.0], [5.0]])


# -- indexing ----------------------------------------------------------------------------------
BASIC = [
    (lambda x: x[1]),
    (lambda x: x[-1]),
    (lambda x: x[0, 2]),
    (lambda x: x[1, -1, 3]),
    (lambda x: x[:, 1:3]),
    (lambda x: x[..., ::2]),
    (lambda x: x[:, None, 1]),
    (lambda x: x[1:, :, -3:-1]),
]


@pytest.mark.parametrize("fn", BASIC)
def test_basic_indexing(fn):
    _same(fn)


def test_negative_step_slices_match_numpy():
    # PyTorch has no negative steps; NumPy does, and so do we.
    a = _rand((3, 4), seed=1)
    x = _f64(a)
    y = x[::-1, 3:0:-2]
    _close(y.data, a[::-1, 3:0:-2])
    w = _rand(y.shape, seed=2)
    y.backward(w)
    expected = np.zeros_like(a)
    expected[::-1, 3:0:-2] = w
    _close(x.grad, expected)
    assert gs.gradcheck(lambda t: t[::-1, ::-2], [_f64(a)])


@pytest.mark.parametrize(
    "index",
    [
        [0, 2, 0, 0],
        np.array([[1, 1], [0, 1]]),
        (np.array([0, 1, 1]), np.array([2, 2, 2])),
        (slice(None), [3, 3, 0]),
    ],
)
def test_integer_array_indexing_repeated_indices_accumulate(index):
    a = _rand((3, 4), seed=3)
    t_index = (
        tuple(torch.tensor(i) if not isinstance(i, slice) else i for i in index)
        if isinstance(index, tuple)
        else torch.tensor(np.asarray(index))
    )
    _both(lambda x: x[index], lambda x: x[t_index], a)
    assert gs.gradcheck(lambda x: x[index], [_f64(a)])


def test_repeated_index_gradient_counts_each_use():
    x = _f64([10.0, 20.0, 30.0])
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_tensor_index_and_boolean_mask():
    a = _rand((3, 4), seed=4)
    idx = gs.tensor([2, 0, 2])
    _both(lambda x: x[idx], lambda x: x[torch.tensor([2, 0, 2])], a)
    mask = a > 0
    _both(lambda x: x[gs.tensor(mask)], lambda x: x[torch.tensor(mask)], a)
    _both(lambda x: x[x > 0.1], lambda x: x[x > 0.1], a)
    row_mask = np.array([True, False, True])
    _both(lambda x: x[row_mask], lambda x: x[torch.tensor(row_mask)], a)
    assert gs.gradcheck(lambda x: x[mask], [_f64(a)])


@pytest.mark.parametrize("index", [5, (0, 9), [0, 7], (slice(None), 4)])
def test_index_out_of_range_is_a_clear_index_error(index):
    with pytest.raises(IndexError, match=r"shape \(3, 4\)"):
        gs.ones(3, 4)[index]


def test_iterating_a_tensor_yields_its_rows():
    rows = list(gs.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert len(rows) == 2
    np.testing.assert_array_equal(rows[1].data, [3.0, 4.0])


# -- cat / stack ------------------------------------------------------------------------------
@FAST
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3),
    sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    data=st.data(),
)
def test_cat_along_any_dim(shape, sizes, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    arrays = []
    for i, n in enumerate(sizes):
        s = list(shape)
        s[dim] = n
        arrays.append(_rand(tuple(s), seed=i))
    _both(lambda *xs: gs.cat(xs, dim), lambda *xs: torch.cat(xs, dim), *arrays)
    assert gs.gradcheck(lambda *xs: gs.cat(xs, dim=dim), [_f64(a) for a in arrays])


@FAST
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
    count=st.integers(1, 3),
    data=st.data(),
)
def test_stack_along_any_dim(shape, count, data):
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [_rand(shape, seed=i) for i in range(count)]
    _both(lambda *xs: gs.stack(xs, dim), lambda *xs: torch.stack(xs, dim), *arrays)
    assert gs.gradcheck(lambda *xs: gs.stack(list(xs), dim=dim), [_f64(a) for a in arrays])


def test_concatenate_and_axis_aliases():
    a, b = _rand((2, 3), seed=5), _rand((2, 1), seed=6)
    out = gs.concatenate([gs.tensor(a), gs.tensor(b)], axis=1)
    _close(out.data, np.concatenate([a, b], axis=1).astype(np.float32))
    out = F.stack([gs.tensor(a), gs.tensor(a)], axis=-1)
    assert out.shape == (2, 3, 2)


def test_cat_with_a_constant_sends_gradient_only_to_the_variable():
    x = _f64([1.0, 2.0])
    c = gs.tensor([5.0, 6.0, 7.0], dtype=gs.float64)
    gs.cat([c, x]).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    assert c.grad is None


def test_cat_and_stack_promote_dtypes_like_torch():
    cases = [
        (np.array([1, 2]), np.array([1.5], dtype=np.float32)),
        (np.array([1.0], dtype=np.float32), np.array([2.0])),
        (np.array([True]), np.array([3])),
    ]
    for a, b in cases:
        out = gs.cat([gs.tensor(a), gs.tensor(b, dtype=b.dtype)])
        ref = torch.cat([torch.tensor(a), torch.tensor(b)])
        assert str(out.dtype) == str(ref.dtype).removeprefix("torch."), (a.dtype, b.dtype)
    out = gs.stack([gs.tensor(1), gs.tensor(1.0)])
    assert str(out.dtype) == str(torch.stack([torch.tensor(1), torch.tensor(1.0)]).dtype)[6:]


def test_cat_stack_errors():
    with pytest.raises(ValueError, match="outside dim"):
        gs.cat([gs.ones(2, 3), gs.ones(3, 3)], dim=1)
    with pytest.raises(ValueError, match="equal shapes"):
        gs.stack([gs.ones(2), gs.ones(3)])
    with pytest.raises(ValueError, match="non-empty"):
        gs.cat([])


# -- float32 stays float32 --------------------------------------------------------------------
def test_shape_ops_keep_float32_gradients():
    x = gs.tensor(_rand((2, 3), seed=7), requires_grad=True)
    y = gs.cat([x.T.reshape(-1), x[0], x[[1, 1]].flatten(), gs.stack([x, x]).sum(0).reshape(-1)])
    assert y.dtype == gs.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
