"""Max and average pooling (1-D and 2-D) with PyTorch's arguments and output sizes.

Both walk the kernel offsets: each offset is one strided slice of the padded input, as large as
the output, so the work is a few array operations per offset and none per window. Buffers follow
the input's memory order (see ``window.layout_order``).
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..autograd import Function
from ..tensor import Tensor, apply, as_tensor
from . import workspace
from .arithmetic import cast
from .window import crop, layout_order, ntuple, offsets, out_length, pad, zeros_in_order


class _Pool(Function):
    """Shared geometry: kernel, stride, (lo, hi) pads per dim, dilation and output sizes."""

    def __init__(self, kernel, stride, pads, dilation, out):
        self.kernel, self.stride, self.pads = kernel, stride, pads
        self.dilation, self.out = dilation, out
        # windows that never overlap write each input element at most once in backward
        self.disjoint = all(s >= d * (k - 1) + 1 for s, d, k in zip(stride, dilation, kernel))

    def _padded(self, x, value):
        """The input, padded so that every window lies inside it."""
        self.in_shape, self.order = x.shape, layout_order(x)
        if any(lo or hi for lo, hi in self.pads):
            return pad(x, self.pads, value)
        return x

    def _fold(self, parts, lead_shape, dtype, xp):
        """Sum the per-offset gradients ``parts(i, slices, dst)`` into the padded input's shape
        and crop: one strided slice per kernel offset. With disjoint windows ``dst`` is that
        slice of the result, which ``parts`` may write into and return (saving a copy)."""
        sizes = self.in_shape[len(self.in_shape) - len(self.kernel) :]
        sp = tuple(s + lo + hi for s, (lo, hi) in zip(sizes, self.pads))
        gxp = zeros_in_order(xp, (*lead_shape, *sp), self.order, dtype)
        for i, (_, sl) in enumerate(offsets(self.kernel, self.dilation, self.stride, self.out)):
            where = (..., *sl)
            if self.disjoint:
                dst = gxp[where]
                part = parts(i, where, dst)
                if part is not dst:
                    dst[...] = part
            else:
                gxp[where] += parts(i, where, None)
        return crop(gxp, self.pads, sizes)

    def _scratch(self, xp, shape, dtype):
        """A workspace array of ``shape`` laid out like the input, and the buffer to give back."""
        buf = workspace.take(xp, tuple(shape[i] for i in self.order), dtype)
        return buf.transpose([self.order.index(i) for i in range(len(shape))]), buf


class MaxPoolNd(_Pool):
    """The largest value in each window, as PyTorch's: a NaN in a window gives NaN, padding
    counts as −inf, and the gradient goes to the first maximum of each window (to the last NaN
    in a window holding NaN), the position PyTorch's indices name."""

    want_indices = False

    def forward(self, x):
        xp = backend.get_array_module(x)
        a = self._padded(x, -math.inf)
        best, owned = None, False
        for _, sl in offsets(self.kernel, self.dilation, self.stride, self.out):
            v = a[(..., *sl)]
            if best is None:
                best = v
            elif owned:
                xp.maximum(best, v, out=best)  # propagates NaN, as PyTorch's max pooling
            else:
                best, owned = xp.maximum(best, v), True
        if not owned:  # a one-element kernel: the slice itself
            best = best.copy(order="K")
        if self.needs is not None or self.want_indices:
            self.a, self.best = a, best
        return best

    def _offset_index(self):
        """Per output position (in memory order), the kernel offset PyTorch picks: the first
        maximum of the window, or its last NaN."""
        xp = backend.get_array_module(self.best)
        a, best = self.a, self.best
        slices = [sl for _, sl in offsets(self.kernel, self.dilation, self.stride, self.out)]
        idx = xp.zeros(best.shape, dtype=backend.int64)
        for kk in range(len(slices) - 1, -1, -1):  # the earliest match is written last
            idx[a[(..., *slices[kk])] == best] = kk
        for kk, sl in enumerate(slices):  # the last NaN is written last
            v = a[(..., *sl)]
            idx[v != v] = kk
        return idx

    def indices(self):
        """Flat positions h·W + w (or l) of the picked elements in each unpadded input plane."""
        xp = backend.get_array_module(self.best)
        sizes = self.in_shape[len(self.in_shape) - len(self.kernel) :]
        nsp = len(sizes)
        plane = [math.prod(sizes[i + 1 :]) for i in range(nsp)]
        table = [
            sum(k[i] * self.dilation[i] * plane[i] for i in range(nsp))
            for k, _ in offsets(self.kernel, self.dilation, self.stride, self.out)
        ]
        base = 0
        for i in range(nsp):
            starts = xp.arange(self.out[i], dtype=backend.int64) * self.stride[i]
            starts -= self.pads[i][0]
            base = base + starts.reshape((-1,) + (1,) * (nsp - 1 - i)) * plane[i]
        return base + xp.asarray(table, dtype=backend.int64)[self._offset_index()]

    def backward(self, g):
        xp = backend.get_array_module(g)
        a, best = self.a, self.best
        lead = g.shape[: g.ndim - len(self.kernel)]
        if xp.isnan(best.sum()):  # a NaN somewhere (or inf − inf): route by PyTorch's picks
            idx = self._offset_index()
            return (self._fold(lambda i, w, d: xp.where(idx == i, g, 0), lead, g.dtype, xp),)
        # Each window's gradient goes to its first maximum: ``left`` is what no earlier offset
        # of the window has taken yet. Reused buffers, laid out like the input.
        m, m_buf = self._scratch(xp, best.shape, backend.bool_)
        c, c_buf = self._scratch(xp, best.shape, g.dtype)
        left, left_buf = self._scratch(xp, best.shape, g.dtype)
        last = math.prod(self.kernel) - 1

        def part(i, where, dst):
            out = c if dst is None else dst
            xp.equal(a[where], best, out=m)
            xp.multiply(g if i == 0 else left, m, out=out)
            if i == 0:
                xp.subtract(g, out, out=left)
            elif i < last:
                xp.subtract(left, out, out=left)
            return out

        gx = self._fold(part, lead, g.dtype, xp)
        for buf in (m_buf, c_buf, left_buf):
            workspace.give(xp, buf)
        return (gx,)


