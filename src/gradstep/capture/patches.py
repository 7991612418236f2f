"""The switches a capture turns on while it records one step, and turns off again.

All of them are attribute assignments undone in reverse order when the capture ends (also on
errors), and all of them test for an active recorder, so code that runs meanwhile without one
(an optimizer step, which is recorded as one opaque call) sees the ordinary engine:

- the engine's array module (``get_array_module``, ``array_module_for``, ``special``) becomes
  the recording module of :mod:`.xp`, and ``backend.array_types`` holds TracedArray only, so
  ``apply`` passes every op's result through it;
- ``blas_threads.matmul`` (the engine's thread steering around BLAS products) marks the
  products it makes, which the replay then makes through it too;
- ``gradstep.random.get_generator`` hands out a generator whose draws are recorded;
- ``functional.workspace`` lends the capture its own buffers (never eager code's);
- ``Tensor._make`` turns plain views of the step's memory back into traced arrays;
- optimizers' ``step`` / ``zero_grad`` (a DistributedOptimizer's ``step`` and ``synchronize``:
  the gradient allreduce is a call of its own), ``Module.zero_grad``, schedulers' ``step``,
  ``nn.utils.clip_grad_norm_`` and ``get_total_norm`` are recorded as opaque calls;
- ``Module.__call__`` and the leaf gradient accumulation check that the modules and parameters
  the step uses were found.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import backend, blas_threads
from .. import engine as _engine
from .. import random as _random
from ..functional import workspace
from ..nn import utils as nn_utils
from ..nn.module import Module
from ..optim.optimizer import Optimizer
from ..optim.scheduler_base import LRScheduler
from ..tensor import Tensor
from .traced import TracedArray, active
from .xp import PROXY

_MISSING = object()


class TracingGenerator:
    """The engine's generator, with every draw recorded as a "draw into this buffer" call."""

    def __init__(self, gen: Any) -> None:
        self._gen = gen

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._gen, name)
        rec = active()
        if rec is None or name.startswith("_") or not callable(attr) or name == "spawn":
            return attr
        gen = self._gen

        def draw(*args: Any, **kwargs: Any) -> Any:
            return rec.on_draw(gen, name, args, kwargs)

        return draw


def _subclasses(cls: type) -> list[type]:
    out, todo = [], [cls]
    while todo:
        c = todo.pop()
        out.append(c)
        todo.extend(c.__subclasses__())
    return out


def _has_state(m: Module) -> bool:
    return any(v is not None for v in m._parameters.values()) or any(
        v is not None for v in m._buffers.values()
    )


_SITES: dict[tuple, list[tuple[Any, str]]] = {}


def _sites(twins: dict[int, tuple[Any, Any]]) -> list[tuple[Any, str]]:
    """(module, name) of every name in gradstep's loaded modules (the capture package's own left
    out) bound to one of the originals in ``twins``. Scanning the modules costs about a
    millisecond, so the places are kept until another module loads (each is checked again when
    patched)."""
    key = (len(sys.modules), *sorted(twins))
    found = _SITES.get(key)
    if found is None:
        found = []
        for name, mod in list(sys.modules.items()):
            if not name.startswith("gradstep.") or name.startswith("gradstep.capture") or not mod:
                continue
            for attr, value in list(vars(mod).items()):
                if id(value) in twins and twins[id(value)][0] is value:
                    found.append((mod, attr))
        _SITES.clear()
        _SITES[key] = found
    return found


