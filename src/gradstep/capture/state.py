"""What a training step may change (found by :mod:`.discover`), and snapshots of it.

:class:`StateSet` holds the modules, optimizers, schedulers and parameter tensors found. It
snapshots and restores everything a step changes (parameters, gradients and their storage, module
buffers and modes, optimizer and scheduler state, the random generator), compares two snapshots
bit for bit, and swaps the arrays for TracedArray views of the same memory while a capture runs.
:class:`Bindings` is what a recording assumes about that state, checked before each replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import random as _random
from ..autograd import grad_mode
from ..nn.module import Module
from ..optim.optimizer import Optimizer, ParamState
from ..optim.scheduler_base import LRScheduler
from ..tensor import Tensor
from .discover import Found
from .program import GRADREFS
from .traced import TracedArray, root_of

_OPTIMIZER_STATE = ("state", "param_groups")


# -- snapshots of Python objects (optimizers, schedulers) ------------------------------------
def _snap(v: Any, depth: int = 0) -> tuple:
    if isinstance(v, np.ndarray):
        return ("arr", v, v.copy())
    if isinstance(v, ParamState):
        return ("pstate", v, [(p, v[p], _snap(v[p], depth + 1)) for p in list(v)])
    if depth < 4 and type(v) is dict:
        return ("dict", v, {k: _snap(x, depth + 1) for k, x in v.items()})
    if depth < 4 and type(v) is list:
        return ("list", v, [_snap(x, depth + 1) for x in v])
    return ("ref", v, None)


def _restore(s: tuple) -> Any:
    kind, obj, saved = s
    if kind == "arr":
        np.copyto(obj, saved)
    elif kind == "dict":
        items = {k: _restore(x) for k, x in saved.items()}
        obj.clear()
        obj.update(items)
    elif kind == "list":
        obj[:] = [_restore(x) for x in saved]
    elif kind == "pstate":
        for p in list(obj):
            del obj[p]
        for p, _, inner in saved:
            obj[p] = _restore(inner)
    return obj


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(
        np.array_equal(
            np.ascontiguousarray(a).reshape(-1).view(np.uint8),
            np.ascontiguousarray(b).reshape(-1).view(np.uint8),
        )
    )


def _diff(a: tuple, b: tuple, where: str) -> str | None:
    """Where two snapshots of one object differ, or None."""
    ka, oa, sa = a
    kb, ob, sb = b
    if ka != kb:
        return where
    if ka == "arr":
        return None if _same_bits(sa, sb) else where
    if ka == "dict":
        if sa.keys() != sb.keys():
            return where
        for k in sa:
            d = _diff(sa[k], sb[k], f"{where}[{k!r}]")
            if d:
                return d
        return None
    if ka == "list":
        if len(sa) != len(sb):
            return where
        for i, (x, y) in enumerate(zip(sa, sb)):
            d = _diff(x, y, f"{where}[{i}]")
            if d:
                return d
        return None
    if ka == "pstate":
        if [id(p) for p, _, _ in sa] != [id(p) for p, _, _ in sb]:
            return f"{where} (parameters with state)"
        for i, ((_, _, x), (_, _, y)) in enumerate(zip(sa, sb)):
            d = _diff(x, y, f"{where}[{i}]")
            if d:
                return d
        return None
    if isinstance(oa, float | int | bool | str | tuple | type(None)):
        same = oa == ob or (isinstance(oa, float) and oa != oa and ob != ob)
        return None if same and type(oa) is type(ob) else where
    return None


def _members(p: Any) -> list[Tensor] | None:
    """The tensors an optimizer's parameter object stands for when it is not a Tensor itself but
    lists them in ``params`` (the estimators' FlatParameter, one flat buffer over the network's
    parameters): their memory is what the step touches. None for anything else."""
    if isinstance(p, Tensor):
        return None
    members = getattr(p, "params", None)
    if isinstance(members, list) and members and all(isinstance(m, Tensor) for m in members):
        return members
    return None


@dataclass
class Tracked:
    """A tensor the step may change: a parameter ("param") or a module buffer ("buffer")."""

    tensor: Tensor
    name: str
    kind: str


class StateSet:
    """Everything one captured step may change, and the means to snapshot, restore and swap it."""

    def __init__(self, found: Found) -> None:
        self.modules: list[Module] = []
        self.optimizers = [o for _, o in found.optimizers]
        self.schedulers = [s for _, s in found.schedulers]
        self.tracked: list[Tracked] = []
        self.external: list[np.ndarray] = []
        seen: set[int] = set()

        #: Why these objects cannot be captured (None when they can).
        self.unsupported: str | None = None

        def add(t: Tensor | None, name: str, kind: str) -> None:
            if t is not None and not isinstance(t, Tensor):
                self.unsupported = (
                    f"{name} is a {type(t).__name__}, not a gradstep Tensor, so its memory "
                    "cannot be traced"
                )
                return
            if t is not None and id(t) not in seen:
                seen.add(id(t))
                self.tracked.append(Tracked(t, name, kind))

        mods: set[int] = set()
        for mname, m in found.modules:
            for sub in m.modules():
                if id(sub) not in mods:
                    mods.add(id(sub))
                    self.modules.append(sub)
            for pname, p in m.named_parameters():
                add(p, f"{mname}.{pname}", "param")
            for bname, b in m.named_buffers():
                add(b, f"{mname}.{bname}", "buffer")
        for oname, opt in found.optimizers:
            for gi, group in enumerate(opt.param_groups):
                for pi, p in enumerate(group["params"]):
                    members = _members(p)
                    if members is None:
                        add(p, f"{oname}.param_groups[{gi}][{pi}]", "param")
                    for mi, m in enumerate(members or ()):
                        add(m, f"{oname}.param_groups[{gi}][{pi}].params[{mi}]", "param")
        for tname, t in found.tensors:
            add(t, tname, "param")
        self.params = [tr.tensor for tr in self.tracked if tr.kind == "param"]
        self._param_ids = {id(p) for p in self.params}
        self._module_ids = mods
        self._opt_ids = {id(o) for o in self.optimizers}
        self._sched_ids = {id(s) for s in self.schedulers}
        self._views: list[tuple[Tensor, Any, Any, Any]] = []

    # -- snapshots ----------------------------------------------------------------------------
    def snapshot(self) -> dict:
        tensors = []
        for tr in self.tracked:
            t = tr.tensor
            d, g, s = t.data, t._grad, t._grad_store
            tensors.append(
                (
                    d,
                    d.copy(),
                    g,
                    None if g is None or g is s else g.copy(),
                    s,
                    None if s is None else s.copy(),
                    t.requires_grad,
                )
            )
        gen = _random.get_generator()
        return {
            "tensors": tensors,
            "objects": [(o, _snap(vars(o))) for o in (*self.optimizers, *self.schedulers)],
            "rng": (gen, gen.bit_generator.state),
            "external": [(a, a.copy()) for a in self.external],
            "training": [m.training for m in self.modules],
        }

    def restore(self, snap: dict) -> None:
        for tr, (d, dc, g, gc, s, sc, rg) in zip(self.tracked, snap["tensors"]):
            t = tr.tensor
            t.data = d
            np.copyto(d, dc)
            t._grad_store = s
            if s is not None:
                np.copyto(s, sc)
            t._grad = g
            if gc is not None:
                np.copyto(g, gc)
            t.requires_grad = rg
        for _, s in snap["objects"]:
            _restore(s)  # vars(obj) itself: attributes added since are dropped
        gen, state = snap["rng"]
        _random._generator = gen
        gen.bit_generator.state = state
        for a, c in snap["external"]:
            np.copyto(a, c)
        for m, training in zip(self.modules, snap["training"]):
            object.__setattr__(m, "training", training)

    def diff(self, a: dict, b: dict) -> str | None:
        """The first thing that differs between two snapshots, in words, or None."""
        for tr, x, y in zip(self.tracked, a["tensors"], b["tensors"]):
            if not _same_bits(x[1], y[1]):
                return f"the values of {tr.name}"
            if tr.kind == "param":
                if (x[2] is None) != (y[2] is None):
                    return f"whether {tr.name}.grad is None"
                gx = x[5] if x[3] is None else x[3]
                gy = y[5] if y[3] is None else y[3]
                if x[2] is not None and not _same_bits(gx, gy):
                    return f"the gradient of {tr.name}"
        for (obj, sa), (_, sb) in zip(a["objects"], b["objects"]):
            if isinstance(obj, Optimizer):  # its public state: work arrays hold garbage
                sa = ("dict", None, {k: v for k, v in sa[2].items() if k in _OPTIMIZER_STATE})
                sb = ("dict", None, {k: v for k, v in sb[2].items() if k in _OPTIMIZER_STATE})
            d = _diff(sa, sb, type(obj).__name__)
            if d:
                return f"the state of {d}"
        if a["rng"][1] != b["rng"][1]:
            return "the random generator's state"
        for i, ((_, ca), (_, cb)) in enumerate(zip(a["external"], b["external"])):
            if not _same_bits(ca, cb):
                return f"an array outside the model that the step writes (ext{i})"
        return None

    # -- what opaque calls touch ----------------------------------------------------------------
    def params_of(self, obj: Any, kind: str) -> list[Tensor] | None:
        """The tracked parameters an opaque call on ``obj`` affects, or None when ``obj`` (or one
        of its parameters) was not found by :func:`discover`."""
        if kind in ("dist_step", "allreduce"):  # a DistributedOptimizer: its wrapped one's
            obj = getattr(obj, "optimizer", None)
        if isinstance(obj, Optimizer):
            if id(obj) not in self._opt_ids:
                return None
            params = [
                m for g in obj.param_groups for p in g["params"] for m in (_members(p) or (p,))
            ]
        elif isinstance(obj, Module):
            if id(obj) not in self._module_ids:
                return None
            params = list(obj.parameters())
        elif isinstance(obj, LRScheduler):
            return [] if id(obj) in self._sched_ids else None
        else:
            return None
        if any(id(p) not in self._param_ids for p in params):
            return None
        return params

    def footprint(self, params: list[Tensor], kind: str) -> tuple[frozenset, frozenset]:
        """Root keys an opaque call reads and writes (for moving guards safely)."""
        grads = {id(root_of(p._grad_store)) for p in params if p._grad_store is not None}
        data = {id(root_of(p.data)) for p in params}
        if kind == "zero_grad":
            return frozenset({GRADREFS}), frozenset(grads | {GRADREFS})
        if kind == "step":
            return frozenset(grads | data | {GRADREFS}), frozenset(data | {"optimizer"})
        if kind == "allreduce":  # the gradients replaced by their sums over the processes
            return frozenset(grads | {GRADREFS}), frozenset(grads)
        if kind == "dist_step":
            return frozenset(grads | data | {GRADREFS}), frozenset(grads | data | {"optimizer"})
        return frozenset(), frozenset({"hyperparameters"})

    # -- swapping arrays for traced views -------------------------------------------------------
    def begin(self, rec: Any) -> None:
        """Register the state's arrays with ``rec`` and swap them for TracedArray views."""
        self._views = []
        for tr in self.tracked:
            t = tr.tensor
            d, g, s = t.data, t._grad, t._grad_store
            rec.register(d, "state", tr.name)
            td = self._view(rec, d)
            ts = None if s is None else self._view(rec, s)
            if s is not None:
                rec.register(s, "state", f"{tr.name}.grad")
                rec.grad_roots.add(id(root_of(s)))
            if g is None:
                tg = None
            elif g is s:
                tg = ts
            else:
                rec.register(g, "state", f"{tr.name}.grad")
                tg = self._view(rec, g)
            self._views.append((t, td, tg, ts))
            rec.last_refs[id(t)] = (g, s)
        self.swap_traced(rec, first=True)

    def _view(self, rec: Any, arr: np.ndarray) -> TracedArray:
        v = arr.view(TracedArray)
        rec.canon[id(v)] = (v, arr)
        rec.traced_for[id(arr)] = v
        return v

    def swap_traced(self, rec: Any, first: bool = False) -> None:
        """Tensors hold TracedArray views (their ``.grad`` mapped through ``rec``)."""
        for t, td, tg, ts in self._views:
            t.data = td
            if first:
                t._grad, t._grad_store = tg, ts
                continue
            t._grad = self._traced_ref(rec, t._grad)
            t._grad_store = self._traced_ref(rec, t._grad_store)

    def _traced_ref(self, rec: Any, x: Any) -> Any:
        if x is None or isinstance(x, TracedArray):
            return x
        t = rec.traced_for.get(id(x))
        if t is None:
            rec.abort("an optimizer or zero_grad call replaced a gradient array")
        return t

    def swap_plain(self, rec: Any) -> None:
        """Tensors hold the plain arrays again (for opaque calls and after the capture)."""
        for t, td, _, _ in self._views:
            t.data = rec.plain_of(td)
            t._grad = rec.plain_of(t._grad)
            t._grad_store = rec.plain_of(t._grad_store)


