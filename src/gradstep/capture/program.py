"""The recorded program: a flat list of pre-bound array calls, its guards, and its printout.

A :class:`Call` is one step of the replay: a zero-argument callable (a ``functools.partial`` of a
NumPy function with its ``out=`` buffer, an optimizer's ``step``, ...) plus what it reads and
writes, kept as *roots*: the base arrays that own the memory (ids), or a name for Python-side
state ("rng", "gradrefs"). Guards are calls that check a value the engine branched on during the
capture (a label range check, a NaN check); :func:`hoist_guards` moves each guard, with the calls
its value depends on, to the front of the program, so a failing guard stops the replay before
anything the user can see has changed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor

# Pseudo-roots: Python-side state that calls read or write.
RNG = "rng"
GRADREFS = "gradrefs"
EVERYTHING = "everything"


class GuardFailed(Exception):
    """Raised by a guard whose value differs from the capture's: the replay must not go on."""


@dataclass(eq=False)
class Call:
    """One recorded call: ``fn()`` replays it; ``reads`` / ``writes`` are root keys.

    ``kind`` is "op" (an array call), "init" (fills a buffer the step created), "rng" (a draw
    from the generator), "guard", "opaque" (optimizer step, zero_grad, scheduler step) or
    "sync" (sets parameters' ``.grad``). ``name``, ``args`` and ``outs`` are for the printout;
    ``where`` is the user's line that led to the call.
    """

    fn: Callable[[], Any]
    kind: str
    reads: frozenset = frozenset()
    writes: frozenset = frozenset()
    name: str = ""
    args: tuple = ()
    outs: tuple = ()
    where: str = ""
    expected: Any = None
    droppable: bool = False


def check_guard(buf: np.ndarray, expected: bool) -> None:
    """The replay form of a guard: the value must be what it was during the capture."""
    if bool(buf) is not expected:
        raise GuardFailed


def drop_constants(calls: list[Call]) -> tuple[list[Call], set]:
    """Leave out the calls that compute constants (fill a new buffer with zeros, or combine
    constants only, as ``arange(n) * C``): their buffers keep the values they got during the
    capture. A buffer qualifies when only such calls write it and nothing reads it before its
    last write. Returns the calls kept and the roots of those constant buffers."""
    last_write: dict = {}
    for i, c in enumerate(calls):
        for w in c.writes:
            last_write[w] = i
    unfit = {w for c in calls if not c.droppable for w in c.writes}
    for i, c in enumerate(calls):
        unfit.update(r for r in c.reads if i < last_write.get(r, -1))
    fold = {r for r in last_write if r not in unfit}
    kept = [c for c in calls if not (c.droppable and c.writes and c.writes <= fold)]
    return kept, fold


WIDEN_LIMIT = 1 << 16
"""Bytes a widened constant may take (see :func:`widen_constants`): past that, reading the
extra memory costs more than the broadcasting loop saves."""


def widen_constants(calls: list[Call], fold: set) -> None:
    """Give element-wise ufunc calls their operands at the output's full shape where that is
    free: constants (as ReLU's row of zeros) as a broadcast copy, and operands that only lack
    leading 1s (a bias at batch size 1) as a view. NumPy's broadcasting loop costs about twice a
    same-shape one and allocates an iteration buffer per call; the results are the same."""
    for c in calls:
        f = c.fn
        if type(f) is not functools.partial or not isinstance(f.func, np.ufunc):
            continue
        out = f.keywords.get("out")
        if f.func.signature is not None or not isinstance(out, tuple) or len(out) != 1:
            continue
        shape = out[0].shape
        args = list(f.args)
        for j, a in enumerate(args):
            if not isinstance(a, np.ndarray) or a.shape == shape:
                continue
            if a.size == out[0].size and a.ndim < len(shape):  # only leading 1s added
                view = a.reshape(shape)
                if np.shares_memory(view, a):  # the same memory: always the current values
                    args[j] = view
            elif id(_root(a)) in fold and a.dtype.itemsize * out[0].size <= WIDEN_LIMIT:
                try:
                    args[j] = np.ascontiguousarray(np.broadcast_to(a, shape))
                except ValueError:
                    continue
        if any(x is not y for x, y in zip(args, f.args)):
            c.fn = functools.partial(f.func, *args, **f.keywords)


