"""Loss functions with ``torch.nn.functional``'s names, arguments and results.

Each loss is one graph node: the forward computes the per-element loss and applies the reduction,
the backward returns the input gradient scaled the same way. Softmax and cross-entropy are fused
(backward = softmax − smoothed one-hot), as the classic derivation gives. Class weights, ``weight``
and ``pos_weight`` are constants (no gradient flows into them). Non-finite values are not checked
here: the trainer checks the loss at its boundary.
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import backend
from ..autograd import Function
from ..backend import Array, DType, get_array_module
from ..tensor import Tensor, apply, as_tensor
from .arithmetic import cast

_REDUCTIONS = ("mean", "sum", "none")


# -- argument handling ---------------------------------------------------------------------------
def _reduction(name: str, reduction: str, size_average: Any = None, reduce: Any = None) -> str:
    """The reduction mode, with PyTorch's legacy ``size_average`` / ``reduce`` flags folded in
    (with PyTorch's deprecation warning)."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        mode = ("mean" if size_average else "sum") if reduce else "none"
        warnings.warn(
            f"{name}: size_average and reduce are deprecated; use reduction={mode!r} instead.",
            UserWarning,
            stacklevel=3,
        )
        return mode
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{name} reduction must be one of 'mean', 'sum' or 'none', got {reduction!r}."
        )
    return reduction


def _float_input(input: Any) -> Tensor:  # noqa: A002 - PyTorch's argument name
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.data.dtype.kind != "f":
        x = cast(x, backend.get_default_dtype())
    return x


def _float_target(target: Any, x: Tensor) -> Tensor:
    """The target as a tensor of the input's dtype (a differentiable cast if it needs grad)."""
    t = target if isinstance(target, Tensor) else as_tensor(target)
    if t.data.dtype != x.data.dtype:
        t = cast(t, x.data.dtype)
    return t


def _same_shape(name: str, x: Tensor, t: Tensor) -> None:
    xs, ts = x.data.shape, t.data.shape
    if xs != ts:
        raise ValueError(
            f"{name} target shape {tuple(ts)} does not match input shape {tuple(xs)}; reshape the "
            f"target to {tuple(xs)} (e.g. target.reshape{tuple(xs)}) so no broadcasting happens."
        )


def _constant(value: Any, dtype: DType) -> Array:
    arr = value.data if isinstance(value, Tensor) else get_array_module(value).asarray(value)
    return arr if arr.dtype == dtype else arr.astype(dtype)


def _elementwise_weight(name: str, arg: str, value: Any, shape: tuple, dtype: DType) -> Any:
    """A weight that must broadcast to the input's shape (BCE's ``weight``, ``pos_weight``)."""
    if value is None:
        return None
    w = _constant(value, dtype)
    try:
        ok = get_array_module(w).broadcast_shapes(w.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{name} {arg} of shape {tuple(w.shape)} does not broadcast to the input shape "
            f"{tuple(shape)}; pass a {arg} whose shape broadcasts to it (e.g. one per class)."
        )
    return w


def _same_size_weight(name: str, value: Any, shape: tuple, dtype: DType) -> Any:
    """A regression loss's per-element ``weight`` (PyTorch requires the input's exact shape)."""
    if value is None:
        return None
    w = _constant(value, dtype)
    if w.shape != shape:
        raise ValueError(
            f"{name} weight has shape {tuple(w.shape)} but the input has shape {tuple(shape)}; "
            "pass one weight per element."
        )
    return w


def _class_weight(name: str, weight: Any, c: int, dtype: DType) -> Any:
    if weight is None:
        return None
    w = _constant(weight, dtype)
    if w.shape != (c,):
        raise ValueError(
            f"{name} weight has shape {tuple(w.shape)} but the input has {c} classes; "
            f"pass one weight per class, shape ({c},)."
        )
    return w


def _class_count(name: str, xd: Array) -> int:
    if xd.ndim == 0:
        raise ValueError(
            f"{name} needs an input of shape (N, C) or (N, C, d1, ...) (or (C,) for one sample), "
            "got a 0-d tensor; pass one score per class."
        )
    return xd.shape[1] if xd.ndim >= 2 else xd.shape[0]


