"""Basic layers: Linear (the fully connected layer), Identity, Flatten, Unflatten, Dropout."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..functional.activation import dropout
from ..functional.linear import linear
from ..functional.shape import flatten, reshape
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter


def _count(name: str, value: Any) -> int:
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(value).__name__}.") from None
    if n < 0:
        raise ValueError(f"{name} must be >= 0, got {n}.")
    return n


def _float_dtype(dtype: Any) -> np.dtype:
    d = backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"layer dtype must be floating, got {d}; pass gs.float32 or gs.float64.")
    return d


class Linear(Module):
    """y = x Wᵀ + b, with ``weight`` of shape (out_features, in_features) and ``bias`` (out,).

    Initialised as PyTorch does: W ~ U(−1/√in, 1/√in) (``kaiming_uniform_`` with a = √5) and
    b ~ U(−1/√in, 1/√in), drawn from the engine's generator.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in_features = _count("in_features", in_features)
        self.out_features = _count("out_features", out_features)
        if device is not None:
            backend.Device(device)
        d = _float_dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=d))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), dtype=d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw new weights with PyTorch's default scheme (see the class docstring)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bias = self._parameters["bias"]
        if bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(bias, -bound, bound)

    def forward(self, input: Any) -> Tensor:  # noqa: A002 - PyTorch's argument name
        p = self._parameters
        return linear(input, p["weight"], p["bias"])

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self._parameters['bias'] is not None}"
        )


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored, as in PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:  # noqa: A002
        return input


class Flatten(Module):
    """Merge dims ``start_dim..end_dim`` into one (by default everything but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = operator.index(start_dim)
        self.end_dim = operator.index(end_dim)

    def forward(self, input: Any) -> Tensor:  # noqa: A002
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (one entry may be -1)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim = operator.index(dim)
        if isinstance(unflattened_size, int) or not all(
            isinstance(s, int) for s in unflattened_size
        ):
            raise TypeError(f"unflattened_size must be a tuple of ints, got {unflattened_size!r}.")
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Any) -> Tensor:  # noqa: A002
        shp = tuple(input.shape)
        d = self.dim + len(shp) if self.dim < 0 else self.dim
        if not 0 <= d < len(shp):
            raise ValueError(f"Unflatten dim {self.dim} is out of range for shape {shp}.")
        return reshape(input, shp[:d] + self.unflattened_size + shp[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability ``p`` and scale the rest
    by 1/(1−p); in eval mode the identity. ``inplace`` is accepted and computes out of place."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability p must be in [0, 1], got {p!r}.")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Any) -> Tensor:  # noqa: A002
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


__all__ = ["Dropout", "Flatten", "Identity", "Linear", "Unflatten"]