def hoist_guards(calls: list[Call], temps: set) -> tuple[list[Call], list[Call], Call | None]:
    """Split ``calls`` into (prologue, body): every guard, with the calls its value depends on,
    moved to the prologue in their order. Returns (prologue, body, None), or (.., .., guard) for
    the first guard that cannot move (its slice writes state, or another call in between
    conflicts): such a program must not be replayed.

    A slice may write only buffers the step created (``temps``) or draw random numbers; no call
    left behind that originally ran before a slice call may write what that call reads or
    read or write what it writes.
    """
    prologue: list[Call] = []
    body = list(calls)
    while True:
        gi = next((i for i, c in enumerate(body) if c.kind == "guard"), None)
        if gi is None:
            return prologue, body, None
        guard = body[gi]
        need = set(guard.reads)
        members = []
        for i in range(gi - 1, -1, -1):
            c = body[i]
            if c.writes & need:
                members.append(i)
                need |= c.reads | c.writes
        members.reverse()
        chosen = set(members)
        for i in members:
            c = body[i]
            if c.kind not in ("op", "init", "rng", "guard"):
                return prologue, body, guard
            if any(w != RNG and w not in temps for w in c.writes):
                return prologue, body, guard
        left_w: set = set()  # what the calls left behind (so far) write and read
        left_r: set = set()
        for i in range(gi):
            c = body[i]
            if i in chosen:
                if EVERYTHING in left_w or left_w & (c.reads | c.writes) or left_r & c.writes:
                    return prologue, body, guard
            else:
                left_w |= c.writes
                left_r |= c.reads
        prologue.extend(body[i] for i in members)
        prologue.append(guard)
        body = [c for i, c in enumerate(body) if i not in chosen and i != gi]


# -- the program ----------------------------------------------------------------------------------
class Program:
    """One recorded step, ready to replay: copy the batch in, run the guards (prologue) and the
    body, return fresh copies of what the step returned.

    ``loads`` pairs each array argument's position with its buffer; ``outputs`` describes the
    return value (see :func:`build_outputs`); ``bindings`` checks the Python-side state the
    recording assumed (see ``state.Bindings``).
    """

    def __init__(
        self,
        loads: list[tuple[int, np.ndarray]],
        prologue: list[Call],
        body: list[Call],
        outputs: tuple,
        bindings: Any,
        names: dict[int, str],
        header: list[str],
        footer: list[str],
    ) -> None:
        self.loads = loads
        self.prologue, self.body = prologue, body
        self._guards = compile_calls([c.fn for c in prologue]) if prologue else None
        self._calls = compile_calls([c.fn for c in body])
        self._rng = any(c.kind == "rng" for c in prologue)
        self.outputs = outputs
        self.bindings = bindings
        self.names, self.header, self.footer = names, header, footer
        self.refresh = False  # record again after the first replay (see CapturedStep)

    def replay(self, arrays: Sequence[Any]) -> Any:
        """Run the step on ``arrays`` (one per argument, None for non-array arguments); raises
        :class:`GuardFailed` (with nothing changed) when a guard disagrees."""
        for i, buf in self.loads:
            np.copyto(buf, arrays[i])
        if self._guards is not None:
            self._run_guards()
        self._calls()
        return build_outputs(self.outputs)

    def _run_guards(self) -> None:
        saved = _random.get_generator().bit_generator.state if self._rng else None
        try:
            self._guards()
        except GuardFailed:
            if saved is not None:
                _random.get_generator().bit_generator.state = saved
            raise

    def __len__(self) -> int:
        return len(self.prologue) + len(self.body)

    def text(self) -> str:
        return render(self.prologue, self.body, self.names, self.header, self.footer)


def compile_calls(fns: Sequence[Callable[[], Any]]) -> Callable[[], None]:
    """One function that makes the calls in order, each written out as a direct call of the
    partial's function with its bound arguments: a loop over partials pays for a dict of
    keyword arguments per call, which is a fifth of a small ufunc's time."""
    ns: dict[str, Any] = {}
    lines = ["def run():"]
    for i, f in enumerate(fns):
        if type(f) is functools.partial:
            ns[f"f{i}"] = f.func
            parts = []
            for j, a in enumerate(f.args):
                ns[f"a{i}_{j}"] = a
                parts.append(f"a{i}_{j}")
            for k, v in f.keywords.items():
                ns[f"k{i}_{k}"] = v
                parts.append(f"{k}=k{i}_{k}")
            lines.append(f"    f{i}({', '.join(parts)})")
        else:
            ns[f"f{i}"] = f
            lines.append(f"    f{i}()")
    lines.append("    return None")
    source = "\n".join(lines)
    code = _COMPILED.get(source)
    if code is None:  # compiling takes about 0.7 ms; the same network's recordings share it
        if len(_COMPILED) >= MAX_COMPILED:
            _COMPILED.clear()
        code = _COMPILED[source] = compile(source, "<gs.capture replay>", "exec")
    exec(code, ns)  # noqa: S102
    return ns["run"]


MAX_COMPILED = 64
"""Compiled replay functions kept, by their source (which names only positions, f3(a3_0, ...),
so every recording of one network's step shares one)."""
_COMPILED: dict[str, Any] = {}


def build_outputs(spec: tuple) -> Any:
    """A fresh copy of the step's return value from its description: ("tensor", buffer),
    ("array", buffer), ("seq", type, items), ("namedtuple", type, items), ("dict", items),
    ("slot", [number]) or ("static", value)."""
    kind = spec[0]
    if kind == "tensor":
        return Tensor._make(spec[1].copy())
    if kind == "array":
        return spec[1].copy()
    if kind == "seq":
        return spec[1](build_outputs(s) for s in spec[2])
    if kind == "namedtuple":
        return spec[1](*(build_outputs(s) for s in spec[2]))
    if kind == "dict":
        return {k: build_outputs(v) for k, v in spec[1].items()}
    if kind == "slot":  # what an opaque call (clip_grad_norm_) returned in this replay
        return spec[1][0]
    return spec[1]