def _index_shape(xd: Array) -> tuple[int, ...]:
    """Shape of class-index targets for this input: the input's without the class dim."""
    return xd.shape[:1] + xd.shape[2:] if xd.ndim >= 2 else ()


def _index_target(name: str, xd: Array, td: Array, c: int, ignore_index: int) -> tuple[Array, Any]:
    """Check class indices and flatten them to rows; return (indices, keep-mask or None).

    Ignored positions get index 0 (safe to gather) and keep = False. Checking costs two
    vectorised reductions (min and max) in the common case.
    """
    if td.dtype.kind not in "iu":
        kind = "a float" if td.dtype.kind == "f" else f"a {td.dtype}"
        raise TypeError(
            f"{name} needs class indices as integers, got {kind} target of shape "
            f"{tuple(td.shape)}; pass target.long() (or an int64 array)."
        )
    expected = _index_shape(xd)
    if td.shape != expected:
        if td.shape == xd.shape:
            raise TypeError(
                f"{name} got an integer target of the input's shape {tuple(td.shape)}: class "
                f"probabilities must be floating point, so pass target.float(), or pass class "
                f"indices of shape {expected}."
            )
        raise ValueError(
            f"{name} target shape {tuple(td.shape)} does not fit input shape {tuple(xd.shape)}; "
            f"pass class indices of shape {expected}."
        )
    t = td.reshape(-1)
    if t.size == 0:
        return t, None
    xp = get_array_module(t)
    # one reduce checks both ends: seen as unsigned, a negative index is larger than any class
    # count (the ufunc's own reduce: t.max() goes through a Python wrapper first)
    unsigned = t if t.dtype.kind == "u" else t.view(_UNSIGNED[t.dtype.itemsize])
    if xp.maximum.reduce(unsigned) < c:
        if 0 <= ignore_index < c:
            ignored = t == ignore_index
            if ignored.any():
                return xp.where(ignored, 0, t), ~ignored
        return t, None
    ignored = t == ignore_index
    bad = ~ignored & ((t < 0) | (t >= c))
    if bad.any():
        v = int(t[int(bad.argmax())])
        raise ValueError(
            f"target {v} is out of range for {c} classes: class indices must be in [0, {c - 1}] "
            f"(or equal ignore_index={ignore_index} to skip a sample)."
        )
    return xp.where(ignored, 0, t), ~ignored


def _rows(a: Array) -> Array:
    """View scores (N, C, d1, ...) as rows (N·d1·..., C), class dim last; (C,) as (1, C)."""
    nd = a.ndim
    if nd == 2:
        return a
    if nd == 1:
        return a.reshape(1, -1)
    return get_array_module(a).moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _unrows(g: Array, shape: tuple[int, ...]) -> Array:
    """Inverse of :func:`_rows` for a gradient."""
    nd = len(shape)
    if nd == 2:
        return g
    if nd == 1:
        return g.reshape(shape)
    return get_array_module(g).moveaxis(g.reshape(shape[:1] + shape[2:] + shape[1:2]), -1, 1)


def _softmax_parts(xp: Any, x: Array) -> tuple[Array, Array, Array]:
    """z = x − max, e = exp(z), lse = log Σ e per row: stable for any finite scores."""
    z = x - xp.maximum.reduce(x, axis=1, keepdims=True)  # ufunc reduces: no Python wrapper
    e = xp.exp(z)
    return z, e, xp.add.reduce(e, axis=1, keepdims=True)


def _scale(g: Array, reduction: str, denom: Any, m: int) -> Any:
    """d(reduced loss)/d(per-row loss) as a scalar or a column: g, g / denom, or g per row."""
    if reduction == "none":
        return g.reshape(m, 1)
    if reduction == "sum":
        return g
    return g / denom


