"""Fused optimizer steps: which parameters one update call can cover, and how their state lies.

A *run* is a sequence of consecutive parameters of one group whose arrays lie back to back in one
buffer (``model.flatten_parameters()`` builds such buffers) and whose gradient storage lies back to
back in another; a parameter outside flat buffers is a run of its own. ``Optimizer.step`` updates a
run with one call over 1-D spans (parameters, gradients, one span per state array) instead of a
Python loop over its parameters.

A group's plan is cached and checked at every step by identity only (``p.data`` and ``p._grad``
must be the arrays the plan saw, each state entry the view it made). When a check fails, that run
takes the per-parameter path for the step; when the layout itself changed (data rebound, a copied
model) the plan is rebuilt. Each state array of a run is a view into one flat array per state name,
so ``optimizer.state[p]["exp_avg"]`` and ``state_dict()`` work as before; state laid out otherwise
(a first step, ``load_state_dict``, a copied optimizer) is packed into new flat arrays, values kept.

Which code updates a run (the NumPy update functions or numba kernels) is kernels.py's choice.

Example (what ``step()`` does for you)::

    model.flatten_parameters()             # before or after building the optimizer
    opt = gs.optim.Adam(model.parameters())
    loss.backward()
    opt.step()                             # one call per run: here, the whole model
"""

from __future__ import annotations

from itertools import repeat
from operator import attrgetter, is_
from typing import Any, NamedTuple


class KernelUnavailable(RuntimeError):
    """A numba kernel could not be compiled; raised before it touched any array."""


class Layout(NamedTuple):
    """What a fused update of one group needs: the state arrays it reads and writes (in order),
    the value each starts at (None: left uninitialised, the first update writes it), and whether
    the state counts steps (``state["step"]``)."""

    names: tuple[str, ...]
    fills: tuple[float | None, ...]
    counts_steps: bool


# -- planning --------------------------------------------------------------------------------------


_data = attrgetter("data")
_grad = attrgetter("_grad")


class Run:
    """Consecutive parameters updated by one call; the state fields are filled by ``pack``
    (``entries`` are the optimizer's ``ParamState`` items, ``sviews`` the per-parameter views of
    each flat state array ``sflat``), ``scratch`` holds the work arrays of the NumPy path."""

    __slots__ = (
        "params", "datas", "stores", "pflat", "gflat", "ids", "entries", "sdicts", "sflat",
        "sviews", "names", "check_dicts", "check_names", "check_views", "step", "first", "scratch",
        "scratch_fn",
    )  # fmt: skip

    def __init__(self, params: list, datas: list, stores: list) -> None:
        self.params = params
        self.datas = datas
        self.stores = stores
        self.pflat = span(datas)
        self.gflat = span(stores)
        self.ids = [id(p) for p in params]
        self.entries: list | None = None
        self.sdicts: list = []
        self.sflat: dict[str, Any] = {}
        self.sviews: dict[str, list] = {}
        self.names: tuple[str, ...] = ()
        # state_ready's identity checks, flattened: check_dicts[i][check_names[i]] is check_views[i]
        self.check_dicts: list = []
        self.check_names: list = []
        self.check_views: list = []
        self.step: Any = 0
        self.first = False
        self.scratch: dict[int, Any] = {}
        self.scratch_fn: Any = None  # run_scratch's accessor, made once

    def grads_ready(self) -> bool:
        """Whether every member still has its planned data and its gradient in its storage."""
        params = self.params
        return all(map(is_, map(_grad, params), self.stores)) and all(
            map(is_, map(_data, params), self.datas)
        )


