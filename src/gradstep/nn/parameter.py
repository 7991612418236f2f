"""Parameter: a Tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor


def _is_array(value: Any) -> bool:
    """True for a backend array (anything with a dtype and a shape that is not a Tensor)."""
    return hasattr(value, "dtype") and hasattr(value, "shape") and not isinstance(value, Tensor)


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and that ``Module.__setattr__`` registers.

    ``Parameter(tensor)`` shares the tensor's array and keeps its dtype; ``Parameter(array)``
    takes a floating array as it is (no copy) and converts anything else (integer arrays, lists,
    numbers) to the default float dtype. ``Parameter()`` is an empty float parameter.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            arr = np.empty((0,), dtype=backend.get_default_dtype())
        elif isinstance(data, Tensor):
            arr = data.data
        elif _is_array(data) and data.dtype.kind == "f":
            arr = data
        else:
            try:
                arr = np.asarray(data, dtype=backend.get_default_dtype())
            except (TypeError, ValueError):
                raise TypeError(
                    f"Parameter data must be a Tensor, an array or numbers, got "
                    f"{type(data).__name__}; pass e.g. gs.zeros(3) or a NumPy array."
                ) from None
        self.data = arr
        self._grad = None
        self._grad_store = None
        self._ctx = None
        self._retain = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
