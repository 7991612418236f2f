"""Optimizer base: parameter groups, lazily created per-parameter state, and state_dict round trips.

An optimizer sees parameters only: objects with ``.data`` (a backend array, updated in place because
parameters may be views into one flat buffer), ``.grad`` (an array, or None to skip the parameter)
and ``.requires_grad``. Subclasses check their hyperparameters with ``gradstep.validate`` and
implement ``_update`` for one parameter; the maths lives in a plain function of arrays beside each
subclass (with the shared pieces in update_parts.py). Subclasses that also implement
``_fused_layout`` and ``_fused_update`` update runs of parameters laid out back to back
(``model.flatten_parameters()``) with one call each: see fused.py (runs and their state) and
kernels.py (NumPy functions or numba kernels).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import enable_grad
from ..backend import get_array_module
from . import fused, kernels
from .kernels import kernel_choice, kernels_failed, numba_kernels
from .param_state import ParamState, _copy_value, _looks_like_parameter
from .update_parts import axpy_, effective_grad, lerp_

# Implementation switches found in PyTorch's param groups that mean nothing here; dropped on load.
_TORCH_ONLY_KEYS = frozenset({"foreach", "fused", "capturable", "differentiable"})

# re-exported: the optimizers and earlier code import these from here
__all__ = ["Optimizer", "ParamState", "axpy_", "effective_grad", "lerp_", "run_scratch"]


class Optimizer:
    """Base class of gradstep's optimizers, with torch.optim's interface.

    ``params`` is an iterable of parameters, of ``(name, parameter)`` pairs, or of dicts (parameter
    groups) each with a ``"params"`` entry and optional per-group hyperparameters that override
    ``defaults``. Each group behaves like a separate optimizer with its own hyperparameters.
    """

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self._validate_group(defaults)
        self.defaults = dict(defaults)
        self.state = ParamState()
        self.param_groups: list[dict[str, Any]] = []
        self._scratch: dict[tuple[Any, str, int], Any] = {}
        self._fused_plans: dict[int, fused.Plan] = {}
        if _looks_like_parameter(params) or hasattr(params, "shape"):
            raise TypeError(
                "params must be an iterable of parameters or of dicts, got a single "
                f"{type(params).__name__}; pass [param] or model.parameters()."
            )
        if isinstance(params, dict):
            raise TypeError("params must be an iterable of parameters or of dicts; pass [group].")
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                "params must be an ordered collection, got a set whose order changes between "
                "runs; pass a list."
            )
        groups = list(params)
        if not groups:
            raise ValueError("params is empty; pass model.parameters() or a non-empty list.")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles leave out the fused-step plans and scratch arrays: they point into
        the original's memory, and a copy's arrays are its own (rebuilt on its first step)."""
        state = self.__dict__.copy()
        state["_fused_plans"] = {}
        state["_scratch"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_fused_plans", {})
        self.__dict__.setdefault("_scratch", {})

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k not in ("params", "param_names")):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # -- groups --------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones from defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(
                f"param_group must be a dict, got {type(param_group).__name__}; "
                "pass {'params': [...], 'lr': ...}."
            )
        if "params" not in param_group:
            raise ValueError("param_group has no 'params' entry; pass {'params': [...], ...}.")
        group = dict(param_group)
        raw = group["params"]
        if _looks_like_parameter(raw):
            raw = [raw]
        elif isinstance(raw, (set, frozenset)):
            raise TypeError(
                "params must be an ordered collection, got a set whose order changes between "
                "runs; pass a list."
            )
        raw = list(raw)
        params, names = [], []
        for item in raw:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                names.append(item[0])
                item = item[1]
            params.append(item)
        if names and len(names) != len(params):
            raise ValueError(
                "params mixes (name, parameter) pairs with bare parameters; pass one kind only."
            )
        for i, p in enumerate(params):
            if not _looks_like_parameter(p):
                raise TypeError(
                    f"params[{i}] is a {type(p).__name__}, not a parameter with .data and .grad; "
                    "pass model.parameters()."
                )
            if getattr(p.data, "dtype", None) is None or p.data.dtype.kind != "f":
                raise TypeError(
                    f"params[{i}] has dtype {getattr(p.data, 'dtype', None)}; optimizers update "
                    "floating-point parameters only."
                )
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter group holds the same parameter twice; pass each once.")
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError(
                "some parameters appear in more than one parameter group; put each in one group."
            )
        group["params"] = params
        if names:
            group["param_names"] = names
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate_group(group)
        self.param_groups.append(group)
        self._on_group_added(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check one group's hyperparameters (subclasses name each argument in the error)."""

    def _on_group_added(self, group: dict[str, Any]) -> None:
        """Hook for optimizers whose state exists before the first step (Adagrad)."""

    # -- gradients and steps -------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients: ``p.grad = None`` (default) or fill the gradient arrays with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` re-evaluates and returns the
        loss (called first, with gradient recording on), and its loss is returned.

        Parameters laid out back to back in flat buffers (``model.flatten_parameters()``) are
        updated together, one call per run of them, with the same formulas (see fused.py);
        anything else goes through the per-parameter loop.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        choice = kernel_choice()
        items = getattr(self.state, "_items", None) if choice != "none" else None
        for i, group in enumerate(self.param_groups):
            hyper = self._group_hyper(group)
            layout = None if items is None else self._fused_layout(hyper)
            if layout is None:
                self._step_params(group["params"], hyper)
                continue
            plan = self._fused_plans.get(i)
            if plan is None or not plan.fits(group):
                plan = self._fused_plans[i] = fused.build_plan(group, items, layout)
            for run in plan.runs:
                if not self._step_run(run, plan, hyper, layout, items, choice):
                    self._step_params(run.params, hyper)
            if plan.singles:
                self._step_params(plan.singles, hyper)
        return loss

    def _step_params(self, params: list[Any], hyper: Any) -> None:
        """The per-parameter path: ``_update`` for each parameter that has a gradient."""
        for p in params:
            grad = p.grad
            if grad is None:
                continue
            if grad.shape != p.data.shape:
                raise ValueError(
                    f"a gradient has shape {tuple(grad.shape)} but its parameter has shape "
                    f"{tuple(p.data.shape)}; assign gradients of the parameter's shape."
                )
            self._update(p.data, grad, self.state[p], hyper)

    def _step_run(
        self,
        run: fused.Run,
        plan: fused.Plan,
        hyper: Any,
        layout: fused.Layout,
        items: dict,
        choice: str,
    ) -> bool:
        """Update ``run`` with one call; False (nothing changed) when a member has no gradient in
        its storage this step, or the members' state cannot be laid out flat."""
        if not run.grads_ready():
            plan.check_run(run)
            return False
        pflat = run.pflat
        if not fused.state_ready(run, items, layout):
            if not fused.pack(run, self.state, layout, get_array_module(pflat)):
                plan.stale = True  # members' state differs: the next plan splits the run
                return False
        # numba's kernels suit NumPy float arrays; until they load, the NumPy update stands in
        wanted = choice == "numba" and type(pflat) is np.ndarray and pflat.dtype.char in "fd"
        compiled = numba_kernels() if wanted else None
        counts = layout.counts_steps
        step = run.step + 1 if counts else 0
        args = (pflat, run.gflat, run.sflat, run_scratch(self, run), step, run.first, hyper)
        if compiled is not None:
            try:
                self._fused_update(*args, compiled)
            except fused.KernelUnavailable as exc:  # raised before any array changed
                kernels_failed(exc)
                self._fused_update(*args, None)
        elif wanted:
            kernels.stand_in(functools.partial(self._fused_update, *args, None), pflat.size)
        else:
            self._fused_update(*args, None)
        if counts:
            for sd in run.sdicts:
                sd["step"] = step
            run.step = step
        run.first = False
        return True

    def _fused_layout(self, hyper: Any) -> fused.Layout | None:
        """The state a fused update of a group with these hyperparameters needs, or None to keep
        the group on the per-parameter path (the default)."""
        return None

    def _fused_update(
        self,
        param: Any,
        grad: Any,
        states: dict[str, Any],
        scratch: Callable[[int], Any],
        step: int,
        first: bool,
        hyper: Any,
        kernels: Any,
    ) -> None:
        """Update a run's 1-D spans in place: ``states`` maps ``_fused_layout``'s names to flat
        arrays, ``step`` is the new step count, ``first`` says the state was created just now,
        ``kernels`` is the numba kernel module or None (the NumPy update function)."""
        raise NotImplementedError

    def _group_hyper(self, group: dict[str, Any]) -> Any:
        """The group's hyperparameters in the form ``_update`` wants (read once per step)."""
        return group

    def _update(self, param: Any, grad: Any, state: dict[str, Any], hyper: Any) -> None:
        raise NotImplementedError

    def _run(
        self, kernel: Callable[..., None], param: Any, grad: Any, states: tuple, hyper: dict
    ) -> None:
        """Call ``kernel(param, grad, *states, scratch, **hyper)``, where ``scratch(k)`` gives the
        k-th private work array shaped like ``param`` (``states`` may hold None for unused state).
        """
        kernel(param, grad, *states, lambda k: self._scratch_like(param, k), **hyper)

    def _scratch_like(self, array: Any, slot: int = 0) -> Any:
        """A private work array of ``array``'s shape and dtype, reused across parameters and steps.

        Buffers are shared by all parameters of one dtype (grown to the largest), so scratch memory
        is a few times the largest parameter, not the model; they never enter the state.
        """
        xp = get_array_module(array)
        key = (xp.__name__, array.dtype.str, slot)
        buf = self._scratch.get(key)
        if buf is None or buf.size < array.size:
            buf = xp.empty(array.size, dtype=array.dtype)
            self._scratch[key] = buf
        return buf[: array.size].reshape(array.shape)

    # -- state_dict ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {name: value}}, "param_groups": [{..., "params": [indices]}]}``.

        Parameters are numbered in group order, as torch does. The result is a deep copy: changing
        it never changes the optimizer.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, entries in self.state._items.values():
            if entries and id(p) in index:
                state[index[id(p)]] = {k: _copy_value(v) for k, v in entries.items()}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state and hyperparameters saved by :meth:`state_dict`.

        The optimizer must hold the same number of groups with the same number of parameters; every
        saved array must match its parameter's shape (floating arrays take the parameter's dtype).
        Nothing changes if a check fails.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                "state_dict must be a dict with 'state' and 'param_groups'; pass the result of "
                "optimizer.state_dict()."
            )
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"state_dict has {len(saved_groups)} parameter groups but the optimizer has "
                f"{len(self.param_groups)}; build the optimizer with the same groups."
            )
        id_map: dict[int, Any] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"state_dict param_groups[{i}] has no 'params' list.")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"state_dict param_groups[{i}] has {len(saved['params'])} parameters but the "
                    f"optimizer's group {i} has {len(group['params'])}; build the optimizer with "
                    "the same parameters."
                )
            for idx, p in zip(saved["params"], group["params"]):
                id_map[int(idx)] = p

        new_state = ParamState()
        for key, entries in state_dict["state"].items():
            try:
                idx = int(key)
            except (TypeError, ValueError):
                raise ValueError(
                    f"state_dict state key {key!r} is not a parameter index."
                ) from None
            if idx not in id_map:
                raise ValueError(
                    f"state_dict has state for parameter {idx}, which no parameter group lists."
                )
            p = id_map[idx]
            new_state[p] = {
                name: self._load_value(idx, name, value, p.data) for name, value in entries.items()
            }

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: v for k, v in saved.items() if k not in _TORCH_ONLY_KEYS}
            if isinstance(new.get("betas"), list):
                new["betas"] = tuple(new["betas"])
            new["params"] = group["params"]
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
            for key, value in self.defaults.items():
                new.setdefault(key, value)
            self._validate_group(new)
            new_groups.append(new)
        self.state = new_state
        self.param_groups = new_groups

    @staticmethod
    def _load_value(idx: int, name: str, value: Any, param: Any) -> Any:
        """One saved state entry, checked against its parameter and copied."""
        if name == "step":
            step = float(value)
            return int(step) if step.is_integer() else step
        if value is None:
            return None
        if isinstance(value, (int, float)):
            return value
        xp = get_array_module(param)
        if not isinstance(value, xp.ndarray):
            value = np.asarray(value)
        if tuple(value.shape) != tuple(param.shape):
            raise ValueError(
                f"state_dict state[{idx}][{name!r}] has shape {tuple(value.shape)} but parameter "
                f"{idx} has shape {tuple(param.shape)}; load a state saved for this model."
            )
        dtype = param.dtype if value.dtype.kind == "f" else value.dtype
        return xp.array(value, dtype=dtype, copy=True, order="C")


def run_scratch(opt: Optimizer, run: fused.Run) -> Callable[[int], Any]:
    """``scratch(k)`` for a run's update: the optimizer's shared work arrays, sliced once per run
    and kept with it (a run's arrays never change size); the accessor itself is made once."""
    fn = run.scratch_fn
    if fn is not None:
        return fn
    cache = run.scratch

    def scratch(k: int) -> Any:
        work = cache.get(k)
        if work is None:
            work = cache[k] = opt._scratch_like(run.pflat, k)
        return work

    run.scratch_fn = scratch
    return scratch
