"""Tensor: a backend array with an optional gradient, and making tensors from data. Recording the
ops that make a tensor and walking them backward is the engine's (``engine.py``)."""

from __future__ import annotations

from typing import Any

from . import backend
from .autograd import Function

_new_tensor = object.__new__  # Tensor defines no __new__; calling this directly is the fast path


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
        t = _new_tensor(Tensor)
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
                "only floating-point tensors can require gradients, this one is "
                f"{self.data.dtype}; "
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
    def dtype(self) -> backend.DType:
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
    def numpy(self) -> Any:
        """The data as a NumPy array (shared, not copied), like ``torch.Tensor.numpy``."""
        return backend.to_numpy(self.data)

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

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        arr = backend.to_numpy(self.data)
        if copy:  # np.array(t) asks for a copy and trusts us to have made it
            return arr.copy() if dtype is None else arr.astype(dtype, copy=True)
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __repr__(self) -> str:
        xp = backend.get_array_module(self.data)
        body = xp.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
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
            d = self.data
            xp = backend.get_array_module(d)
            if d.ndim == 0:  # the usual scalar loss: a fifth of ones_like's cost
                gradient = xp.array(1, dtype=d.dtype)
            else:
                gradient = xp.ones_like(d)
        else:
            if isinstance(gradient, Tensor):
                gradient = gradient.data
            xp = backend.get_array_module(self.data)
            gradient = xp.asarray(gradient, dtype=self.data.dtype)
            if gradient.shape != self.data.shape:
                raise ValueError(
                    f"backward(gradient) has shape {tuple(gradient.shape)} but the output has "
                    f"shape {tuple(self.data.shape)}; pass a gradient of the output's shape."
                )
        run_backward(self, gradient)

    # -- operators (bound at the bottom of the module) ------------------------------------------


def _looks_like_device(a: Any) -> bool:
    if isinstance(a, backend.Device):
        return True
    return a.split(":")[0] in ("cpu", "cuda", "mps", "gpu")


def _to_array(data: Any, dtype: Any = None, device: Any = None) -> Any:
    """Make a backend array on ``device`` from Python data: floats become the default float dtype
    unless ``dtype`` says otherwise; integers stay integers."""
    if isinstance(data, Tensor):
        data = data.data
    xp = backend.array_module_for(device)
    if dtype is not None:
        d = backend.as_dtype(dtype)
        try:
            return xp.array(data, dtype=d)
        except (TypeError, ValueError) as e:
            raise TypeError(f"cannot make a {d} tensor from {type(data).__name__}: {e}") from None
    try:
        arr = xp.array(data)
    except ValueError as e:
        raise ValueError(
            f"cannot make a tensor from this data ({e}); pass a rectangular list or an array."
        ) from None
    kind = arr.dtype.kind
    if kind == "f":
        if arr.dtype != backend.get_default_dtype():
            arr = arr.astype(backend.get_default_dtype())
    elif kind in "iu":
        typed = backend.is_array(data) or isinstance(data, backend.array_scalar_types)
        if arr.dtype != backend.int64 and not typed:  # Python ints: int64 on every platform
            arr = arr.astype(backend.int64)
    elif kind == "b":
        pass
    else:
        raise TypeError(
            f"cannot make a tensor from data of type {arr.dtype}; pass numbers (float, int or "
            "bool)."
        )
    return arr


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Make a tensor from data (copied). Floats become float32 unless ``dtype`` says otherwise (a
    deliberate difference from PyTorch, which keeps float64 arrays float64); integers stay
    integers."""
    if isinstance(data, Tensor):
        data = data.data
    arr = _to_array(data, dtype, device)
    if arr is data:
        arr = arr.copy()
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """Wrap arrays and numbers as constant tensors (a Tensor passes through unchanged)."""
    if isinstance(value, Tensor):
        return value
    if backend.is_array(value):
        return Tensor._make(value)
    if like is not None and isinstance(value, int | float | bool):
        xp = backend.get_array_module(like.data)
        return Tensor._make(xp.asarray(value, dtype=backend.scalar_result_dtype(like.dtype, value)))
    return Tensor._make(_to_array(value))


# The engine makes Tensors, so it is imported once Tensor exists; its names stay importable from
# here (``from ..tensor import apply``), as they were before it had a file of its own.
from .engine import apply as apply  # noqa: E402, I001
from .engine import grad_buffer as grad_buffer  # noqa: E402
from .engine import run_backward as run_backward  # noqa: E402
from .engine import unbroadcast as unbroadcast  # noqa: E402
from . import tensor_methods as _methods  # noqa: E402  (binds operators and methods onto Tensor)

_methods.install(Tensor)
