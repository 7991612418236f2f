"""Convolution layers Conv1d and Conv2d, with torch.nn's arguments, weight layout and init."""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from .. import backend
from ..functional.conv import conv
from ..functional.window import ntuple
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared body of Conv1d and Conv2d: arguments, parameters, init, forward and repr."""

    _nsp = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name, n = type(self).__name__, self._nsp
        self.in_channels = _positive(name, "in_channels", in_channels)
        self.out_channels = _positive(name, "out_channels", out_channels)
        self.groups = _positive(name, "groups", groups)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                f"both be divisible by groups ({groups}); change one of them."
            )
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", name, 1)
        self.stride = ntuple(stride, n, "stride", name, 1)
        self.dilation = ntuple(dilation, n, "dilation", name, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name} padding must be an int, a tuple, 'valid' or 'same', got {padding!r}."
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions; use "
                    "stride=1 or give the padding as numbers."
                )
            self.padding: Any = padding
        else:
            self.padding = ntuple(padding, n, "padding", name, 0)
        if padding_mode != "zeros":
            what = "is not supported yet" if padding_mode in _PADDING_MODES else "is unknown"
            raise ValueError(
                f"{name} padding_mode {padding_mode!r} {what}; only 'zeros' is available, so "
                "use padding_mode='zeros'."
            )
        self.padding_mode = padding_mode
        self.output_padding = (0,) * n
        self.transposed = False
        if device is not None:
            backend.Device(device)
        d = backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)
        if d.kind != "f":
            raise TypeError(
                f"{name} dtype must be floating, got {d}; pass gs.float32 or gs.float64."
            )
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=d))
        if bias:
            self.bias = Parameter(np.empty((self.out_channels,), dtype=d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: W ~ kaiming_uniform(a=√5), i.e. U(−1/√fan_in, 1/√fan_in) with
        fan_in = in_channels/groups · ∏kernel_size, and b ~ U(−1/√fan_in, 1/√fan_in)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bias = self._parameters["bias"]
        if bias is not None:
            fan_in = (self.in_channels // self.groups) * math.prod(self.kernel_size)
            if fan_in > 0:
                bound = 1.0 / math.sqrt(fan_in)
                init.uniform_(bias, -bound, bound)

    def forward(self, input: Any) -> Tensor:  # noqa: A002 - PyTorch's argument name
        p = self._parameters
        return conv(input, p["weight"], p["bias"], self.stride, self.padding, self.dilation,
                    self.groups, self._nsp)  # fmt: skip

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if isinstance(self.padding, str) or any(self.padding):
            s += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self._parameters["bias"] is None:
            s += ", bias=False"
        return s


def _positive(layer: str, name: str, value: Any) -> int:
    try:
        if isinstance(value, bool):
            raise TypeError
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{layer} {name} must be an int, got {value!r}.") from None
    if n < 1:
        raise ValueError(f"{layer} {name} must be >= 1, got {n}.")
    return n


class Conv1d(_ConvNd):
    """1-D convolution over x (N, C_in, L): weight (C_out, C_in/groups, k), bias (C_out,).

    Example: ``Conv1d(1, 25, 5, stride=2, padding=1)`` maps (100, 1, 40) to (100, 25, 19).
    padding may be an int, "valid" or "same" (stride 1); padding_mode "zeros" only.
    """

    _nsp = 1


class Conv2d(_ConvNd):
    """2-D convolution over x (N, C_in, H, W): weight (C_out, C_in/groups, kh, kw), bias (C_out,).

    Example: ``Conv2d(1, 6, 5, padding=2)`` maps (64, 1, 28, 28) to (64, 6, 28, 28). Arguments,
    defaults, parameter names and initialisation are PyTorch's, so state dicts load both ways.
    """

    _nsp = 2


__all__ = ["Conv1d", "Conv2d"]
