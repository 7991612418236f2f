"""Tensor: a backend array with an optional gradient, and reverse-mode backward over Function nodes."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backend
from .autograd import Function, grad_mode


class Tensor:
    """An n-dimensional array that can record the operations applied to it for backpropagation.

    ``.data`` is the raw backend array; ``.grad`` is an array of the same shape after ``backward()``
    (leaf tensors with ``requires_grad=True`` only, as in PyTorch), or None.
    """

    __slots__ = ("data", "_grad", "_grad_store", "requires_grad", "_ctx", "_retain", "__weakref__")
    __array_ufunc__ = None  # make NumPy defer to our reflected operators (ndarray * Tensor)
    __array_priority__ = 1000

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        arr = _to_array(data, dtype)
        self.data = arr
        self._grad = None
        self._grad_store = None
        self._ctx = None
        self._retain = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # -- construction helpers -------------------------------------------------------------
    @staticmethod
    def _make(data: Any, ctx: Function | None = None) -> Tensor:
        """Wrap an array without copying or checking (the engine's fast path)."""
        t = Tensor.__new__(Tensor)
        t.data = data
        t._grad = None
        t._grad_store = None
        t._retain = False
        t._ctx = ctx
        t.requires_grad = ctx is not None
        return t

    # -- attributes -------------------------------------------------------------------------
    @property
    def grad(self) -> Any:
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._grad = None
            return
        if isinstance(value, Tensor):
            value = value.data
        if value.shape != self.data.shape:
            raise ValueError(
                f"assigned grad has shape {tuple(value.shape)} but the tensor has shape "
                f"{tuple(self.data.shape)}; assign an array of the tensor's shape."
            )
        self._grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether gradients are computed for this tensor (in place); floats only."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, this one is {self.data.dtype}; "
                "convert it with .float() first."
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError(
                "requires_grad cannot be turned off on a non-leaf tensor; use .detach() instead."
            )
        self.requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        return self._ctx

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def size(self, dim: int | None = None) -> Any:
        return self.data.shape if dim is None else self.data.shape[dim]

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> backend.Device:
        return backend.device_of(self.data)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() needs a tensor that requires grad.")
        self._retain = True

    # -- conversions --------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared, not copied), like ``torch.Tensor.numpy``."""
        return self.data

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with one element, this one has {self.data.size}; "
                "reduce it first (e.g. .sum())."
            )
        return self.data.reshape(-1)[0].item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A new tensor sharing the data, cut off from the graph."""
        return Tensor._make(self.data)

    def detach_(self) -> Tensor:
        self._ctx = None
        self.requires_grad = False
        return self

    def clone(self) -> Tensor:
        from .functional.arithmetic import clone

        return clone(self)

    def to(self, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False) -> Tensor:
        """Convert to a dtype and/or move to a device: ``t.to(gs.float64)``, ``t.to("cpu")``."""
        for a in args:
            if isinstance(a, (str, backend.Device)) and _looks_like_device(a):
                device = a
            else:
                dtype = a
        out = self
        if device is not None:
            backend.Device(device)
        if dtype is not None:
            d = backend.as_dtype(dtype)
            if d != self.data.dtype:
                from .functional.arithmetic import cast

                out = cast(self, d)
        if copy and out is self:
            out = self.clone()
        return out

    def float(self) -> Tensor:
        return self.to(backend.float32)

    def double(self) -> Tensor:
        return self.to(backend.float64)

    def long(self) -> Tensor:
        return self.to(backend.int64)

    def int(self) -> Tensor:
        return self.to(backend.int32)

    def type(self, dtype: Any) -> Tensor:
        return self.to(dtype)

    def cpu(self) -> Tensor:
        return self

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.data.dtype != backend.get_default_dtype() and self.data.dtype != backend.int64:
            extras.append(f"dtype=gs.{self.data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                "the truth value of a tensor with more than one element is ambiguous; "
                "use .any() or .all()."
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu":
            raise TypeError("only integer tensors of a single element can be used as an index.")
        return int(self.item())

    def __hash__(self) -> int:
        return id(self)

    # -- backward -----------------------------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: bool | None = None) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        ``gradient`` is needed when self is not a single element (the vector in the
        vector-Jacobian product). The graph is walked in topological order, iteratively.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() was called on a tensor that does not require grad; create the "
                "parameters with requires_grad=True (and do not compute it under no_grad())."
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a single-element output, this one has "
                    f"shape {tuple(self.data.shape)}; reduce it first (e.g. .sum() or .mean()) "
                    "or pass gradient=."
                )
            gradient = np.ones_like(self.data)
        else:
            if isinstance(gradient, Tensor):
                gradient = gradient.data
            gradient = np.asarray(gradient, dtype=self.data.dtype)
            if gradient.shape != self.data.shape:
                raise ValueError(
                    f"backward(gradient) has shape {tuple(gradient.shape)} but the output has "
                    f"shape {tuple(self.data.shape)}; pass a gradient of the output's shape."
                )
        run_backward(self, gradient)

    # -- operators (bound at the bottom of the module) ------------------------------------------


def run_backward(root: Tensor, gradient: Any) -> None:
    """Reverse-mode sweep from ``root``: nodes in reverse topological order, leaves accumulate."""
    if root._ctx is None:
        _accumulate_leaf(root, gradient)
        return
    # Iterative post-order DFS over non-leaf tensors (no recursion: deep graphs are fine).
    order: list[Tensor] = []
    seen = {id(root)}
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        stack.append((t, True))
        for p in t._ctx.parents:
            if p._ctx is not None and p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                stack.append((p, False))
    grads: dict[int, Any] = {id(root): gradient}
    for t in reversed(order):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if t._retain:
            _accumulate_leaf(t, g)
        node = t._ctx
        in_grads = node.backward(g)
        for p, pg, need in zip(node.parents, in_grads, node.needs):
            if pg is None or not need:
                continue
            pdata = p.data
            if pg.shape != pdata.shape:
                pg = unbroadcast(pg, pdata.shape)
            if pg.dtype != pdata.dtype:
                pg = pg.astype(pdata.dtype)
            if p._ctx is None:
                _accumulate_leaf(p, pg)
            else:
                key = id(p)
                prev = grads.get(key)
                grads[key] = pg if prev is None else prev + pg


def _accumulate_leaf(p: Tensor, g: Any) -> None:
    """Add ``g`` into ``p.grad``, reusing the gradient storage kept from earlier steps."""
    cur = p._grad
    if cur is None:
        store = p._grad_store
        if store is not None and store.shape == g.shape and store.dtype == p.data.dtype:
            np.copyto(store, g)
        else:
            store = np.array(g, dtype=p.data.dtype, copy=True)
            p._grad_store = store
        p._grad = store
    else:
        cur += g


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def apply(node: Function, *tensors: Tensor) -> Tensor:
    """Run ``node.forward`` on the tensors' arrays; record the node when a gradient is needed."""
    if grad_mode.enabled:
        needs = tuple([t.requires_grad for t in tensors])
        if True in needs:
            node.needs = needs
            node.parents = tensors
            out = node.forward(*[t.data for t in tensors])
            return Tensor._make(out, node)
    node.needs = None
    return Tensor._make(node.forward(*[t.data for t in tensors]))


