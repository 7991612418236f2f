"""Flat parameter buffers in the Trainer, and the gradient norm it records every step in one
dot product when it can.

When the parameters' gradients are the views of one flat buffer (``nn.flatten_parameters``, which
the Trainer applies by default) and every parameter got a gradient this step, the joint 2-norm
is the norm of that buffer: one BLAS dot instead of one per parameter. Otherwise (a parameter
without a gradient, whose stale slice must not count; parameters not flattened) it is
``nn.utils.get_total_norm``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ..backend import get_array_module
from ..nn.flat import find_flat_buffers, flatten_parameters
from ..nn.utils import _total_norm, get_total_norm
from ..tensor import Tensor


def grad_norm_function(params: Sequence[Any]) -> Callable[[], float]:
    """A function of no arguments giving the current joint 2-norm of ``params``' gradients.

    >>> import gradstep as gs
    >>> model = gs.nn.Linear(2, 1)
    >>> _ = model.flatten_parameters()
    >>> norm = grad_norm_function(list(model.parameters()))
    >>> model(gs.ones(1, 2)).sum().backward()
    >>> round(norm(), 4)   # dW = [1, 1], db = [1]
    1.7321
    """
    params = list(params)
    tensors = bool(params) and all(isinstance(p, Tensor) for p in params)
    flat = find_flat_buffers(params) if tensors else None
    if flat is None:
        if all(hasattr(p, "grad") for p in params):  # parameters, checked once here
            return lambda: _total_norm([p.grad for p in params if p.grad is not None], 2.0, False)
        return lambda: get_total_norm(params)
    grads = flat.grads
    dot = get_array_module(grads).dot

    def norm() -> float:
        for p in params:
            if p._grad is not p._grad_store:
                return get_total_norm(params)
        return math.sqrt(float(dot(grads, grads)))

    return norm


def flatten_model(model: Any) -> bool:
    """Lay ``model``'s parameters and gradients out in one flat buffer each, as the Trainer does
    by default (so that the optimizer updates, and the norm above reads, whole buffers in one
    pass). Parameters already laid out so keep their buffers; a model whose parameters mix
    dtypes, or has none, is left alone. Returns whether the model is flat afterwards.
    """
    params = list(model.parameters())
    if not params or len({p.data.dtype for p in params}) != 1:
        return False
    flatten_parameters(params)  # keeps buffers the parameters already tile
    return True
