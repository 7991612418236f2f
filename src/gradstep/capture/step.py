"""gs.capture: record one training step once, then replay it without the engine.

The capture runs the step once on TracedArray views of the model's own memory, records every
array call (see :mod:`.recorder`), puts everything back as it was, and checks the recording: it
replays two steps and compares them bit for bit with two eager steps (the example batch, then
a batch of other rows: reversed, the first replaced by a copy of the second). What it cannot
record, it leaves to eager execution, with one :class:`CaptureWarning` that names the reason
and the line.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .arguments import (
    _arg_names,
    _other_batch,
    _plain_result,
    _same_result,
    _signature,
    _where_defined,
)
from .discover import discover
from .patches import patched
from .program import (
    GuardFailed,
    Program,
    build_outputs,
    drop_constants,
    hoist_guards,
    name_roots,
    widen_constants,
)
from .recorder import Abort, OpaqueNumber, Recorder
from .state import Bindings, StateSet
from .traced import TracedArray, root_of, set_recorder

_MISSING = object()
MAX_RECORDINGS = 8
"""Recordings of one input signature before it runs eagerly for good (each records again when
the Python-side state a recording assumes changed, e.g. a switch between train and eval)."""


class CaptureWarning(UserWarning):
    """gs.capture runs a step eagerly; the message says why and which line of the step."""


class CapturedStep:
    """A training step recorded by :func:`capture`: call it like the step function.

    ``step(x, y)`` replays the recorded program for inputs of the example's shapes and dtypes,
    records a second program for other shapes (up to ``cache_size`` of them), and runs the step
    eagerly when it cannot replay (see :attr:`reason`; keyword arguments also run eagerly).
    ``step.program()`` is the recorded program as text, ``step.captured`` whether the example's
    step is replayed. Example::

        step = gs.capture(train_step, x0, y0)
        loss = step(x, y)
        print(step.program())   # matmul(x, model.0.weightᵀ) -> t0 ...
    """

    def __init__(
        self, step_fn: Callable[..., Any], state: Any = (), verify: bool = True, cache_size: int = 4
    ) -> None:
        if not callable(step_fn):
            raise TypeError(f"gs.capture needs a callable step function, got {type(step_fn)}.")
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"cache_size must be a positive int, got {cache_size!r}.")
        self.step_fn = step_fn
        self.verify = bool(verify)
        self.cache_size = cache_size
        self.state = StateSet(discover(step_fn, tuple(state)))
        self._programs: OrderedDict[Any, Program | None] = OrderedDict()
        self._example_key: Any = None
        self._warned: set[str] = set()
        self._recordings: dict[Any, int] = {}
        #: Why the last failed recording fell back to eager execution (None if none failed).
        self.reason: str | None = None
        #: Fall back without a CaptureWarning (the Trainer's default capture sets it).
        self.quiet = False

    # -- calling ------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:  # recordings are keyed by positional arguments only
            return self.step_fn(*args, **kwargs)
        key, arrays = _signature(args)
        if key is None:
            return self.step_fn(*args)
        prog = self._programs.get(key, _MISSING)
        if prog is _MISSING or (prog is not None and not prog.bindings.hold()):
            prog = self._record(args, key)
        if prog is None:
            return self.step_fn(*args)
        try:
            out = prog.replay(arrays)
        except GuardFailed:
            return self.step_fn(*args)
        if prog.refresh:  # recorded before gradient storage existed: record again, now it does
            del self._programs[key]
        return out

    def __repr__(self) -> str:
        name = getattr(self.step_fn, "__name__", "step")
        if not self.captured:
            return f"<CapturedStep {name}: runs eagerly>"
        prog = self._programs[self._example_key]
        return f"<CapturedStep {name}: {len(prog)} recorded calls, {self.recorded} recording(s)>"

    @property
    def captured(self) -> bool:
        """True when the example inputs' step is replayed (not run eagerly)."""
        return self._programs.get(self._example_key) is not None

    @property
    def recorded(self) -> int:
        """How many input signatures (shapes, dtypes) have a recording (the rest run eagerly)."""
        return sum(p is not None for p in self._programs.values())

    def program(self) -> str:
        """The program replayed for the example inputs, one line per call (``gradstep explain``
        prints it): ``matmul(x, model.0.weightᵀ) -> t0``."""
        prog = self._programs.get(self._example_key)
        if prog is None:
            return f"not captured, runs eagerly: {self.reason}"
        return prog.text()

    # -- recording ------------------------------------------------------------------------------
    def _record(self, args: tuple, key: Any) -> Program | None:
        if key not in self._programs and len(self._programs) >= self.cache_size:
            return None  # the cache is full: this shape runs eagerly
        count = self._recordings[key] = self._recordings.get(key, 0) + 1
        try:
            if count > MAX_RECORDINGS:
                raise Abort(
                    f"recorded {MAX_RECORDINGS} times and the Python-side state it assumes "
                    "(train/eval modes, which .grad are None, requires_grad) changed again",
                    _where_defined(self.step_fn),
                )
            prog = self._trace(args)
        except Abort as a:
            self._fall_back(f"{a.reason} ({a.where})")
            prog = None
        if self._example_key is None:
            self._example_key = key
        self._programs[key] = prog
        return prog

    def _fall_back(self, reason: str) -> None:
        self.reason = reason
        if reason not in self._warned and not self.quiet:
            self._warned.add(reason)
            warnings.warn(
                f"gs.capture runs {getattr(self.step_fn, '__name__', 'the step')} eagerly: "
                f"{reason}",
                CaptureWarning,
                stacklevel=4,
            )

    def _trace(self, args: tuple) -> Program:
        """Record one step on ``args``; restores every piece of state it changed. Raises Abort
        when the step cannot be recorded or the replay does not match eager execution."""
        state = self.state
        if state.unsupported is not None:
            raise Abort(state.unsupported, _where_defined(self.step_fn))
        rec = Recorder(state)
        bindings = Bindings.before(state)
        s0 = state.snapshot()
        names = _arg_names(self.step_fn, len(args))
        loads: list[tuple[int, np.ndarray]] = []
        try:
            try:
                with patched(rec):
                    state.begin(rec)
                    try:
                        traced = [
                            self._input(rec, i, a, names[i], loads) for i, a in enumerate(args)
                        ]
                        prev = set_recorder(rec)
                        try:
                            result = self.step_fn(*traced)
                        finally:
                            set_recorder(prev)
                    finally:
                        state.swap_plain(rec)
            except Abort:
                raise
            except Exception as e:  # the step failed while recorded: leave it to eager execution
                raise Abort(
                    f"recording the step raised {type(e).__name__}: {e}",
                    _where_defined(self.step_fn),
                ) from e
            if rec.aborted is not None:
                raise rec.aborted
            if bindings.modes_changed():
                raise Abort(
                    "the step switches modules between train and eval mode, which a replay "
                    "would not repeat; call model.train() or model.eval() outside the step",
                    _where_defined(self.step_fn),
                )
            outputs = self._outputs(rec, result)
            rec.sync()
            bindings.finish(rec.exempt)
            calls, constants = drop_constants(rec.calls)
            widen_constants(calls, constants)
            prologue, body, bad = hoist_guards(calls, rec.temps)
            if bad is not None:
                raise Abort(
                    f"the engine checks a value at {bad.where} that depends on work the step has "
                    "already done to its state, so a replay could not undo that work if the "
                    "check failed",
                    _where_defined(self.step_fn),
                )
            named: dict = {k: v[2] for k, v in rec.roots.items() if v[2] is not None}
            named["views"] = rec.views
            prog = Program(
                loads,
                prologue,
                body,
                outputs,
                bindings,
                name_roots([*prologue, *body], named, rec.roots),
                self._header(args, names, len(prologue) + len(body)),
                [],
            )
            prog.footer = ["returns " + self._describe_outputs(outputs, prog.names)]
            prog.refresh = bindings.fresh_storage()
            for root, _ in rec.external:
                if not any(root is a for a in state.external):
                    state.external.append(root)
            s0["external"] = [*s0["external"], *rec.external]
            if self.verify:
                self._verify(prog, args, result, s0)
            return prog
        finally:
            state.restore(s0)
            for root, saved in rec.external:
                np.copyto(root, saved)

    def _input(self, rec: Recorder, i: int, a: Any, name: str, loads: list) -> Any:
        if isinstance(a, Tensor | np.ndarray):
            arr = a.data if isinstance(a, Tensor) else a
            buf = np.array(arr, copy=True, order="C")
            rec.register(buf, "input", name)
            loads.append((i, buf))
            t = rec.traced(buf)
            return Tensor._make(t) if isinstance(a, Tensor) else t
        return a

    def _outputs(self, rec: Recorder, value: Any) -> tuple:
        if isinstance(value, Tensor | np.ndarray):
            arr = value.data if isinstance(value, Tensor) else value
            p = rec.plain_of(arr) if isinstance(arr, TracedArray) else arr
            entry = rec.roots.get(id(root_of(p))) if isinstance(p, np.ndarray) else None
            if entry is None or entry[1] == "const":
                raise Abort(
                    "the step returns an array computed outside the recorder",
                    _where_defined(self.step_fn),
                )
            return ("tensor" if isinstance(value, Tensor) else "array", p)
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            return ("namedtuple", type(value), [self._outputs(rec, v) for v in value])
        if isinstance(value, tuple | list):
            return ("seq", type(value), [self._outputs(rec, v) for v in value])
        if isinstance(value, dict):
            return ("dict", {k: self._outputs(rec, v) for k, v in value.items()})
        if isinstance(value, OpaqueNumber):
            return ("slot", value.slot)
        if value is None or isinstance(value, str | int | float | bool):
            return ("static", value)
        raise Abort(
            f"the step returns a {type(value).__name__}; return tensors, arrays or numbers",
            _where_defined(self.step_fn),
        )

    def _verify(self, prog: Program, args: tuple, result: Any, s0: dict) -> None:
        """Two replays against two eager steps (the example batch, then its rows reversed with
        the first replaced by a copy of the second),
        from the same starting state, compared bit for bit."""
        state = self.state
        e1, out1 = state.snapshot(), _plain_result(build_outputs(prog.outputs))
        rargs = _other_batch(args)
        try:
            out2 = _plain_result(self.step_fn(*rargs))
        except Exception as e:
            raise Abort(
                f"checking the recording: the eager step raised {type(e).__name__}: {e}",
                _where_defined(self.step_fn),
            ) from e
        e2 = state.snapshot()
        state.restore(s0)
        for expected, outs, run_args in ((e1, out1, args), (e2, out2, rargs)):
            if not prog.bindings.hold():
                break  # the second call records again (e.g. .grad was None at the capture)
            _, arrays = _signature(run_args)
            try:
                got = _plain_result(prog.replay(arrays))
            except GuardFailed:
                raise Abort(
                    "checking the recording: a guard disagreed on a batch of other rows",
                    _where_defined(self.step_fn),
                ) from None
            what = state.diff(expected, state.snapshot())
            if what is None and not _same_result(outs, got):
                what = "the returned value"
            if what is not None:
                raise Abort(
                    f"a replay of the recording differs from the eager step in {what}: the step "
                    "computes something the recorder does not see (NumPy calls on .numpy() "
                    "arrays, numpy.random, Python-side state)",
                    _where_defined(self.step_fn),
                )

    # -- the printout's header and footer -----------------------------------------------------
    def _header(self, args: tuple, names: list[str], n: int) -> list[str]:
        parts = []
        for a, name in zip(args, names):
            arr = a.data if isinstance(a, Tensor) else a
            if isinstance(arr, np.ndarray):
                parts.append(f"{name}: {arr.dtype}{list(arr.shape)}")
            else:
                parts.append(f"{name} = {a!r}")
        fn = getattr(self.step_fn, "__name__", "step_fn")
        return [f"captured {fn}({', '.join(parts)}): {n} calls"]

    def _describe_outputs(self, spec: tuple, names: dict) -> str:
        from .program import describe_array

        kind = spec[0]
        if kind in ("tensor", "array"):
            return describe_array(spec[1], names)
        if kind == "slot":
            return "the result of that call"
        if kind in ("seq", "namedtuple"):
            return "(" + ", ".join(self._describe_outputs(s, names) for s in spec[2]) + ")"
        if kind == "dict":
            inner = ", ".join(
                f"{k!r}: {self._describe_outputs(v, names)}" for k, v in spec[1].items()
            )
            return "{" + inner + "}"
        return repr(spec[1])


