"""Convolution (conv1d, conv2d) as im2col + matrix products, with PyTorch's arguments.

Forward unfolds the input into a column matrix (im2col: for each kernel offset one strided
slice of the input is copied, and the rows its windows see as zero padding are zeroed) and
multiplies it by the weight: one matmul per group, batched over the groups. Backward gets dW from
one matmul of the output gradient with the kept columns, and dx by folding Wᵀ·g back (col2im): a
loop over the kernel offsets, each adding the product Wₖᵀ·g into one strided slice.

Inside, arrays lie in memory as (C, *spatial, N), batch innermost, and the output is handed
back as a (N, C, *spatial) view of such a buffer. Every copy then moves rows of N contiguous
elements instead of rows of a few output positions: 2-4x faster at the small spatial sizes of
signal and small-image networks. Element-wise ops keep that order, so a chain of layers pays
for the reordering once.
"""

from __future__ import annotations

import functools
from typing import Any

from .. import backend
from ..autograd import Function
from ..blas_threads import matmul
from ..tensor import Tensor, apply, as_tensor, grad_buffer
from . import workspace
from .arithmetic import cast
from .shape import reshape
from .window import ntuple, numel, offsets, out_length, spatial_shape

MAX_UNFOLD_BYTES = 64 * 2**20
"""Bound on the unfolded input (the im2col buffer) of one convolution call: batches whose column
matrix would be larger are processed in chunks of samples (at least one sample per chunk)."""

BLOCK = 4096
"""Columns per matrix product. Longer products with few rows run at a fifth of BLAS's rate
(their operands leave the cache), so products are split along the long dim into blocks."""


def _matmul_blocks(a: Any, b: Any, out: Any) -> Any:
    """out = a @ b, in blocks of :data:`BLOCK` columns of ``b`` and ``out``."""
    xp = backend.get_array_module(b)
    for j in range(0, b.shape[-1], BLOCK):
        matmul(xp, a, b[..., j : j + BLOCK], out=out[..., j : j + BLOCK])
    return out


def _gram_blocks(a: Any, b: Any, acc: Any = None) -> Any:
    """a @ bᵀ contracted over the long last dim of both, summed over blocks of it (into
    ``acc`` when given)."""
    xp = backend.get_array_module(b)
    for j in range(0, b.shape[-1], BLOCK):
        part = matmul(xp, a[..., j : j + BLOCK], b[..., j : j + BLOCK].swapaxes(-1, -2))
        if acc is None:
            acc = part
        else:
            acc += part
    return acc


def _batch_last(a: Any) -> Any:
    """(N, C, *S) → (C, *S, N), a view."""
    return a.transpose(*range(1, a.ndim), 0)


def _batch_first(a: Any) -> Any:
    """(C, *S, N) → (N, C, *S), a view."""
    return a.transpose(a.ndim - 1, *range(a.ndim - 1))


