"""The array operations a capture records: ufuncs, NumPy functions, indexing and the array
methods that copy, each computed on plain arrays and kept as a replay call.

:class:`RecordedOps` is the half of the :class:`~.recorder.Recorder` that handles what a
TracedArray reports; the functions at the top are the replay forms of calls that have no
``out=`` of their own.
"""

from __future__ import annotations

import functools
import inspect
import operator
from typing import Any

import numpy as np

from .program import RNG, Call
from .traced import TracedArray, arrays_in, contains_traced, plain, root_of, unwrap

_BASIC = (int, np.integer, slice, type(None), type(Ellipsis))


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, _BASIC) and not isinstance(i, bool | np.bool_) for i in items)


@functools.lru_cache(maxsize=512)
def _takes_out(func: Any) -> bool:
    try:
        return "out" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def _recompute(buf: np.ndarray, func: Any, args: tuple, kwargs: dict) -> None:
    """Replay form of a function without ``out=``: compute, then copy into the buffer."""
    np.copyto(buf, func(*args, **kwargs), casting="unsafe")


def _recompute_many(bufs: tuple, picks: tuple, func: Any, args: tuple, kwargs: dict) -> None:
    results = func(*args, **kwargs)
    for buf, i in zip(bufs, picks):
        np.copyto(buf, results[i], casting="unsafe")


def _where_into(buf: np.ndarray, cond: Any, a: Any, b: Any) -> None:
    """``np.where(cond, a, b)`` into ``buf``: b everywhere, then a where cond holds."""
    np.copyto(buf, b, casting="unsafe")
    np.copyto(buf, a, casting="unsafe", where=cond)


def _gather(buf: np.ndarray, src: np.ndarray, index: Any) -> None:
    """Replay form of advanced indexing ``src[index]``."""
    np.copyto(buf, src[index])


def _draw(method: str, buf: np.ndarray, kwargs: dict) -> None:
    from .. import random as _random

    getattr(_random.get_generator(), method)(out=buf, **kwargs)


def _draw_copy(method: str, buf: np.ndarray, args: tuple, kwargs: dict) -> None:
    from .. import random as _random

    np.copyto(buf, getattr(_random.get_generator(), method)(*args, **kwargs), casting="unsafe")


_DATA_DEPENDENT = {
    np.nonzero: "np.nonzero",
    np.argwhere: "np.argwhere",
    np.flatnonzero: "np.flatnonzero",
    np.unique: "np.unique",
    np.extract: "np.extract",
}
_SHAPE_ONLY = frozenset(
    {
        np.shape,
        np.ndim,
        np.size,
        np.result_type,
        np.may_share_memory,
        np.shares_memory,
        np.iscomplexobj,
        np.isrealobj,
        np.can_cast,
        np.min_scalar_type,
    }
)
_FILLED_LIKE = {np.zeros_like: 0, np.ones_like: 1, np.empty_like: None}
_DRAW_OUT = frozenset({"random", "standard_normal", "standard_exponential"})


