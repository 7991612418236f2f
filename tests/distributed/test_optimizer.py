"""DistributedOptimizer in one process: the wrapped optimizer's steps exactly, its state shared,
clear errors. (Its allreduce is checked under mpiexec in test_mpi.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn
from gradstep.distributed import (
    DistributedOptimizer,
    broadcast_optimizer_state,
    broadcast_parameters,
)
from gradstep.optim import SGD, Adam


def net(seed: int) -> nn.Module:
    gs.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()


def train(model, opt, closure: bool = False) -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = gs.tensor(rng.normal(size=(8, 3)), dtype=gs.float64)
        y = rng.integers(0, 2, size=8)

        def loss_fn(x=x, y=y):
            opt.zero_grad()
            loss = gs.functional.cross_entropy(model(x), y)
            loss.backward()
            return loss

        if closure:
            opt.step(loss_fn)
        else:
            loss_fn()
            opt.step()


@pytest.mark.parametrize("closure", [False, True])
def test_in_one_process_it_takes_the_wrapped_optimizers_steps(closure):
    a, b = net(1), net(1)
    train(a, Adam(a.parameters(), lr=0.05))
    wrapped = DistributedOptimizer(Adam(b.parameters(), lr=0.05))
    train(b, wrapped, closure)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert np.array_equal(va, vb), k
    assert wrapped.param_groups is wrapped.optimizer.param_groups
    assert wrapped.state_dict()["state"][0]["step"] == 5
    assert wrapped.defaults["lr"] == 0.05 and wrapped.state is wrapped.optimizer.state


def test_synchronize_returns_the_values_and_leaves_the_gradients():
    model = net(2)
    opt = DistributedOptimizer(SGD(model.parameters(), lr=0.1))
    gs.functional.cross_entropy(model(gs.ones(2, 3, dtype=gs.float64)), np.array([0, 1])).backward()
    before = [p.grad.copy() for p in model.parameters()]
    out = opt.synchronize(weight=3.0, values=(1.5, 2.0))
    assert out.dtype == np.float64 and out.tolist() == [1.5, 2.0]
    assert all(np.array_equal(b, p.grad) for b, p in zip(before, model.parameters()))


def test_broadcasts_in_one_process_change_nothing():
    model = net(3)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    broadcast_parameters(model)
    broadcast_optimizer_state(SGD(model.parameters(), lr=0.1))
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


def test_bad_arguments_say_what_to_pass():
    model = net(4)
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="op must be 'average' or 'sum'"):
        DistributedOptimizer(opt, op="mean")
    with pytest.raises(TypeError, match="wrap it once"):
        DistributedOptimizer(DistributedOptimizer(opt))
    with pytest.raises(TypeError, match="wraps a gs.optim optimizer"):
        DistributedOptimizer(model)
    with pytest.raises(ValueError, match="bucket_bytes must be a positive int"):
        DistributedOptimizer(opt, bucket_bytes=0)
    with pytest.raises(ValueError, match="weight= needs op='average'"):
        DistributedOptimizer(opt, op="sum").synchronize(weight=2.0)
    with pytest.raises(TypeError, match="broadcast_parameters takes a Module"):
        broadcast_parameters(3)
    with pytest.raises(TypeError, match="needs NumPy arrays or Tensors"):
        broadcast_parameters([[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"root must be a rank in \[0, 0\]"):
        broadcast_parameters(model, root=1)
    with pytest.raises(TypeError, match="takes a gs.optim optimizer"):
        broadcast_optimizer_state(model)