def name_roots(calls: Sequence[Call], named: dict[int, str], roots: dict[int, list]) -> dict:
    """Names for the printout: the given ones (inputs, parameters, buffers), then t0, t1, ...
    for the step's own buffers and c0, c1, ... for constants, in order of appearance."""
    names = dict(named)
    counts = {"t": 0, "c": 0}
    written = {id(_root(o)) for c in calls for o in c.outs if isinstance(o, np.ndarray)}
    for c in calls:
        for a in (*c.outs, *c.args):
            for arr in _flat_arrays(a):
                key = id(_root(arr))
                if key in names or key not in roots:
                    continue
                prefix = "t" if roots[key][1] == "temp" and key in written else "c"
                if prefix == "c" and _ones_vector(roots[key][0]):  # Linear's 1ᵀg (bias grad)
                    names[key] = f"ones({roots[key][0].size})"
                    continue
                names[key] = f"{prefix}{counts[prefix]}"
                counts[prefix] += 1
    return names


def _ones_vector(a: Any) -> bool:
    """A constant vector of ones (what sums a gradient over the batch in a product)."""
    return (
        isinstance(a, np.ndarray) and a.ndim == 1 and 0 < a.size <= 1 << 16 and bool(np.all(a == 1))
    )


def _flat_arrays(x: Any) -> list:
    if isinstance(x, np.ndarray):
        return [x]
    if isinstance(x, tuple | list):
        return [a for v in x for a in _flat_arrays(v)]
    return []


# -- the printout ---------------------------------------------------------------------------------
def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def describe_array(a: np.ndarray, names: dict) -> str:
    """A readable name for ``a``: a named array's name (``names["views"]``: parameters,
    gradients, inputs) or its root's, with ᵀ for a transposed matrix and the shape for other
    views."""
    for v, vname in names.get("views", ()):
        if _address(v) != _address(a):
            continue
        if a.shape == v.shape and a.strides == v.strides:
            return vname
        if a.ndim == 2 and a.shape == v.shape[::-1] and a.strides == v.strides[::-1]:
            return vname + "ᵀ"
    root = _root(a)
    name = names.get(id(root))
    if name is None:
        name = f"const{tuple(a.shape)}" if a.ndim else repr(a[()])
        return name
    if a is root or (a.shape == root.shape and a.strides == root.strides):
        if _address(a) == _address(root):
            return name
    if (
        a.ndim == 2
        and root.ndim == 2
        and a.shape == root.shape[::-1]
        and a.strides == root.strides[::-1]
        and _address(a) == _address(root)
    ):
        return name + "ᵀ"
    if _address(a) == _address(root) and a.size == root.size:
        return f"{name}⟨{'×'.join(map(str, a.shape)) or 'scalar'}⟩"
    return f"{name}[⟨{'×'.join(map(str, a.shape)) or 'scalar'}⟩]"


def describe_value(v: Any, names: dict[int, str]) -> str:
    if isinstance(v, np.ndarray):
        return describe_array(v, names)
    if isinstance(v, slice):
        parts = ["" if p is None else str(p) for p in (v.start, v.stop, v.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if v.step is not None else "")
    if v is Ellipsis:
        return "..."
    if isinstance(v, tuple):
        return "[" + ", ".join(describe_value(x, names) for x in v) + "]"
    if isinstance(v, np.generic):
        return repr(v.item())
    if isinstance(v, float):
        return f"{v:.6g}"
    return repr(v)


def render(
    prologue: Sequence[Call],
    body: Sequence[Call],
    names: dict[int, str],
    header: Sequence[str],
    footer: Sequence[str],
) -> str:
    """One line per call: ``matmul(x, model.0.weightᵀ) -> t0``."""
    lines = list(header)
    n = 0

    def line(c: Call) -> str:
        nonlocal n
        n += 1
        if c.kind == "guard":
            text = f"check {describe_value(c.args[0], names)} is {c.expected}  (else run eagerly)"
        elif c.kind == "sync":
            text = c.name
        elif c.kind == "opaque":
            text = f"{c.name}  (the optimizer's own code; hyperparameters read now)"
        else:
            args = ", ".join(describe_value(a, names) for a in c.args)
            outs = ", ".join(describe_value(o, names) for o in c.outs)
            text = f"{c.name}({args})" + (f" -> {outs}" if outs else "")
        return f"{n:4d}  {text}"

    if prologue:
        lines.append("guards first (with the calls they need):")
        lines.extend(line(c) for c in prologue)
        lines.append("step:")
    lines.extend(line(c) for c in body)
    lines.extend(footer)
    return "\n".join(lines)


__all__ = [
    "Call",
    "Program",
    "build_outputs",
    "name_roots",
    "GuardFailed",
    "check_guard",
    "describe_array",
    "drop_constants",
    "widen_constants",
    "hoist_guards",
    "render",
]
