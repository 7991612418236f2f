"""PyTorch's type promotion, case by case, with torch itself computing the expected dtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradstep as gs
from gradstep import functional as F

_DTYPES = {
    "bool": (np.bool_, torch.bool),
    "uint8": (np.uint8, torch.uint8),
    "int8": (np.int8, torch.int8),
    "int32": (np.int32, torch.int32),
    "int64": (np.int64, torch.int64),
    "float16": (np.float16, torch.float16),
    "float32": (np.float32, torch.float32),
    "float64": (np.float64, torch.float64),
}


def _make(spec):
    """A (gradstep, torch) pair from "dtype", "dtype:0d" or a Python number."""
    if not isinstance(spec, str):
        return spec, spec
    name, _, kind = spec.partition(":")
    np_dt, t_dt = _DTYPES[name]
    value = np.array(1 if kind == "0d" else [1, 2], dtype=np_dt)
    return gs.tensor(value, dtype=np_dt), torch.tensor(value, dtype=t_dt)


def _name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


BINARY_CASES = [
    ("int64", 2.5),  # int tensor * Python float -> default float
    ("int64", 2),
    ("int32", 2),  # a Python int never widens an int tensor
    ("int32", 2.5),
    ("bool", True),
    ("bool", 3),
    ("bool", 1.5),
    ("float32", 2),
    ("float32", 2.5),
    ("float64", 2.5),
    ("float16", 2.5),
    ("float32", "float64"),  # both dimensioned: the wider float wins
    ("float64", "float32"),
    ("float32", "float64:0d"),  # a 0-d tensor of the same category does not widen
    ("float64:0d", "float32"),
    ("float16", "float64:0d"),
    ("int64", "float64:0d"),  # a 0-d tensor of a higher category does
    ("int32", "float64:0d"),
    ("bool", "float64:0d"),
    ("int32", "int64:0d"),
    ("int32", "int64"),
    ("float32:0d", "float64:0d"),
    ("int64:0d", "float32:0d"),
    ("int64", "float32"),
    ("int64", "float16"),
    ("bool", "int64"),
    ("bool", "int32"),
    ("bool", "float32"),
    ("bool", "bool"),
    ("uint8", "int8"),
    ("uint8", "int8:0d"),
    ("int8", "uint8"),
]

OPS = {
    "add": (lambda a, b: a + b),
    "radd": (lambda a, b: b + a),
    "sub": (lambda a, b: a - b),
    "mul": (lambda a, b: a * b),
    "rmul": (lambda a, b: b * a),
    "div": (lambda a, b: a / b),
    "rdiv": (lambda a, b: b / a),
    "maximum": (lambda a, b: F.maximum(a, b) if isinstance(a, gs.Tensor) else torch.maximum(a, b)),
    "where": (
        lambda a, b: (
            gs.where(gs.tensor([True, False]), a, b)
            if isinstance(a, gs.Tensor)
            else torch.where(torch.tensor([True, False]), a, b)
        )
    ),
}


def _defined_in_torch(op, left, right) -> bool:
    """torch rejects subtracting booleans and takes tensors only in maximum."""
    if op == "sub" and "bool" in str(left):
        return False
    return not (op == "maximum" and not isinstance(right, str))


@pytest.mark.parametrize(
    "op,left,right",
    [(op, a, b) for op in sorted(OPS) for a, b in BINARY_CASES if _defined_in_torch(op, a, b)],
    ids=str,
)
def test_binary_result_dtype_equals_torch(op, left, right):
    (ga, ta), (gb, tb) = _make(left), _make(right)
    expected = OPS[op](ta, tb).dtype
    assert _name(OPS[op](ga, gb).dtype) == _name(expected)


@pytest.mark.parametrize("left,right", [c for c in BINARY_CASES if "bool" not in str(c)], ids=str)
def test_result_dtype_equals_torch_with_float64_default(left, right):
    gs.set_default_dtype(gs.float64)
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        (ga, ta), (gb, tb) = _make(left), _make(right)
        assert _name((ga * gb).dtype) == _name((ta * tb).dtype)
        assert _name((ga / gb).dtype) == _name((ta / tb).dtype)
    finally:
        torch.set_default_dtype(prev)
        gs.set_default_dtype(gs.float32)


@pytest.mark.parametrize(
    "left,right",
    [("int64", 2), ("int64", 2.0), ("float32", 2), ("float32", 0.5), ("int32", 3)],
    ids=str,
)
def test_pow_result_dtype_equals_torch(left, right):
    (ga, ta), _ = _make(left), None
    assert _name((ga**right).dtype) == _name((ta**right).dtype)
    assert _name((right**ga).dtype) == _name((right**ta).dtype)


UNARY = {
    "exp": lambda m, x: m.exp(x),
    "sqrt": lambda m, x: m.sqrt(x),
    "sigmoid": lambda m, x: m.sigmoid(x),
    "sum": lambda m, x: x.sum(),
    "abs": lambda m, x: abs(x),
}


@pytest.mark.parametrize(
    "fn,name",
    [
        (fn, name)
        for fn in sorted(UNARY)
        for name in ("int64", "int32", "bool", "float32", "float64")
        if (fn, name) != ("abs", "bool")  # torch has no abs for booleans
    ],
    ids=str,
)
def test_unary_result_dtype_equals_torch(fn, name):
    g, t = _make(name)
    assert _name(UNARY[fn](gs, g).dtype) == _name(UNARY[fn](torch, t).dtype)


@pytest.mark.parametrize(
    "parts",
    [
        ("int64", "float32"),
        ("float32", "float64"),
        ("bool", "int64"),
        ("int32", "int64"),
        ("int8", "uint8"),
    ],
    ids=str,
)
def test_cat_stack_result_dtype_equals_torch(parts):
    gs_parts, t_parts = zip(*(_make(p) for p in parts))
    assert _name(gs.cat(gs_parts).dtype) == _name(torch.cat(t_parts).dtype)
    assert _name(gs.stack(gs_parts).dtype) == _name(torch.stack(t_parts).dtype)


def test_integer_true_division_gives_the_default_float():
    assert (gs.tensor([1, 2]) / gs.tensor([2, 2])).dtype == gs.float32
    assert (gs.tensor([1, 2]) / 2).dtype == gs.float32
    np.testing.assert_allclose((gs.tensor([1, 2]) / 2).data, [0.5, 1.0])


def test_matmul_promotes_mixed_floats():
    out = gs.ones(2, 3) @ gs.ones(3, dtype=gs.float64)
    assert out.dtype == gs.float64