def _finish(xp: Any, per: Array, reduction: str, denom: Any, out_shape: tuple) -> Array:
    if reduction == "none":
        return per.reshape(out_shape)
    total = xp.add.reduce(per)
    if reduction == "sum":
        return xp.asarray(total)
    if denom == 0:  # every sample ignored (or an empty batch): NaN, as PyTorch
        return xp.asarray(float("nan"), dtype=per.dtype)
    return xp.asarray(total / denom)


_ARANGES: dict[tuple[Any, int], Array] = {}
_UNSIGNED = {1: backend.uint8, 2: backend.uint16, 4: backend.uint32, 8: backend.uint64}


def _arange(xp: Any, m: int) -> Array:
    """0..m−1 of module ``xp`` as a read-only cached array (row indices for gathers and
    scatters)."""
    key = (xp, m)
    r = _ARANGES.get(key)
    if r is None:
        if len(_ARANGES) > 64:
            _ARANGES.clear()
        r = _ARANGES[key] = xp.arange(m)
        r.flags.writeable = False
    return r


_ROW_STARTS: dict[tuple[Any, int, int], Array] = {}


def _row_starts(xp: Any, m: int, c: int) -> Array:
    """0, C, 2C, ..., (m−1)·C: flat offsets of each row's first score (cached, read-only)."""
    key = (xp, m, c)
    r = _ROW_STARTS.get(key)
    if r is None:
        if len(_ROW_STARTS) > 64:
            _ROW_STARTS.clear()
        r = _ROW_STARTS[key] = xp.arange(0, m * c, c)
        r.flags.writeable = False
    return r


# -- cross-entropy and NLL ----------------------------------------------------------------------
class CrossEntropy(Function):
    """Fused softmax + cross-entropy for class indices, on rows x (M, C) and targets t (M,).

    Forward, per row: l = w_t·(log Σ_c e^{x_c} − x_t), shifted by the row maximum for stability;
    with label smoothing ε: (1 − ε)·l + (ε/C)·Σ_c w_c·(log Σ e^x − x_c). "mean" divides the sum by
    Σ w_t over the rows kept (ignore_index), as PyTorch. Backward, per row:
    ∂l/∂x_c = ((1 − ε)·w_t + ε·W/C)·p_c − (1 − ε)·w_t·[c = t] − (ε/C)·w_c with p = softmax(x) and
    W = Σ_c w_c; without weights that is p − onehot_smoothed.
    """

    def __init__(self, target, keep, weight, reduction, smoothing, out_shape):
        self.t, self.keep, self.w = target, keep, weight
        self.reduction, self.eps, self.out_shape = reduction, smoothing, out_shape

    def forward(self, x):
        self.shape = x.shape
        x = _rows(x)
        m, c = x.shape
        w, eps = self.w, self.eps
        xp = get_array_module(x)
        if w is None and not eps and self.keep is None:
            return self._plain(xp, x, m, c)
        self.flat = None
        z, e, s = _softmax_parts(xp, x)
        self.e, self.s = e, s
        lse = xp.log(s[:, 0])
        rows = _arange(xp, m)
        self.rows = rows
        per = lse - z[rows, self.t]
        keep = self.keep
        if keep is not None:
            keep = self.keep = keep.astype(x.dtype)
        wt = keep if w is None else (w[self.t] if keep is None else w[self.t] * keep)
        self.wt = wt
        if wt is not None:
            per *= wt
        if eps:
            smooth = lse * c - z.sum(axis=1) if w is None else lse * w.sum() - z @ w
            if keep is not None:
                smooth *= keep
            per = (1.0 - eps) * per + (eps / c) * smooth
        self.denom = m if wt is None else wt.sum()
        return _finish(xp, per, self.reduction, self.denom, self.out_shape)

    def _plain(self, xp, x, m, c):
        """The common case (no weights, smoothing or ignored samples): the target scores are
        gathered through flat indices, row·C + t, which costs a third of a (row, t) pair index."""
        if not x.flags.c_contiguous:  # rows of a (N, C, d...) input: flat indices need C order
            x = xp.ascontiguousarray(x)
        z, e, s = _softmax_parts(xp, x)
        self.e, self.s, self.wt = e, s, None
        flat = self.flat = _row_starts(xp, m, c) + self.t
        per = xp.log(s[:, 0])
        per -= z.reshape(-1)[flat]
        self.denom = m
        return _finish(xp, per, self.reduction, m, self.out_shape)

    def backward(self, g):
        p = self.e / self.s
        m, c = p.shape
        if self.flat is not None:  # the plain case: p − onehot(t), scaled
            p.reshape(-1)[self.flat] -= 1.0
            p *= _scale(g, self.reduction, m, m)
            return (_unrows(p, self.shape),)
        if self.reduction == "mean" and self.denom == 0:
            return (get_array_module(p).zeros(self.shape, dtype=p.dtype),)
        wt, w, eps, keep, t = self.wt, self.w, self.eps, self.keep, self.t
        if eps:
            hit = 1.0 - eps if wt is None else (1.0 - eps) * wt
            spread = eps if w is None else eps * w.sum() / c
            coeff = hit + (spread if keep is None else spread * keep)
            p *= coeff if get_array_module(p).ndim(coeff) == 0 else coeff[:, None]
            p[self.rows, t] -= hit
            off = eps / c if w is None else (eps / c) * w
            p -= off if keep is None else keep[:, None] * off
        elif wt is None:
            p[self.rows, t] -= 1.0
        else:
            p *= wt[:, None]
            p[self.rows, t] -= wt
        p *= _scale(g, self.reduction, self.denom, m)
        return (_unrows(p, self.shape),)


