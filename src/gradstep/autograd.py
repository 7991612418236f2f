"""The Function base (forward and backward on raw arrays), gradient mode, and gradcheck."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from . import backend


class _GradMode:
    """Process-wide switch for graph recording; ``no_grad`` and ``enable_grad`` flip it."""

    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


grad_mode = _GradMode()


class Function:
    """One differentiable operation: a node of the graph.

    ``forward(*arrays)`` gets raw backend arrays and returns one array; it keeps on ``self`` only
    what ``backward`` needs. ``backward(grad)`` gets the gradient of the output and returns one
    gradient per input (``None`` where ``self.needs[i]`` is false). The engine reduces broadcast
    gradients to each input's shape and accumulates them; backward never records a graph.
    """

    __slots__ = ("parents", "needs", "__dict__")

    def forward(self, *arrays: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad: Any) -> tuple[Any, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"


def is_grad_enabled() -> bool:
    """True while operations record a graph for backward."""
    return grad_mode.enabled


def set_grad_enabled(mode: bool) -> None:
    grad_mode.enabled = bool(mode)


class no_grad:
    """Context manager (and decorator) that stops graph recording, as ``torch.no_grad``."""

    def __enter__(self) -> None:
        self._prev = grad_mode.enabled
        grad_mode.enabled = False

    def __exit__(self, *exc: Any) -> None:
        grad_mode.enabled = self._prev

    def __call__(self, fn: Callable) -> Callable:
        mode = type(self)  # no_grad or enable_grad

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return fn(*args, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = fn.__doc__
        return wrapper


class enable_grad(no_grad):
    """Context manager that turns graph recording back on inside a ``no_grad`` block."""

    def __enter__(self) -> None:
        self._prev = grad_mode.enabled
        grad_mode.enabled = True


def _is_tensor(value: Any) -> bool:
    """True for a Tensor, told by what it has: tensor.py imports this module, so importing Tensor
    here (even inside a function) would make an import cycle."""
    return hasattr(value, "requires_grad") and hasattr(value, "backward") and hasattr(value, "data")


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when analytic and numerical gradients disagree."""


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare the engine's gradients of ``fn(*inputs)`` with float64 central differences.

    Inputs that require grad must be float64 tensors. The output may be any shape: the check uses
    a fixed random projection ``sum(out * w)`` so every output element counts. Returns True, or
    raises :class:`GradcheckError` naming the input and the worst element (or returns False when
    ``raise_exception`` is false).
    """
    tensors = [t for t in inputs if _is_tensor(t) and t.requires_grad]
    if not tensors:
        raise ValueError("gradcheck needs at least one input tensor with requires_grad=True.")
    for i, t in enumerate(tensors):
        if t.dtype != backend.float64:
            raise TypeError(
                f"gradcheck input {i} is {t.dtype}; pass float64 tensors "
                "(gs.tensor(x, dtype=gs.float64, requires_grad=True))."
            )
    with enable_grad():
        out = fn(*inputs)
    if not _is_tensor(out):
        raise TypeError("gradcheck: fn must return a Tensor.")
    xp = backend.get_array_module(out.data)
    w = xp.random.default_rng(0).standard_normal(out.shape)

    def value() -> float:
        with no_grad():
            return float((xp.asarray(fn(*inputs).data, dtype=backend.float64) * w).sum())

    for t in tensors:
        t.grad = None
    with enable_grad():
        out = fn(*inputs)
        out.backward(xp.asarray(w, dtype=out.dtype))
    for i, t in enumerate(tensors):
        f64 = backend.float64
        analytic = xp.zeros(t.shape, f64) if t.grad is None else xp.asarray(t.grad, dtype=f64)
        numeric = xp.zeros(t.shape, f64)
        data = t.data  # perturbed in place by index, so non-contiguous arrays work too
        for k in itertools.product(*(range(n) for n in t.shape)):
            orig = data[k]
            data[k] = orig + eps
            plus = value()
            data[k] = orig - eps
            minus = value()
            data[k] = orig
            numeric[k] = (plus - minus) / (2 * eps)
        err = xp.abs(analytic - numeric) - (atol + rtol * xp.abs(numeric))
        if err.size and err.max() > 0:
            k = xp.unravel_index(int(err.argmax()), err.shape)
            msg = (
                f"gradcheck failed for input {i} at index {tuple(int(j) for j in k)}: "
                f"analytic {analytic[k]:.8g} vs numerical {numeric[k]:.8g}."
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
