"""conv1d / conv2d against PyTorch in float64 (values and all three gradients), finite
differences, the chunked and blocked paths, and the error messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st
from oracle import FAST, close

import gradstep as gs
from gradstep import functional as F
from gradstep.functional import conv as conv_module

# PyTorch warns that its even-kernel "same" padding copies the input; the values are what count.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _rand(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _compare(nsp, x_shape, w_shape, bias=True, x_grad=True, seed=0, **kw):
    """The same convolution in gradstep and PyTorch (float64): output and every gradient."""
    x, w, b = _rand(x_shape, seed), _rand(w_shape, seed + 1), _rand(w_shape[0], seed + 2)
    gx = gs.tensor(x, dtype=gs.float64, requires_grad=x_grad)
    gw = gs.tensor(w, dtype=gs.float64, requires_grad=True)
    gb = gs.tensor(b, dtype=gs.float64, requires_grad=True) if bias else None
    tx = torch.tensor(x, requires_grad=x_grad)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if bias else None
    ours = (F.conv1d if nsp == 1 else F.conv2d)(gx, gw, gb, **kw)
    ref = (TF.conv1d if nsp == 1 else TF.conv2d)(tx, tw, tb, **kw)
    assert ours.shape == tuple(ref.shape)
    close(ours.data, ref)
    g = _rand(tuple(ref.shape), seed + 3)
    ours.backward(g)
    ref.backward(torch.tensor(g))
    close(gw.grad, tw.grad)
    if bias:
        close(gb.grad, tb.grad)
    if x_grad:
        close(gx.grad, tx.grad)
    else:
        assert gx.grad is None
    return ours


CONV1D = [
    dict(),
    dict(stride=2, padding=1),
    dict(padding="same"),
    dict(padding="same", dilation=2),
    dict(padding="valid", dilation=3),
    dict(stride=3, padding=2, dilation=2),
    dict(groups=2),
    dict(groups=4, stride=2, padding=(1,)),
]


@pytest.mark.parametrize("kw", CONV1D, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv1d_matches_torch(kw, bias):
    _compare(1, (3, 4, 11), (8, 4 // kw.get("groups", 1), 3), bias=bias, **kw)


CONV2D = [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2)),
    dict(padding="same"),
    dict(padding="same", dilation=(2, 1)),
    dict(groups=2, padding=1),
    dict(groups=4, stride=(1, 3)),
]


@pytest.mark.parametrize("kw", CONV2D, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(kw, bias):
    _compare(2, (2, 4, 7, 8), (6 if kw.get("groups", 1) != 4 else 8,
                               4 // kw.get("groups", 1), 3, 2), bias=bias, **kw)  # fmt: skip


def test_even_kernel_same_padding_puts_the_extra_zero_on_the_right():
    _compare(2, (2, 3, 6, 5), (4, 3, 4, 2), padding="same")
    _compare(1, (2, 3, 6), (4, 3, 4), padding="same", dilation=1)


def test_unbatched_inputs_and_data_without_grad():
    _compare(1, (4, 9), (5, 4, 3), padding=1)
    _compare(2, (3, 6, 6), (2, 3, 3, 3), stride=2)
    _compare(2, (2, 3, 6, 6), (2, 3, 3, 3), x_grad=False, padding=1)


def test_depthwise_and_one_by_one_kernels():
    _compare(2, (2, 6, 5, 5), (6, 1, 3, 3), groups=6, padding=1)  # depthwise
    _compare(2, (2, 6, 5, 5), (4, 6, 1, 1))
    _compare(1, (2, 3, 5), (2, 3, 5))  # kernel as large as the input: one output


def test_chunked_batches_and_blocked_products_give_the_same_result(monkeypatch):
    """Tiny bounds force the chunk-by-chunk path (unfold again in backward) and many blocks."""
    monkeypatch.setattr(conv_module, "MAX_UNFOLD_BYTES", 8 * 60)
    monkeypatch.setattr(conv_module, "BLOCK", 7)
    _compare(2, (5, 4, 6, 7), (6, 2, 3, 2), groups=2, stride=(1, 2), padding=1)
    _compare(1, (7, 3, 12), (4, 3, 3), stride=2, padding="valid")


def test_conv_output_feeds_the_next_conv_and_its_gradient_flows():
    """The output's memory order (channels outermost) must not change any value."""
    x, w1, w2 = _rand((3, 2, 9), 1), _rand((4, 2, 3), 2), _rand((5, 4, 3), 3)
    gx, g1, g2 = (gs.tensor(a, dtype=gs.float64, requires_grad=True) for a in (x, w1, w2))
    tx, t1, t2 = (torch.tensor(a, requires_grad=True) for a in (x, w1, w2))
    ours = F.conv1d(F.relu(F.conv1d(gx, g1, padding=1)), g2, stride=2).sum()
    ref = TF.conv1d(TF.relu(TF.conv1d(tx, t1, padding=1)), t2, stride=2).sum()
    close(ours.data, ref)
    ours.backward()
    ref.backward()
    for a, b in ((gx, tx), (g1, t1), (g2, t2)):
        close(a.grad, b.grad)


