"""Operators and methods of Tensor, bound to the functional ops (kept apart from tensor.py)."""

from __future__ import annotations

from typing import Any


def install(cls: type) -> None:
    """Attach Python operators and PyTorch-named methods to the Tensor class."""
    from . import functional as M  # arithmetic, matmul and the math functions
    from .backend import get_array_module
    from .functional import activation as A
    from .functional import reduce as R
    from .functional import shape as S

    def _rsub(self, other):
        return M.sub(other, self)

    def _rtruediv(self, other):
        return M.div(other, self)

    def _rpow(self, other):
        return M.pow(other, self)

    def _rmatmul(self, other):
        return M.matmul(other, self)

    def _cmp(op):
        def f(self, other):
            o = other.data if isinstance(other, cls) else other
            xp = get_array_module(self.data)
            return cls._make(xp.asarray(op(self.data, o)))  # 0-d: an array, not a scalar

        return f

    import operator

    ops = {
        "__add__": M.add,
        "__radd__": M.add,
        "__sub__": M.sub,
        "__rsub__": _rsub,
        "__mul__": M.mul,
        "__rmul__": M.mul,
        "__truediv__": M.div,
        "__rtruediv__": _rtruediv,
        "__pow__": M.pow,
        "__rpow__": _rpow,
        "__matmul__": M.matmul,
        "__rmatmul__": _rmatmul,
        "__neg__": M.neg,
        "__abs__": M.abs,
        "__getitem__": S.getitem,
        "__lt__": _cmp(operator.lt),
        "__le__": _cmp(operator.le),
        "__gt__": _cmp(operator.gt),
        "__ge__": _cmp(operator.ge),
        "__eq__": _cmp(operator.eq),
        "__ne__": _cmp(operator.ne),
        "add": M.add,
        "sub": M.sub,
        "mul": M.mul,
        "div": M.div,
        "pow": M.pow,
        "matmul": M.matmul,
        "neg": M.neg,
        "exp": M.exp,
        "log": M.log,
        "sqrt": M.sqrt,
        "abs": M.abs,
        "clamp": M.clamp,
        "clip": M.clamp,
        "maximum": M.maximum,
        "minimum": M.minimum,
        "sum": R.sum,
        "mean": R.mean,
        "var": R.var,
        "std": R.std,
        "max": R.max,
        "min": R.min,
        "amax": R.amax,
        "amin": R.amin,
        "argmax": R.argmax,
        "argmin": R.argmin,
        "logsumexp": R.logsumexp,
        "reshape": S.reshape,
        "view": S.reshape,
        "flatten": S.flatten,
        "permute": S.permute,
        "transpose": S.transpose,
        "t": S.t,
        "squeeze": S.squeeze,
        "unsqueeze": S.unsqueeze,
        "expand": S.expand,
        "sigmoid": A.sigmoid,
        "tanh": A.tanh,
        "relu": A.relu,
        "softmax": A.softmax,
        "log_softmax": A.log_softmax,
    }
    for name, fn in ops.items():
        setattr(cls, name, fn)
    cls.T = property(S.t)
    cls.mT = property(lambda self: S.transpose(self, -2, -1))

    def all_(self, dim=None):
        return cls._make(get_array_module(self.data).asarray(self.data.all(axis=dim)))

    def any_(self, dim=None):
        return cls._make(get_array_module(self.data).asarray(self.data.any(axis=dim)))

    def zero_(self):
        self.data[...] = 0
        return self

    def fill_(self, value: Any):
        self.data[...] = value
        return self

    def copy_(self, src: Any):
        self.data[...] = src.data if isinstance(src, cls) else src
        return self

    def view_as(self, other):
        return S.reshape(self, other.shape)

    def expand_as(self, other):
        return S.expand(self, other.shape)

    cls.all = all_
    cls.any = any_
    cls.zero_ = zero_
    cls.fill_ = fill_
    cls.copy_ = copy_
    cls.view_as = view_as
    cls.expand_as = expand_as