class AvgPoolNd(_Pool):
    """The mean of each window: the window's sum over ``divisor`` (a number, or an array over the
    output positions where windows overlap the padding or, in ceil mode, the input's end)."""

    def __init__(self, kernel, stride, pads, dilation, out, divisor):
        super().__init__(kernel, stride, pads, dilation, out)
        self.divisor = divisor

    def forward(self, x):
        xp = backend.get_array_module(x)
        a = self._padded(x, 0)
        acc, owned = None, False
        for _, sl in offsets(self.kernel, self.dilation, self.stride, self.out):
            v = a[(..., *sl)]
            if acc is None:
                acc = v
            elif owned:
                acc += v
            else:
                acc, owned = xp.add(acc, v), True
        if not owned:
            acc = acc.copy(order="K")
        acc /= self.divisor
        return acc

    def backward(self, g):
        xp = backend.get_array_module(g)
        gd = g / self.divisor
        lead = gd.shape[: gd.ndim - len(self.kernel)]
        return (self._fold(lambda i, w, d: gd, lead, g.dtype, xp),)


def _as_float(input: Any, op: str, nsp: int) -> Tensor:  # noqa: A002
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.data.dtype.kind != "f":
        x = cast(x, backend.get_default_dtype())
    if x.data.ndim not in (nsp + 1, nsp + 2):
        layout = "(N, C, L)" if nsp == 1 else "(N, C, H, W)"
        raise ValueError(
            f"{op} expects a {nsp + 2}-D input {layout} (or {nsp + 1}-D without the batch dim), "
            f"got shape {tuple(x.data.shape)}; reshape the data, e.g. with nn.Unflatten."
        )
    return x


