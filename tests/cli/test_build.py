"""The command line's builders: "auto" settles to the values the command line has always used
(pinned here as literal numbers, independent of the tables), and the builders pass them on."""

from __future__ import annotations

import pytest

import gradstep as gs
from gradstep import config as C
from gradstep.cli import _build as B
from gradstep.cli import _dataset as DS

# 100 training samples in batches of 32: 4 steps per epoch, 80 steps in the default 20 epochs
CLASSES = DS.Data("c", "classification", list(range(100)), [0], None, 4, 3, 3)
VALUES = DS.Data("r", "regression", list(range(100)), [0], None, 4, 1, None)

# what every optimizer section settles to unless the row below says otherwise
OPTIMIZER_BASE = {
    "dampening": 0.0,
    "nesterov": False,
    "momentum_form": "torch",
    "betas": [0.9, 0.999],
    "amsgrad": False,
    "alpha": 0.99,
    "centered": False,
    "eps_inside_sqrt": False,
    "lr_decay": 0.0,
    "initial_accumulator_value": 0.0,
}
#            name: (lr, momentum, weight_decay, eps)
OPTIMIZERS = {
    "sgd": (0.1, 0.0, 0.0, 1e-8),
    "momentum": (0.05, 0.9, 0.0, 1e-8),
    "adagrad": (0.05, 0.0, 0.0, 1e-10),
    "rmsprop": (0.002, 0.0, 0.0, 1e-8),
    "adam": (0.003, 0.0, 0.0, 1e-8),
    "adamw": (0.003, 0.0, 0.01, 1e-8),
}
SCHEDULE_BASE = {
    "warmup_epochs": 1.0,
    "warmup_steps": 4,
    "min_lr": 0.0,
    "step_size": 10,
    "gamma": 0.1,
    "factor": 0.1,
    "patience": 5,
}
SCHEDULES = [
    "none",
    "warmup_cosine",
    "warmup_linear",
    "warmup_constant",
    "step",
    "exponential",
    "cosine",
    "plateau",
]


def settled(data: DS.Data = CLASSES, **flags: str) -> dict:
    cfg, _ = C.resolve(None, [(k.replace("__", "."), v) for k, v in flags.items()])
    return B.settle(cfg, data)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_auto_optimizer_values_are_the_ones_the_command_line_always_used(name):
    lr, momentum, weight_decay, eps = OPTIMIZERS[name]
    expected = {
        "name": name,
        "lr": lr,
        "momentum": momentum,
        "weight_decay": weight_decay,
        "eps": eps,
        **OPTIMIZER_BASE,
    }
    assert settled(optimizer__name=name)["optimizer"] == expected


@pytest.mark.parametrize("name", SCHEDULES)
def test_auto_schedule_values_are_the_ones_the_command_line_always_used(name):
    gamma = 0.95 if name == "exponential" else 0.1
    expected = {"name": name, **SCHEDULE_BASE, "gamma": gamma}
    assert settled(schedule__name=name)["schedule"] == expected


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (CLASSES, "auto", ("cross_entropy", 0.1, "mean")),
        (CLASSES, "cross_entropy", ("cross_entropy", 0.1, "mean")),
        (VALUES, "auto", ("mse", 0.0, "mean")),
        (VALUES, "mse", ("mse", 0.0, "mean")),
        (VALUES, "sse", ("sse", 0.0, "sum")),
        (VALUES, "l1", ("l1", 0.0, "mean")),
    ],
)
def test_auto_loss_values_are_the_ones_the_command_line_always_used(data, name, expected):
    loss = settled(data, loss__name=name)["loss"]
    assert (loss["name"], loss["label_smoothing"], loss["reduction"]) == expected