@functools.lru_cache(maxsize=256)
def _plan(kernel, sizes, stride, pads, dilation, out):
    """Per kernel offset k: (k, input slices, column slices, column slabs to zero), the
    slices None when the offset's windows see padding only (cached: it is pure geometry).

    Output position o reads input position o·s + k·d − pad; the column slices are the output
    positions where that lies inside the input, the input slices what they read."""
    plan = []
    everything = tuple(slice(None) for _ in sizes)
    for k, _ in offsets(kernel, dilation, stride, out):
        src, dst = [], []
        for i, size in enumerate(sizes):
            s, a = stride[i], k[i] * dilation[i] - pads[i][0]
            o0 = -(a // s) if a < 0 else 0  # the first o with o·s + a >= 0
            o1 = min(out[i], (size - 1 - a) // s + 1)  # past the last o inside
            src.append(slice(o0 * s + a, (o1 - 1) * s + a + 1, s))
            dst.append((o0, o1))
        if any(o1 <= o0 for o0, o1 in dst):
            plan.append((k, None, None, (everything,)))
            continue
        zero = []
        for i, (o0, o1) in enumerate(dst):
            inside = tuple(slice(*dst[j]) for j in range(i))
            rest = everything[i + 1 :]
            if o0 > 0:
                zero.append((*inside, slice(0, o0), *rest))
            if o1 < out[i]:
                zero.append((*inside, slice(o1, None), *rest))
        plan.append((k, tuple(src), tuple(slice(*r) for r in dst), tuple(zero)))
    return tuple(plan)


class ConvNd(Function):
    """Cross-correlation of x (N, C, *S) with W (O, C/groups, *K), plus b (O,): PyTorch's conv.

    Memory: the column matrix has shape (groups, C/groups·∏K, ∏out·N) and holds at most
    ``MAX_UNFOLD_BYTES`` (64 MiB) or one sample's columns, whichever is larger. When the whole
    batch fits, forward keeps it for dW; otherwise forward and backward work chunk by chunk of
    samples and backward unfolds each chunk again from the input, so no more than one chunk's
    columns exist at a time. The column gradient is never materialised (see ``_fold_into``), and
    zero padding is not either: each kernel offset copies the part of the input its windows see
    and zeroes the rest of its rows. The columns go back to the ``workspace`` after backward.
    The output is a (O, *out, N) buffer seen as (N, O, *out).
    """

    def __init__(self, stride, pads, dilation, groups, out):
        self.stride, self.pads, self.dilation = stride, pads, dilation
        self.groups, self.out = groups, out

    def _unfold(self, xg, dtype):
        """Columns (groups, C/groups·∏K, ∏out·n) of an input seen as (groups, C/groups, *S, n):
        one copy per kernel offset, in rows of n contiguous samples. The array comes from the
        workspace; hand it back with ``workspace.give`` once nothing needs it."""
        xp = backend.get_array_module(xg)
        g, cg, n = xg.shape[0], xg.shape[1], xg.shape[-1]
        cols = workspace.take(xp, (g, cg * numel(self.kernel), numel(self.out) * n), dtype)
        view = cols.reshape(g, cg, *self.kernel, *self.out, n)
        whole = (slice(None), slice(None))
        for k, src, dst, zero in self.plan:
            block = view[(*whole, *k)]
            for slab in zero:
                block[(*whole, *slab)] = 0
            if src is not None:
                block[(*whole, *dst)] = xg[(*whole, *src)]
        return cols

    def _fold_into(self, gxg, gc, wk):
        """dx: add Wₖᵀ·g for every kernel offset k into the input's gradient, seen as (groups,
        C/groups, *S, n), at the positions that offset's windows read (col2im).

        ``wk`` is the weight as (groups, O/groups, C/groups, ∏K). One small product per offset
        into a reused (groups, C/groups, ∏out·n) buffer: the whole column gradient is never
        materialised, and the buffer stays in cache."""
        xp = backend.get_array_module(gc)
        g, cg, n = gxg.shape[0], gxg.shape[1], gxg.shape[-1]
        tmp = workspace.take(xp, (g, cg, gc.shape[-1]), gc.dtype)
        part = tmp.reshape(g, cg, *self.out, n)
        whole = (slice(None), slice(None))
        for i, (_, src, dst, _) in enumerate(self.plan):
            if src is not None:
                _matmul_blocks(wk[..., i].swapaxes(1, 2), gc, tmp)
                gxg[(*whole, *src)] += part[(*whole, *dst)]
        workspace.give(xp, tmp)

    def _chunks(self, n):
        """(n0, n1) sample ranges of at most ``self.chunk`` samples."""
        return [(n0, min(n, n0 + self.chunk)) for n0 in range(0, n, self.chunk)]

    def forward(self, x, w, b=None):
        xp = backend.get_array_module(x)
        n, c = x.shape[:2]
        o, g = w.shape[0], self.groups
        self.in_shape, self.kernel = x.shape, w.shape[2:]
        self.plan = _plan(self.kernel, x.shape[2:], self.stride, self.pads, self.dilation,
                          self.out)  # fmt: skip
        xb = _batch_last(x)
        if xb.strides[-1] != x.itemsize and numel(self.kernel) > 1:
            xb = xp.ascontiguousarray(xb)  # one reordering copy instead of ∏K strided ones
        xg = xb.reshape(g, c // g, *x.shape[2:], n)
        p = numel(self.out)
        rows = (c // g) * numel(self.kernel)
        self.chunk = max(1, MAX_UNFOLD_BYTES // max(1, g * rows * p * x.itemsize))
        w2 = w.reshape(g, o // g, rows)
        needs = self.needs
        if needs is not None and needs[0]:
            self.wk = w.reshape(g, o // g, c // g, numel(self.kernel))
        keep = needs is not None and needs[1]
        if keep:
            self.xg = xg  # to unfold again in a chunked or a second backward
        if self.chunk >= n:
            cols = self._unfold(xg, x.dtype)
            y = _matmul_blocks(w2, cols, xp.empty((g, o // g, p * n), dtype=x.dtype))
            if keep:
                self.cols = cols
            else:
                workspace.give(xp, cols)
        else:  # columns ordered (position, sample): a chunk of samples is a strided block
            y = xp.empty((g, o // g, *self.out, n), dtype=x.dtype)
            for n0, n1 in self._chunks(n):
                cols = self._unfold(xg[..., n0:n1], x.dtype)
                part = _matmul_blocks(w2, cols, xp.empty((g, o // g, p * (n1 - n0)), x.dtype))
                workspace.give(xp, cols)
                y[..., n0:n1] = part.reshape(g, o // g, *self.out, n1 - n0)
        y = y.reshape(o, p * n)
        if b is not None:
            y += b[:, None]
        return _batch_first(y.reshape(o, *self.out, n))

    def backward(self, gy):
        xp = backend.get_array_module(gy)
        needs = self.needs
        n, c = self.in_shape[:2]
        o, g, kernel = gy.shape[1], self.groups, self.kernel
        p = numel(self.out)
        rows = (c // g) * numel(kernel)
        g2 = _batch_last(gy).reshape(g, o // g, p * n)
        gb = None
        if len(needs) > 2 and needs[2]:
            gb = xp.add.reduce(g2.reshape(o, p * n), axis=1, out=grad_buffer(self, 2))
        gwt = gxg = None  # dWᵀ per group (groups, rows, o/groups); dx as (groups, C/g, *S, n)
        if needs[0]:
            gxg = xp.zeros((g, c // g, *self.in_shape[2:], n), dtype=gy.dtype)
        whole = self.chunk >= n
        g4 = None if whole else g2.reshape(g, o // g, *self.out, n)
        for n0, n1 in [(0, n)] if whole else self._chunks(n):
            gc = g2 if whole else g4[..., n0:n1].reshape(g, o // g, p * (n1 - n0))
            if needs[1]:
                cols = self.cols if whole else None
                if cols is None:  # chunked, or the columns went back after a first backward
                    cols = self._unfold(self.xg[..., n0:n1], gy.dtype)
                gwt = _gram_blocks(cols, gc, gwt)
                workspace.give(xp, cols)
                self.cols = None
            if gxg is not None:
                self._fold_into(gxg if whole else gxg[..., n0:n1], gc, self.wk)
        gw = gx = None
        if gwt is not None:
            gw = grad_buffer(self, 1)
            if gw is None or not gw.flags.c_contiguous:
                gw = xp.empty((o, c // g, *kernel), dtype=gy.dtype)
            gw.reshape(g, o // g, rows)[...] = gwt.swapaxes(1, 2)
        if gxg is not None:
            gx = _batch_first(gxg.reshape(c, *gxg.shape[2:]))
        if len(needs) == 2:
            return gx, gw
        return gx, gw, gb


def _pads(
    padding: Any,
    kernel: tuple[int, ...],
    dilation: tuple[int, ...],
    stride: tuple[int, ...],
    op: str,
) -> tuple[tuple[int, int], ...]:
    """(lo, hi) zero padding per spatial dim from an int, a tuple, "valid" or "same"."""
    nsp = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nsp
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{op} padding='same' is not supported for strided convolutions (stride "
                    f"{stride}); use stride=1 or give the padding as numbers."
                )
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(
            f"{op} padding must be an int, a tuple of ints, 'valid' or 'same', got {padding!r}."
        )
    return tuple((q, q) for q in ntuple(padding, nsp, "padding", op, 0))


def _match_dtype(input: Any, w: Tensor) -> Tensor:  # noqa: A002
    """The input as a tensor: raw data and integer tensors take the weight's dtype (a float
    tensor of another dtype is promoted with the weight later, as for every binary op)."""
    wd = w.data.dtype
    if not isinstance(input, Tensor):
        xp = backend.get_array_module(w.data)
        arr = xp.asarray(input)
        if arr.dtype != wd and arr.dtype.kind in "biuf":
            arr = arr.astype(wd)
        input = as_tensor(arr)
    xd = input.data.dtype
    if xd == wd:
        return input
    if xd.kind != "f":
        return cast(input, wd)
    return input


def conv(
    input: Any,  # noqa: A002 - PyTorch's argument name
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
    nsp: int,
) -> Tensor:
    """N-d convolution behind :func:`conv1d` and :func:`conv2d` (``nsp`` spatial dims)."""
    op = f"conv{nsp}d"
    w = weight if isinstance(weight, Tensor) else as_tensor(weight)
    if w.data.dtype.kind != "f" or w.data.ndim != nsp + 2:
        raise ValueError(
            f"{op} weight must be a floating {nsp + 2}-D tensor (out_channels, in_channels/groups"
            f", *kernel), got {w.data.dtype} of shape {tuple(w.data.shape)}."
        )
    x = _match_dtype(input, w)
    unbatched = x.data.ndim == nsp + 1
    if unbatched:
        x = reshape(x, (1, *x.data.shape))
    layout = "(N, C, L)" if nsp == 1 else "(N, C, H, W)"
    sizes = spatial_shape(x.data, nsp, op, layout)
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op} groups must be a positive int, got {groups!r}.")
    o, cg = w.data.shape[:2]
    c = x.data.shape[1]
    if o % groups:
        raise ValueError(
            f"{op}: out_channels ({o}) must be divisible by groups ({groups}); change one of them."
        )
    if c != cg * groups:
        raise ValueError(
            f"{op}: the input's channel count (dim 1) is {c} but the weight expects "
            f"in_channels = {cg * groups} ({cg} per group x {groups} groups); check in_channels "
            "against the data."
        )
    kernel = tuple(w.data.shape[2:])
    stride_t = ntuple(stride, nsp, "stride", op, 1)
    dil = ntuple(dilation, nsp, "dilation", op, 1)
    pads = _pads(padding, kernel, dil, stride_t, op)
    out = tuple(
        out_length(sizes[i], kernel[i], stride_t[i], *pads[i], dil[i], op) for i in range(nsp)
    )
    if x.data.dtype != w.data.dtype:
        d = backend.promote(x.data, w.data)
        x = x if x.data.dtype == d else cast(x, d)
        w = w if w.data.dtype == d else cast(w, d)
    node = ConvNd(stride_t, pads, dil, groups, out)
    if bias is None:
        y = apply(node, x, w)
    else:
        b = bias if isinstance(bias, Tensor) else as_tensor(bias)
        if tuple(b.data.shape) != (o,):
            raise ValueError(f"{op} bias must have shape ({o},), got {tuple(b.data.shape)}.")
        if b.data.dtype != w.data.dtype:
            b = cast(b, w.data.dtype)
        y = apply(node, x, w, b)
    return reshape(y, y.data.shape[1:]) if unbatched else y


def conv1d(
    input: Any,  # noqa: A002 - PyTorch's argument name
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution of x (N, C, L) or (C, L) with weight (out, C/groups, k), as PyTorch's.

    padding is an int, "valid" (none) or "same" (stride 1; the output keeps L, with the odd
    extra zero on the right). ``conv1d(x, w, b, stride=2, padding=1)`` gives
    L_out = ⌊(L + 2·1 − dilation·(k − 1) − 1) / 2⌋ + 1.
    """
    return conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(
    input: Any,  # noqa: A002 - PyTorch's argument name
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution of x (N, C, H, W) or (C, H, W) with weight (out, C/groups, kh, kw).

    stride, padding and dilation are ints or (h, w) pairs; padding may be "valid" or "same".
    Example: ``conv2d(x, w, padding="same")`` keeps H and W.
    """
    return conv(input, weight, bias, stride, padding, dilation, groups, 2)


__all__ = ["conv1d", "conv2d"]
