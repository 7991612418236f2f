"""The array module the engine gets from ``get_array_module`` while a step is captured.

It is NumPy, except that making an array is recorded: ``xp.zeros``, ``xp.empty``, ``xp.array``,
``xp.asarray`` and the like return TracedArrays that belong to the recorded program (so that
writing into them later is recorded too), and a copy of a traced array is a recorded copy.
This is the ``xp`` seam of DESIGN.md principle 3 used for what it was made for.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from .traced import TracedArray, active, plain, unwrap


def _as_array_source(obj: Any) -> Any:
    """A Tensor (anything with ``__array__`` that is not an array) as its array."""
    if not isinstance(obj, np.ndarray) and hasattr(obj, "__array__") and hasattr(obj, "data"):
        data = obj.data
        if isinstance(data, np.ndarray):
            return data
    return obj


class TracingArrayModule(types.ModuleType):
    """``numpy`` with array creation recorded (attributes it does not define are NumPy's)."""

    def __init__(self) -> None:
        super().__init__("gradstep.capture.xp")

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    # -- new buffers --------------------------------------------------------------------------
    def empty(self, shape: Any, dtype: Any = float, order: str = "C", **kw: Any) -> Any:
        arr = np.empty(shape, dtype, order)
        rec = active()
        return arr if rec is None else rec.new_temp(arr, None, "empty")

    def zeros(self, shape: Any, dtype: Any = float, order: str = "C", **kw: Any) -> Any:
        return self._filled(np.zeros(shape, dtype, order), 0)

    def ones(self, shape: Any, dtype: Any = None, order: str = "C", **kw: Any) -> Any:
        return self._filled(np.ones(shape, dtype, order), 1)

    def full(
        self, shape: Any, fill_value: Any, dtype: Any = None, order: str = "C", **kw: Any
    ) -> Any:
        rec = active()
        if rec is not None and isinstance(fill_value, TracedArray):
            arr = np.empty(shape, dtype if dtype is not None else fill_value.dtype, order)
            return rec.copy_into_new(arr, plain(fill_value), "full")
        return self._filled(np.full(shape, fill_value, dtype, order), fill_value)

    def empty_like(self, prototype: Any, *args: Any, **kw: Any) -> Any:
        arr = np.empty_like(plain(prototype), *args, **kw)
        rec = active()
        return arr if rec is None else rec.new_temp(arr, None, "empty")

    def zeros_like(self, prototype: Any, *args: Any, **kw: Any) -> Any:
        return self._filled(np.zeros_like(plain(prototype), *args, **kw), 0)

    def ones_like(self, prototype: Any, *args: Any, **kw: Any) -> Any:
        return self._filled(np.ones_like(plain(prototype), *args, **kw), 1)

    def _filled(self, arr: np.ndarray, value: Any) -> Any:
        rec = active()
        return arr if rec is None else rec.new_temp(arr, ("fill", value), "fill")

    def _constant(self, arr: np.ndarray, name: str) -> Any:
        rec = active()
        return arr if rec is None else rec.new_temp(arr, ("copy", arr.copy()), name)

    def arange(self, *args: Any, **kw: Any) -> Any:
        return self._constant(np.arange(*args, **kw), "arange")

    def linspace(self, *args: Any, **kw: Any) -> Any:
        return self._constant(np.linspace(*unwrap(args), **kw), "linspace")

    def eye(self, *args: Any, **kw: Any) -> Any:
        return self._constant(np.eye(*args, **kw), "eye")

    def identity(self, *args: Any, **kw: Any) -> Any:
        return self._constant(np.identity(*args, **kw), "identity")

    # -- conversions --------------------------------------------------------------------------
    def array(
        self,
        obj: Any,
        dtype: Any = None,
        *,
        copy: Any = True,
        order: str = "K",
        subok: bool = False,
        ndmin: int = 0,
        **kw: Any,
    ) -> Any:
        rec = active()
        obj = _as_array_source(obj)
        if rec is None:
            return np.array(unwrap(obj), dtype=dtype, copy=copy, order=order, ndmin=ndmin)
        return rec.convert(obj, dtype, copy, order, ndmin, "array")

    def asarray(
        self, a: Any, dtype: Any = None, order: Any = None, *, copy: Any = None, **kw: Any
    ) -> Any:
        rec = active()
        a = _as_array_source(a)
        if rec is None:
            return np.asarray(unwrap(a), dtype=dtype, order=order, copy=copy)
        return rec.convert(a, dtype, copy, order or "K", 0, "asarray")

    def asanyarray(self, a: Any, dtype: Any = None, order: Any = None, **kw: Any) -> Any:
        return self.asarray(a, dtype, order)

    def ascontiguousarray(self, a: Any, dtype: Any = None, **kw: Any) -> Any:
        rec = active()
        a = _as_array_source(a)
        if rec is None:
            return np.ascontiguousarray(unwrap(a), dtype=dtype)
        return rec.convert(a, dtype, None, "C", 0, "ascontiguousarray")

    def asfortranarray(self, a: Any, dtype: Any = None, **kw: Any) -> Any:
        rec = active()
        a = _as_array_source(a)
        if rec is None:
            return np.asfortranarray(unwrap(a), dtype=dtype)
        return rec.convert(a, dtype, None, "F", 0, "asfortranarray")


PROXY = TracingArrayModule()

__all__ = ["PROXY", "TracingArrayModule"]
