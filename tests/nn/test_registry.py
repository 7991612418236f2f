"""The loss and layer tables: get_loss by name, each loss's prediction rule, and layer entries
whose defaults are PyTorch's and whose widths flow as their entries say."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import gradstep as gs
from gradstep.nn import loss as L
from gradstep.nn.registry import LAYERS, LOSSES, LayerEntry, LayerField, get_loss

NAMES = {
    "cross_entropy": L.CrossEntropyLoss,
    "crossentropy": L.CrossEntropyLoss,
    "ce": L.CrossEntropyLoss,
    "CE": L.CrossEntropyLoss,
    "nll": L.NLLLoss,
    "mse": L.MSELoss,
    "sse": L.SSELoss,
    "l1": L.L1Loss,
    "bce": L.BCELoss,
    "bce-with-logits": L.BCEWithLogitsLoss,
    "huber": L.HuberLoss,
    "smooth_l1": L.SmoothL1Loss,
}


@pytest.mark.parametrize(("name", "cls"), list(NAMES.items()))
def test_get_loss_gives_a_new_module_for_a_name_or_alias(name, cls):
    first, second = get_loss(name), get_loss(name)
    assert type(first) is cls and type(second) is cls and first is not second


def test_get_loss_passes_modules_and_callables_through():
    module = gs.nn.MSELoss(reduction="sum")
    assert get_loss(module) is module

    def plain(out, target):
        return ((out - target) ** 2).sum()

    assert get_loss(plain) is plain


def test_get_loss_rejects_unknown_names_and_non_callables():
    with pytest.raises(ValueError) as err:
        get_loss("cross_entrpy")
    text = str(err.value)
    assert "unknown loss 'cross_entrpy' (did you mean 'cross_entropy'?)" in text
    assert "cross_entropy, mse, sse, l1, nll, bce, bce_with_logits" in text
    with pytest.raises(TypeError, match="loss must be a loss module"):
        get_loss(42)


@pytest.mark.parametrize(
    ("cls", "rule"),
    [
        (L.CrossEntropyLoss, "argmax"),
        (L.NLLLoss, "argmax"),
        (L.MSELoss, "argmax"),
        (L.SSELoss, "argmax"),
        (L.L1Loss, "argmax"),
        (L.HuberLoss, "argmax"),
        (L.SmoothL1Loss, "argmax"),
        (L.BCELoss, "probability"),
        (L.BCEWithLogitsLoss, "logit"),
    ],
)
def test_every_loss_says_how_an_output_becomes_a_prediction(cls, rule):
    assert cls.prediction == rule
    assert cls().prediction == rule


def test_every_loss_class_has_an_entry_and_the_table_knows_its_task():
    assert {e.factory for e in LOSSES.values()} == {getattr(L, n) for n in L.__all__}
    tasks = {name: e.task for name, e in LOSSES.items()}
    assert tasks["cross_entropy"] == tasks["bce"] == "classification"
    assert tasks["mse"] == tasks["huber"] == "regression"
    autos = {e.auto_for.value: name for name, e in LOSSES.items() if e.auto_for is not None}
    assert autos == {"classification": "cross_entropy", "regression": "mse"}
    assert [n for n, e in LOSSES.items() if e.cli] == ["cross_entropy", "mse", "sse", "l1"]


def test_layer_field_defaults_are_pytorchs():
    for name, entry in LAYERS.items():
        if entry.factory is None:
            continue
        theirs = inspect.signature(getattr(torch.nn, entry.factory.__name__)).parameters
        for field_name, value in entry.field_defaults().items():
            param = theirs[entry.rename.get(field_name, field_name)]
            expected = None if param.default is inspect.Parameter.empty else param.default
            assert value == expected, (name, field_name)


def test_activations_for_the_mlp_shorthand():
    hidden = [n for n, e in LAYERS.items() if "hidden" in e.activation]
    output = [n for n, e in LAYERS.items() if "output" in e.activation]
    assert hidden == ["relu", "sigmoid", "tanh", "leaky_relu", "gelu"]
    assert output == ["sigmoid", "tanh"]


# one sample shape each entry takes, and the values its table needs besides the in_field
EXAMPLES = {
    "linear": ((2, 3), {"out": 5}),
    "relu": ((3,), {}),
    "sigmoid": ((3,), {}),
    "tanh": ((3,), {}),
    "leaky_relu": ((3,), {}),
    "gelu": ((3,), {}),
    "dropout": ((3,), {}),
    "flatten": ((2, 3, 4), {}),
    "unflatten": ((6, 2), {"dim": 1, "unflattened_size": [2, -1]}),
    "conv1d": ((2, 9), {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1}),
    "conv2d": ((2, 7, 6), {"out_channels": 4, "kernel_size": [3, 2], "dilation": 2}),
    "maxpool1d": ((2, 9), {"kernel_size": 2, "ceil_mode": True}),
    "maxpool2d": ((2, 7, 6), {"kernel_size": 3, "stride": 2, "padding": 1}),
    "avgpool1d": ((2, 9), {"kernel_size": 3}),
    "avgpool2d": ((2, 7, 6), {"kernel_size": [2, 3], "ceil_mode": True}),
    "adaptive_avgpool1d": ((2, 9), {"output_size": 1}),
    "adaptive_avgpool2d": ((2, 7, 6), {"output_size": [2, 3]}),
    "adaptive_avgpool": ((2, 9), {"output_size": 4}),
    "batchnorm1d": ((3, 5), {}),
    "batchnorm2d": ((3, 4, 5), {}),
    "batchnorm": ((3,), {}),
}


def test_every_layer_entry_has_an_example():
    assert set(EXAMPLES) == {n for n, e in LAYERS.items() if e.factory is not None}


@pytest.mark.parametrize("name", [n for n, e in LAYERS.items() if e.factory is not None])
def test_every_layer_entry_builds_a_module_whose_output_has_the_shape_its_rule_gives(name):
    entry = LAYERS[name]
    shape, given = EXAMPLES[name]
    values = {k: v for k, v in entry.field_defaults().items() if v is not None}
    values.update(given)
    if entry.in_field:
        values[entry.in_field] = shape[entry.in_dim]
    module = entry.build(**values)
    module.eval()
    out = module(gs.tensor(np.ones((2, *shape), dtype=np.float32)))
    assert out.shape[1:] == entry.output_shape(shape, values)
    assert out.shape[0] == 2


def test_a_layer_entry_checks_its_fields_against_the_constructor():
    with pytest.raises(ValueError, match="field 'rate' is no parameter of Dropout"):
        LayerEntry("drop", gs.nn.Dropout, fields={"rate": LayerField("float")})
    with pytest.raises(ValueError, match="'width' is not one of its fields"):
        LayerEntry("lin", gs.nn.Linear, in_field="width")
