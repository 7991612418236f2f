"""Sliding-window geometry shared by convolution and pooling: argument checks, output sizes,
the strided slices of each kernel offset, and padded buffers.

Arrays keep PyTorch's logical layout (N, C, *spatial), but not necessarily its memory order (a
convolution returns a view of a (C, *spatial, N) buffer); the buffers made here follow the memory
order of their input, so a chain of layers copies no whole tensor just to reorder it.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Iterator, Sequence
from typing import Any

from ..backend import get_array_module


def ntuple(value: Any, n: int, name: str, op: str, minimum: int) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints (a single-entry sequence is repeated) as an n-tuple,
    each at least ``minimum``; anything else raises one sentence naming ``op`` and ``name``."""
    if type(value) is int:  # the common cases first: this runs on every layer call
        vals: tuple[int, ...] = (value,) * n
    elif type(value) is tuple and len(value) == n and all(type(v) is int for v in value):
        vals = value
    else:
        seq = isinstance(value, list | tuple)
        items = tuple(value) if seq else (value,)
        try:
            if any(isinstance(v, bool) for v in items) or len(items) not in (1, n):
                raise TypeError
            vals = tuple(operator.index(v) for v in items)
        except TypeError:
            raise TypeError(
                f"{op} {name} must be an int or a tuple of {n} ints, got {value!r}."
            ) from None
        if len(vals) == 1:
            vals *= n
    for v in vals:
        if v < minimum:
            raise ValueError(f"{op} {name} must be >= {minimum} in every dim, got {value!r}.")
    return vals


def spatial_shape(x: Any, nsp: int, op: str, layout: str) -> tuple[int, ...]:
    """Check that ``x`` is batched (``nsp`` + 2 dims) and return its spatial sizes."""
    if x.ndim != nsp + 2:
        raise ValueError(
            f"{op} expects a {nsp + 2}-D input {layout} (or {nsp + 1}-D without the batch dim), "
            f"got shape {tuple(x.shape)}; reshape the data, e.g. with nn.Unflatten."
        )
    return tuple(x.shape[2:])


def out_length(
    size: int, k: int, s: int, lo: int, hi: int, d: int, op: str, ceil_mode: bool = False
) -> int:
    """Number of window positions along one dim (PyTorch's formula, ceil_mode included)."""
    extent = d * (k - 1) + 1
    if size + lo + hi < extent:
        raise ValueError(
            f"{op}: the kernel (size {k}, dilation {d}, extent {extent}) is larger than the "
            f"padded input (size {size} + padding {lo + hi}); use a smaller kernel or dilation, "
            "more padding or a larger input."
        )
    span = size + lo + hi - extent
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= size + lo:  # the last window must start inside the input or left padding
        out -= 1
    return out


def offsets(
    kernel: Sequence[int], dilation: Sequence[int], stride: Sequence[int], out: Sequence[int]
) -> Iterator[tuple[tuple[int, ...], tuple[slice, ...]]]:
    """Each kernel offset (row-major) with the spatial slices of a padded input that line up
    with the output: input position o·s + k·d for every output position o."""
    for k in itertools.product(*(range(n) for n in kernel)):
        yield (
            k,
            tuple(
                slice(
                    k[i] * dilation[i], k[i] * dilation[i] + stride[i] * (out[i] - 1) + 1, stride[i]
                )
                for i in range(len(kernel))
            ),
        )


def layout_order(a: Any) -> tuple[int, ...]:
    """The axes of ``a`` from outermost to innermost in memory (by decreasing stride)."""
    return tuple(sorted(range(a.ndim), key=lambda i: -abs(a.strides[i])))


def zeros_in_order(xp: Any, shape: Sequence[int], order: Sequence[int], dtype: Any) -> Any:
    """Zeros of ``shape`` whose axes lie in memory in ``order`` (outermost first), so that
    element-wise work with arrays of that layout runs over contiguous rows."""
    buf = xp.zeros([shape[i] for i in order], dtype=dtype)
    return buf.transpose([order.index(i) for i in range(len(order))])


def pad(x: Any, pads: Sequence[tuple[int, int]], value: float) -> Any:
    """``x`` with its trailing dims padded by ``pads`` (lo, hi) pairs with ``value``, in a fresh
    array laid out in memory as ``x`` is."""
    xp = get_array_module(x)
    lead = x.ndim - len(pads)
    shape = (*x.shape[:lead], *(n + lo + hi for n, (lo, hi) in zip(x.shape[lead:], pads)))
    buf = zeros_in_order(xp, shape, layout_order(x), x.dtype)
    if value != 0:
        buf[...] = value
    buf[(..., *(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[lead:], pads)))] = x
    return buf


def crop(a: Any, pads: Sequence[tuple[int, int]], sizes: Sequence[int]) -> Any:
    """The inverse of :func:`pad`'s placement: the unpadded part of ``a`` (a view)."""
    return a[(..., *(slice(lo, lo + n) for n, (lo, _) in zip(sizes, pads)))]


def numel(shape: Sequence[int]) -> int:
    return math.prod(shape)


__all__: list[str] = []
