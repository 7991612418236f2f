"""Shape and indexing ops: reshape, transpose, permute, indexing, cat, stack, squeeze, expand."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from .. import backend
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, apply, as_tensor
from .reduce import _norm_dims


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        self.in_shape = a.shape
        try:
            return a.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"cannot reshape a tensor of shape {tuple(a.shape)} ({a.size} elements) into "
                f"{tuple(self.shape)}; the number of elements must stay the same."
            ) from None

    def backward(self, g):
        return (g.reshape(self.in_shape),)


def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    if len(shape) == 1 and not isinstance(shape[0], backend.integer_types):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def reshape(a: Any, *shape: Any) -> Tensor:
    """Same data, new shape (one dim may be -1); ``view`` is the same operation."""
    return apply(Reshape(_shape_arg(shape)), as_tensor(a))


def flatten(a: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    a = as_tensor(a)
    nd = a.data.ndim
    if nd == 0:
        return reshape(a, (1,))
    s, e = _norm_dims((start_dim, end_dim), nd)
    if s > e:
        raise ValueError(
            f"flatten: start_dim ({start_dim}) must not come after end_dim ({end_dim})."
        )
    shp = a.data.shape
    new = shp[:s] + (math.prod(shp[s : e + 1]),) + shp[e + 1 :]
    return apply(Reshape(new), a)


class Permute(Function):
    def __init__(self, dims):
        self.dims = dims
        self.inv = tuple(sorted(range(len(dims)), key=dims.__getitem__))

    def forward(self, a):
        return a.transpose(self.dims)

    def backward(self, g):
        return (g.transpose(self.inv),)


def permute(a: Any, *dims: Any) -> Tensor:
    a = as_tensor(a)
    d = _norm_dims(_shape_arg(dims), a.data.ndim)
    if sorted(d) != list(range(a.data.ndim)):
        raise ValueError(f"permute needs each of the {a.data.ndim} dims exactly once, got {dims}.")
    return apply(Permute(d), a)


def transpose(a: Any, dim0: int, dim1: int) -> Tensor:
    """Swap two dims."""
    a = as_tensor(a)
    nd = a.data.ndim
    d0, d1 = _norm_dims((dim0, dim1), nd)  # validated even when there is nothing to swap
    if nd < 2:
        return a
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return apply(Permute(tuple(dims)), a)


def t(a: Any) -> Tensor:
    """Transpose of a matrix (reverses all dims, as ``.T``)."""
    a = as_tensor(a)
    nd = a.data.ndim
    if nd < 2:
        return a
    return apply(Permute(tuple(range(nd - 1, -1, -1))), a)


_BASIC_INDEX = (*backend.integer_types, slice)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, _BASIC_INDEX) or i is None or i is Ellipsis for i in items)


class GetItem(Function):
    """a[index]; integer arrays may repeat an element, so their backward accumulates."""

    def __init__(self, index, basic):
        self.index, self.basic = index, basic

    def forward(self, a):
        self.shape = a.shape
        return a[self.index]

    def backward(self, g):
        xp = get_array_module(g)
        gz = xp.zeros(self.shape, dtype=g.dtype)
        if self.basic:
            gz[self.index] = g
        else:
            xp.add.at(gz, self.index, g)
        return (gz,)


def _unwrap_index(index: Any, xp: Any) -> Any:
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def getitem(a: Tensor, index: Any) -> Tensor:
    index = _unwrap_index(index, get_array_module(a.data))
    try:  # the forward is the validation: an advanced index is not computed twice
        return apply(GetItem(index, _is_basic(index)), a)
    except IndexError as e:
        raise IndexError(f"bad index for a tensor of shape {tuple(a.shape)}: {e}") from None


class Cat(Function):
    def __init__(self, dim):
        self.dim = dim

    def forward(self, *arrays):
        self.splits = list(itertools.accumulate(x.shape[self.dim] for x in arrays))[:-1]
        return get_array_module(*arrays).concatenate(arrays, axis=self.dim)

    def backward(self, g):
        parts = get_array_module(g).split(g, self.splits, axis=self.dim)
        return tuple(p if n else None for p, n in zip(parts, self.needs))


def _promote_all(tensors: Sequence[Any]) -> list[Tensor]:
    from .arithmetic import cast

    ts = [as_tensor(x) for x in tensors]
    if not ts:
        raise ValueError("expected a non-empty sequence of tensors.")
    dt = ts[0].data.dtype
    for x in ts[1:]:
        if x.data.dtype != dt:  # PyTorch's rules: int64 with float32 gives float32
            dt = backend.promote_types(dt, x.data.dtype)
    return [x if x.data.dtype == dt else cast(x, dt) for x in ts]


def cat(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dim (``concatenate`` is the NumPy alias)."""
    if axis is not None:
        dim = axis
    ts = _promote_all(tensors)
    nd = ts[0].data.ndim
    (d,) = _norm_dims(dim, nd)
    for i, x in enumerate(ts):
        if x.data.ndim != nd or any(
            x.data.shape[k] != ts[0].data.shape[k] for k in range(nd) if k != d
        ):
            raise ValueError(
                f"cat: tensor {i} has shape {tuple(x.data.shape)}, which does not match "
                f"{tuple(ts[0].data.shape)} outside dim {d}; make shapes agree except along dim."
            )
    return apply(Cat(d), *ts)


concatenate = cat
concat = cat


class Stack(Function):
    def __init__(self, dim):
        self.dim = dim

    def forward(self, *arrays):
        return get_array_module(*arrays).stack(arrays, axis=self.dim)

    def backward(self, g):
        return tuple(g.take(i, axis=self.dim) if n else None for i, n in enumerate(self.needs))


def stack(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new dim."""
    if axis is not None:
        dim = axis
    ts = _promote_all(tensors)
    shp = ts[0].data.shape
    for i, x in enumerate(ts):
        if x.data.shape != shp:
            raise ValueError(
                f"stack: tensor {i} has shape {tuple(x.data.shape)} but tensor 0 has {tuple(shp)}; "
                "stack needs equal shapes."
            )
    (d,) = _norm_dims(dim, len(shp) + 1)
    return apply(Stack(d), *ts)


def squeeze(a: Any, dim: Any = None) -> Tensor:
    a = as_tensor(a)
    shp = a.data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        dims = _norm_dims(dim, a.data.ndim)
        new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
    return apply(Reshape(new), a)


def unsqueeze(a: Any, dim: int) -> Tensor:
    a = as_tensor(a)
    (d,) = _norm_dims(dim, a.data.ndim + 1)
    shp = a.data.shape
    return apply(Reshape(shp[:d] + (1,) + shp[d:]), a)


class Expand(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        return get_array_module(a).broadcast_to(a, self.shape)

    def backward(self, g):
        return (g,)  # the engine sums it back to the input's shape


def expand(a: Any, *shape: Any) -> Tensor:
    a = as_tensor(a)
    shp = _shape_arg(shape)
    nd = len(shp)
    src = (1,) * (nd - a.data.ndim) + a.data.shape
    full = tuple(s if n == -1 else n for s, n in zip(src, shp))
    if nd < a.data.ndim or any(s != n and s != 1 for s, n in zip(src, full)):
        raise ValueError(
            f"cannot expand shape {tuple(a.data.shape)} to {shp}: only dims of size 1 can grow "
            "(pass -1 to keep a dim), and new dims go in front."
        )
    return apply(Expand(full), a)
