"""Trajectories against torch.optim (single-tensor path), float64, with lr changed every step.

Both sides train the same 2-layer tanh net on the same batches from the same initial weights;
each side's gradients are computed by torch's autograd at that side's own weights, so the two
trajectories evolve independently and any difference comes from the optimizers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradstep.optim import SGD, Adagrad, Adam, AdamW, RMSprop  # noqa: E402
from gradstep.tensor import tensor  # noqa: E402

STEPS = 35


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors: one thread avoids torch's thread-pool hand-offs (slow on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


SHAPES = [(64, 40), (64,), (3, 64), (3,)]  # W1, b1, W2, b2


def batches():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((STEPS, 16, 40))
    y = rng.integers(0, 3, size=(STEPS, 16))
    return x, y


def torch_grads(arrays, x, y):
    """Loss gradients of the tanh net at ``arrays`` (float64), by torch's autograd."""
    w1, b1, w2, b2 = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays)
    logits = torch.tanh(torch.from_numpy(x) @ w1.T + b1) @ w2.T + b2
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
    return [g.numpy() for g in torch.autograd.grad(loss, [w1, b1, w2, b2])]


def lr_at(t: int, base: float) -> float:
    """Linear warm-up over 10 steps, then cosine decay: a new lr at every step."""
    warm = min(1.0, (t + 1) / 10)
    return base * warm * (0.55 + 0.45 * np.cos(np.pi * t / STEPS))


GS = {"SGD": SGD, "Adagrad": Adagrad, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW}

# name, the constructor's hyperparameters, group 1's overrides (base lr included)
CASES = [
    ("SGD", {"lr": 0.1}, {"lr": 0.05, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"lr": 0.02, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}, {"lr": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}, {"momentum": 0.5, "dampening": 0.0}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "maximize": True, "weight_decay": 0.01}, {"lr": 0.02}),
    ("Adagrad", {"lr": 0.1}, {"lr": 0.05, "weight_decay": 0.01}),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1},
        {"weight_decay": 0.1, "eps": 1e-6},
    ),
    ("Adagrad", {"lr": 0.05, "maximize": True}, {"lr_decay": 0.2}),
    ("RMSprop", {"lr": 0.01}, {"lr": 0.005, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}, {"alpha": 0.9, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01, "centered": True}, {"centered": False, "lr": 0.02}),
    (
        "RMSprop",
        {"lr": 0.005, "centered": True, "momentum": 0.5, "weight_decay": 0.01, "maximize": True},
        {"alpha": 0.95},
    ),
    ("Adam", {"lr": 0.01}, {"lr": 0.02, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}, {"betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "betas": (0.5, 0.9), "maximize": True}, {"amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}, {"lr": 0.003}),
    ("AdamW", {"lr": 0.01}, {"lr": 0.02, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05}, {"weight_decay": 0.0}),
]


def groups_of(params, over1):
    return [{"params": params[:2]}, {"params": params[2:], **over1}]


@pytest.mark.parametrize(("name", "hyper0", "over1"), CASES)
def test_trajectory_matches_torch(name, hyper0, over1):
    rng = np.random.default_rng(3)
    init = [rng.standard_normal(s) * 0.5 for s in SHAPES]
    x, y = batches()

    ours = [tensor(a, dtype=np.float64, requires_grad=True) for a in init]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in init]
    opt = GS[name](groups_of(ours, over1), **hyper0)
    ref = getattr(torch.optim, name)(groups_of(theirs, over1), foreach=False, **hyper0)
    bases = [g["lr"] for g in opt.param_groups]

    for t in range(STEPS):
        for i, base in enumerate(bases):
            opt.param_groups[i]["lr"] = ref.param_groups[i]["lr"] = lr_at(t, base)
        for p, g in zip(ours, torch_grads([p.data for p in ours], x[t], y[t])):
            p.grad = g
        for p, g in zip(theirs, torch_grads([p.detach().numpy() for p in theirs], x[t], y[t])):
            p.grad = torch.from_numpy(g)
        opt.step()
        ref.step()

    for a, b in zip(ours, theirs):
        want = b.detach().numpy()
        assert not np.allclose(want, [i for i in init if i.shape == want.shape][0])
        np.testing.assert_allclose(a.data, want, rtol=1e-9, atol=1e-12)

    # same state names and values
    ours_sd, ref_sd = opt.state_dict(), ref.state_dict()
    assert ours_sd["state"].keys() == ref_sd["state"].keys()
    for k, entries in ref_sd["state"].items():
        assert set(ours_sd["state"][k]) == set(entries)
        for key, value in entries.items():
            if key == "step":
                assert ours_sd["state"][k][key] == float(value)
            else:
                np.testing.assert_allclose(
                    ours_sd["state"][k][key], value.numpy(), rtol=1e-8, atol=1e-12
                )


def test_textbook_momentum_differs_from_torch_under_a_schedule():
    """The textbook form is a different method once lr changes; torch's form is the default."""
    rng = np.random.default_rng(3)
    init = [rng.standard_normal(s) * 0.5 for s in SHAPES]
    x, y = batches()
    finals = []
    for form in ("torch", "textbook"):
        ps = [tensor(a, dtype=np.float64, requires_grad=True) for a in init]
        opt = SGD(ps, lr=0.1, momentum=0.9, momentum_form=form)
        for t in range(10):
            opt.param_groups[0]["lr"] = lr_at(t, 0.1)
            for p, g in zip(ps, torch_grads([p.data for p in ps], x[t], y[t])):
                p.grad = g
            opt.step()
        finals.append(np.concatenate([p.data.ravel() for p in ps]))
    assert not np.allclose(finals[0], finals[1], rtol=1e-6)


def test_torch_state_dict_loads_and_continues():
    """A torch.optim.Adam state_dict (tensors, float step) loads and continues like torch."""
    rng = np.random.default_rng(5)
    init = [rng.standard_normal(s) for s in SHAPES]
    x, y = batches()
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    ref = torch.optim.Adam(theirs, lr=0.01, amsgrad=True, foreach=False)
    for t in range(3):
        for p, g in zip(theirs, torch_grads([p.detach().numpy() for p in theirs], x[t], y[t])):
            p.grad = torch.from_numpy(g)
        ref.step()
    ours = [tensor(p.detach().numpy(), dtype=np.float64, requires_grad=True) for p in theirs]
    opt = Adam(ours, lr=0.5)
    opt.load_state_dict(ref.state_dict())
    assert opt.param_groups[0]["lr"] == 0.01 and "foreach" not in opt.param_groups[0]
    assert opt.state[ours[0]]["step"] == 3
    for t in range(3, 8):
        for p, g in zip(ours, torch_grads([p.data for p in ours], x[t], y[t])):
            p.grad = g
        for p, g in zip(theirs, torch_grads([p.detach().numpy() for p in theirs], x[t], y[t])):
            p.grad = torch.from_numpy(g)
        opt.step()
        ref.step()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-9, atol=1e-12)