class RecordedOps:
    """Handlers for what TracedArrays report (mixed into the Recorder, which provides
    ``register``, ``key(s)``, ``before_write``, ``traced``, ``new_temp``, ``copy_into_new``,
    ``add``, ``check`` and ``abort``)."""

    steered: Any

    # -- ufuncs -----------------------------------------------------------------------------
    def on_ufunc(self, ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
        self.check()
        args = [plain(x) for x in inputs]
        out = kwargs.pop("out", None)
        kw = {k: plain(v) for k, v in kwargs.items()}
        func = ufunc if method == "__call__" else getattr(ufunc, method)
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        reads = self.keys(args + list(kw.values()))
        if method == "at":
            target = args[0]
            self.before_write([target])
            func(*args, **kw)
            self.add(
                Call(
                    functools.partial(func, *args, **kw),
                    "op",
                    reads,
                    frozenset({self.key(target)}),
                    name,
                    tuple(args),
                    (target,),
                )
            )
            return None
        if out is not None and all(o is None for o in out):
            out = None
        if out is not None:
            if any(o is None for o in out):
                self.abort(f"{name} with only some of its outputs given cannot be recorded")
            pout = tuple(plain(o) for o in out)
            self.before_write(pout)
            func(*args, out=pout, **kw)
            fn = self._ufunc_call(ufunc, func, args, pout, kw)
            self.add(Call(fn, "op", reads, self.keys(pout), name, tuple(args), pout))
            return out[0] if len(out) == 1 else out
        result = func(*args, **kw)
        results = result if isinstance(result, tuple) else (result,)
        bufs = tuple(r if isinstance(r, np.ndarray) else np.asarray(r) for r in results)
        writes = frozenset(self.register(b, "temp") for b in bufs)
        fn = self._ufunc_call(ufunc, func, args, bufs, kw)
        self.add(Call(fn, "op", reads, writes, name, tuple(args), bufs))
        ts = tuple(self.traced(b) for b in bufs)
        return ts[0] if len(ts) == 1 else ts

    def _ufunc_call(self, ufunc: Any, func: Any, args: list, outs: tuple, kw: dict) -> Any:
        """The replay form of a ufunc call; a matrix product the engine made through its BLAS
        thread steering (``blas_threads.matmul``) is replayed through it as well."""
        if self.steered is not None and ufunc is np.matmul and len(outs) == 1 and not kw:
            return functools.partial(self.steered, np, *args, out=outs[0])
        return functools.partial(func, *args, out=outs, **kw)

    # -- array functions --------------------------------------------------------------------
    def on_function(self, func: Any, args: tuple, kwargs: dict) -> Any:
        self.check()
        name = getattr(func, "__name__", "function")
        if func in _DATA_DEPENDENT:
            self.abort(f"{_DATA_DEPENDENT[func]} gives a result whose shape depends on the data")
        pargs, pkw = unwrap(args), unwrap(kwargs)
        if "out" in pkw and pkw["out"] is None:
            del pkw["out"]
        if func in _SHAPE_ONLY:
            return func(*pargs, **pkw)
        if func is np.where:
            return self._where(pargs, pkw)
        if func in _FILLED_LIKE:
            arr = func(*pargs, **pkw)
            fill = _FILLED_LIKE[func]
            return self.new_temp(arr, None if fill is None else ("fill", fill), name)
        if func is np.copy:
            src = pargs[0] if pargs else pkw["a"]
            return self.copy_into_new(np.copy(src, order=pkw.get("order", "K")), src, "copy")
        arrays = arrays_in((pargs, pkw), [])
        reads = self.keys(arrays)
        out = pkw.get("out")
        if out is not None:
            outs = out if isinstance(out, tuple) else (out,)
            self.before_write(outs)
            func(*pargs, **pkw)
            self.add(
                Call(
                    functools.partial(func, *pargs, **pkw),
                    "op",
                    reads,
                    self.keys(outs),
                    name,
                    tuple(pargs),
                    outs,
                )
            )
            return kwargs["out"]
        first = next((a for a in pargs if isinstance(a, np.ndarray)), None)
        if first is not None and not self._owned(first):
            self.before_write([first])  # in case ``func`` writes in place (copyto, put, ...)
        result = func(*pargs, **pkw)
        if result is None:
            if first is None:
                return None
            self.add(
                Call(
                    functools.partial(func, *pargs, **pkw),
                    "op",
                    reads,
                    frozenset({self.key(first)}),
                    name,
                    tuple(pargs),
                    (first,),
                )
            )
            return None
        return self._adopt(result, func, pargs, pkw, arrays, reads, name)

    def _owned(self, arr: np.ndarray) -> bool:
        entry = self.roots.get(id(root_of(arr)))
        return entry is not None and entry[1] != "const"

    def _is_view(self, r: np.ndarray, arrays: list) -> bool:
        return any(np.may_share_memory(r, a) for a in arrays)

    def _adopt(self, result, func, pargs, pkw, arrays, reads, name) -> Any:  # noqa: ANN001
        if (
            isinstance(result, tuple | list)
            and result
            and all(isinstance(r, np.ndarray) for r in result)
        ):
            picks = tuple(i for i, r in enumerate(result) if not self._is_view(r, arrays))
            if picks:
                bufs = tuple(result[i] for i in picks)
                writes = frozenset(self.register(b, "temp") for b in bufs)
                fn = functools.partial(_recompute_many, bufs, picks, func, pargs, pkw)
                self.add(Call(fn, "op", reads, writes, name, tuple(pargs), bufs))
            items = [
                self.traced(r) if i in picks else self.retrace(r) for i, r in enumerate(result)
            ]
            return type(result)(items)
        if isinstance(result, np.ndarray | np.generic):
            if isinstance(result, np.ndarray) and self._is_view(result, arrays):
                return self.retrace(result)
            buf = result if isinstance(result, np.ndarray) else np.asarray(result)
            key = self.register(buf, "temp")
            if _takes_out(func):
                fn = functools.partial(func, *pargs, out=buf, **pkw)
            else:
                fn = functools.partial(_recompute, buf, func, pargs, pkw)
            self.add(Call(fn, "op", reads, frozenset({key}), name, tuple(pargs), (buf,)))
            return self.traced(buf)
        if isinstance(result, bool | int | float | complex):
            self.abort(f"np.{name} gives a Python number, which a replay cannot repeat")
        return result

    def _where(self, pargs: tuple, pkw: dict) -> Any:
        if len(pargs) + len(pkw) < 3:
            self.abort("np.where(condition) gives a result whose shape depends on the data")
        cond, a, b = (list(pargs) + [pkw.get(k) for k in ("condition", "x", "y")])[:3]
        buf = np.where(cond, a, b)
        key = self.register(buf, "temp")
        reads = self.keys([cond, a, b])
        self.add(
            Call(
                functools.partial(_where_into, buf, cond, a, b),
                "op",
                reads,
                frozenset({key}),
                "where",
                (cond, a, b),
                (buf,),
            )
        )
        return self.traced(buf)

    # -- conversions the array module makes -------------------------------------------------
    def convert(self, obj: Any, dtype: Any, copy: Any, order: str, ndmin: int, name: str) -> Any:
        """``xp.array`` / ``xp.asarray`` / ``xp.ascontiguousarray`` of anything."""
        self.check()
        if isinstance(obj, np.ndarray):
            src = plain(obj)
            res = np.array(src, dtype=dtype, copy=copy, order=order, ndmin=ndmin)
            if np.may_share_memory(res, src):
                if not isinstance(obj, TracedArray):
                    return self.retrace(res)
                same = res.shape == obj.shape and res.dtype == obj.dtype
                return obj if same else res.view(TracedArray)
            return self.copy_into_new(res, src, name)
        if contains_traced(obj):
            p = unwrap(obj)
            res = np.array(p, dtype=dtype, order=order, ndmin=ndmin)
            key = self.register(res, "temp")
            reads = self.keys(arrays_in(p, []))
            fn = functools.partial(
                _recompute, res, np.array, (p,), {"dtype": res.dtype, "ndmin": ndmin}
            )
            self.add(Call(fn, "op", reads, frozenset({key}), name, (), (res,)))
            return self.traced(res)
        res = np.array(obj, dtype=dtype, order=order, ndmin=ndmin)
        return self.new_temp(res, ("copy", res.copy()), name)

    # -- methods ----------------------------------------------------------------------------
    def on_getitem(self, arr: TracedArray, index: Any) -> Any:
        self.check()
        src = plain(arr)
        idx = unwrap(index)
        items = idx if isinstance(idx, tuple) else (idx,)
        for i in items:
            if isinstance(i, np.ndarray) and i.dtype == np.bool_ and self._owned(i):
                self.abort("indexing with a boolean mask gives a shape that depends on the data")
        res = src[idx]
        if not isinstance(res, np.ndarray):  # a single element: keep it a 0-d array
            idx = (*items, Ellipsis)
            res = src[idx]
        if np.may_share_memory(res, src) or (res.size == 0 and _is_basic(idx)):
            return res.view(TracedArray)
        key = self.register(res, "temp")
        reads = self.keys([src, *arrays_in(idx, [])])
        fn = functools.partial(_gather, res, src, idx)  # np.take(out=) is slower here
        self.add(Call(fn, "op", reads, frozenset({key}), "getitem", (src, idx), (res,)))
        return self.traced(res)

    def on_setitem(self, arr: TracedArray, index: Any, value: Any) -> None:
        self.check()
        dst = plain(arr)
        idx = unwrap(index)
        val = unwrap(value)
        self.before_write([dst])
        dst[idx] = val
        reads = self.keys([dst, *arrays_in(idx, []), *arrays_in(val, [])])
        if _is_basic(idx):
            view = dst[idx]
            if not isinstance(view, np.ndarray):
                view = dst[(*(idx if isinstance(idx, tuple) else (idx,)), Ellipsis)]
            if isinstance(val, np.ndarray):
                fn = functools.partial(np.copyto, view, val, casting="unsafe")
            else:
                fn = functools.partial(operator.setitem, view, Ellipsis, val)
        else:
            fn = functools.partial(operator.setitem, dst, idx, val)
        self.add(
            Call(fn, "op", reads, frozenset({self.key(dst)}), "setitem", (dst, idx, val), (dst,))
        )

    def on_astype(self, arr: TracedArray, dtype: Any, order: str, casting: str, copy: bool) -> Any:
        self.check()
        src = plain(arr)
        res = src.astype(dtype, order=order, casting=casting, copy=copy)
        if res is src:
            return arr
        return self.copy_into_new(res, src, f"astype[{res.dtype}]")

    def on_copy(self, arr: TracedArray, order: str) -> Any:
        self.check()
        src = plain(arr)
        return self.copy_into_new(src.copy(order=order), src, "copy")

    def on_fill(self, arr: TracedArray, value: Any) -> None:
        self.check()
        dst = plain(arr)
        val = plain(value)
        self.before_write([dst])
        if isinstance(val, np.ndarray):
            np.copyto(dst, val, casting="unsafe")
            fn = functools.partial(np.copyto, dst, val, casting="unsafe")
        else:
            dst.fill(val)
            fn = functools.partial(np.ndarray.fill, dst, val)
        self.add(
            Call(fn, "op", self.keys([val]), frozenset({self.key(dst)}), "fill", (val,), (dst,))
        )

    def on_reshape(self, arr: TracedArray, shape: tuple, order: str) -> Any:
        self.check()
        src = plain(arr)
        res = src.reshape(*shape, order=order)
        if np.may_share_memory(res, src) or res.size == 0:
            return res.view(TracedArray)
        if order == "C":  # the copy NumPy made: C order, so the buffer seen in src's shape
            key = self.register(res, "temp")
            fn = functools.partial(np.copyto, res.reshape(src.shape), src)
        else:
            key = self.register(res, "temp")
            fn = functools.partial(_recompute, res, np.reshape, (src, res.shape), {"order": order})
        self.add(Call(fn, "op", self.keys([src]), frozenset({key}), "reshape", (src,), (res,)))
        return self.traced(res)

    def on_method_inplace(self, arr: TracedArray, name: str, args: tuple) -> None:
        self.check()
        dst = plain(arr)
        self.before_write([dst])
        getattr(dst, name)(*args)
        key = self.key(dst)
        self.add(
            Call(
                functools.partial(getattr(np.ndarray, name), dst, *args),
                "op",
                frozenset({key}),
                frozenset({key}),
                name,
                (dst,),
                (dst,),
            )
        )

    # -- random draws -----------------------------------------------------------------------
    def on_draw(self, gen: Any, method: str, args: tuple, kwargs: dict) -> Any:
        self.check()
        result = getattr(gen, method)(*args, **kwargs)
        if not isinstance(result, np.ndarray):
            self.abort(f"drawing one random number (generator.{method}) gives a Python value")
        key = self.register(result, "temp")
        if method in _DRAW_OUT and "out" not in kwargs and len(args) <= 2:
            kw = {k: v for k, v in kwargs.items() if k != "size"}
            if len(args) == 2:
                kw["dtype"] = args[1]
            fn = functools.partial(_draw, method, result, kw)
        else:
            fn = functools.partial(_draw_copy, method, result, args, kwargs)
        self.add(
            Call(fn, "rng", frozenset({RNG}), frozenset({RNG, key}), f"rng.{method}", (), (result,))
        )
        return self.traced(result)


__all__ = ["RecordedOps"]
