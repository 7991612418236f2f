"""Max, average and adaptive average pooling against PyTorch in float64 (values, gradients,
indices), finite differences, ties and NaN, inputs in either memory order, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st
from oracle import FAST, both, close

import gradstep as gs
from gradstep import functional as F


def _rand(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


MAX1D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=3, stride=2, dilation=2),
    dict(kernel_size=2, stride=2, ceil_mode=True),
    dict(kernel_size=4, stride=3, padding=2, ceil_mode=True),
]


@pytest.mark.parametrize("kw", MAX1D, ids=str)
def test_max_pool1d_matches_torch(kw):
    both(lambda x: F.max_pool1d(x, **kw), lambda x: TF.max_pool1d(x, **kw), _rand((2, 3, 11)))


MAX2D = [
    dict(kernel_size=2),
    dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0)),
    dict(kernel_size=3, stride=2, padding=1, dilation=(1, 2)),
    dict(kernel_size=2, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
]


@pytest.mark.parametrize("kw", MAX2D, ids=str)
def test_max_pool2d_matches_torch_with_indices(kw):
    x = _rand((2, 3, 7, 9))
    both(lambda t: F.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), x)
    _, ours = F.max_pool2d(gs.tensor(x, dtype=gs.float64), return_indices=True, **kw)
    _, ref = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.data, ref.numpy())


def test_max_pool_ties_give_the_gradient_to_the_first_maximum():
    """ReLU outputs hold many zeros: each window's gradient goes to its first maximum only."""
    x = np.maximum(_rand((2, 2, 6, 6), 3), 0)
    x[0, 0, :2, :2] = 1.5  # a whole window of equal values
    both(lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), x)
    both(lambda t: F.max_pool2d(t, 3, 1), lambda t: TF.max_pool2d(t, 3, 1), x)  # overlapping
    both(lambda t: F.max_pool1d(t, 2), lambda t: TF.max_pool1d(t, 2), np.zeros((1, 2, 6)))


def test_max_pool_nan_propagates_and_routes_gradient_as_torch():
    x = _rand((1, 2, 4, 6), 4)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan  # two NaNs in one window
    x[0, 1, 3, 3] = -np.inf
    xg, xt = gs.tensor(x, dtype=gs.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, ref = F.max_pool2d(xg, 2, return_indices=True), TF.max_pool2d(xt, 2, return_indices=True)
    np.testing.assert_array_equal(ours[0].data, ref[0].detach().numpy())  # NaN in the same places
    np.testing.assert_array_equal(ours[1].data, ref[1].numpy())
    g = _rand(tuple(ref[0].shape), 5)
    ours[0].backward(g)
    ref[0].backward(torch.tensor(g))
    close(xg.grad, xt.grad)


AVG = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=2, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
]


@pytest.mark.parametrize("kw", AVG, ids=str)
def test_avg_pool_matches_torch(kw):
    both(lambda x: F.avg_pool1d(x, **kw), lambda x: TF.avg_pool1d(x, **kw), _rand((2, 3, 11)))
    both(lambda x: F.avg_pool2d(x, **kw), lambda x: TF.avg_pool2d(x, **kw), _rand((2, 3, 7, 8)))


def test_avg_pool2d_divisor_override_and_rectangular_windows():
    kw = dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 1), divisor_override=5)
    both(lambda x: F.avg_pool2d(x, **kw), lambda x: TF.avg_pool2d(x, **kw), _rand((2, 2, 5, 6)))


@pytest.mark.parametrize(
    ("size", "out"),
    [((9,), 1), ((9,), 4), ((9,), 9), ((5,), 7), ((7, 9), 1), ((7, 9), (3, 4)), ((6, 6), 3),
     ((7, 9), (None, 2)), ((5, 3), (7, 5))],
)  # fmt: skip
def test_adaptive_avg_pool_matches_torch(size, out):
    x = _rand((2, 3, *size))
    if len(size) == 1:
        both(lambda t: F.adaptive_avg_pool1d(t, out), lambda t: TF.adaptive_avg_pool1d(t, out), x)
    else:
        both(lambda t: F.adaptive_avg_pool2d(t, out), lambda t: TF.adaptive_avg_pool2d(t, out), x)


