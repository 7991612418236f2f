"""Elementwise arithmetic, matmul and unary math: finite differences and PyTorch as the oracle."""

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


def _rand(shape, lo: float = -2.0, hi: float = 2.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, size=shape)


BINARY = {
    "add": (lambda a, b: a + b),
    "sub": (lambda a, b: a - b),
    "mul": (lambda a, b: a * b),
    "div": (lambda a, b: a / b),
    "pow": (lambda a, b: a**b),
}


# -- tensor (op) tensor, with broadcasting both ways ---------------------------------------------
@FAST
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    op=st.sampled_from(sorted(BINARY)),
)
def test_binary_broadcasting_gradcheck_and_torch(shapes, op):
    sa, sb = shapes.input_shapes
    lo = 0.5 if op in ("pow", "div") else -2.0  # pow: positive base; div: divisor away from 0
    a, b = _rand(sa, lo, 2.0, seed=1), _rand(sb, lo, 2.0, seed=2)
    fn = BINARY[op]
    assert gs.gradcheck(fn, [_f64(a), _f64(b)])
    _both(fn, fn, a, b)


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((3,), (2, 3)), ((2, 1), (1, 3)), ((), (2, 2))])
def test_binary_fixed_broadcasts(op, shapes):
    a, b = _rand(shapes[0], 0.5, 2.0, seed=3), _rand(shapes[1], 0.5, 2.0, seed=4)
    _both(BINARY[op], BINARY[op], a, b)


# -- tensor (op) Python number and number (op) tensor --------------------------------------------
SCALAR_OPS = {
    "t+s": (lambda x: x + 1.5),
    "s+t": (lambda x: 1.5 + x),
    "t-s": (lambda x: x - 0.25),
    "s-t": (lambda x: 0.25 - x),
    "t*s": (lambda x: x * -3.0),
    "s*t": (lambda x: -3.0 * x),
    "t/s": (lambda x: x / 7.0),
    "s/t": (lambda x: 7.0 / x),
    "t**2": (lambda x: x**2),
    "t**3": (lambda x: x**3),
    "t**0.5": (lambda x: x**0.5),
    "t**-1.5": (lambda x: x**-1.5),
    "t**0": (lambda x: x**0),
    "t**1": (lambda x: x**1),
    "2**t": (lambda x: 2**x),
    "0.5**t": (lambda x: 0.5**x),
    "-t": (lambda x: -x),
}


@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
def test_scalar_operands(name):
    fn = SCALAR_OPS[name]
    a = _rand((2, 3), 0.5, 2.0, seed=5)
    assert gs.gradcheck(fn, [_f64(a)])
    _both(fn, fn, a)


def test_add_sub_alpha_match_torch():
    a, b = _rand((2, 3), seed=6), _rand((3,), seed=7)
    _both(lambda x, y: F.add(x, y, alpha=2.5), lambda x, y: torch.add(x, y, alpha=2.5), a, b)
    _both(lambda x, y: F.sub(x, y, alpha=-0.5), lambda x, y: torch.sub(x, y, alpha=-0.5), a, b)


def test_division_by_python_zero_gives_inf_like_torch():
    x = _f64([1.0, -1.0, 0.0], requires_grad=False)
    _close((x / 0.0).data, torch.tensor([1.0, -1.0, 0.0], dtype=torch.float64) / 0.0)


def test_pow_gradients_at_zero_match_torch():
    # d(a**b)/da at b == 0 is 0 in PyTorch (not 0 * 0**-1 = nan); d/db at a == 0, b >= 0 is 0.
    a, b = np.array([0.0, 0.0, 2.0, 0.0]), np.array([0.0, 2.0, 3.0, 0.5])
    _both(lambda x, y: x**y, lambda x, y: x**y, a, b)


def test_same_tensor_on_both_sides_sums_both_gradients():
    _both(lambda x: x * x + x / (x + 3.0), lambda x: x * x + x / (x + 3.0), _rand((4,), 0.5, 2.0))


# -- matmul ----------------------------------------------------------------------------------
MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (4, 3, 2)),
    ((2, 3), (4, 3, 2)),
    ((4, 2, 3), (3, 2)),
    ((3,), (2, 3, 4)),
    ((2, 2, 3), (3,)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_shapes_gradcheck_and_torch(sa, sb):
    a, b = _rand(sa, seed=8), _rand(sb, seed=9)
    assert gs.gradcheck(lambda x, y: x @ y, [_f64(a), _f64(b)])
    _both(lambda x, y: x @ y, lambda x, y: x @ y, a, b)
    _both(F.matmul, torch.matmul, a, b)


def test_matmul_with_numpy_operand_and_one_side_constant():
    a, b = _rand((2, 3), seed=10), _rand((3, 2), seed=11)
    x = _f64(a)
    y = b @ (x @ b)  # ndarray @ Tensor goes through __rmatmul__
    assert isinstance(y, gs.Tensor)
    y.sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    (torch.tensor(b) @ (tx @ torch.tensor(b))).sum().backward()
    _close(y.data, (torch.tensor(b) @ (torch.tensor(a) @ torch.tensor(b))))
    _close(x.grad, tx.grad)


@pytest.mark.parametrize("sa,sb", [((2, 3), (4, 2)), ((3,), (4,)), ((2, 3), (2,))])
def test_matmul_shape_mismatch_is_a_clear_error(sa, sb):
    with pytest.raises(ValueError, match="matmul shapes"):
        gs.ones(*sa) @ gs.ones(*sb)


def test_matmul_of_a_0d_tensor_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one dimension"):
        gs.tensor(2.0) @ gs.ones(2)


# -- unary math --------------------------------------------------------------------------------
UNARY = {
    "exp": (gs.exp, torch.exp, -2.0, 2.0),
    "log": (gs.log, torch.log, 0.1, 3.0),
    "sqrt": (gs.sqrt, torch.sqrt, 0.1, 3.0),
    "abs": (F.abs, torch.abs, -2.0, 2.0),
    "neg": (F.neg, torch.neg, -2.0, 2.0),
    "method_exp": (lambda x: x.exp(), lambda x: x.exp(), -2.0, 2.0),
    "method_log": (lambda x: x.log(), lambda x: x.log(), 0.1, 3.0),
    "method_sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt(), 0.1, 3.0),
    "builtin_abs": (abs, abs, -2.0, 2.0),
}


@FAST
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), name=st.sampled_from(sorted(UNARY))
)
def test_unary_gradcheck_and_torch(shape, name):
    g_fn, t_fn, lo, hi = UNARY[name]
    a = _rand(shape, lo, hi, seed=12)
    assert gs.gradcheck(g_fn, [_f64(a)])
    _both(g_fn, t_fn, a)


