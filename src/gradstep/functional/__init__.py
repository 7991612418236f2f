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
from .adaptive_pool import adaptive_avg_pool1d, adaptive_avg_pool2d
from .arithmetic import add, cast, div, mul, neg, pow, sub
from .conv import conv1d, conv2d
from .linear import linear
from .loss import *  # noqa: F403
from .loss import __all__ as _loss_all
from .math_functions import abs, clamp, clip, exp, log, maximum, minimum, sqrt, where
from .matmul import matmul
from .normalization import batch_norm
from .pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
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
    "abs",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "add",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "cast",
    "cat",
    "clamp",
    "clip",
    "concat",
    "concatenate",
    "conv1d",
    "conv2d",
    "div",
    "dropout",
    "exp",
    "expand",
    "flatten",
    "gelu",
    "getitem",
    "leaky_relu",
    "linear",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "max_pool1d",
    "max_pool2d",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "neg",
    "permute",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "softmax",
    "softplus",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "t",
    "tanh",
    "transpose",
    "unsqueeze",
    "var",
    "where",
    *_loss_all,
]