class CrossEntropyProb(Function):
    """Fused softmax + cross-entropy for class probabilities q (same shape as the scores).

    Forward, per row: l = −Σ_c w_c·q'_c·log p_c with q' = (1 − ε)·q + ε/C and p = softmax(x);
    "mean" divides by the number of rows (PyTorch does not divide by the weights here).
    Backward: ∂l/∂x_c = p_c·Σ_k w_k q'_k − w_c q'_c;  ∂l/∂q_c = −(1 − ε)·w_c·log p_c.
    """

    def __init__(self, weight, reduction, smoothing, out_shape):
        self.w, self.reduction, self.eps, self.out_shape = weight, reduction, smoothing, out_shape

    def forward(self, x, q):
        self.shape = x.shape
        x, q = _rows(x), _rows(q)
        m, c = x.shape
        xp = get_array_module(x, q)
        z, e, s = _softmax_parts(xp, x)
        logp = z - xp.log(s)
        if self.eps:
            q = (1.0 - self.eps) * q + self.eps / c
        if self.w is not None:
            q = q * self.w
        self.e, self.s, self.q, self.logp = e, s, q, logp
        per = -(q * logp).sum(axis=1)
        return _finish(xp, per, self.reduction, m, self.out_shape)

    def backward(self, g):
        m = self.e.shape[0]
        k = _scale(g, self.reduction, m, m)
        gx = gq = None
        if self.needs[0]:
            q = self.q
            gx = (self.e / self.s) * q.sum(axis=1, keepdims=True)
            gx -= q
            gx *= k
            gx = _unrows(gx, self.shape)
        if self.needs[1]:
            f = 1.0 - self.eps if self.w is None else (1.0 - self.eps) * self.w
            gq = _unrows(self.logp * (-f * k), self.shape)
        return gx, gq


