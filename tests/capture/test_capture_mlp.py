"""Captured MLP steps are bit-identical to eager steps: every optimizer and option, float32 and
float64, each activation and loss, with a schedule changing lr between steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from capture_helpers import batches, classic_step, eager_vs_captured, mlp

import gradstep as gs
from gradstep import nn, optim

OPTIMIZERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "momentum_form": "textbook", "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1},
    ),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "maximize": True, "betas": (0.8, 0.9)}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.5}),
]


def _build(dtype, act, opt_name, opt_kw, loss, out_act=None, schedule=True):
    n_out = 3

    def build():
        gs.manual_seed(0)
        model = mlp((6, 10, n_out), act, dtype, out_act)
        opt = getattr(optim, opt_name)(model.parameters(), **opt_kw)
        # warm-up changes lr at every step: the replay must read it each time
        sched = optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / 4) if schedule else None
        return model, opt, classic_step(model, opt, loss, sched)

    return build


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("opt_name", "opt_kw"), OPTIMIZERS)
def test_every_optimizer_and_option_replays_bit_for_bit(dtype, opt_name, opt_kw):
    build = _build(dtype, "relu", opt_name, opt_kw, nn.MSELoss())
    eager_vs_captured(build, batches(6, "value", dtype))


CASES = [  # each activation with each loss, some twice
    ("sigmoid", nn.CrossEntropyLoss(), "index", None),
    (
        "relu",
        nn.CrossEntropyLoss(label_smoothing=0.1, weight=np.array([1.0, 2.0, 0.5])),
        "index",
        None,
    ),
    ("tanh", nn.MSELoss(), "value", None),
    ("gelu", nn.BCELoss(), "binary", "sigmoid"),
    ("sigmoid", nn.BCEWithLogitsLoss(), "binary", None),
    ("relu", nn.SSELoss(), "value", None),
    ("gelu", nn.CrossEntropyLoss(), "index", None),
    ("tanh", nn.BCELoss(), "binary", "sigmoid"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("act", "loss", "target", "out_act"),
    CASES,
    ids=[
        "sigmoid-ce",
        "relu-ce-weighted",
        "tanh-mse",
        "gelu-bce",
        "sigmoid-bcelogits",
        "relu-sse",
        "gelu-ce",
        "tanh-bce",
    ],
)
def test_activations_and_losses_replay_bit_for_bit(dtype, act, loss, target, out_act):
    build = _build(dtype, act, "Adam", {"lr": 0.01}, loss, out_act)
    eager_vs_captured(build, batches(6, target, dtype))


def test_a_scheduler_outside_the_step_and_hand_edited_hyperparameters_are_followed():
    """lr changed between replays (a schedule stepped by the loop, then a user's edit of
    param_groups) changes the replayed update exactly as it changes the eager one."""
    data = batches(6, "index", n=6)

    def run(captured):
        gs.manual_seed(0)
        model = mlp((6, 10, 3), "sigmoid")
        opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
        step_fn = classic_step(model, opt, nn.CrossEntropyLoss())
        step = gs.capture(step_fn, *data[0]) if captured else step_fn
        losses = []
        for i, (x, y) in enumerate(data):
            losses.append(np.array(step(x, y).data, copy=True))
            sched.step()
            if i == 3:
                opt.param_groups[0]["lr"] = 0.25
                opt.param_groups[0]["momentum"] = 0.5
        return losses, [p.data.copy() for p in model.parameters()]

    (l1, p1), (l2, p2) = run(False), run(True)
    assert [a.tobytes() for a in l1] == [a.tobytes() for a in l2]
    assert all(a.tobytes() == b.tobytes() for a, b in zip(p1, p2))
    assert not np.array_equal(p1[0], run_without_edits(data)[0])  # the edit did matter


def run_without_edits(data):
    gs.manual_seed(0)
    model = mlp((6, 10, 3), "sigmoid")
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    step_fn = classic_step(model, opt, nn.CrossEntropyLoss())
    for x, y in data:
        step_fn(x, y)
    return [p.data.copy() for p in model.parameters()]


def test_flat_parameter_buffers_and_tensor_inputs_replay_bit_for_bit():
    def build():
        gs.manual_seed(0)
        model = mlp((6, 10, 3), "tanh")
        nn.flatten_parameters(model)
        opt = optim.Adam(model.parameters(), lr=0.01)
        return model, opt, classic_step(model, opt, nn.CrossEntropyLoss())

    data = [(gs.tensor(x), gs.tensor(y)) for x, y in batches(6, "index")]
    eager_vs_captured(build, data)


def test_replayed_adam_matches_pytorch_in_float64():
    """An independent oracle: three replayed Adam steps against torch.optim.Adam."""
    data = batches(6, "index", "float64", n=3)
    gs.manual_seed(0)
    model = mlp((6, 10, 3), "tanh", "float64")
    tmodel = torch.nn.Sequential(torch.nn.Linear(6, 10), torch.nn.Tanh(), torch.nn.Linear(10, 3))
    tmodel = tmodel.double()
    tmodel.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    opt = optim.Adam(model.parameters(), lr=0.05, weight_decay=0.01)
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.05, weight_decay=0.01)
    step = gs.capture(classic_step(model, opt, nn.CrossEntropyLoss()), *data[0])
    assert step.captured, step.reason
    for x, y in data:
        loss = float(step(x, y))
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
        tloss.backward()
        topt.step()
        assert loss == pytest.approx(tloss.item(), rel=1e-12, abs=1e-13)
    for (name, p), tp in zip(model.named_parameters(), tmodel.parameters()):
        np.testing.assert_allclose(
            p.data, tp.detach().numpy(), rtol=1e-11, atol=1e-12, err_msg=name
        )


def test_one_sgd_step_by_hand():
    """w ← w − lr·∂E/∂w for E = ½·Σ(wx + b − t)², computed by hand for one linear unit."""
    model = nn.Linear(2, 1).double()
    model.weight.data[...] = [[0.5, -1.0]]
    model.bias.data[...] = [0.25]
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = np.array([[1.0, 2.0]])
    t = np.array([[1.0]])
    step = gs.capture(classic_step(model, opt, nn.SSELoss()), x, t)
    assert step.captured, step.reason
    loss = float(step(x, t))
    o = 0.5 * 1.0 - 1.0 * 2.0 + 0.25  # -1.25
    assert loss == 0.5 * (o - 1.0) ** 2
    expected = [[0.5 - 0.1 * (o - 1.0), -1.0 - 0.1 * (o - 1.0) * 2]]
    np.testing.assert_allclose(model.weight.data, expected, rtol=1e-15)
    np.testing.assert_allclose(model.bias.data, [0.25 - 0.1 * (o - 1.0)], rtol=1e-15)
