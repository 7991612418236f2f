"""Batch normalisation layers BatchNorm1d and BatchNorm2d, with torch.nn's arguments, buffers
(running_mean, running_var, num_batches_tracked) and train/eval behaviour."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .. import backend
from ..functional.normalization import batch_norm
from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    """Shared body: parameters weight (γ, ones) and bias (β, zeros; dropped with ``bias=False``)
    when ``affine``; buffers running_mean (zeros), running_var (ones) and num_batches_tracked
    (int64) when ``track_running_stats``."""

    _ranks: tuple[int, ...] = ()
    _layout = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        try:
            if isinstance(num_features, bool):
                raise TypeError
            self.num_features = operator.index(num_features)
        except TypeError:
            raise TypeError(f"{name} num_features must be an int, got {num_features!r}.") from None
        if self.num_features < 1:
            raise ValueError(f"{name} num_features must be >= 1, got {num_features}.")
        if not eps > 0:
            raise ValueError(f"{name} eps must be > 0, got {eps!r}.")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f"{name} momentum must be in [0, 1] or None (cumulative average), got {momentum!r}."
            )
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        if device is not None:
            backend.Device(device)
        d = backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)
        if d.kind != "f":
            raise TypeError(
                f"{name} dtype must be floating, got {d}; pass gs.float32 or gs.float64."
            )
        c = self.num_features
        if self.affine:
            self.weight = Parameter(np.ones(c, dtype=d))
            if bias:
                self.bias = Parameter(np.zeros(c, dtype=d))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(c, dtype=d))
            self.register_buffer("running_var", np.ones(c, dtype=d))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=backend.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked (in place)."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        """Reset the running statistics and set γ = 1, β = 0."""
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
            if self._parameters["bias"] is not None:
                self.bias.data[...] = 0

    def forward(self, input: Any) -> Tensor:  # noqa: A002 - PyTorch's argument name
        shape = tuple(input.shape) if hasattr(input, "shape") else None
        name = type(self).__name__
        if shape is None or len(shape) not in self._ranks:
            raise ValueError(
                f"{name} expects a {self._layout} input, got shape {shape}; reshape the data "
                "to match."
            )
        if shape[1] != self.num_features:
            raise ValueError(
                f"{name}({self.num_features}) got an input with {shape[1]} channels (dim 1, "
                f"shape {shape}); set num_features to the channel count."
            )
        factor = 0.0 if self.momentum is None else self.momentum
        b = self._buffers
        if self.training and self.track_running_stats:
            tracked = b["num_batches_tracked"]
            if tracked is not None:
                tracked.data += 1
                if self.momentum is None:  # cumulative moving average
                    factor = 1.0 / float(tracked.data)
        use_batch = self.training or (b["running_mean"] is None and b["running_var"] is None)
        keep = not self.training or self.track_running_stats
        p = self._parameters
        return batch_norm(
            input,
            b["running_mean"] if keep else None,
            b["running_var"] if keep else None,
            p["weight"],
            p["bias"],
            use_batch,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self._parameters['bias'] is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over x (N, C) or (N, C, L), per feature / channel C.

    Training normalises with the batch's statistics and moves the running ones towards them
    (momentum, or a cumulative average with ``momentum=None``; running_var takes the unbiased
    variance); eval mode normalises with the running statistics. Example: ``BatchNorm1d(25)``
    after a ``Conv1d(..., 25, ...)``.
    """

    _ranks = (2, 3)
    _layout = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over x (N, C, H, W), per channel C, as PyTorch's (see BatchNorm1d).

    Example: ``BatchNorm2d(16)`` after a ``Conv2d(..., 16, ...)``; state dict keys weight, bias,
    running_mean, running_var, num_batches_tracked.
    """

    _ranks = (4,)
    _layout = "4-D (N, C, H, W)"


__all__ = ["BatchNorm1d", "BatchNorm2d"]