def test_unbatched_inputs():
    x = _rand((3, 8, 6))
    both(lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), x)
    both(lambda t: F.avg_pool1d(t, 3), lambda t: TF.avg_pool1d(t, 3), x[0])
    both(lambda t: F.adaptive_avg_pool2d(t, 2), lambda t: TF.adaptive_avg_pool2d(t, 2), x)


def test_pooling_a_conv_output_in_channel_major_memory_matches_torch():
    """A convolution's output lies in memory as (C, N, ...); every pool must read it right."""
    x, w = _rand((3, 2, 8, 8), 1), _rand((4, 2, 3, 3), 2)

    def run(lib, pool):
        return lambda a, b: pool(lib.conv2d(a, b, padding=1))

    for ours, ref in [
        (lambda y: F.max_pool2d(y, 2), lambda y: TF.max_pool2d(y, 2)),
        (lambda y: F.max_pool2d(y, 3, 2, 1), lambda y: TF.max_pool2d(y, 3, 2, 1)),
        (lambda y: F.avg_pool2d(y, 3, 1, 1), lambda y: TF.avg_pool2d(y, 3, 1, 1)),
        (lambda y: F.adaptive_avg_pool2d(y, (3, 2)), lambda y: TF.adaptive_avg_pool2d(y, (3, 2))),
    ]:
        both(run(F, ours), run(TF, ref), x, w)


@pytest.mark.parametrize(
    "fn",
    [lambda x: F.max_pool2d(x, 2, 1, 1), lambda x: F.avg_pool2d(x, 3, 2, 1, True, False),
     lambda x: F.adaptive_avg_pool2d(x, (2, 3)), lambda x: F.max_pool1d(x[:, 0], 3, 2, 1, 2)],
)  # fmt: skip
def test_gradcheck(fn):
    x = gs.tensor(_rand((2, 2, 5, 5), 6), dtype=gs.float64, requires_grad=True)
    assert gs.gradcheck(fn, [x])


@FAST
@given(
    size=st.tuples(st.integers(2, 9), st.integers(2, 9)),
    k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    pad=st.tuples(st.integers(0, 1), st.integers(0, 1)),
    ceil=st.booleans(),
    include=st.booleans(),
)
def test_pool_option_combinations_match_torch(size, k, stride, pad, ceil, include):
    if any(p > kk // 2 for p, kk in zip(pad, k)) or any(s + 2 * p < kk for s, p, kk in
                                                        zip(size, pad, k)):  # fmt: skip
        return  # PyTorch raises; our errors are tested below
    x = _rand((2, 2, *size), 7)
    kw = dict(kernel_size=k, stride=stride, padding=pad, ceil_mode=ceil)
    both(lambda t: F.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), x)
    kw["count_include_pad"] = include
    both(lambda t: F.avg_pool2d(t, **kw), lambda t: TF.avg_pool2d(t, **kw), x)


def test_integer_input_becomes_float():
    out = F.max_pool1d(gs.tensor([[[1, 5, 2, 0]]]), 2)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [[[5.0, 2.0]]])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda x: F.max_pool2d(x[0, 0], 2), ValueError, r"4-D input \(N, C, H, W\)"),
        (lambda x: F.max_pool1d(x, 2), ValueError, r"3-D input \(N, C, L\)"),
        (lambda x: F.max_pool2d(x, 2, padding=2), ValueError, "at most half"),
        (lambda x: F.avg_pool2d(x, 3, padding=2), ValueError, "at most half"),
        (lambda x: F.max_pool2d(x, 7), ValueError, "larger than the padded input"),
        (lambda x: F.max_pool2d(x, 0), ValueError, "kernel_size must be >= 1"),
        (lambda x: F.avg_pool2d(x, 2, stride=0), ValueError, "stride must be >= 1"),
        (lambda x: F.max_pool2d(x, (2, 2, 2)), TypeError, "kernel_size must be an int or"),
        (lambda x: F.avg_pool2d(x, 2, divisor_override=0), ValueError, "divisor_override"),
        (lambda x: F.adaptive_avg_pool2d(x, 0), ValueError, "output sizes >= 1"),
        (lambda x: F.adaptive_avg_pool2d(x, (1, 2, 3)), TypeError, "output_size must be"),
    ],
)
def test_errors_name_the_problem_and_the_fix(call, error, match):
    x = gs.tensor(_rand((1, 2, 5, 5)))
    with pytest.raises(error, match=match):
        call(x)
