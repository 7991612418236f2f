"""Layers, containers, losses and the Module base, with torch.nn's names and arguments."""

from . import init, utils
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .containers import ModuleDict, ModuleList, Sequential
from .flat import FlatBuffers, find_flat_buffers, flatten_parameters
from .layers import Dropout, Flatten, Identity, Linear, Unflatten
from .loss import *  # noqa: F403
from .loss import __all__ as _loss_all
from .module import IncompatibleKeys, Module, RemovableHandle, StateDictError
from .parameter import Parameter
from .summary import summary

__all__ = [
    "Dropout", "FlatBuffers", "Flatten", "GELU", "Identity", "IncompatibleKeys", "LeakyReLU",
    "Linear", "LogSoftmax", "Module", "ModuleDict", "ModuleList", "Parameter", "ReLU",
    "RemovableHandle", "Sequential", "Sigmoid", "Softmax", "Softplus", "StateDictError", "Tanh",
    "Unflatten", "find_flat_buffers", "flatten_parameters", "init", "summary", "utils",
    *_loss_all,
]  # fmt: skip