def _geometry(
    x: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    op: str,
    nsp: int,
    max_pad: Any,
) -> tuple[Any, ...]:
    """Checked kernel, stride, dilation, output sizes and (lo, hi) pads (hi grown so that
    ceil-mode windows fit); ``max_pad(k, d)`` is PyTorch's bound on the padding."""
    kernel = ntuple(kernel_size, nsp, "kernel_size", op, 1)
    if stride is None or (isinstance(stride, list | tuple) and len(stride) == 0):
        stride = kernel
    st = ntuple(stride, nsp, "stride", op, 1)
    pd = ntuple(padding, nsp, "padding", op, 0)
    dil = ntuple(dilation, nsp, "dilation", op, 1)
    for p, k, d in zip(pd, kernel, dil):
        if p > max_pad(k, d):
            raise ValueError(
                f"{op} padding must be at most half of the (dilated) kernel size, got padding "
                f"{padding!r} for kernel_size {kernel_size!r}; use less padding."
            )
    sizes = x.data.shape[x.data.ndim - nsp :]
    out = tuple(
        out_length(sizes[i], kernel[i], st[i], pd[i], pd[i], dil[i], op, ceil_mode)
        for i in range(nsp)
    )
    pads = tuple(
        (pd[i], max(0, (out[i] - 1) * st[i] + dil[i] * (kernel[i] - 1) + 1 - sizes[i] - pd[i]))
        for i in range(nsp)
    )
    return kernel, st, pads, dil, out, pd, sizes


def max_pool(
    input: Any,  # noqa: A002 - PyTorch's argument name
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    return_indices: bool,
    nsp: int,
) -> Any:
    """N-d max pooling behind :func:`max_pool1d` and :func:`max_pool2d`."""
    op = f"max_pool{nsp}d"
    x = _as_float(input, op, nsp)
    kernel, st, pads, dil, out, _, _ = _geometry(
        x, kernel_size, stride, padding, dilation, ceil_mode, op, nsp,
        lambda k, d: (d * (k - 1) + 1) // 2,
    )  # fmt: skip
    node = MaxPoolNd(kernel, st, pads, dil, out)
    node.want_indices = bool(return_indices)
    y = apply(node, x)
    if return_indices:
        return y, Tensor._make(node.indices())
    return y


def max_pool1d(
    input: Any,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over windows of x (N, C, L) or (C, L); stride defaults to kernel_size. With
    ``return_indices`` also the int64 positions of the maxima along L, as PyTorch's."""
    return max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d(
    input: Any,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over windows of x (N, C, H, W) or (C, H, W): ``max_pool2d(x, 2)`` halves H and W.
    With ``return_indices`` also the int64 positions h·W + w of the maxima, as PyTorch's."""
    return max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def _avg_divisor(xp, pd, sizes, kernel, st, out, count_include_pad, override, dtype):
    """A number when every window has the same divisor, else an array over the output."""
    if override is not None:
        return float(override)
    div = 1
    for i in range(len(kernel)):
        start = xp.arange(out[i]) * st[i] - pd[i]
        end = xp.minimum(start + kernel[i], sizes[i] + pd[i])
        if count_include_pad:
            count = end - start
        else:
            count = xp.minimum(end, sizes[i]) - xp.maximum(start, 0)
        div = div * count.reshape((-1,) + (1,) * (len(kernel) - 1 - i))
    flat = div.reshape(-1)
    if bool((flat == flat[0]).all()):
        return float(flat[0])
    return div.astype(dtype)


def avg_pool(
    input: Any,  # noqa: A002 - PyTorch's argument name
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Any,
    nsp: int,
) -> Tensor:
    """N-d average pooling behind :func:`avg_pool1d` and :func:`avg_pool2d`."""
    op = f"avg_pool{nsp}d"
    x = _as_float(input, op, nsp)
    kernel, st, pads, dil, out, pd, sizes = _geometry(
        x, kernel_size, stride, padding, 1, ceil_mode, op, nsp, lambda k, d: k // 2
    )
    if divisor_override is not None and (
        isinstance(divisor_override, bool)
        or not isinstance(divisor_override, int)
        or divisor_override < 1
    ):
        raise ValueError(f"{op} divisor_override must be a positive int, got {divisor_override!r}.")
    xp = backend.get_array_module(x.data)
    div = _avg_divisor(
        xp, pd, sizes, kernel, st, out, count_include_pad, divisor_override, x.data.dtype
    )
    return apply(AvgPoolNd(kernel, st, pads, dil, out, div), x)


def avg_pool1d(
    input: Any,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over windows of x (N, C, L) or (C, L); zero padding counts in the mean unless
    ``count_include_pad=False``: ``avg_pool1d(x, 3, stride=1, padding=1)`` keeps L."""
    return avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


def avg_pool2d(
    input: Any,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over windows of x (N, C, H, W) or (C, H, W), as PyTorch's (``divisor_override``
    replaces the window size as divisor): ``avg_pool2d(x, 2)`` halves H and W."""
    return avg_pool(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2
    )


__all__ = ["avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d"]