def capture(
    step_fn: Callable[..., Any],
    *example_inputs: Any,
    state: Any = (),
    verify: bool = True,
    cache_size: int = 4,
) -> CapturedStep:
    """Record one training step and return a callable that replays it.

    ``step_fn(*example_inputs)`` is run once on traced copies of the inputs (arrays or tensors):
    its forward, backward and optimizer update become a flat list of array calls into buffers
    allocated once. The optimizer's ``step()`` and ``zero_grad()``, a scheduler's ``step()`` and
    ``nn.utils.clip_grad_norm_`` are recorded as one call each and run as such at every replay,
    so hyperparameters (``lr`` after a scheduler step, an edited ``param_groups``) are read then.
    Capturing changes nothing: afterwards the model, optimizer and random state are as before,
    and N replays leave them bit-identical to N eager calls (dropout masks included: the replay
    draws from the engine's generator in the same order). The step may return tensors, arrays,
    numbers and the norm ``clip_grad_norm_`` returns, in tuples or dicts; each call returns fresh
    copies.

    Modules, optimizers and schedulers are found from ``step_fn`` (globals, closure variables,
    attributes and items of those); pass others with ``state=[...]``. Inputs of another shape
    or dtype (the short last batch) get their own recording, up to ``cache_size`` of them, then
    run eagerly. What cannot be recorded (``.item()``, branching on a value, an op without a
    replay form) runs eagerly, with one CaptureWarning naming the reason and the line.
    ``verify`` checks a recording against two eager steps (the batch, then its rows reversed with
    the first replaced by a copy of the second) before using it. Capturing patches the engine
    for a moment: do not capture while another thread runs gradstep.

    Example::

        def train_step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss

        step = gs.capture(train_step, x0, y0)
        for x, y in batches:
            loss = step(x, y)            # float(loss) is the step's loss
        print(step.program())            # one line per recorded call
    """
    step = CapturedStep(step_fn, state=state, verify=verify, cache_size=cache_size)
    key, _ = _signature(example_inputs)
    if key is None:
        step._fall_back(
            "an example input requires grad or cannot be compared (pass arrays, tensors without "
            f"requires_grad, or hashable values) ({_where_defined(step_fn)})"
        )
        return step
    step._record(example_inputs, key)
    return step


__all__ = ["CaptureWarning", "CapturedStep", "capture"]
