"""gs.summary: a plain-text table of a model's layers, output shapes, parameter counts, memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor
from .module import Module


def _shape_of(value: Any) -> str:
    """An output's shape as text: a tuple for a tensor/array, a list of them for several outputs."""
    if isinstance(value, Tensor) or hasattr(value, "shape"):
        return str(tuple(int(s) for s in value.shape))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shape_of(v) for v in value) + "]"
    return type(value).__name__


def _nbytes(value: Any) -> int:
    if isinstance(value, Tensor):
        return int(value.data.nbytes)
    if hasattr(value, "nbytes"):
        return int(value.nbytes)
    if isinstance(value, list | tuple):
        return sum(_nbytes(v) for v in value)
    return 0


def _size(n: int) -> str:
    """Bytes as text in binary units (B, KiB, MiB, GiB)."""
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.2f} {unit}"
        value /= 1024
    return f"{value:.2f} GiB"


def _input_shapes(input_shape: Any) -> list[tuple[int, ...]]:
    """One shape (int or sequence of ints) or a sequence of shapes (one per model input)."""
    if isinstance(input_shape, int | np.integer):
        input_shape = (input_shape,)
    if not isinstance(input_shape, Sequence) or isinstance(input_shape, str):
        raise TypeError(
            f"input_shape must be a tuple of ints (one sample, without the batch dim), got "
            f"{input_shape!r}."
        )
    many = len(input_shape) > 0 and all(isinstance(s, Sequence) for s in input_shape)
    shapes = [tuple(s) for s in input_shape] if many else [tuple(input_shape)]
    for shape in shapes:
        if not all(isinstance(s, int | np.integer) and s >= 0 for s in shape):
            raise ValueError(
                f"input_shape entries must be non-negative ints, got {shape}; pass e.g. (784,) "
                "or (1, 28, 28)."
            )
    return shapes


def summary(
    model: Module,
    input_shape: Any = None,
    dtype: Any = None,
    *,
    input_size: Any = None,
    depth: int | None = None,
) -> str:
    """A plain-text table of ``model``: each layer's name, type, output shape and parameter count,
    then total / trainable / non-trainable parameters and memory.

    ``input_shape`` (or torchinfo's ``input_size``) is the shape of one sample, without the batch
    dim (e.g. ``(784,)``); a list of shapes feeds a model with several inputs. ``depth`` limits
    the nesting shown: a container at that depth is one row with all its parameters.

    The model runs once, in eval mode (so dropout and batch statistics are left alone) and under
    ``no_grad``, on zeros of shape (1, *input_shape) in ``dtype`` (default: the dtype of the
    model's parameters). Its training flags are restored.

    >>> print(gs.summary(model, input_size=(1, 28, 28), depth=1))
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary needs a Module, got {type(model).__name__}.")
    if input_shape is not None and input_size is not None:
        raise TypeError("pass input_shape or input_size (the same thing), not both.")
    input_shape = input_size if input_shape is None else input_shape
    if input_shape is None:
        raise TypeError("summary needs the shape of one sample: summary(model, (784,)).")
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 1):
        raise ValueError(f"depth must be an int >= 1 or None, got {depth!r}.")
    shapes = _input_shapes(input_shape)
    params = list(model.parameters())
    if dtype is None:
        floats = [p.data.dtype for p in params if p.data.dtype.kind == "f"]
        d = floats[0] if floats else backend.get_default_dtype()
    else:
        d = backend.as_dtype(dtype)
    inputs = [Tensor._make(np.zeros((1, *s), dtype=d)) for s in shapes]

    names = {id(m): name for name, m in model.named_modules()}
    rows: list[list[Any]] = []  # [name, type, output shape, params, output bytes]
    counted: set[int] = set()
    called: set[int] = set()

    def level(m: Module) -> int:
        name = names[id(m)]
        return name.count(".") + 1 if name else 0

    def folded(m: Module) -> bool:  # a row at the depth limit stands for all below it
        return depth is not None and level(m) == depth and bool(m._modules)

    def shown(m: Module) -> bool:
        if depth is not None and level(m) > depth:
            return False
        own = any(p is not None for p in m._parameters.values())
        return not m._modules or own or folded(m)

    def own_params(m: Module) -> int:
        if id(m) in counted:
            return 0
        counted.add(id(m))
        return sum(int(p.data.size) for p in m.parameters(recurse=folded(m)))

    def pre_hook(m: Module, args: tuple) -> None:
        called.add(id(m))
        rows.append([names[id(m)] or "(model)", type(m).__name__, "?", own_params(m), 0, m])

    def post_hook(m: Module, args: tuple, out: Any) -> None:
        for row in reversed(rows):
            if row[5] is m and row[2] == "?":
                row[2], row[4] = _shape_of(out), _nbytes(out)
                break

    watched = [m for m in model.modules() if shown(m)]
    handles = []
    modes = [(m, m.training) for m in model.modules()]
    try:
        for m in watched:
            handles.append(m.register_forward_pre_hook(pre_hook))
            handles.append(m.register_forward_hook(post_hook))
        model.eval()
        with no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    for m in watched:
        if id(m) not in called:
            rows.append([names[id(m)] or "(model)", type(m).__name__, "(not called)",
                         own_params(m), 0, m])  # fmt: skip

    total = sum(int(p.data.size) for p in params)
    trainable = sum(int(p.data.size) for p in params if p.requires_grad)
    param_bytes = sum(int(p.data.nbytes) for p in params)
    buffer_bytes = sum(int(b.data.nbytes) for b in model.buffers())
    input_bytes = sum(int(t.data.nbytes) for t in inputs)
    act_bytes = sum(r[4] for r in rows)

    table = [["Layer", "Type", "Output shape", "Param #"]]
    table += [[r[0], r[1], r[2], f"{r[3]:,}"] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(4)]

    def line(row: list[str]) -> str:
        cells = [row[i].ljust(widths[i]) for i in range(3)] + [row[3].rjust(widths[3])]
        return "  ".join(cells)

    width = sum(widths) + 6
    shape_text = ", ".join(str(s) for s in shapes)
    out = [f"Model: {type(model).__name__}  (input {shape_text} per sample, {d}, batch of 1)"]
    out += ["=" * width, line(table[0]), "=" * width]
    out += [line(row) for row in table[1:]]
    out += ["=" * width]
    out += [
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        "-" * width,
        f"Input size: {_size(input_bytes)}",
        f"Forward activations (batch of 1): {_size(act_bytes)}",
        f"Params size: {_size(param_bytes)}",
        f"Buffers size: {_size(buffer_bytes)}",
        f"Estimated total: {_size(input_bytes + act_bytes + param_bytes + buffer_bytes)}",
        "-" * width,
    ]
    return "\n".join(out)


__all__ = ["summary"]