class NLL(Function):
    """Negative log-likelihood of log-probabilities x (M, C) at class indices t (M,).

    l = −w_t·x_t per row; "mean" divides by Σ w_t over the rows kept. ∂l/∂x_c = −w_t·[c = t].
    """

    def __init__(self, target, keep, weight, reduction, out_shape):
        self.t, self.keep, self.w = target, keep, weight
        self.reduction, self.out_shape = reduction, out_shape

    def forward(self, x):
        self.shape = x.shape
        x = _rows(x)
        m = x.shape[0]
        xp = get_array_module(x)
        self.rows = _arange(xp, m)
        per = -x[self.rows, self.t]
        keep, w = self.keep, self.w
        if keep is not None:
            keep = keep.astype(x.dtype)
        wt = keep if w is None else (w[self.t] if keep is None else w[self.t] * keep)
        if wt is not None:
            per *= wt
        self.wt = wt
        self.denom = m if wt is None else wt.sum()
        return _finish(xp, per, self.reduction, self.denom, self.out_shape)

    def backward(self, g):
        m = self.rows.shape[0]
        c = self.shape[1] if len(self.shape) >= 2 else self.shape[0]
        gx = get_array_module(g).zeros((m, c), dtype=g.dtype)
        if self.reduction == "mean" and self.denom == 0:
            return (_unrows(gx, self.shape),)
        k = _scale(g, self.reduction, self.denom, m)
        k = k.reshape(-1) if k.ndim else k
        gx[self.rows, self.t] = -k if self.wt is None else -k * self.wt
        return (_unrows(gx, self.shape),)


