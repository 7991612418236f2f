"""Finding what a training step may change: modules, optimizers, schedulers and parameters.

:func:`discover` walks ``step_fn``: its closure, the globals its code names (also in nested
functions), a bound ``self``, a partial's arguments, defaults, and the attributes, items and
``__call__`` code of the objects found there, up to :data:`MAX_DEPTH` references away.
"""

from __future__ import annotations

import functools
import types
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn.module import Module
from ..optim.optimizer import Optimizer
from ..optim.scheduler_base import LRScheduler
from ..tensor import Tensor

_SKIP = (str, bytes, int, float, complex, bool, type(None), np.ndarray, type, types.ModuleType)
MAX_DEPTH = 4


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


@dataclass
class Found:
    """Objects a step may change, with the names they were found under."""

    modules: list[tuple[str, Module]]
    optimizers: list[tuple[str, Optimizer]]
    schedulers: list[tuple[str, LRScheduler]]
    tensors: list[tuple[str, Tensor]]


def discover(fn: Any, extra: Any = ()) -> Found:
    """Modules, optimizers, schedulers and parameter tensors reachable from ``fn`` and
    ``extra`` (up to :data:`MAX_DEPTH` references away)."""
    found = Found([], [], [], [])
    seen: set[int] = set()

    def visit(obj: Any, name: str, depth: int) -> None:
        if depth > MAX_DEPTH or id(obj) in seen or isinstance(obj, _SKIP):
            return
        seen.add(id(obj))
        if isinstance(obj, Module):
            found.modules.append((name, obj))
        elif isinstance(obj, Optimizer):
            found.optimizers.append((name, obj))
        elif isinstance(obj, LRScheduler):
            found.schedulers.append((name, obj))
            visit(getattr(obj, "optimizer", None), f"{name}.optimizer", depth + 1)
        elif isinstance(obj, Tensor):
            if obj.requires_grad and obj.is_leaf:
                found.tensors.append((name, obj))
        elif isinstance(obj, functools.partial):
            visit(obj.func, name, depth)
            for i, a in enumerate(obj.args):
                visit(a, f"{name}.args[{i}]", depth + 1)
            for k, v in obj.keywords.items():
                visit(v, k, depth + 1)
        elif isinstance(obj, types.MethodType):
            visit(obj.__self__, "self", depth)
            visit(obj.__func__, name, depth)
        elif isinstance(obj, types.FunctionType):
            code = obj.__code__
            for var, cell in zip(code.co_freevars, obj.__closure__ or ()):
                try:
                    value = cell.cell_contents
                except ValueError:  # an empty cell
                    continue
                visit(value, var, depth + 1)
            glb = obj.__globals__
            for g in sorted(_global_names(code)):
                if g in glb:
                    visit(glb[g], g, depth + 1)
            for i, d in enumerate(obj.__defaults__ or ()):
                visit(d, f"{name}.default{i}", depth + 1)
        elif isinstance(obj, list | tuple | set | frozenset):
            for i, v in enumerate(list(obj)[:1000]):
                visit(v, f"{name}[{i}]", depth + 1)
        elif isinstance(obj, dict):
            for k, v in list(obj.items())[:1000]:
                visit(v, f"{name}[{k!r}]", depth + 1)
        else:
            attrs = getattr(obj, "__dict__", None)
            if isinstance(attrs, dict):
                for k, v in list(attrs.items()):
                    visit(v, f"{name}.{k}", depth + 1)
            call = vars(type(obj)).get("__call__")
            if isinstance(call, types.FunctionType):  # a callable object's __call__ code
                visit(call, name, depth + 1)

    for i, obj in enumerate(extra):
        visit(obj, f"state[{i}]", 0)
    visit(fn, getattr(fn, "__name__", "step_fn"), 0)
    return found


__all__ = ["MAX_DEPTH", "Found", "discover"]