def test_gradients_accumulate_over_two_backward_calls():
    x = gs.tensor(_rand((2, 3, 6), 4), dtype=gs.float64)
    w = gs.tensor(_rand((2, 3, 3), 5), dtype=gs.float64, requires_grad=True)
    b = gs.tensor(_rand(2, 6), dtype=gs.float64, requires_grad=True)
    F.conv1d(x, w, b).sum().backward()
    first_w, first_b = w.grad.copy(), b.grad.copy()
    F.conv1d(x, w, b).sum().backward()
    np.testing.assert_allclose(w.grad, 2 * first_w)
    np.testing.assert_allclose(b.grad, 2 * first_b)
    w.grad = None  # the kept storage is reused, and the new gradient is not added to the old
    b.grad = None
    F.conv1d(x, w, b).sum().backward()
    np.testing.assert_allclose(w.grad, first_w)
    np.testing.assert_allclose(b.grad, first_b)


def test_a_second_backward_after_another_forward_still_sees_its_own_input():
    """The column matrix goes back to the workspace after backward and the next forward reuses
    it; a second backward through the first graph must unfold its own input again."""
    w = gs.tensor(_rand((3, 2, 3), 1), dtype=gs.float64, requires_grad=True)
    x1, x2 = (gs.tensor(_rand((4, 2, 7), s), dtype=gs.float64) for s in (2, 3))
    g = _rand((4, 3, 5), 4)
    y1 = F.conv1d(x1, w, stride=1)
    y1.backward(g)
    first = w.grad.copy()
    F.conv1d(x2, w).backward(g)  # takes the same buffer and fills it from x2
    w.grad = None
    y1.backward(g)
    np.testing.assert_allclose(w.grad, first)
    tw = torch.tensor(_rand((3, 2, 3), 1), requires_grad=True)
    TF.conv1d(torch.tensor(_rand((4, 2, 7), 2)), tw).backward(torch.tensor(g))
    close(first, tw.grad)


@pytest.mark.parametrize(
    ("nsp", "kw"),
    [(1, dict(stride=2, padding=1)), (1, dict(padding="same", dilation=2, groups=2)),
     (2, dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2))],
)  # fmt: skip
def test_gradcheck(nsp, kw):
    shape = (2, 4, 7) if nsp == 1 else (2, 4, 5, 5)
    w_shape = (4, 4 // kw.get("groups", 1)) + (3,) * nsp
    inputs = [gs.tensor(_rand(s, i), dtype=gs.float64, requires_grad=True)
              for i, s in enumerate((shape, w_shape, (4,)))]  # fmt: skip
    fn = F.conv1d if nsp == 1 else F.conv2d
    assert gs.gradcheck(lambda x, w, b: fn(x, w, b, **kw), inputs)


@FAST
@given(
    n=st.integers(1, 3),
    groups=st.sampled_from([1, 2]),
    c_per=st.integers(1, 2),
    o_per=st.integers(1, 2),
    size=st.tuples(st.integers(3, 8), st.integers(3, 8)),
    k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 2)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 1)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
)
def test_conv2d_option_combinations_match_torch(
    n, groups, c_per, o_per, size, k, stride, padding, dilation
):
    extent = [d * (kk - 1) + 1 for d, kk in zip(dilation, k)]
    if any(s + 2 * p < e for s, p, e in zip(size, padding, extent)):
        return  # PyTorch raises too; the error is tested below
    _compare(2, (n, c_per * groups, *size), (o_per * groups, c_per, *k), groups=groups,
             stride=stride, padding=padding, dilation=dilation)  # fmt: skip


def test_dtypes_follow_the_weight():
    w = gs.tensor(_rand((2, 1, 3), 1))  # float32
    assert F.conv1d(np.ones((1, 1, 5)), w).dtype == np.float32  # raw float64 data
    assert F.conv1d(gs.tensor(np.ones((1, 1, 5), dtype=np.int64)), w).dtype == np.float32
    x64 = gs.tensor(np.ones((1, 1, 5)), dtype=gs.float64)
    assert F.conv1d(x64, w).dtype == np.float64  # two float dtypes promote


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda x, w: F.conv2d(x[0, 0], w), ValueError, r"4-D input \(N, C, H, W\).*got shape"),
        (lambda x, w: F.conv1d(x, w[..., 0]), ValueError, "3-D input"),
        (
            lambda x, w: F.conv2d(x, w[:, :1]),
            ValueError,
            "is 2 but the weight expects in_channels = 1",
        ),
        (lambda x, w: F.conv2d(x, w[:3], groups=2), ValueError, "divisible by groups"),
        (lambda x, w: F.conv2d(x, w, groups=0), ValueError, "groups must be a positive int"),
        (lambda x, w: F.conv2d(x, w, stride=0), ValueError, "stride must be >= 1"),
        (lambda x, w: F.conv2d(x, w, stride=(1, 2, 3)), TypeError, "stride must be an int or"),
        (lambda x, w: F.conv2d(x, w, padding=-1), ValueError, "padding must be >= 0"),
        (lambda x, w: F.conv2d(x, w, padding="full"), ValueError, "'valid' or 'same'"),
        (lambda x, w: F.conv2d(x, w, stride=2, padding="same"), ValueError, "strided"),
        (lambda x, w: F.conv2d(x[..., :2, :2], w), ValueError, "larger than the padded input"),
        (lambda x, w: F.conv2d(x, w, dilation=3), ValueError, "larger than the padded input"),
        (lambda x, w: F.conv2d(x, w, gs.zeros(3)), ValueError, r"bias must have shape \(4,\)"),
        (lambda x, w: F.conv2d(x, w[0]), ValueError, "weight must be a floating 4-D"),
    ],
)
def test_errors_name_the_problem_and_the_fix(call, error, match):
    x = gs.tensor(_rand((1, 2, 5, 5)))
    w = gs.tensor(_rand((4, 2, 3, 3)))
    with pytest.raises(error, match=match):
        call(x, w)
