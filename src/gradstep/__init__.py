"""gradstep: neural-network training on NumPy — autodiff, the gradient-descent family, a trainer."""

from .tensor import Tensor, tensor  # noqa: I001  (first: binds the operators)
from . import functional
from . import classic, data, nn, optim, train, viz
from .autograd import enable_grad, gradcheck, is_grad_enabled, no_grad, set_grad_enabled
from .capture import capture
from .backend import (
    Device,
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
    set_num_threads,
    uint8,
)
from .backend import Device as device
from .creation import (
    arange,
    empty,
    from_numpy,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    randn,
    zeros,
    zeros_like,
)
from .io import load, save
from .nn import summary
from .functional import cat, concatenate, exp, log, matmul, sigmoid, sqrt, stack, tanh, where
from .random import manual_seed
from .train import Trainer

__version__ = "0.1.0"

__all__ = [
    "Device",
    "Tensor",
    "Trainer",
    "classic",
    "data",
    "load",
    "nn",
    "optim",
    "save",
    "summary",
    "train",
    "viz",
    "arange",
    "bool_",
    "capture",
    "cat",
    "concatenate",
    "device",
    "empty",
    "enable_grad",
    "exp",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "functional",
    "get_default_dtype",
    "gradcheck",
    "int32",
    "int64",
    "is_grad_enabled",
    "linspace",
    "log",
    "manual_seed",
    "matmul",
    "no_grad",
    "ones",
    "ones_like",
    "rand",
    "randn",
    "set_default_dtype",
    "set_grad_enabled",
    "set_num_threads",
    "sigmoid",
    "sqrt",
    "stack",
    "tanh",
    "tensor",
    "uint8",
    "where",
    "zeros",
    "zeros_like",
]
