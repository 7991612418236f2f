"""Inputs and state around a captured step: other batch shapes, dtypes and arguments, the cache,
capturing without side effects, and train/eval or gradient-mode changes between replays."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from capture_helpers import batches, bits, classic_step, mlp, state_bytes

import gradstep as gs
from gradstep import nn, optim


def _model_and_step(dropout: bool = False, seed: int = 0):
    gs.manual_seed(seed)
    layers = [nn.Linear(6, 10), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(0.5))
    model = nn.Sequential(*layers, nn.Linear(10, 3))
    opt = optim.Adam(model.parameters(), lr=0.01)
    return model, opt, classic_step(model, opt, nn.CrossEntropyLoss())


def _eager_then_captured(data, make=_model_and_step, **capture_kw):
    model, opt, step_fn = make()
    gs.manual_seed(3)
    eager = [bits(step_fn(*b).data) for b in data]
    expected = state_bytes(model, opt)
    model, opt, step_fn = make()
    gs.manual_seed(3)
    step = gs.capture(step_fn, *data[0], **capture_kw)
    replayed = [bits(step(*b).data) for b in data]
    assert replayed == eager
    assert state_bytes(model, opt) == expected
    return step


def test_a_short_last_batch_gets_its_own_recording():
    full = batches(6, "index", bs=5, n=2)
    short = batches(6, "index", bs=3, n=1, seed=9)
    step = _eager_then_captured([*full, *short, *full, *short])
    assert step.recorded == 2


def test_another_dtype_gets_its_own_recording():
    data = batches(6, "index", n=2)
    data64 = [(x.astype(np.float64), y) for x, y in batches(6, "index", n=2, seed=4)]
    step = _eager_then_captured([data[0], data64[0], data[1], data64[1]])
    assert step.recorded == 2


def test_a_full_cache_runs_new_shapes_eagerly_and_still_correctly():
    data = [batches(6, "index", bs=bs, n=1, seed=bs)[0] for bs in (5, 4, 3, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step = _eager_then_captured(data + data, cache_size=2)
    assert step.recorded == 2


def test_other_argument_values_are_recorded_separately():
    gs.manual_seed(0)

    def make():
        gs.manual_seed(0)
        model = mlp((6, 10, 3), "tanh")
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step_fn(x, y, scale):
            opt.zero_grad()
            loss = gs.functional.cross_entropy(model(x), y) * scale
            loss.backward()
            opt.step()
            return loss

        return model, opt, step_fn

    (x, y), (x2, y2) = batches(6, "index", n=2)
    step = _eager_then_captured([(x, y, 1.0), (x2, y2, 3.0), (x, y, 1.0)], make=make)
    assert step.recorded == 2


def test_capturing_changes_nothing():
    model, opt, step_fn = _model_and_step(dropout=True)
    x, y = batches(6, "index")[0]
    step_fn(x, y)  # gradients, Adam's moments and step count exist
    before = state_bytes(model, opt)
    rng = gs.random.get_rng_state()
    grads = [p.grad for p in model.parameters()]
    step = gs.capture(step_fn, x, y)
    assert step.captured, step.reason
    assert state_bytes(model, opt) == before
    assert gs.random.get_rng_state() == rng
    assert all(p.grad is g for p, g in zip(model.parameters(), grads))


def test_switching_to_eval_mode_between_replays_is_followed():
    data = batches(6, "index", n=4)

    def run(captured):
        model, opt, step_fn = _model_and_step(dropout=True)
        gs.manual_seed(3)
        step = gs.capture(step_fn, *data[0]) if captured else step_fn
        losses = []
        for i, b in enumerate(data):
            model.train(i % 2 == 0)
            losses.append(bits(step(*b).data))
        return losses, state_bytes(model, opt)

    assert run(True) == run(False)


def test_grad_after_replay_reads_as_after_the_eager_step():
    model, opt, step_fn = _model_and_step()
    x, y = batches(6, "index")[0]
    step = gs.capture(step_fn, x, y)
    step(x, y)
    for p in model.parameters():
        assert p.grad is not None and p.grad is p._grad_store
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    step(x, y)  # the next replay after an outside zero_grad
    assert all(p.grad is not None for p in model.parameters())


def test_the_returned_losses_are_fresh_tensors():
    model, opt, step_fn = _model_and_step()
    x, y = batches(6, "index")[0]
    step = gs.capture(step_fn, x, y)
    a = step(x, y)
    b = step(x, y)
    assert a is not b and not np.shares_memory(a.data, b.data)
    assert a.shape == () and float(a) != float(b)  # the second loss is after one update


def test_state_that_changes_at_every_call_ends_in_eager_execution():
    """A mode switch before every call makes each recording stale at once: after a few
    recordings the step runs eagerly (one warning), with eager results throughout."""
    from gradstep.capture import CaptureWarning
    from gradstep.capture.step import MAX_RECORDINGS

    data = batches(6, "index", n=2 * MAX_RECORDINGS + 2)

    def run(captured):
        model, opt, step_fn = _model_and_step(dropout=True)
        gs.manual_seed(3)
        step = gs.capture(step_fn, *data[0]) if captured else step_fn
        out = []
        for i, b in enumerate(data):
            model.train(i % 2 == 0)
            out.append(bits(step(*b).data))
        return out, state_bytes(model, opt)

    with pytest.warns(CaptureWarning, match="changed again") as record:
        got = run(True)
    assert len(record) == 1
    assert got == run(False)


def test_the_checks_second_batch_has_other_rows_of_the_same_shapes():
    """The recording is checked on a second batch: rows reversed, the first row's place taken by
    a copy of the second; arrays of another length (a class-weight vector) are copied as they
    are, empty and one-row batches keep their shapes, and nothing is shared with the inputs."""
    from gradstep.capture.arguments import _other_batch

    x = np.arange(8.0).reshape(4, 2)
    y = np.array([0, 1, 2, 1])
    w = np.array([0.5, 2.0, 1.0])
    ox, oy, ow, k = _other_batch((gs.tensor(x), y, w, 3))
    np.testing.assert_array_equal(ox.data, x[[3, 2, 1, 1]])
    np.testing.assert_array_equal(oy, [1, 2, 1, 1])
    np.testing.assert_array_equal(ow, w)
    assert k == 3 and isinstance(ox, gs.Tensor)
    assert not any(np.shares_memory(a, b) for a, b in ((ox.data, x), (oy, y), (ow, w)))
    empty, one = _other_batch((np.zeros((0, 3)),)), _other_batch((np.ones((1, 3)),))
    assert empty[0].shape == (0, 3) and one[0].shape == (1, 3)
