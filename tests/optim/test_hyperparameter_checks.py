"""Which hyperparameter values the optimizers accept, against torch.optim as the oracle.

Numbers (Python or NumPy, ints or floats, infinities) are accepted or refused as torch does. Two
deliberate differences are checked by hand: NaN is always refused (torch's SGD takes NaN because
its checks are ``lr < 0``), and bools are not numbers (torch takes True as 1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradstep.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from gradstep.tensor import tensor

OURS = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW, "Adagrad": Adagrad, "RMSprop": RMSprop}
NUMERIC = {
    "SGD": ["lr", "momentum", "weight_decay", "dampening"],
    "Adam": ["lr", "eps", "weight_decay"],
    "AdamW": ["lr", "eps", "weight_decay"],
    "Adagrad": ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"],
    "RMSprop": ["lr", "eps", "momentum", "weight_decay", "alpha"],
}
CASES = [(cls, name) for cls, names in NUMERIC.items() for name in names]
VALUES = [np.float32(0.1), np.float64(2.5), np.int64(0), 0, 1, math.inf, -math.inf, -1e-12, -1]
BETAS = [(0.0, 0.5), (0.5, np.float64(0.9)), (1.0, 0.9), (0.9, 1.0), (-1e-12, 0.9), (0.9, math.inf)]


def outcome(build, cls, **kwargs):
    """ "accepted", or the name of the exception class that ``build(cls, **kwargs)`` raised."""
    try:
        build(cls, **kwargs)
    except (TypeError, ValueError) as err:
        return type(err).__name__
    return "accepted"


def ours(cls, **kwargs):
    return OURS[cls]([tensor(np.zeros(2), dtype=np.float64, requires_grad=True)], **kwargs)


def theirs(cls, **kwargs):
    return getattr(torch.optim, cls)([torch.nn.Parameter(torch.zeros(2))], **kwargs)


@pytest.mark.parametrize(("cls", "name"), CASES)
def test_numbers_accepted_or_refused_as_torch_does(cls, name):
    for value in VALUES:
        want = outcome(theirs, cls, **{name: value})
        got = outcome(ours, cls, **{name: value})
        assert got == want, (cls, name, value)


@pytest.mark.parametrize("cls", ["Adam", "AdamW"])
def test_betas_accepted_or_refused_as_torch_does(cls):
    for betas in BETAS:
        want = outcome(theirs, cls, betas=betas)
        got = outcome(ours, cls, betas=betas)
        assert got == want, (cls, betas)


@pytest.mark.parametrize(("cls", "name"), CASES)
def test_nan_is_refused_naming_the_argument(cls, name):
    with pytest.raises(ValueError, match=rf"^{name} must be a number.*, got nan\.$"):
        ours(cls, **{name: math.nan})


@pytest.mark.parametrize(("cls", "name"), CASES)
def test_bools_and_strings_are_type_errors(cls, name):
    for value in (True, "0.1", None):
        with pytest.raises(TypeError, match=rf"^{name} must be a number"):
            ours(cls, **{name: value})


def test_hyperparameters_are_stored_as_given():
    """Checks do not convert: the group holds what the user passed, as in torch."""
    opt = ours("SGD", lr=np.float32(0.5), momentum=1)
    group = opt.param_groups[0]
    assert type(group["lr"]) is np.float32 and type(group["momentum"]) is int