def cross_entropy(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of raw scores (logits) against class indices or class probabilities.

    ``input`` is (N, C), (N, C, d1, ...) or (C,); ``target`` is integer class indices of shape
    (N,), (N, d1, ...) or (), or float class probabilities of the input's shape. Per sample,
    l = −Σ_c w_c·q_c·log softmax(x)_c with q the (label-smoothed: (1 − ε)·q + ε/C) target
    distribution. "mean" divides by Σ w_target over the samples kept for class indices (samples
    whose target is ``ignore_index`` count as 0) and by the number of samples for probabilities,
    exactly as PyTorch. Softmax and the loss are one node: the input gradient is
    (softmax − smoothed one-hot) times the weights and the reduction's scale.
    """
    red = _reduction("cross_entropy", reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy label_smoothing must be in [0, 1], got {label_smoothing}; "
            "0 means no smoothing (0.1 is common)."
        )
    x = _float_input(input)
    xd = x.data
    c = _class_count("cross_entropy", xd)
    w = _class_weight("cross_entropy", weight, c, xd.dtype)
    t = target if isinstance(target, Tensor) else as_tensor(target)
    td = t.data
    eps = float(label_smoothing)
    if td.dtype.kind == "f" and td.shape == xd.shape:
        if ignore_index != -100:
            raise ValueError(
                "cross_entropy ignore_index applies only to class-index targets, not to class "
                "probabilities; give ignored samples a zero probability row instead."
            )
        if td.dtype != xd.dtype:
            t = cast(t, xd.dtype)
        return apply(CrossEntropyProb(w, red, eps, _index_shape(xd)), x, t)
    if td.dtype.kind == "f":
        expected = _index_shape(xd)
        if td.shape == expected:
            raise TypeError(
                f"cross_entropy got a {td.dtype} target of shape {tuple(td.shape)}: class indices "
                f"must be integers, so pass target.long() (or an int64 array); for class "
                f"probabilities pass a float target of the input's shape {tuple(xd.shape)}."
            )
        raise ValueError(
            f"cross_entropy target shape {tuple(td.shape)} does not fit input shape "
            f"{tuple(xd.shape)}; pass class indices of shape {expected} or class probabilities "
            f"of shape {tuple(xd.shape)}."
        )
    ti, keep = _index_target("cross_entropy", xd, td, c, ignore_index)
    return apply(CrossEntropy(ti, keep, w, red, eps, td.shape), x)


def nll_loss(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood: l = −w_t·input_t per sample, for log-probabilities ``input``
    (N, C), (N, C, d1, ...) or (C,) and integer class indices ``target``; "mean" divides by
    Σ w_t over the samples kept. ``nll_loss(log_softmax(x, 1), t)`` equals ``cross_entropy(x, t)``.
    """
    red = _reduction("nll_loss", reduction, size_average, reduce)
    x = _float_input(input)
    xd = x.data
    c = _class_count("nll_loss", xd)
    w = _class_weight("nll_loss", weight, c, xd.dtype)
    td = target.data if isinstance(target, Tensor) else get_array_module(xd).asarray(target)
    if td.dtype.kind == "f" and td.shape == xd.shape:
        raise TypeError(
            "nll_loss needs integer class indices, got float class probabilities of the input's "
            "shape; use cross_entropy(logits, probabilities) for soft targets."
        )
    ti, keep = _index_target("nll_loss", xd, td, c, ignore_index)
    return apply(NLL(ti, keep, w, red, td.shape), x)


# -- regression losses ----------------------------------------------------------------------------
class _Elementwise(Function):
    """Shared reduction for elementwise losses: an optional weight multiplies each element;
    "mean" divides by the element count, or by Σ weight when ``weighted_mean`` (PyTorch's rule for
    the regression losses' per-element weight; BCE's weight divides by the count)."""

    def __init__(self, reduction, weight=None, weighted_mean=False):
        self.reduction, self.w, self.weighted_mean = reduction, weight, weighted_mean

    def _reduce(self, loss):
        w = self.w
        if w is not None:
            loss = loss * w
        red = self.reduction
        if red == "none":
            return loss
        xp = get_array_module(loss)
        total = loss.sum()
        if red == "sum":
            return xp.asarray(total)
        self.denom = w.sum() if w is not None and self.weighted_mean else loss.size
        with backend.errstate(invalid="ignore", divide="ignore"):
            return xp.asarray(total / self.denom)

    def _scale(self, g):
        k = g / self.denom if self.reduction == "mean" else g
        return k if self.w is None else k * self.w

    def _pair(self, dx):
        """Gradients for (input, target) when the loss depends on input − target only."""
        n = self.needs
        return (dx if n[0] else None, -dx if n[1] else None)


class MSE(_Elementwise):
    """l = (x − t)²;  ∂l/∂x = 2(x − t)."""

    def forward(self, x, t):
        self.d = x - t
        return self._reduce(self.d * self.d)

    def backward(self, g):
        return self._pair(self.d * (2 * self._scale(g)))


class L1(_Elementwise):
    """l = |x − t|;  ∂l/∂x = sign(x − t) (0 at 0, as PyTorch)."""

    def forward(self, x, t):
        xp = get_array_module(x, t)
        d = x - t
        self.sign = xp.sign(d)
        return self._reduce(xp.abs(d))

    def backward(self, g):
        return self._pair(self.sign * self._scale(g))


class Huber(_Elementwise):
    """l = ½d² for |d| < δ, else δ(|d| − ½δ), with d = x − t, times ``factor`` (1/β for smooth-L1);
    ∂l/∂x = clip(d, −δ, δ)·factor."""

    def __init__(self, reduction, delta, factor=1.0, weight=None):
        super().__init__(reduction, weight)
        self.delta, self.factor = delta, factor

    def forward(self, x, t):
        xp = get_array_module(x, t)
        d = x - t
        self.d = d
        a = xp.abs(d)
        delta = self.delta
        loss = xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
        if self.factor != 1.0:
            loss *= self.factor
        return self._reduce(loss)

    def backward(self, g):
        k = self._scale(g)
        if self.factor != 1.0:
            k = k * self.factor
        return self._pair(self.d.clip(-self.delta, self.delta) * k)


class SSE(Function):
    """The textbook's E = ½·Σ_k (t_k − o_k)²;  ∂E/∂o = o − t.

    "sum" adds over everything, "mean" divides that by the batch size N (the first dim), "none"
    gives each sample's ½·Σ over its non-batch dims (shape (N,)).
    """

    def __init__(self, reduction):
        self.reduction = reduction

    def forward(self, o, t):
        d = o - t
        self.d = d
        sq = d * d
        red = self.reduction
        if red == "none":
            if d.ndim <= 1:
                return 0.5 * sq
            return 0.5 * sq.reshape(d.shape[0], -1).sum(axis=1)
        total = 0.5 * sq.sum()
        if red == "mean":
            total = total / (d.shape[0] if d.ndim else 1)
        return get_array_module(d).asarray(total)

    def backward(self, g):
        d = self.d
        red = self.reduction
        if red == "none" and d.ndim > 1:
            g = g.reshape(g.shape + (1,) * (d.ndim - 1))
        elif red == "mean":
            g = g / (d.shape[0] if d.ndim else 1)
        dx = d * g
        n = self.needs
        return (dx if n[0] else None, -dx if n[1] else None)


def _regression(name: str, input: Any, target: Any) -> tuple[Tensor, Tensor]:  # noqa: A002
    x = _float_input(input)
    t = _float_target(target, x)
    _same_shape(name, x, t)
    return x, t


def mse_loss(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Tensor:
    """Mean squared error: l = (input − target)² per element, then the reduction. An optional
    per-element ``weight`` (the input's shape) multiplies l and "mean" divides by Σ weight."""
    red = _reduction("mse_loss", reduction, size_average, reduce)
    x, t = _regression("mse_loss", input, target)
    w = _same_size_weight("mse_loss", weight, x.data.shape, x.data.dtype)
    return apply(MSE(red, w, weighted_mean=True), x, t)


def sse_loss(input: Any, target: Any, reduction: str = "sum") -> Tensor:  # noqa: A002
    """Sum of squared errors, the textbook's E = ½·Σ_k (t_k − o_k)² (gradient o − t).

    ``reduction``: "sum" (default) ½·Σ over all elements; "mean" that sum divided by the batch
    size N = input.shape[0] (the per-sample E averaged over the batch); "none" each sample's
    ½·Σ over its non-batch dims, shape (N,). Equals ½·mse_loss(reduction="sum") for "sum".
    """
    red = _reduction("sse_loss", reduction)
    x, t = _regression("sse_loss", input, target)
    return apply(SSE(red), x, t)


def l1_loss(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Tensor:
    """Mean absolute error: l = |input − target| per element (gradient sign(input − target)).
    An optional per-element ``weight`` multiplies l; "mean" then divides by Σ weight."""
    red = _reduction("l1_loss", reduction, size_average, reduce)
    x, t = _regression("l1_loss", input, target)
    w = _same_size_weight("l1_loss", weight, x.data.shape, x.data.dtype)
    return apply(L1(red, w, weighted_mean=True), x, t)


def huber_loss(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Any = None,
) -> Tensor:
    """Huber loss: ½d² where |d| < delta, delta·(|d| − ½·delta) elsewhere (d = input − target).
    An optional per-element ``weight`` multiplies l; "mean" still divides by the element count
    (PyTorch's rule here, unlike mse_loss and l1_loss, which divide by Σ weight)."""
    red = _reduction("huber_loss", reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss delta must be > 0, got {delta}; pass a positive threshold.")
    x, t = _regression("huber_loss", input, target)
    w = _same_size_weight("huber_loss", weight, x.data.shape, x.data.dtype)
    return apply(Huber(red, float(delta), weight=w), x, t)


def smooth_l1_loss(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Smooth L1: ½d²/beta where |d| < beta, |d| − ½·beta elsewhere (= huber_loss(delta=beta)/beta;
    beta = 0 gives l1_loss)."""
    red = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss beta must be >= 0, got {beta}; pass a non-negative beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=red)
    x, t = _regression("smooth_l1_loss", input, target)
    return apply(Huber(red, float(beta), factor=1.0 / beta), x, t)


# -- binary cross-entropy -------------------------------------------------------------------------
# PyTorch's floor for p(1 − p) in the gradient: a float32 1e-12
_BCE_EPS = float(backend.float32.type(1e-12))


class BinaryCrossEntropy(_Elementwise):
    """l = −(t·log p + (1 − t)·log(1 − p)), each log clamped at −100 as PyTorch;
    ∂l/∂p = (p − t) / max(p(1 − p), 1e-12) (the floor keeps p = 0 or 1 finite);
    ∂l/∂t = log(1 − p) − log p."""

    def forward(self, p, t):
        xp = get_array_module(p, t)
        with backend.errstate(divide="ignore"):
            logp = xp.maximum(xp.log(p), -100.0)
            log1mp = xp.maximum(xp.log1p(-p), -100.0)
        self.p, self.t, self.logp, self.log1mp = p, t, logp, log1mp
        return self._reduce(-(t * logp + (1.0 - t) * log1mp))

    def backward(self, g):
        k = self._scale(g)
        p, n = self.p, self.needs
        gp = (
            (p - self.t) / get_array_module(p).maximum(p * (1.0 - p), _BCE_EPS) * k
            if n[0]
            else None
        )
        gt = (self.log1mp - self.logp) * k if n[1] else None
        return gp, gt


class BinaryCrossEntropyWithLogits(_Elementwise):
    """l = (1 − t)·x + (1 + (P − 1)·t)·softplus(−x), with softplus(−x) = log(1 + e^(−|x|)) +
    max(−x, 0) so no exponential overflows (|x| = 1000 is fine); P = pos_weight (1 if absent).
    ∂l/∂x = (1 + (P − 1)·t)·σ(x) − P·t;  ∂l/∂t = −x + (P − 1)·softplus(−x)."""

    def __init__(self, reduction, weight, pos_weight):
        super().__init__(reduction, weight)
        self.pw = pos_weight

    def forward(self, x, t):
        xp = get_array_module(x, t)
        sp = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
        self.x, self.t, self.sp = x, t, sp
        if self.pw is None:
            return self._reduce((1.0 - t) * x + sp)
        self.lw = 1.0 + (self.pw - 1.0) * t
        return self._reduce((1.0 - t) * x + self.lw * sp)

    def backward(self, g):
        k = self._scale(g)
        x, t, pw, n = self.x, self.t, self.pw, self.needs
        gx = gt = None
        if n[0]:
            sig = backend.special(get_array_module(x)).expit(x)
            gx = (sig - t if pw is None else self.lw * sig - pw * t) * k
        if n[1]:
            gt = (-x if pw is None else (pw - 1.0) * self.sp - x) * k
        return gx, gt


def binary_cross_entropy(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against targets in [0, 1]:
    l = −w·(t·log p + (1 − t)·log(1 − p)), logs clamped at −100 as PyTorch; ``weight`` broadcasts
    to the input's shape and "mean" divides by the number of elements."""
    red = _reduction("binary_cross_entropy", reduction, size_average, reduce)
    x, t = _regression("binary_cross_entropy", input, target)
    xd, td = x.data, t.data
    if xd.size and (xd.min() < 0 or xd.max() > 1):
        raise ValueError(
            f"binary_cross_entropy input must hold probabilities in [0, 1], got values in "
            f"[{xd.min():.4g}, {xd.max():.4g}]; apply sigmoid first, or pass the raw scores to "
            "binary_cross_entropy_with_logits (stabler)."
        )
    if td.size and (td.min() < 0 or td.max() > 1):
        raise ValueError(
            f"binary_cross_entropy target must hold values in [0, 1], got values in "
            f"[{td.min():.4g}, {td.max():.4g}]; pass 0/1 labels or probabilities."
        )
    w = _elementwise_weight("binary_cross_entropy", "weight", weight, xd.shape, xd.dtype)
    return apply(BinaryCrossEntropy(red, w), x, t)


def binary_cross_entropy_with_logits(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable node, for raw scores ``input``:
    l = −w·(P·t·log σ(x) + (1 − t)·log(1 − σ(x))) with P = ``pos_weight`` (broadcast along the
    last dim, one per class), computed in log-sum-exp form so large |x| cannot overflow; "mean"
    divides by the number of elements."""
    red = _reduction("binary_cross_entropy_with_logits", reduction, size_average, reduce)
    name = "binary_cross_entropy_with_logits"
    x, t = _regression(name, input, target)
    shape, dtype = x.data.shape, x.data.dtype
    w = _elementwise_weight(name, "weight", weight, shape, dtype)
    pw = _elementwise_weight(name, "pos_weight", pos_weight, shape, dtype)
    return apply(BinaryCrossEntropyWithLogits(red, w, pw), x, t)


__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
    "sse_loss",
]
