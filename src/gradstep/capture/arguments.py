"""The arguments of a captured step: cache keys, the reversed batch that verification uses,
comparable copies of results, and names for the printout."""

from __future__ import annotations

import inspect
import os
from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor
from .state import _same_bits


def _signature(args: tuple) -> tuple[Any, list | None]:
    """The cache key of a call (shapes, dtypes, other arguments by value) and its arrays, or
    (None, None) when the call cannot be replayed (a tensor that requires grad, an unhashable
    argument)."""
    parts, arrays = [], []
    for a in args:
        if isinstance(a, Tensor):
            if a.requires_grad:
                return None, None
            d = a.data
            parts.append(("tensor", d.shape, d.dtype.str))
            arrays.append(d)
        elif isinstance(a, np.ndarray):
            parts.append(("array", a.shape, a.dtype.str))
            arrays.append(a)
        else:
            try:
                hash(a)
            except TypeError:
                return None, None
            parts.append(("value", type(a), a))
            arrays.append(None)
    return (tuple(parts), backend.get_default_dtype().str), arrays


def _other_batch(args: tuple) -> tuple:
    """Fresh copies of the arguments with the rows of the batch reversed and the last of them
    (the first row) replaced by a copy of the second: a batch of other rows, so that a value the
    recording holds as a constant shows even where it is a mean over the rows, which reversing
    alone leaves as it was (up to rounding)."""
    arrays = [a.data if isinstance(a, Tensor) else a for a in args]
    n = next((a.shape[0] for a in arrays if isinstance(a, np.ndarray) and a.ndim), None)
    rows = None
    if n:
        rows = np.arange(n - 1, -1, -1)
        if n > 1:
            rows[-1] = rows[-2]
    out = []
    for a, arr in zip(args, arrays):
        if not isinstance(arr, np.ndarray):
            out.append(a)
            continue
        r = arr[rows] if rows is not None and arr.ndim and arr.shape[0] == n else arr.copy()
        out.append(Tensor._make(r) if isinstance(a, Tensor) else r)
    return tuple(out)


def _plain_result(value: Any) -> Any:
    """The arrays of an eager return value, copied (for comparing with a replay's)."""
    if isinstance(value, Tensor):
        return np.array(value.data, copy=True)
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple | list):
        return [_plain_result(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain_result(v) for k, v in value.items()}
    return value


def _same_result(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and _same_bits(a, b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_result(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_result(a[k], b[k]) for k in a)
    return a == b or (a != a and b != b)


def _where_defined(fn: Any) -> str:
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None:
        return "<step_fn>"
    return f"{os.path.abspath(code.co_filename)}:{code.co_firstlineno}"


def _arg_names(fn: Any, n: int) -> list[str]:
    try:
        params = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"input{i}" for i in range(n)]
