"""How a layer of the layers table changes the shape of one sample (the batch dim left out).

The command line uses these rules to fill in channel and feature counts from the data and to
check a ``[[model.layer]]`` list before anything is built. Each rule takes the sample's shape
and the layer's values (by config name) and returns the shape after the layer, or raises a
ValueError whose text follows "receives shape (...):". The sizes are PyTorch's formulas:
L_out = ⌊(L + 2·padding − dilation·(kernel_size − 1) − 1) / stride⌋ + 1, ceil_mode rounding up.

>>> conv(1)((1, 40), {"out_channels": 25, "kernel_size": 5, "stride": 2, "padding": 1})
(25, 19)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "ShapeRule",
    "adaptive_pool",
    "adaptive_pool_any",
    "conv",
    "flatten",
    "pool",
    "unflatten",
    "window_length",
]

ShapeRule = Callable[[tuple[int, ...], Mapping[str, Any]], tuple[int, ...]]
"""(sample shape before the layer, the layer's values) -> sample shape after it."""

_AXES = {1: ("L",), 2: ("H", "W")}


def _per_dim(value: Any, n: int, name: str) -> tuple[int, ...]:
    """An int or a list of ``n`` ints (a single entry repeats) as an n-tuple."""
    items = list(value) if isinstance(value, list | tuple) else [value]
    if len(items) == 1:
        items *= n
    if len(items) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise ValueError(f"{name} must be an int or a list of {n} ints, got {value!r}")
    return tuple(items)


def window_length(
    size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool, axis: str
) -> int:
    """Window positions along one axis of ``size`` (padding ``pad`` on each side)."""
    extent = dilation * (kernel - 1) + 1
    if size + 2 * pad < extent:
        raise ValueError(
            f"its kernel spans {extent} positions along {axis} (kernel_size {kernel}, dilation "
            f"{dilation}) but the input has only {size} + {2 * pad} padding there; use a smaller "
            "kernel, more padding, or less downsampling before this layer"
        )
    span = size + 2 * pad - extent
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + pad:  # the last window must start inside the input
        out -= 1
    return out


def _spatial(shape: tuple[int, ...], n: int) -> tuple[int, ...]:
    if len(shape) != n + 1:
        want = "(C, L)" if n == 1 else "(C, H, W)"
        raise ValueError(f"it needs a {want} sample")
    return shape[1:]


def conv(n: int) -> ShapeRule:
    """Conv1d / Conv2d: (C_in, *sizes) -> (out_channels, *sizes_out); padding "same" keeps the
    sizes, "valid" is no padding."""

    def rule(shape: tuple[int, ...], v: Mapping[str, Any]) -> tuple[int, ...]:
        sizes = _spatial(shape, n)
        padding = v.get("padding", 0)
        if padding == "same":
            return (int(v["out_channels"]), *sizes)
        pads = (0,) * n if padding == "valid" else _per_dim(padding, n, "padding")
        kernel = _per_dim(v["kernel_size"], n, "kernel_size")
        stride = _per_dim(v.get("stride", 1), n, "stride")
        dilation = _per_dim(v.get("dilation", 1), n, "dilation")
        out = tuple(
            window_length(sizes[i], kernel[i], stride[i], pads[i], dilation[i], False, axis)
            for i, axis in enumerate(_AXES[n])
        )
        return (int(v["out_channels"]), *out)

    return rule


def pool(n: int, dilated: bool) -> ShapeRule:
    """MaxPool (``dilated``) / AvgPool: (C, *sizes) -> (C, *sizes_out); stride defaults to the
    kernel size, and the padding may be at most half the (dilated) kernel, as in PyTorch."""

    def rule(shape: tuple[int, ...], v: Mapping[str, Any]) -> tuple[int, ...]:
        sizes = _spatial(shape, n)
        kernel = _per_dim(v["kernel_size"], n, "kernel_size")
        given = v.get("stride")
        stride = kernel if given in (None, []) else _per_dim(given, n, "stride")
        pads = _per_dim(v.get("padding", 0), n, "padding")
        dilation = _per_dim(v.get("dilation", 1), n, "dilation") if dilated else (1,) * n
        for p, k, d in zip(pads, kernel, dilation):
            if p > (d * (k - 1) + 1) // 2:
                raise ValueError(
                    f"padding {v.get('padding')!r} is more than half of kernel_size "
                    f"{v['kernel_size']!r}; use less padding"
                )
        ceil = bool(v.get("ceil_mode", False))
        out = tuple(
            window_length(sizes[i], kernel[i], stride[i], pads[i], dilation[i], ceil, axis)
            for i, axis in enumerate(_AXES[n])
        )
        return (shape[0], *out)

    return rule


def adaptive_pool(n: int) -> ShapeRule:
    """AdaptiveAvgPool: (C, *sizes) -> (C, *output_size); output_size 1 is global pooling."""

    def rule(shape: tuple[int, ...], v: Mapping[str, Any]) -> tuple[int, ...]:
        _spatial(shape, n)
        return (shape[0], *_per_dim(v["output_size"], n, "output_size"))

    return rule


def adaptive_pool_any(shape: tuple[int, ...], v: Mapping[str, Any]) -> tuple[int, ...]:
    """AdaptiveAvgPool of the sample's own rank: 1-D for (C, L), 2-D for (C, H, W)."""
    return adaptive_pool(len(shape) - 1)(shape, v)


def _batched_dim(dim: int, rank: int, name: str) -> int:
    """``dim`` of a batched tensor of ``rank`` dims as a non-negative index (0 is the batch)."""
    d = dim + rank if dim < 0 else dim
    if not 0 <= d < rank:
        raise ValueError(f"{name} {dim} is out of range for a batch of rank {rank}")
    return d


def flatten(shape: tuple[int, ...], v: Mapping[str, Any]) -> tuple[int, ...]:
    """Flatten: dims start_dim..end_dim of the batch (N, *shape) become one; the batch dim 0
    must stay out of it."""
    rank = len(shape) + 1
    start = _batched_dim(int(v.get("start_dim", 1)), rank, "start_dim")
    end = _batched_dim(int(v.get("end_dim", -1)), rank, "end_dim")
    if start == 0:
        raise ValueError("start_dim 0 would merge the batch dim; use start_dim = 1")
    if end < start:
        raise ValueError(f"end_dim {v.get('end_dim')} comes before start_dim {v.get('start_dim')}")
    batched = (0, *shape)
    return (*shape[: start - 1], math.prod(batched[start : end + 1]), *batched[end + 1 :])


def unflatten(shape: tuple[int, ...], v: Mapping[str, Any]) -> tuple[int, ...]:
    """Unflatten: dim ``dim`` of the batch splits into ``unflattened_size`` (one entry may be
    -1: whatever is left)."""
    d = _batched_dim(int(v["dim"]), len(shape) + 1, "dim")
    if d == 0:
        raise ValueError("dim 0 is the batch dim; use dim = 1")
    size = shape[d - 1]
    parts = [int(s) for s in _sizes(v["unflattened_size"])]
    known = math.prod(s for s in parts if s != -1)
    if parts.count(-1) == 1 and known and size % known == 0:
        parts[parts.index(-1)] = size // known
    if math.prod(parts) != size or any(s < 1 for s in parts):
        raise ValueError(
            f"unflattened_size {list(v['unflattened_size'])} does not split dim {v['dim']} of "
            f"size {size}; give sizes whose product is {size}"
        )
    return (*shape[: d - 1], *parts, *shape[d:])


def _sizes(value: Any) -> Sequence[int]:
    return list(value) if isinstance(value, list | tuple) else [value]
