"""Differentiable primitives on tensors, with ``torch.nn.functional``'s names and arguments."""

from .activation import (
    dropout,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from .arithmetic import (
    abs,
    add,
    cast,
    clamp,
    clip,
    div,
    exp,
    log,
    matmul,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sqrt,
    sub,
    where,
)
from .linear import linear
from .loss import *  # noqa: F403
from .loss import __all__ as _loss_all
from .reduce import amax, amin, argmax, argmin, logsumexp, max, mean, min, std, sum, var
from .shape import (
    cat,
    concat,
    concatenate,
    expand,
    flatten,
    getitem,
    permute,
    reshape,
    squeeze,
    stack,
    t,
    transpose,
    unsqueeze,
)

__all__ = [
    "abs", "add", "amax", "amin", "argmax", "argmin", "cast", "cat", "clamp", "clip", "concat",
    "concatenate", "div", "dropout", "exp", "expand", "flatten", "gelu", "getitem", "leaky_relu",
    "linear", "log", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mul", "neg", "permute", "pow", "relu", "reshape", "sigmoid", "softmax", "softplus",
    "sqrt", "squeeze", "stack", "std", "sub", "sum", "t", "tanh", "transpose", "unsqueeze", "var",
    "where", *_loss_all,
]
