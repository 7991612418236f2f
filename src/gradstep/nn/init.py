"""Weight initialisation with ``torch.nn.init``'s names, arguments and formulas.

Every function fills ``tensor.data`` in place (a Tensor, a Parameter or a raw array), draws from
the engine's generator (``gs.manual_seed`` makes it repeatable) unless ``generator`` is given, and
returns the tensor. The textbook's initialisation, uniform in (-0.05, 0.05), is
``uniform_(w, -0.05, 0.05)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from .. import random as _random
from ..tensor import Tensor

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")  # fmt: skip


def _array(tensor: Any, fn: str) -> Any:
    """The array behind ``tensor`` (filled in place)."""
    arr = tensor.data if isinstance(tensor, Tensor) else tensor
    if not (hasattr(arr, "dtype") and hasattr(arr, "shape")):
        raise TypeError(f"{fn} needs a Tensor or an array, got {type(tensor).__name__}.")
    if arr.dtype.kind != "f":
        raise TypeError(f"{fn} fills floating tensors only, this one is {arr.dtype}.")
    return arr


def _gen(generator: np.random.Generator | None) -> np.random.Generator:
    return _random.get_generator() if generator is None else generator


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh, √2 for
    relu, √(2 / (1 + slope²)) for leaky_relu (slope ``param``, default 0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number; pass a float.")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"unsupported nonlinearity {nonlinearity!r}; use linear, sigmoid, tanh, relu, leaky_relu, "
        "selu or a conv name."
    )


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """fan_in = shape[1] · receptive field, fan_out = shape[0] · receptive field (a Linear weight
    (out, in) has fan_in = in; a conv weight (out, in, k...) multiplies by the kernel size)."""
    shape = tuple((tensor.data if isinstance(tensor, Tensor) else tensor).shape)
    if len(shape) < 2:
        raise ValueError(
            f"fan in and fan out need a tensor with at least 2 dims, got shape {shape}; use "
            "uniform_ or normal_ for biases."
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor: Any, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported; use 'fan_in' or 'fan_out'.")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Any:
    """Fill with U(a, b). The textbook's small random weights: ``uniform_(w, -0.05, 0.05)``."""
    arr = _array(tensor, "uniform_")
    arr[...] = _gen(generator).uniform(a, b, size=arr.shape)
    return tensor


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Any:
    """Fill with N(mean, std²)."""
    arr = _array(tensor, "normal_")
    arr[...] = _gen(generator).normal(mean, std, size=arr.shape)
    return tensor


def trunc_normal_(
    tensor: Any,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Any = None,
) -> Any:
    """Fill with N(mean, std²) truncated to [a, b] (inverse-CDF sampling; a, b are absolute)."""
    arr = _array(tensor, "trunc_normal_")
    lo = special.ndtr((a - mean) / std)
    hi = special.ndtr((b - mean) / std)
    u = _gen(generator).uniform(lo, hi, size=arr.shape)
    arr[...] = np.clip(mean + std * special.ndtri(u), a, b)
    return tensor


def constant_(tensor: Any, val: float) -> Any:
    """Fill with ``val``."""
    _array(tensor, "constant_")[...] = val
    return tensor


def zeros_(tensor: Any) -> Any:
    return constant_(tensor, 0.0)


def ones_(tensor: Any) -> Any:
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """Glorot: U(−b, b) with b = gain · √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """Glorot: N(0, std²) with std = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(
    tensor: Any,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> Any:
    """He: U(−b, b) with b = gain · √(3 / fan), gain = calculate_gain(nonlinearity, a).

    ``nn.Linear`` uses ``a=√5``, which gives b = 1/√fan_in. A zero-element tensor is left as it is.
    """
    if _array(tensor, "kaiming_uniform_").size == 0:
        return tensor
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Any,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> Any:
    """He: N(0, std²) with std = gain / √fan, gain = calculate_gain(nonlinearity, a)."""
    if _array(tensor, "kaiming_normal_").size == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


__all__ = [
    "calculate_gain", "constant_", "kaiming_normal_", "kaiming_uniform_", "normal_", "ones_",
    "trunc_normal_", "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_",
]  # fmt: skip