class Plan:
    """A group's runs and the parameters left to the per-parameter path (``singles``)."""

    __slots__ = ("group", "params", "n", "runs", "singles", "single_keys", "stale")

    def __init__(self, group: dict, runs: list[Run], singles: list, single_keys: list) -> None:
        self.group = group
        self.params = group["params"]
        self.n = len(self.params)
        self.runs = runs
        self.singles = singles
        self.single_keys = single_keys
        self.stale = False

    def fits(self, group: dict) -> bool:
        """Whether the plan still describes ``group`` (same group, same parameters, layout)."""
        if self.stale or self.group is not group or self.params is not group["params"]:
            return False
        if self.n != len(self.params):
            return False
        for p, d, s in self.single_keys:
            if p.data is not d or grad_storage(p) is not s:
                return False
        return True

    def check_run(self, run: Run) -> None:
        """After ``run`` failed its step check: mark the plan stale if its layout changed (a grad
        that is just absent this step changes nothing)."""
        for p, d, s in zip(run.params, run.datas, run.stores):
            if p.data is not d or grad_storage(p) is not s or not _trainable(p):
                self.stale = True
                return


def grad_storage(p: Any) -> Any:
    """The array that holds ``p``'s gradient across steps: the engine's ``_grad_store`` (which
    every backward writes into), or for parameter-like objects without one their ``_grad``."""
    store = getattr(p, "_grad_store", None)
    if store is None and not hasattr(p, "_grad_store"):
        store = getattr(p, "_grad", None)
    return store


def _trainable(p: Any) -> bool:
    return bool(getattr(p, "requires_grad", True))


def _root(a: Any) -> Any:
    """The array that owns ``a``'s memory (NumPy collapses views of views to it)."""
    return a if a.base is None else a.base


def _fusable(p: Any, d: Any, s: Any) -> bool:
    """Whether ``p`` can be part of a run: trainable, data and gradient storage C-contiguous
    floating arrays of one type, shape and dtype, not sharing memory."""
    if s is None or not _trainable(p) or type(s) is not type(d) or not hasattr(d, "flags"):
        return False
    if d.dtype.kind != "f" or s.dtype != d.dtype or s.shape != d.shape or d.size == 0:
        return False
    if not (d.flags.c_contiguous and s.flags.c_contiguous and d.flags.writeable):
        return False
    return _root(d) is not _root(s)


def _follows(prev: Any, a: Any) -> bool:
    """Whether ``a`` starts where ``prev`` ends, inside one C-contiguous owner of their dtype."""
    root = a.base
    if root is None or prev.base is not root or type(root) is not type(a):
        return False
    if root.dtype != a.dtype or not root.flags.c_contiguous:
        return False
    return address(a) == address(prev) + prev.nbytes


def span(arrays: list) -> Any:
    """One 1-D view covering ``arrays`` when they lie back to back in one owner (a single
    C-contiguous array: itself, flattened), else None."""
    first = arrays[0]
    if len(arrays) == 1:
        return first.reshape(-1) if first.flags.c_contiguous else None
    for prev, a in zip(arrays, arrays[1:]):
        if not (a.flags.c_contiguous and _follows(prev, a)):
            return None
    if not first.flags.c_contiguous:
        return None
    root = first.base
    start = (address(first) - address(root)) // root.itemsize
    total = sum(int(a.size) for a in arrays)
    return root.reshape(-1)[start : start + total]


def address(a: Any) -> int:
    """The address of an array's first element (NumPy; CuPy arrays carry it as ``.data.ptr``)."""
    iface = getattr(a, "__array_interface__", None)
    if iface is not None:
        return iface["data"][0]
    return a.data.ptr


def _signature(sd: dict | None, layout: Layout) -> tuple:
    """What a run's members must share: the step count and which state arrays exist."""
    if not sd:
        return (None, None)
    step = sd.get("step") if layout.counts_steps else None
    return (step, tuple(sd.get(n) is not None for n in layout.names))


