"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, as torch.nn's (no
parameters; the arguments are kept as given, and the repr shows them as PyTorch does)."""

from __future__ import annotations

from typing import Any

from ..functional.adaptive_pool import adaptive_avg_pool
from ..functional.pool import avg_pool, max_pool
from ..functional.window import ntuple
from ..tensor import Tensor
from .module import Module


class _MaxPoolNd(Module):
    _nsp = 0

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        name, n = type(self).__name__, self._nsp
        ntuple(kernel_size, n, "kernel_size", name, 1)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        ntuple(self.stride, n, "stride", name, 1)
        ntuple(padding, n, "padding", name, 0)
        ntuple(dilation, n, "dilation", name, 1)
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def forward(self, input: Any) -> Any:  # noqa: A002 - PyTorch's argument name
        return max_pool(input, self.kernel_size, self.stride, self.padding, self.dilation,
                        self.ceil_mode, self.return_indices, self._nsp)  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """Max over windows along L of x (N, C, L); stride defaults to kernel_size.

    Example: ``MaxPool1d(2)`` maps (8, 4, 10) to (8, 4, 5).
    """

    _nsp = 1


class MaxPool2d(_MaxPoolNd):
    """Max over windows of x (N, C, H, W); stride defaults to kernel_size.

    Example: ``MaxPool2d(2)`` maps (64, 6, 28, 28) to (64, 6, 14, 14).
    """

    _nsp = 2


class _AvgPoolNd(Module):
    _nsp = 0

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        name, n = type(self).__name__, self._nsp
        one = n == 1  # AvgPool1d keeps its arguments as 1-tuples, as PyTorch does
        k = ntuple(kernel_size, n, "kernel_size", name, 1)
        self.kernel_size = k if one else kernel_size
        st = kernel_size if stride is None else stride
        s = ntuple(st, n, "stride", name, 1)
        self.stride = s if one else st
        p = ntuple(padding, n, "padding", name, 0)
        self.padding = p if one else padding
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input: Any) -> Tensor:  # noqa: A002 - PyTorch's argument name
        return avg_pool(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                        self.count_include_pad, self.divisor_override, self._nsp)  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over windows along L of x (N, C, L); zero padding counts unless
    ``count_include_pad=False``. Example: ``AvgPool1d(2)`` maps (8, 4, 10) to (8, 4, 5)."""

    _nsp = 1

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Mean over windows of x (N, C, H, W), as PyTorch's (``divisor_override`` replaces the
    window size). Example: ``AvgPool2d(2)`` maps (64, 6, 28, 28) to (64, 6, 14, 14)."""

    _nsp = 2


class _AdaptiveAvgPoolNd(Module):
    _nsp = 0

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Any) -> Tensor:  # noqa: A002 - PyTorch's argument name
        return adaptive_avg_pool(input, self.output_size, self._nsp)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average x (N, C, L) into ``output_size`` windows: ``AdaptiveAvgPool1d(1)`` is global
    average pooling, (N, C, L) to (N, C, 1)."""

    _nsp = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average x (N, C, H, W) into an ``output_size`` grid (int or (h, w); None keeps a dim):
    ``AdaptiveAvgPool2d(1)`` is global average pooling, (N, C, H, W) to (N, C, 1, 1)."""

    _nsp = 2


__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "MaxPool1d", "MaxPool2d",
]  # fmt: skip