def _looks_like_device(a: Any) -> bool:
    if isinstance(a, backend.Device):
        return True
    return a.split(":")[0] in ("cpu", "cuda", "mps", "gpu")


def _to_array(data: Any, dtype: Any = None) -> Any:
    """Make a backend array from Python data: floats become the default float dtype unless
    ``dtype`` says otherwise; integers stay integers."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        d = backend.as_dtype(dtype)
        try:
            return np.array(data, dtype=d)
        except (TypeError, ValueError) as e:
            raise TypeError(f"cannot make a {d} tensor from {type(data).__name__}: {e}") from None
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(
            f"cannot make a tensor from this data ({e}); pass a rectangular list or an array."
        ) from None
    kind = arr.dtype.kind
    if kind == "f":
        if arr.dtype != backend.get_default_dtype():
            arr = arr.astype(backend.get_default_dtype())
    elif kind in "iu":
        if arr.dtype != np.int64 and not isinstance(data, np.ndarray | np.generic):
            arr = arr.astype(np.int64)
    elif kind == "b":
        pass
    else:
        raise TypeError(
            f"cannot make a tensor from data of type {arr.dtype}; pass numbers (float, int or bool)."
        )
    return arr


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Make a tensor from data (copied). Floats become float32 unless ``dtype`` says otherwise (a
    deliberate difference from PyTorch, which keeps float64 arrays float64); integers stay
    integers."""
    if device is not None:
        backend.Device(device)
    if isinstance(data, Tensor):
        data = data.data
    arr = _to_array(data, dtype)
    if isinstance(data, np.ndarray) and arr is data:
        arr = arr.copy()
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """Wrap arrays and numbers as constant tensors (a Tensor passes through unchanged)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor._make(value)
    if like is not None and isinstance(value, int | float | bool):
        return Tensor._make(np.asarray(value, dtype=backend.scalar_result_dtype(like.dtype, value)))
    return Tensor._make(_to_array(value))


from . import tensor_methods as _methods  # noqa: E402  (binds operators and methods onto Tensor)

_methods.install(Tensor)