def build_plan(group: dict, items: dict, layout: Layout) -> Plan:
    """Split ``group``'s parameters into runs (consecutive in memory, same state signature) and
    singles (everything else). ``items`` is the optimizer's ``ParamState._items``."""
    runs: list[Run] = []
    singles: list = []
    single_keys: list = []
    cur: list = []
    cur_d: list = []
    cur_s: list = []
    cur_sig: Any = None

    def flush() -> None:
        if cur:
            runs.append(Run(list(cur), list(cur_d), list(cur_s)))
            cur.clear()
            cur_d.clear()
            cur_s.clear()

    for p in group["params"]:
        d, s = p.data, grad_storage(p)
        if not _fusable(p, d, s):
            flush()
            singles.append(p)
            single_keys.append((p, d, s))
            continue
        entry = items.get(id(p))
        sig = _signature(entry[1] if entry is not None else None, layout)
        if cur and sig == cur_sig and _follows(cur_d[-1], d) and _follows(cur_s[-1], s):
            cur.append(p)
            cur_d.append(d)
            cur_s.append(s)
            continue
        flush()
        cur.append(p)
        cur_d.append(d)
        cur_s.append(s)
        cur_sig = sig
    flush()
    return Plan(group, runs, singles, single_keys)


# -- state -----------------------------------------------------------------------------------------


def state_ready(run: Run, items: dict, layout: Layout) -> bool:
    """Whether the run's state is still the flat views ``pack`` made (identity checks only; the
    step count is one int object shared by the members' dicts)."""
    entries = run.entries
    if entries is None or run.names != layout.names:
        return False
    if not layout.names and not layout.counts_steps:  # nothing laid out that could go stale
        return True
    return (
        all(map(is_, map(items.get, run.ids), entries))
        and all(map(is_, map(dict.get, run.check_dicts, run.check_names), run.check_views))
        and (
            not layout.counts_steps
            or all(map(is_, map(dict.get, run.sdicts, repeat("step")), repeat(run.step)))
        )
    )


def pack(run: Run, state: Any, layout: Layout, xp: Any) -> bool:
    """Lay the run's state out as one flat array per name (views per parameter), keeping values;
    False, changing no value, when the members' state differs (step counts, which arrays exist)."""
    params = run.params
    sdicts = [state[p] for p in params]
    entries = [state._items[i] for i in run.ids]
    step: Any = None
    if layout.counts_steps:
        steps = [sd.get("step") for sd in sdicts]
        if all(s is None for s in steps):
            step = 0
        elif any(s is None for s in steps) or any(s != steps[0] for s in steps):
            return False
        else:
            step = steps[0]
    pflat = run.pflat
    total, dtype = pflat.size, pflat.dtype
    sflat: dict[str, Any] = {}
    sviews: dict[str, list] = {}
    first = False
    for name, fill in zip(layout.names, layout.fills):
        arrays = [sd.get(name) for sd in sdicts]
        if all(a is None for a in arrays):
            flat = xp.empty(total, dtype=dtype) if fill is None else xp.full(total, fill, dtype)
            sflat[name], sviews[name] = flat, _views(flat, params)
            first = True
            continue
        shapes = [getattr(a, "shape", None) for a in arrays]
        if any(shape != p.data.shape for shape, p in zip(shapes, params)):
            return False
        flat = None
        if all(type(a) is type(pflat) and a.dtype == dtype for a in arrays):
            flat = span(arrays)
        if flat is not None and flat.flags.writeable:
            sflat[name], sviews[name] = flat, arrays
            continue
        flat = xp.empty(total, dtype=dtype)
        views = _views(flat, params)
        for v, a in zip(views, arrays):
            v[...] = a
        sflat[name], sviews[name] = flat, views
    for name, views in sviews.items():
        for sd, v in zip(sdicts, views):
            sd[name] = v
    if layout.counts_steps:
        for sd in sdicts:
            sd["step"] = step
    run.entries, run.sdicts, run.sflat, run.sviews = entries, sdicts, sflat, sviews
    run.names = layout.names
    run.check_dicts = [sd for name in layout.names for sd in sdicts]
    run.check_names = [name for name in layout.names for _ in sdicts]
    run.check_views = [v for name in layout.names for v in sviews[name]]
    run.step, run.first = step, first
    return True


def _views(flat: Any, params: list) -> list:
    """Per-parameter views of ``flat``, shaped like each parameter, back to back."""
    views, offset = [], 0
    for p in params:
        n = int(p.data.size)
        views.append(flat[offset : offset + n].reshape(p.data.shape))
        offset += n
    return views


__all__ = ["KernelUnavailable", "Layout", "Plan", "Run", "build_plan", "pack", "state_ready"]
