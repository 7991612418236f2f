"""The network of the MLP estimators: gradstep layers initialised as scikit-learn's MLP does.

scikit-learn draws each layer's ``coefs_[i]`` (fan_in, fan_out) and then ``intercepts_[i]`` from
U(−b, b), b = √(factor/(fan_in + fan_out)) with factor 2 for the logistic activation and 6
otherwise (Glorot), from the estimator's ``random_state``. The same draws, in the same order,
fill gradstep ``Linear`` layers, whose weight is the transpose, (fan_out, fan_in).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import nn

__all__ = [
    "ACTIVATIONS",
    "build_mlp",
    "check_per_layer",
    "hidden_sizes",
    "linear_layers",
    "penalized_parameters",
]

ACTIVATIONS: dict[str, type] = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
}


def hidden_sizes(hidden_layer_sizes: Any) -> list[int]:
    """``hidden_layer_sizes`` as a list of positive ints (an int means one hidden layer)."""
    sizes = (
        list(hidden_layer_sizes)
        if hasattr(hidden_layer_sizes, "__iter__")
        else [hidden_layer_sizes]
    )
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s <= 0:
            raise ValueError(
                f"hidden_layer_sizes must be > 0, got {hidden_layer_sizes!r}; pass positive "
                "ints such as (100,) or (64, 32)."
            )
    return [int(s) for s in sizes]


def check_per_layer(name: str, value: Any, n_hidden: int, check: Any) -> list[Any]:
    """One ``value`` per hidden layer: a single value repeated, or a list of exactly
    ``n_hidden``; ``check(name, v)`` validates each."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        values = [value] * n_hidden
        check(name, value)
    else:
        values = list(value)
        if len(values) != n_hidden:
            raise ValueError(
                f"{name} has {len(values)} entries but there are {n_hidden} hidden layers; pass "
                "one value, or one per hidden layer."
            )
    for v in values:
        check(name, v)
    return values


def build_mlp(
    units: Sequence[int],
    activations: Sequence[str],
    dropouts: Sequence[float],
    dtype: np.dtype,
    random_state: np.random.RandomState,
    output_activation: str,
) -> nn.Sequential:
    """Linear layers ``units[0] → … → units[-1]``, each hidden one followed by its activation
    (and Dropout when its rate is > 0), weights drawn as scikit-learn's ``_init_coef``; the output
    layer's bound uses ``output_activation`` (scikit-learn's ``activation``: the hidden one)."""
    layers: list[Any] = []
    n_layers = len(units) - 1
    for i in range(n_layers):
        fan_in, fan_out = units[i], units[i + 1]
        lin = nn.Linear(fan_in, fan_out, dtype=dtype)
        act = activations[i] if i < len(activations) else output_activation
        bound = math.sqrt((2.0 if act == "logistic" else 6.0) / (fan_in + fan_out))
        coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
        intercept = random_state.uniform(-bound, bound, fan_out)
        lin.weight.data[...] = coef.astype(dtype, copy=False).T
        lin.bias.data[...] = intercept.astype(dtype, copy=False)
        layers.append(lin)
        if i < n_layers - 1:
            layers.append(ACTIVATIONS[activations[i]]())
            if dropouts[i] > 0:
                layers.append(nn.Dropout(dropouts[i]))
    return nn.Sequential(*layers)


def linear_layers(module: Any) -> list[Any]:
    """The ``Linear`` layers of ``module``, in order."""
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


def penalized_parameters(module: Any) -> list[Any]:
    """The parameters scikit-learn's ``alpha`` covers: weight matrices (two or more dims), not
    biases or normalisation scales."""
    return [p for p in module.parameters() if p.requires_grad and p.data.ndim >= 2]
