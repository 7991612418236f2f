"""a @ b for 1-D, 2-D and batched operands: forward and backward together."""

from __future__ import annotations

from typing import Any

from ..autograd import Function
from ..backend import get_array_module
from ..blas_threads import matmul as matmul_threads
from ..tensor import Tensor, apply, as_tensor
from .arithmetic import _promote_pair


# -- matmul ------------------------------------------------------------------------------------
class Matmul(Function):
    """a @ b for 1-D, 2-D and batched operands (batch dims broadcast, as in NumPy and PyTorch)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return matmul_threads(get_array_module(a), a, b)

    def backward(self, g):
        a, b, n = self.a, self.b, self.needs
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if n[0] else None, g * a if n[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        xp = get_array_module(g)
        g2 = g
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        if n[0]:
            ga = matmul_threads(xp, g2, xp.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                ga = ga.reshape(-1, a.shape[0]).sum(0) if ga.ndim > 2 else ga[0]
        if n[1]:
            gb = matmul_threads(xp, xp.swapaxes(a2, -1, -2), g2)
            if b.ndim == 1:
                gb = gb.reshape(-1, b.shape[0]).sum(0) if gb.ndim > 2 else gb[:, 0]
        return ga, gb


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's/PyTorch's rules for 1-D and batched operands."""
    a, b = as_tensor(a), as_tensor(b)
    if a.data.ndim == 0 or b.data.ndim == 0:
        raise ValueError("matmul needs operands with at least one dimension; use * for scalars.")
    ka = a.data.shape[-1]
    kb = b.data.shape[0] if b.data.ndim == 1 else b.data.shape[-2]
    if ka != kb:
        raise ValueError(
            f"matmul shapes {tuple(a.data.shape)} and {tuple(b.data.shape)} do not match: the "
            f"last dim of the first ({ka}) must equal the "
            f"{'first' if b.data.ndim == 1 else 'second-to-last'} dim of the second ({kb})."
        )
    a, b = _promote_pair(a, b)
    return apply(Matmul(), a, b)