@contextlib.contextmanager
def patched(rec: Any) -> Iterator[None]:
    """Turn the switches on for recorder ``rec`` (see the module docstring)."""
    undo: list[tuple[Any, str, Any]] = []

    def put(obj: Any, name: str, value: Any) -> None:
        undo.append((obj, name, vars(obj).get(name, _MISSING)))
        setattr(obj, name, value)

    orig_gam = backend.get_array_module
    orig_amf = backend.array_module_for
    orig_special = backend.special

    def get_array_module(*values: Any) -> Any:
        return PROXY if active() is not None else np

    def array_module_for(device: Any = None) -> Any:
        xp = orig_amf(device)
        return PROXY if active() is not None else xp

    def special(xp: Any) -> Any:
        return orig_special(np if xp is PROXY else xp)

    try:
        put(backend, "get_array_module", get_array_module)
        put(backend, "array_module_for", array_module_for)
        put(backend, "special", special)
        put(backend, "array_types", frozenset({TracedArray}))
        orig_mm = blas_threads.matmul

        def steered_matmul(xp: Any, a: Any, b: Any, out: Any = None) -> Any:
            r = active()
            if r is None:
                return orig_mm(xp, a, b, out)
            r.steered = orig_mm  # the product below is replayed through the same steering
            try:
                return orig_mm(np if xp is PROXY else xp, a, b, out)
            finally:
                r.steered = None

        put(blas_threads, "matmul", steered_matmul)
        # every name in gradstep's modules (outside capture) bound to one of these originals
        # gets its recording twin: one pass over the modules (a pass per original cost 2 ms)
        twins: dict[int, tuple[Any, Any]] = {
            id(orig_gam): (orig_gam, get_array_module),
            id(orig_mm): (orig_mm, steered_matmul),
        }
        for orig_fn, kind in (
            (nn_utils.clip_grad_norm_, "clip"),
            (nn_utils.get_total_norm, "norm"),
        ):

            def recorded(*args: Any, _orig: Any = orig_fn, _kind: str = kind, **kwargs: Any) -> Any:
                r = active()
                if r is None:
                    return _orig(*args, **kwargs)
                return r.on_opaque_function(_orig, _kind, args, kwargs)

            twins[id(orig_fn)] = (orig_fn, recorded)
        for mod, attr in _sites(twins):
            value = vars(mod).get(attr)
            twin = twins.get(id(value))
            if twin is not None and twin[0] is value:
                put(mod, attr, twin[1])

        orig_gen = _random.get_generator

        def get_generator() -> Any:
            gen = orig_gen()
            return TracingGenerator(gen) if active() is not None else gen

        put(_random, "get_generator", get_generator)

        orig_take, orig_give = workspace.take, workspace.give

        def take(xp: Any, shape: tuple, dtype: Any) -> Any:
            r = active()
            if r is None or xp is not PROXY:
                return orig_take(xp, shape, dtype)
            kept = r.pool.get((tuple(shape), np.dtype(dtype).str))
            return kept.pop() if kept else PROXY.empty(shape, dtype=dtype)

        def give(xp: Any, buf: Any) -> None:
            r = active()
            if r is None or xp is not PROXY:
                return orig_give(xp, buf)
            r.pool.setdefault((tuple(buf.shape), buf.dtype.str), []).append(buf)
            return None

        put(workspace, "take", take)
        put(workspace, "give", give)

        orig_make = vars(Tensor)["_make"].__func__

        def _make(data: Any, ctx: Any = None) -> Tensor:
            r = active()
            if r is not None:
                data = r.retrace(data)
            return orig_make(data, ctx)

        put(Tensor, "_make", staticmethod(_make))

        orig_acc = _engine._accumulate_leaf

        def _accumulate_leaf(p: Tensor, g: Any) -> None:
            r = active()
            if r is not None and id(p) not in r.state._param_ids:
                r.abort(
                    "the step computes the gradient of a tensor gs.capture did not find (an "
                    "input that requires grad, or a parameter not reachable from step_fn; pass "
                    "its module with state=[...])"
                )
            orig_acc(p, g)

        put(_engine, "_accumulate_leaf", _accumulate_leaf)  # run_backward looks it up there

        orig_call = vars(Module)["__call__"]

        def __call__(self: Module, *args: Any, **kwargs: Any) -> Any:  # noqa: N807
            r = active()
            if r is not None and id(self) not in r.state._module_ids and _has_state(self):
                r.abort(
                    f"the step calls a {type(self).__name__} module gs.capture did not find: "
                    "make it reachable from step_fn or pass it with state=[...]"
                )
            return orig_call(self, *args, **kwargs)

        put(Module, "__call__", __call__)

        def opaque(cls: type, attr: str, kind: str) -> None:
            orig = vars(cls)[attr]

            @functools.wraps(orig)
            def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
                r = active()
                if r is None:
                    return orig(self, *args, **kwargs)
                return r.on_opaque(orig, kind, self, args, kwargs)

            put(cls, attr, wrapper)

        for cls in _subclasses(Optimizer):
            if "step" in vars(cls):
                opaque(cls, "step", "step")
            if "zero_grad" in vars(cls):
                opaque(cls, "zero_grad", "zero_grad")
        for cls in _subclasses(Module):
            if "zero_grad" in vars(cls):
                opaque(cls, "zero_grad", "zero_grad")
        for cls in _subclasses(LRScheduler):
            if "step" in vars(cls):
                opaque(cls, "step", "sched_step")
        from ..distributed.optimizer import DistributedOptimizer  # numpy only: MPI loads late

        opaque(DistributedOptimizer, "step", "dist_step")  # the allreduce, then the update
        opaque(DistributedOptimizer, "synchronize", "allreduce")
        yield
    finally:
        for obj, name, old in reversed(undo):
            if old is _MISSING:
                delattr(obj, name)
            else:
                setattr(obj, name, old)


__all__ = ["TracingGenerator", "patched"]
