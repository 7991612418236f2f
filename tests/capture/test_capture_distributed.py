"""A DistributedOptimizer inside a captured step: its ``step`` and ``synchronize`` (the gradient
allreduce) are recorded as calls of their own and run again at every replay. In one process the
allreduce leaves the gradients as they are, so the replays must equal eager steps bit for bit;
tests/distributed/test_mpi.py checks the same steps under ``mpiexec -n 2``."""

from __future__ import annotations

import warnings

import pytest
from capture_helpers import batches, bits, eager_vs_captured, mlp

import gradstep as gs
from gradstep import nn, optim
from gradstep.capture import CaptureWarning
from gradstep.distributed import DistributedOptimizer

DATA = batches(6, "index", n=4, bs=8)


def _build(sync_first: bool, flat: bool):
    def build():
        gs.manual_seed(3)
        model = mlp((6, 12, 3), "tanh")
        if flat:
            model.flatten_parameters()
        opt = DistributedOptimizer(optim.Adam(model.parameters(), lr=0.05))
        loss_fn = nn.CrossEntropyLoss()

        def train_step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            if sync_first:  # averaged gradients first, then clipping, then the update
                opt.synchronize()
                gs.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            return loss

        return model, opt, train_step

    return build


@pytest.mark.parametrize("flat", [False, True])
@pytest.mark.parametrize("sync_first", [False, True])
def test_the_allreduce_and_the_update_replay_as_recorded_calls(sync_first, flat):
    step = eager_vs_captured(_build(sync_first, flat), DATA)
    program = step.program()
    assert "DistributedOptimizer.step()" in program
    assert ("DistributedOptimizer.synchronize()" in program) == sync_first


def _with_values():
    model, opt, _ = _build(False, False)()
    loss_fn = nn.CrossEntropyLoss()

    def train_step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.synchronize(None, [1.0])  # numbers exchanged with the gradients
        opt.step()
        return loss

    return model, train_step


def test_synchronize_with_values_runs_eagerly_and_says_why():
    model, train_step = _with_values()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        step = gs.capture(train_step, *DATA[0])
    assert not step.captured
    assert [str(w.message) for w in seen if issubclass(w.category, CaptureWarning)]
    assert "values" in step.reason
    got = [bits(step(*b).data) for b in DATA]
    twin, twin_step = _with_values()  # the same start, eager
    assert got == [bits(twin_step(*b).data) for b in DATA]
    for p, q in zip(model.parameters(), twin.parameters()):
        assert bits(p.data) == bits(q.data)