def test_abs_gradient_at_zero_is_zero_like_torch():
    _both(F.abs, torch.abs, np.array([-1.0, 0.0, 2.0]))


def test_unary_functions_at_domain_edges_match_torch():
    a = np.array([0.0, 1.0, np.inf])
    for g_fn, t_fn in ((gs.log, torch.log), (gs.sqrt, torch.sqrt), (gs.exp, torch.exp)):
        with np.errstate(divide="ignore"):
            _close(g_fn(_f64(a, requires_grad=False)).data, t_fn(torch.tensor(a)))


# -- clamp / clip ------------------------------------------------------------------------------
def test_clamp_gradient_passes_at_the_bounds_like_torch():
    a = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    _both(lambda x: x.clamp(0.0, 1.0), lambda x: x.clamp(0.0, 1.0), a)
    _both(lambda x: F.clamp(x, min=0.0), lambda x: torch.clamp(x, min=0.0), a)
    _both(lambda x: F.clip(x, max=0.5), lambda x: torch.clip(x, max=0.5), a)
    _both(lambda x: x.clip(-0.5, 0.5), lambda x: x.clip(-0.5, 0.5), a)
    x = _f64(a)
    x.clamp(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_clamp_with_tensor_bounds_matches_torch():
    a, lo, hi = (
        np.array([-1.0, 0.0, 0.5, 1.0, 2.0]),
        np.full(5, 0.0),
        np.array([1.0, 1.0, 0.2, 1.0, 3.0]),
    )
    _both(lambda x, l, h: F.clamp(x, l, h), lambda x, l, h: torch.clamp(x, l, h), a, lo, hi)


@FAST
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(-3, 3)))
def test_clamp_random_inputs_match_torch(a):
    _both(lambda x: x.clamp(-1.0, 1.0), lambda x: x.clamp(-1.0, 1.0), a)


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="min or max"):
        F.clamp(gs.ones(2))


def test_clamp_integer_tensor_with_float_bound_promotes_like_torch():
    out = gs.tensor([1, 2, 3]).clamp(min=1.5)
    ref = torch.tensor([1, 2, 3]).clamp(min=1.5)
    assert str(out.dtype) == str(ref.dtype).removeprefix("torch.")
    _close(out.data, ref.double())
    assert gs.tensor([1, 2, 3]).clamp(min=2).dtype == gs.int64


# -- where, maximum, minimum -------------------------------------------------------------------
def test_where_gradients_go_to_the_chosen_side():
    cond = np.array([[True, False, True]])
    a, b = _rand((2, 3), seed=13), _rand((3,), seed=14)
    _both(
        lambda x, y: gs.where(gs.tensor(cond), x, y),
        lambda x, y: torch.where(torch.tensor(cond), x, y),
        a,
        b,
    )
    _both(lambda x: gs.where(x > 0, x, 0.5), lambda x: torch.where(x > 0, x, 0.5), a)
    _both(lambda x: gs.where(x > 0, 2.0, x), lambda x: torch.where(x > 0, 2.0, x), a)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_ties_share_half_like_torch(name):
    a, b = np.array([1.0, 2.0, 3.0, -1.0]), np.array([1.0, 1.0, 4.0, -1.0])
    g_fn, t_fn = getattr(F, name), getattr(torch, name)
    _both(g_fn, t_fn, a, b)
    x, y = _f64(a), _f64(b)
    g_fn(x, y).sum().backward()
    assert x.grad[0] == 0.5 and y.grad[0] == 0.5 and x.grad[3] == 0.5


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_broadcast_and_scalar(name):
    a, b = _rand((2, 3), seed=15), _rand((3,), seed=16)
    g_fn, t_fn = getattr(F, name), getattr(torch, name)
    _both(g_fn, t_fn, a, b)
    assert gs.gradcheck(lambda x: g_fn(x, 0.3), [_f64(a)])
    x = _f64(a)
    g_fn(x, 0.3).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    t_fn(tx, torch.tensor(0.3, dtype=torch.float64)).sum().backward()
    _close(x.grad, tx.grad)


# -- dtypes: float32 stays float32 ---------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x + 1.5,
        lambda x: 2.0 * x,
        lambda x: x / 3,
        lambda x: 1 / x,
        lambda x: x**2.5,
        lambda x: 2.0**x,
        lambda x: x - x,
        lambda x: x @ x.T,
        lambda x: x.clamp(0.1, 0.2),
        gs.exp,
        gs.sqrt,
        F.abs,
        lambda x: F.maximum(x, 0.5),
        lambda x: gs.where(x > 1, x, 0.0),
    ],
)
def test_float32_stays_float32_forward_and_backward(fn):
    x = gs.tensor(_rand((2, 2), 0.5, 2.0), requires_grad=True)
    y = fn(x)
    assert y.dtype == gs.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
