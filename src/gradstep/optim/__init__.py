"""Optimizers with torch.optim's arguments, defaults, formulas and state names."""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .groups import param_groups_no_decay
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "lr_scheduler",
    "param_groups_no_decay",
]