def test_values_given_are_kept():
    opt = settled(optimizer__name="momentum", optimizer__momentum="0.5", optimizer__lr="0.2")
    assert opt["optimizer"]["momentum"] == 0.5 and opt["optimizer"]["lr"] == 0.2
    sched = settled(schedule__name="exponential", schedule__gamma="0.5")
    assert sched["schedule"]["gamma"] == 0.5


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_the_optimizer_is_built_with_the_settled_values(name):
    cfg = settled(optimizer__name=name)
    params = [gs.nn.Parameter(gs.zeros(2).data)]
    opt = B.build_optimizer(cfg, params)
    lr, momentum, weight_decay, eps = OPTIMIZERS[name]
    expected_class = {
        "sgd": gs.optim.SGD,
        "momentum": gs.optim.SGD,
        "adagrad": gs.optim.Adagrad,
        "rmsprop": gs.optim.RMSprop,
        "adam": gs.optim.Adam,
        "adamw": gs.optim.AdamW,
    }[name]
    assert type(opt) is expected_class
    group = opt.param_groups[0]
    assert group["lr"] == lr and group["weight_decay"] == weight_decay
    if "momentum" in group:
        assert group["momentum"] == momentum
    if "eps" in group:
        assert group["eps"] == eps
    if "betas" in group:
        assert tuple(group["betas"]) == (0.9, 0.999)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("none", None),
        ("warmup_cosine", {"warmup_steps": 4, "min_lrs": [0.0]}),
        ("warmup_constant", {"warmup_steps": 4}),
        ("step", {"step_size": 10, "gamma": 0.1}),
        ("exponential", {"gamma": 0.95}),
        ("cosine", {"T_max": 20, "eta_min": 0.0}),
        ("plateau", {"factor": 0.1, "patience": 5, "min_lrs": [0.0]}),
    ],
)
def test_the_schedule_is_built_with_the_settled_values(name, expected):
    cfg = settled(schedule__name=name)
    opt = gs.optim.SGD([gs.nn.Parameter(gs.zeros(2).data)], lr=0.1)
    sched = B.build_scheduler(cfg, opt)
    if expected is None:
        assert sched is None
        return
    state = sched.state_dict()
    assert {k: state[k] for k in expected} == expected


def test_the_loss_is_built_with_the_settled_values():
    ce = B.build_loss(settled())
    assert type(ce) is gs.nn.CrossEntropyLoss
    assert (ce.label_smoothing, ce.reduction) == (0.1, "mean")
    sse = B.build_loss(settled(VALUES, loss__name="sse"))
    assert type(sse) is gs.nn.SSELoss and sse.reduction == "sum"


def test_explicit_layers_take_their_widths_from_the_data_and_the_layer_before():
    text = '[{type="linear", out=8}, {type="batchnorm"}, {type="leaky_relu"}, {type="linear"}]'
    cfg, _ = C.resolve(None, [("model.layer", text)])
    layers = B.architecture(cfg, CLASSES)
    assert layers[0] == {"type": "linear", "out": 8, "bias": True, "in": 4}
    assert layers[1] == {  # batchnorm is batchnorm1d for (C,) samples, with its defaults
        "type": "batchnorm1d",
        "num_features": 8,
        "eps": 1e-5,
        "momentum": 0.1,
        "affine": True,
        "track_running_stats": True,
    }
    assert layers[2] == {"type": "leaky_relu", "negative_slope": 0.01}
    assert layers[3] == {"type": "linear", "bias": True, "out": 3, "in": 8}
    assert (B.input_width(layers), B.output_width(layers)) == (4, 3)


def test_a_layer_table_without_a_width_setting_layer_is_an_error():
    cfg, _ = C.resolve(None, [("model.layer", '[{type="relu"}]')])
    with pytest.raises(C.ConfigError, match=r'no linear layer; add at least one \{type="linear"\}'):
        B.architecture(cfg, CLASSES)


def test_the_mlp_shorthand_builds_the_same_network_as_pytorch_would():
    cfg, _ = C.resolve(None, [("model.hidden", "5"), ("model.activation", "tanh")])
    model = B.build_model(B.architecture(cfg, CLASSES))
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear"]
    assert model[0].weight.shape == (5, 4) and model[2].weight.shape == (3, 5)
