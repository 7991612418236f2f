"""Layers, containers, losses and the Module base, with torch.nn's names and arguments."""

from . import init, utils
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .containers import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d
from .flat import FlatBuffers, find_flat_buffers, flatten_parameters
from .layers import Dropout, Flatten, Identity, Linear, Unflatten
from .loss import *  # noqa: F403
from .loss import __all__ as _loss_all
from .module import IncompatibleKeys, Module, RemovableHandle, StateDictError
from .normalization import BatchNorm1d, BatchNorm2d
from .parameter import Parameter
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from .summary import summary

__all__ = [
    "Dropout", "FlatBuffers", "Flatten", "GELU", "Identity", "IncompatibleKeys", "LeakyReLU",
    "Linear", "LogSoftmax", "Module", "ModuleDict", "ModuleList", "Parameter", "ReLU",
    "RemovableHandle", "Sequential", "Sigmoid", "Softmax", "Softplus", "StateDictError", "Tanh",
    "Unflatten", "find_flat_buffers", "flatten_parameters", "init", "summary", "utils",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm1d",
    "BatchNorm2d", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d",
    *_loss_all,
]  # fmt: skip
