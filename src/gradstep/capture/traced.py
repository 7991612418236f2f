"""TracedArray: an ndarray subclass that reports every operation on it to the active recorder.

While a step is being captured, parameters, gradients, inputs and every array the step computes
are TracedArrays. NumPy hands ufuncs (operators, ``exp``, ``@``, reductions) to
``__array_ufunc__`` and its functions to ``__array_function__``; the methods that copy or read
values without going through either (indexing, ``astype``, ``copy``, ``__bool__``, ``item``...)
are overridden here. Each one forwards to the recorder, which computes the result on plain arrays
and records the call. With no recorder active a TracedArray behaves as a plain array.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class _Active:
    """The recorder in charge, or None; ``paused`` while an opaque call (optimizer step) runs."""

    __slots__ = ("recorder",)

    def __init__(self) -> None:
        self.recorder: Any = None


_active = _Active()


def active() -> Any:
    """The recorder that records now, or None (none set, or paused)."""
    rec = _active.recorder
    if rec is None or rec.paused:
        return None
    return rec


def set_recorder(rec: Any) -> Any:
    """Make ``rec`` the active recorder (None to stop); returns the previous one."""
    prev = _active.recorder
    _active.recorder = rec
    return prev


def plain(x: Any) -> Any:
    """``x`` as a plain ndarray view when it is a TracedArray, else ``x`` itself."""
    if isinstance(x, TracedArray):
        return x.view(np.ndarray)
    return x


def unwrap(x: Any) -> Any:
    """``x`` with every TracedArray inside tuples, lists and dicts made plain."""
    if isinstance(x, TracedArray):
        return x.view(np.ndarray)
    if isinstance(x, tuple):
        return tuple(unwrap(v) for v in x)
    if isinstance(x, list):
        return [unwrap(v) for v in x]
    if isinstance(x, dict):
        return {k: unwrap(v) for k, v in x.items()}
    return x


def contains_traced(x: Any, depth: int = 0) -> bool:
    """True when ``x`` is, or holds in nested tuples, lists and dicts, a TracedArray."""
    if isinstance(x, TracedArray):
        return True
    if depth > 4:
        return False
    if isinstance(x, tuple | list):
        return any(contains_traced(v, depth + 1) for v in x)
    if isinstance(x, dict):
        return any(contains_traced(v, depth + 1) for v in x.values())
    return False


def _unrecorded_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    if "out" in kwargs:
        kwargs["out"] = tuple(plain(o) for o in kwargs["out"])
    for k, v in kwargs.items():
        if isinstance(v, TracedArray):
            kwargs[k] = plain(v)
    return getattr(ufunc, method)(*(plain(x) for x in inputs), **kwargs)


def root_of(a: np.ndarray) -> np.ndarray:
    """The array that owns ``a``'s memory (``a`` itself when it is not a view)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def arrays_in(x: Any, out: list) -> list:
    """Every ndarray inside ``x`` (nested tuples, lists, dicts)."""
    if isinstance(x, np.ndarray):
        out.append(x)
    elif isinstance(x, tuple | list):
        for v in x:
            arrays_in(v, out)
    elif isinstance(x, dict):
        for v in x.values():
            arrays_in(v, out)
    return out


