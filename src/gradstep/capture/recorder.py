"""The recorder: computes each traced operation on plain arrays and keeps it as a replay call.

Every array the step touches is described by its *root*, the base array that owns its memory:
"temp" (made by the step: each recorded call keeps the very array it produced during the
capture as its ``out=`` buffer), "input" (the example batch, copied in before each replay),
"state" (parameters, gradient storage, module buffers), "const" (read, never written) and
"external" (an array outside the model the step writes into; restored after the capture).
Python reading a value (``float()``, ``.item()``, branching on an array) cannot be replayed: the
engine's own checks become guards, anything else aborts the capture with the user's line.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from .ops import RecordedOps
from .program import GRADREFS, Call, check_guard
from .traced import TracedArray, active, arrays_in, plain, root_of


class Abort(BaseException):  # noqa: N818 - a control-flow signal, not an error users catch
    """Stops a capture: ``reason`` says what cannot be recorded, ``where`` is file:line."""

    def __init__(self, reason: str, where: str) -> None:
        super().__init__(reason)
        self.reason, self.where = reason, where


_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../gradstep
_CAPTURE = os.path.dirname(os.path.abspath(__file__))
_ENGINE_DUNDERS = (os.path.join(_PKG, "tensor.py"), os.path.join(_PKG, "tensor_methods.py"))
_LIBRARIES = tuple(
    os.path.dirname(os.path.abspath(m.__file__)) for m in (np,) if getattr(m, "__file__", None)
)


def _library_file(path: str) -> bool:
    if path.startswith(_LIBRARIES) or path.startswith(_CAPTURE):
        return True
    return "scipy" + os.sep in path or path.startswith("<frozen")


def user_line(depth: int = 2) -> str:
    """file:line of the innermost frame outside gradstep and NumPy (the user's code)."""
    f = sys._getframe(depth)
    fallback = ""
    while f is not None:
        path = os.path.abspath(f.f_code.co_filename)
        if not _library_file(path):
            if not path.startswith(_PKG):
                return f"{path}:{f.f_lineno}"
            if not fallback:
                fallback = f"{path}:{f.f_lineno}"
        f = f.f_back
    return fallback or "<unknown>"


def _engine_caller(depth: int = 3) -> str | None:
    """file:line of the gradstep code that asked for a value, or None when the user's code did
    (through a Tensor's ``__bool__`` or directly)."""
    f = sys._getframe(depth)
    while f is not None:
        path = os.path.abspath(f.f_code.co_filename)
        if not _library_file(path) and path not in _ENGINE_DUNDERS:
            if path.startswith(_PKG):
                return f"{os.path.relpath(path, os.path.dirname(_PKG))}:{f.f_lineno}"
            return None
        f = f.f_back
    return None


def _under_errstate(err: dict, fn: Any) -> None:
    with np.errstate(**err):
        fn()


def apply_grad_refs(entries: tuple) -> None:
    """Replay form of what backward and zero_grad do to ``.grad`` outside arrays: set each
    parameter's gradient and its kept storage to the arrays the capture saw."""
    for t, g, s in entries:
        t._grad = g
        t._grad_store = s


class OpaqueNumber(float):
    """A number an opaque call (``clip_grad_norm_``) returned while the step was recorded. The
    step may return it (each replay then returns that call's new result) but not compute with
    it: every operation on it during the capture aborts the capture."""

    slot: list
    source: str


def _refuse(name: str) -> Any:
    method = getattr(float, name)

    def guarded(self: OpaqueNumber, *args: Any) -> Any:
        rec = active()
        if rec is not None:
            rec.abort(
                f"the step computes with the number {self.source}() returned (with {name}), "
                "which a replay cannot repeat; return the number from the step instead"
            )
        return method(self, *args)

    return guarded


for _name in (
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__pow__", "__rpow__",
    "__neg__", "__abs__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__",
    "__bool__", "__float__", "__int__", "__round__", "__format__", "__repr__", "__str__",
):  # fmt: skip
    setattr(OpaqueNumber, _name, _refuse(_name))
OpaqueNumber.__hash__ = float.__hash__  # type: ignore[method-assign]


def _into_slot(slot: list, fn: Any, args: tuple, kwargs: dict) -> None:
    slot[0] = fn(*args, **kwargs)


class Recorder(RecordedOps):
    """Records one run of a step (see the module docstring). ``paused`` is non-zero while an
    opaque call (optimizer step, zero_grad) runs on plain arrays."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.paused = 0
        self.calls: list[Call] = []
        self.roots: dict[int, list] = {}  # id(root) -> [root, kind, name]
        self.temps: set[int] = set()
        self.external: list[tuple[np.ndarray, np.ndarray]] = []
        self.canon: dict[int, tuple[Any, np.ndarray]] = {}  # id(traced) -> (traced, plain)
        self.traced_for: dict[int, Any] = {}  # id(plain) -> traced counterpart
        self.aborted: Abort | None = None
        self.exempt: set[int] = set()  # params a leading zero_grad resets (their .grad is moot)
        self.last_refs: dict[int, tuple] = {}
        self.grad_roots: set[int] = set()
        self.pool: dict[tuple, list] = {}  # the capture's own workspace buffers
        self.const: set[int] = set()  # roots whose values come from constants only
        self.base_err = np.geterr()
        self.steered: Any = None  # blas_threads.matmul while the engine calls it
        self.views: list[tuple[np.ndarray, str]] = []  # named arrays (parameters, inputs)

    # -- roots ------------------------------------------------------------------------------
    def register(self, arr: np.ndarray, kind: str, name: str | None = None) -> int:
        root = root_of(arr)
        key = id(root)
        if name is not None:
            self.views.append((arr, name))
            if arr is not root:  # a view into a flat buffer: the buffer gets a generic name
                name = f"flat {kind} buffer {len(self.views)}"
        entry = self.roots.get(key)
        if entry is None:
            self.roots[key] = [root, kind, name]
            if kind == "temp":
                self.temps.add(key)
        elif kind in ("state", "input") and entry[1] == "const":
            entry[1], entry[2] = kind, name
        return key

    def key(self, arr: np.ndarray) -> int:
        """The root key of an array that is read: unknown plain roots are constants; an unknown
        TracedArray root means NumPy computed it behind the recorder's back."""
        root = root_of(arr)
        key = id(root)
        if key not in self.roots:
            if isinstance(root, TracedArray):
                self.abort("an array was computed by a NumPy method the capture does not record")
            self.roots[key] = [root, "const", None]
        return key

    def keys(self, arrays: Any) -> frozenset:
        return frozenset(self.key(a) for a in arrays if isinstance(a, np.ndarray))

    def before_write(self, arrays: Any) -> None:
        """Keep a copy of any array outside the step's own memory before it is first written
        (restored after the capture, so capturing changes nothing)."""
        for a in arrays:
            if not isinstance(a, np.ndarray):
                continue
            root = root_of(a)
            entry = self.roots.get(id(root))
            if entry is None or entry[1] == "const":
                if isinstance(root, TracedArray):
                    self.abort(
                        "an array was computed by a NumPy method the capture does not record"
                    )
                self.external.append((root, root.copy()))
                self.roots[id(root)] = [root, "external", f"ext{len(self.external) - 1}"]

    def traced(self, arr: np.ndarray) -> TracedArray:
        """A TracedArray view of a plain array, remembered so that it maps back to ``arr``."""
        t = arr.view(TracedArray)
        self.canon[id(t)] = (t, arr)
        self.traced_for.setdefault(id(arr), t)
        return t

    def plain_of(self, x: Any) -> Any:
        """The plain array the replay uses for ``x`` (None stays None)."""
        if not isinstance(x, TracedArray):
            return x
        hit = self.canon.get(id(x))
        if hit is not None:
            return hit[1]
        p = x.view(np.ndarray)
        self.canon[id(x)] = (x, p)
        self.traced_for.setdefault(id(p), x)
        return p

    def retrace(self, arr: Any) -> Any:
        """A plain view of the step's memory as a TracedArray (other arrays unchanged)."""
        if type(arr) is np.ndarray:
            entry = self.roots.get(id(root_of(arr)))
            if entry is not None and entry[1] in ("temp", "input", "state"):
                return arr.view(TracedArray)
        return arr

    def new_temp(self, arr: np.ndarray, init: Any, name: str) -> TracedArray:
        """Adopt a fresh array as a program buffer; ``init`` ("fill", v) or ("copy", constant)
        is replayed before later writes (dropped when nothing writes it)."""
        key = self.register(arr, "temp")
        if init is not None:
            how, value = init
            if how == "fill":
                fn = functools.partial(np.ndarray.fill, arr, value)
                args: tuple = (value,)
            else:
                fn = functools.partial(np.copyto, arr, value)
                args = ()
            self.add(
                Call(fn, "init", frozenset(), frozenset({key}), name, args, (arr,), droppable=True)
            )
        return self.traced(arr)

    def copy_into_new(self, buf: np.ndarray, src: Any, name: str) -> TracedArray:
        """A new buffer that the replay fills by copying ``src`` (cast unsafely)."""
        np.copyto(buf, src, casting="unsafe")
        key = self.register(buf, "temp")
        reads = self.keys([src])
        self.add(
            Call(
                functools.partial(np.copyto, buf, src, casting="unsafe"),
                "op",
                reads,
                frozenset({key}),
                name,
                (src,),
                (buf,),
            )
        )
        return self.traced(buf)

    def add(self, call: Call) -> None:
        """Append ``call``; buffers it writes from constants only stay constants. A call made
        under another ``np.errstate`` than the step's (the engine silences expected
        divide-by-zero warnings) is replayed under that state too."""
        if call.kind != "opaque":
            err = np.geterr()
            if err != self.base_err:
                call.fn = functools.partial(_under_errstate, err, call.fn)
        self.calls.append(call)
        if call.kind == "init" or (call.kind == "op" and call.reads <= self.const):
            if call.kind == "op" and call.writes <= self.temps:
                call.droppable = True  # constant folding: its buffer keeps the captured value
            self.const |= call.writes
        else:
            self.const -= call.writes

    def is_const(self, arr: np.ndarray) -> bool:
        """True when the values of ``arr`` come from constants only (array geometry made with
        ``xp.arange`` and the like), so Python may read them: every replay would see the same."""
        return id(root_of(arr)) in self.const

    # -- aborting ---------------------------------------------------------------------------
    def abort(self, reason: str) -> None:
        err = Abort(reason, user_line(3))
        if self.aborted is None:
            self.aborted = err
        raise err

    def check(self) -> None:
        if self.aborted is not None:
            raise self.aborted

    def on_read(self, arr: Any, what: str) -> None:
        if arr is not None and self.is_const(plain(arr)):
            return
        self.abort(f"{what} reads an array's value in Python, which a replay cannot repeat")

    def on_bool(self, arr: TracedArray) -> bool:
        self.check()
        p = plain(arr)
        value = bool(p)
        if self.is_const(p):
            return value
        caller = _engine_caller()
        if caller is None:
            self.abort(
                "the step branches on an array's value (data-dependent control flow), which a "
                "replay cannot follow"
            )
        self.add(
            Call(
                functools.partial(check_guard, p, value),
                "guard",
                self.keys([p]),
                frozenset(),
                "check",
                (p,),
                (),
                where=caller or "",
                expected=value,
            )
        )
        return value

    # -- opaque calls -----------------------------------------------------------------------
    def sync(self) -> None:
        """Record what ``.grad`` of each parameter points to now, where it changed."""
        entries = []
        for t in self.state.params:
            now = (self.plain_of(t._grad), self.plain_of(t._grad_store))
            last = self.last_refs.get(id(t))
            if last is None or now[0] is not last[0] or now[1] is not last[1]:
                entries.append((t, *now))
                self.last_refs[id(t)] = now
        if entries:
            fn = functools.partial(apply_grad_refs, tuple(entries))
            what = f"set .grad of {len(entries)} parameter{'s' if len(entries) > 1 else ''}"
            self.add(Call(fn, "sync", frozenset(), frozenset({GRADREFS}), what))

    def on_opaque(self, orig: Any, kind: str, obj: Any, args: tuple, kwargs: dict) -> Any:
        self.check()
        state = self.state
        label = f"{type(obj).__name__}.{orig.__name__}"
        if kind in ("step", "dist_step") and any(v is not None for v in (*args, *kwargs.values())):
            self.abort(f"{label}(closure) runs the model inside the optimizer; call step() alone")
        if kind == "allreduce" and (len(args) > 1 or kwargs.get("values")):
            self.abort(
                f"{label}(values=...) returns sums a replay cannot hand back; exchange the "
                "numbers outside the step"
            )
        if kind == "sched_step" and (args or kwargs):
            self.abort(f"{label}() with arguments cannot be recorded; step the scheduler outside")
        params = state.params_of(obj, kind)
        if params is None:
            self.abort(
                f"the step calls {label}() on an object gs.capture did not find: make it "
                "reachable from step_fn (a global, a closure variable or an attribute of one), "
                "or pass it with state=[...]"
            )
        args = tuple(list(a) if inspect.isgenerator(a) else a for a in args)
        if kind == "zero_grad":
            to_none = kwargs.get("set_to_none", args[0] if args else True)
            if to_none and not any(
                c.kind == "op" and c.writes & self.grad_roots for c in self.calls
            ):
                self.exempt.update(id(p) for p in params)
        self.sync()
        self.paused += 1
        state.swap_plain(self)
        try:
            result = orig(obj, *args, **kwargs)
        finally:
            for t in state.params:
                self.last_refs[id(t)] = (t._grad, t._grad_store)
            state.swap_traced(self)
            self.paused -= 1
        reads, writes = state.footprint(params, kind)
        fn = functools.partial(orig, obj, *args, **kwargs)
        self.add(Call(fn, "opaque", reads, writes, f"{label}()"))
        return result

    def on_opaque_function(self, orig: Any, kind: str, args: tuple, kwargs: dict) -> Any:
        """A function recorded as one call (``clip_grad_norm_``: it reads Python numbers off the
        gradients); a number it returns may be returned by the step."""
        self.check()
        args = tuple(list(a) if isinstance(a, Iterator) else a for a in args)
        first = args[0] if args else kwargs.get("parameters", kwargs.get("tensors"))
        items = first if isinstance(first, list | tuple) else [first]
        params = [t for t in items if hasattr(t, "requires_grad") and hasattr(t, "_grad")]
        if any(id(p) not in self.state._param_ids for p in params):
            self.abort(
                f"{orig.__name__}() gets a parameter gs.capture did not find: make its module "
                "reachable from step_fn or pass it with state=[...]"
            )
        self.sync()
        self.paused += 1
        self.state.swap_plain(self)
        try:
            plain_args = unwrap_plain(self, args)
            result = orig(*plain_args, **kwargs)
        finally:
            for t in self.state.params:
                self.last_refs[id(t)] = (t._grad, t._grad_store)
            self.state.swap_traced(self)
            self.paused -= 1
        grads = {id(root_of(p._grad_store)) for p in params if p._grad_store is not None}
        grads |= {self.key(a) for a in arrays_in(plain_args, [])}
        writes = frozenset(grads) if kind == "clip" else frozenset()
        slot = [result]
        fn = functools.partial(_into_slot, slot, orig, plain_args, kwargs)
        self.add(Call(fn, "opaque", frozenset(grads | {GRADREFS}), writes, f"{orig.__name__}()"))
        if isinstance(result, float):
            result = OpaqueNumber(result)
            result.slot, result.source = slot, orig.__name__
        return result


def unwrap_plain(rec: Recorder, x: Any) -> Any:
    """``x`` with every TracedArray in nested tuples and lists replaced by its plain array."""
    if isinstance(x, TracedArray):
        return rec.plain_of(x)
    if isinstance(x, tuple | list):
        return type(x)(unwrap_plain(rec, v) for v in x)
    return x


__all__ = ["Abort", "OpaqueNumber", "Recorder", "apply_grad_refs", "user_line"]
