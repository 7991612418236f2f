"""Loss functions with ``torch.nn.functional``'s names, arguments and results.

Each loss is one graph node: the forward computes the per-element loss and applies the reduction,
the backward returns the input gradient scaled the same way. Softmax and cross-entropy are fused
(backward = softmax − smoothed one-hot), as the classic derivation gives; they and NLL live here,
the elementwise losses (squared and absolute error, Huber, binary cross-entropy) in
elementwise_loss.py, the argument checks all share in loss_args.py. Class weights, ``weight``
and ``pos_weight`` are constants (no gradient flows into them). Non-finite values are not checked
here: the trainer checks the loss at its boundary.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function
from ..backend import Array, get_array_module
from ..tensor import Tensor, apply, as_tensor
from . import constants
from .arithmetic import cast
from .elementwise_loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    huber_loss,
    l1_loss,
    mse_loss,
    smooth_l1_loss,
    sse_loss,
)
from .loss_args import _class_count, _class_weight, _float_input, _reduction


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


#: Scores with at most this many classes (and at least twice as many rows) are reduced over
#: their transposed copy (:func:`_row_reduce`, ``CrossEntropy._plain_columns``): measured faster.
NARROW_CLASSES = 32


def _narrow(m: int, c: int) -> bool:
    """Many short rows: m rows of at most NARROW_CLASSES columns, at least twice as many rows."""
    return c <= NARROW_CLASSES and m >= 2 * c


def _row_reduce(ufunc: Any, a: Array) -> Array:
    """``ufunc.reduce(a, axis=1, keepdims=True)`` for a 2-D ``a``. Many short rows (at most
    :data:`NARROW_CLASSES` columns, at least twice as many rows) are reduced over the transposed
    copy, where NumPy runs along contiguous memory instead of one short loop per row (200 × 10:
    1 + 1.5 µs against 8.8 µs). The copy is an array method, which a captured step records."""
    if _narrow(*a.shape):
        return ufunc.reduce(a.T.copy(), axis=0)[:, None]
    return ufunc.reduce(a, axis=1, keepdims=True)  # the ufunc's reduce: no Python wrapper


def _softmax_parts(xp: Any, x: Array) -> tuple[Array, Array, Array]:
    """z = x − max, e = exp(z), lse = log Σ e per row: stable for any finite scores."""
    z = x - _row_reduce(xp.maximum, x)
    e = xp.exp(z)
    return z, e, _row_reduce(xp.add, e)


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


_UNSIGNED = {1: backend.uint8, 2: backend.uint16, 4: backend.uint32, 8: backend.uint64}


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
        rows = constants.arange(xp, m)
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
        gathered through flat indices, row·C + t, which costs a third of a (row, t) pair index.
        Many short rows (few classes) are worked on transposed, see :meth:`_plain_columns`."""
        if _narrow(m, c):
            return self._plain_columns(xp, x, m, c)
        self.columns = False
        if not x.flags.c_contiguous:  # rows of a (N, C, d...) input: flat indices need C order
            x = xp.ascontiguousarray(x)
        z, e, s = _softmax_parts(xp, x)
        self.e, self.s, self.wt = e, s, None
        # one row (batch 1, the textbook SGD step) starts at 0: its flat indices are the targets
        flat = self.flat = self.t if m == 1 else constants.arange(xp, m * c, c) + self.t
        per = xp.log(s[:, 0])
        per -= z.reshape(-1)[flat]
        self.denom = m
        if m == 1 and self.reduction != "none":  # the sum (and mean) of one loss is that loss
            return per.reshape(())
        return _finish(xp, per, self.reduction, m, self.out_shape)

    def _plain_columns(self, xp, x, m, c):
        """:meth:`_plain` on the scores transposed, (C, M): a row's maximum and sum become
        reductions over the first axis, which NumPy runs along M contiguous values at a time
        instead of M short loops of C (200 × 10: 13.6 µs → 4 µs with the transpose's copy).
        The target of sample i sits at t·M + i."""
        self.columns = True
        z = xp.ascontiguousarray(x.T)  # our own copy: shifted in place below
        xp.subtract(z, xp.maximum.reduce(z, axis=0), out=z)
        e = xp.exp(z)
        s = xp.add.reduce(e, axis=0)
        self.e, self.s, self.wt = e, s, None
        flat = self.flat = self.t * m + constants.arange(xp, m)
        per = xp.log(s)
        per -= z.reshape(-1)[flat]
        self.denom = m
        return _finish(xp, per, self.reduction, m, self.out_shape)

    def backward(self, g):
        p = self.e / self.s
        if self.flat is not None and self.columns:  # (C, M): softmax − onehot, transposed back
            p.reshape(-1)[self.flat] -= 1.0
            m = p.shape[1]
            k = _scale(g, self.reduction, m, m)
            p *= k if k.ndim == 0 else k.reshape(1, m)
            return (_unrows(p.T, self.shape),)
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
        self.rows = constants.arange(xp, m)
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