@dataclass
class Bindings:
    """What the replay of a program assumes about Python-side state, checked before each replay:
    the same arrays bound to the tensors, the same ``.grad`` None-ness where backward depends
    on it, the same train/eval modes and gradient mode."""

    tensors: list[tuple]
    modules: list[tuple[Module, bool]]
    grad_enabled: bool

    @classmethod
    def before(cls, state: StateSet) -> Bindings:
        tensors = [
            (
                tr.tensor,
                tr.tensor.data,
                tr.tensor._grad,
                tr.tensor._grad_store,
                tr.tensor.requires_grad,
                tr.kind == "param",
            )
            for tr in state.tracked
        ]
        return cls(tensors, [(m, m.training) for m in state.modules], grad_mode.enabled)

    def finish(self, exempt: set[int]) -> None:
        """Also accept the ``.grad`` and storage the program leaves behind (after a replay)."""
        done = []
        for t, d, g, s, rg, is_param in self.tensors:
            done.append((t, d, g, s, t._grad, t._grad_store, rg, is_param and id(t) not in exempt))
        self.tensors = done

    def fresh_storage(self) -> bool:
        """True when the recorded step created gradient storage (the model's first backward):
        a recording made once it exists writes gradients in place instead of copying them."""
        return any(s0 is None and s1 is not None for _, _, _, s0, _, s1, _, _ in self.tensors)

    def modes_changed(self) -> bool:
        """True when the recorded step switched a module between train and eval mode."""
        return any(m.training is not training for m, training in self.modules)

    def hold(self) -> bool:
        if grad_mode.enabled is not self.grad_enabled:
            return False
        for m, training in self.modules:
            if m.training is not training:
                return False
        for t, d, g0, s0, g1, s1, rg, check_grad in self.tensors:
            if t.data is not d or t.requires_grad is not rg:
                return False
            s = t._grad_store
            if s is not s0 and s is not s1:
                return False
            if check_grad:
                g = t._grad
                if g0 is None:
                    if g is not None:
                        return False
                elif g is not g0 and g is not g1:
                    return False
        return True


__all__ = ["Bindings", "StateSet", "Tracked"]