class TracedArray(np.ndarray):
    """An array whose operations are recorded by the active capture (see module docstring)."""

    # -- the two NumPy protocols ----------------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        rec = active()
        if rec is None:
            return _unrecorded_ufunc(ufunc, method, inputs, kwargs)
        return rec.on_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        rec = active()
        if rec is None:
            return func(*unwrap(args), **unwrap(kwargs))
        return rec.on_function(func, args, kwargs)

    # -- indexing -------------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        rec = active()
        if rec is None:
            return plain(self)[unwrap(index)]
        return rec.on_getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        rec = active()
        if rec is None:
            plain(self)[unwrap(index)] = unwrap(value)
            return
        rec.on_setitem(self, index, value)

    def __iter__(self) -> Any:
        for i in range(len(self)):
            yield self[i, ...]

    # -- methods that copy without a ufunc ------------------------------------------------------
    def astype(
        self,
        dtype: Any,
        order: str = "K",
        casting: str = "unsafe",
        subok: bool = True,
        copy: bool = True,
    ) -> Any:
        rec = active()
        if rec is None:
            return plain(self).astype(dtype, order=order, casting=casting, copy=copy)
        return rec.on_astype(self, dtype, order, casting, copy)

    def copy(self, order: str = "C") -> Any:
        rec = active()
        if rec is None:
            return plain(self).copy(order=order)
        return rec.on_copy(self, order)

    def __copy__(self) -> Any:
        return self.copy()

    def __deepcopy__(self, memo: Any) -> Any:
        return self.copy()

    def fill(self, value: Any) -> None:
        rec = active()
        if rec is None:
            plain(self).fill(plain(value))
            return
        rec.on_fill(self, value)

    def reshape(self, *shape: Any, order: str = "C", copy: Any = None) -> Any:
        rec = active()
        if rec is None:
            return plain(self).reshape(*shape, order=order)
        return rec.on_reshape(self, shape, order)

    def ravel(self, order: str = "C") -> Any:
        return self.reshape(-1, order=order)

    def flatten(self, order: str = "C") -> Any:
        return self.copy(order=order).reshape(-1, order=order)

    def sort(self, axis: int = -1, kind: Any = None, order: Any = None) -> None:
        rec = active()
        if rec is None:
            plain(self).sort(axis=axis, kind=kind, order=order)
            return
        rec.on_method_inplace(self, "sort", (axis, kind, order))

    # NumPy's C methods below bypass __array_function__: route them through the functions.
    def argmax(self, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        return np.argmax(self, axis=axis, out=out, keepdims=keepdims)

    def argmin(self, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        return np.argmin(self, axis=axis, out=out, keepdims=keepdims)

    def argsort(self, axis: int = -1, kind: Any = None, order: Any = None) -> Any:
        return np.argsort(self, axis=axis, kind=kind, order=order)

    def take(self, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
        return np.take(self, indices, axis=axis, out=out, mode=mode)

    def dot(self, b: Any, out: Any = None) -> Any:
        return np.dot(self, b, out=out)

    def repeat(self, repeats: Any, axis: Any = None) -> Any:
        return np.repeat(self, repeats, axis=axis)

    def cumsum(self, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        return np.cumsum(self, axis=axis, dtype=dtype, out=out)

    def cumprod(self, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        return np.cumprod(self, axis=axis, dtype=dtype, out=out)

    def round(self, decimals: int = 0, out: Any = None) -> Any:
        return np.round(self, decimals=decimals, out=out)

    def nonzero(self) -> Any:
        return np.nonzero(self)

    def searchsorted(self, v: Any, side: str = "left", sorter: Any = None) -> Any:
        return np.searchsorted(self, v, side=side, sorter=sorter)

    def trace(self, *args: Any, **kwargs: Any) -> Any:
        return np.trace(self, *args, **kwargs)

    def compress(self, condition: Any, axis: Any = None, out: Any = None) -> Any:
        return np.compress(condition, self, axis=axis, out=out)

    def put(self, indices: Any, values: Any, mode: str = "raise") -> None:
        np.put(self, indices, values, mode=mode)

    def choose(self, choices: Any, out: Any = None, mode: str = "raise") -> Any:
        return np.choose(self, choices, out=out, mode=mode)

    def resize(self, *args: Any, **kwargs: Any) -> None:
        _read(self, "resize()")

    # -- reading a value in Python --------------------------------------------------------------
    def __bool__(self) -> bool:
        rec = active()
        if rec is None:
            return bool(plain(self))
        return rec.on_bool(self)

    def __float__(self) -> float:
        return float(_read(self, "float()"))

    def __int__(self) -> int:
        return int(_read(self, "int()"))

    def __index__(self) -> int:
        return _read(self, "an index").__index__()

    def __complex__(self) -> complex:
        return complex(_read(self, "complex()"))

    def item(self, *args: Any) -> Any:
        return _read(self, ".item()").item(*args)

    def tolist(self) -> Any:
        return _read(self, ".tolist()").tolist()

    def tobytes(self, order: str = "C") -> bytes:
        return _read(self, ".tobytes()").tobytes(order)

    def __contains__(self, value: Any) -> bool:
        return _read(self, "the `in` operator").__contains__(unwrap(value))

    def __repr__(self) -> str:
        return repr(_read(self, "printing an array"))

    def __str__(self) -> str:
        return str(_read(self, "printing an array"))

    def __format__(self, spec: str) -> str:
        return format(_read(self, "formatting an array"), spec)

    def __reduce__(self) -> Any:
        return _read(self, "pickling an array").__reduce__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        return _read(self, "pickling an array").__reduce_ex__(protocol)


def _read(arr: TracedArray, what: str) -> np.ndarray:
    """The plain array behind ``arr``, after telling the recorder that Python reads its values."""
    rec = active()
    if rec is not None:
        rec.on_read(arr, what)
    return plain(arr)


__all__ = [
    "TracedArray",
    "active",
    "arrays_in",
    "contains_traced",
    "plain",
    "root_of",
    "set_recorder",
    "unwrap",
]
