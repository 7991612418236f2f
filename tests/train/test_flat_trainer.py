"""The Trainer's flat parameter buffers and its one-dot gradient norm, against hand computations."""

from __future__ import annotations

import math

import numpy as np

import gradstep as gs
from gradstep import nn, optim
from gradstep.nn.flat import find_flat_buffers
from gradstep.train.grad_norm import flatten_model, grad_norm_function


def _model(seed: int = 0) -> nn.Module:
    gs.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def test_trainer_flattens_by_default_and_keeps_values():
    model = _model()
    before = [p.data.copy() for p in model.parameters()]
    ids = [id(p) for p in model.parameters()]
    trainer = gs.Trainer(model, "mse", optim.SGD(model.parameters(), lr=0.1))
    assert trainer.flattened
    flat = find_flat_buffers(list(model.parameters()))
    assert flat is not None and flat.params.size == 3 * 4 + 4 + 4 * 2 + 2
    assert [id(p) for p in model.parameters()] == ids
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


def test_flatten_false_leaves_the_arrays():
    model = _model()
    arrays = [p.data for p in model.parameters()]
    trainer = gs.Trainer(model, "mse", optim.SGD(model.parameters(), lr=0.1), flatten=False)
    assert not trainer.flattened
    assert all(p.data is a for p, a in zip(model.parameters(), arrays))


def test_mixed_dtypes_are_left_alone():
    model = _model()
    model[2].double()
    assert flatten_model(model) is False
    assert find_flat_buffers(list(model.parameters())) is None


def test_grad_norm_is_the_joint_norm_of_all_gradients():
    model = _model()
    flatten_model(model)
    params = list(model.parameters())
    norm = grad_norm_function(params)
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    model(gs.tensor(x)).pow(2).sum().backward()
    by_hand = math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in params))
    assert math.isclose(norm(), by_hand, rel_tol=1e-6)


def test_grad_norm_skips_the_stale_slice_of_a_parameter_without_gradient():
    model = _model()
    flatten_model(model)
    params = list(model.parameters())
    norm = grad_norm_function(params)
    x = gs.tensor(np.ones((2, 3), np.float32))
    model(x).sum().backward()
    params[0]._grad_store[...] = 100.0  # a stale gradient left in the flat buffer
    params[0].grad = None  # ... by a parameter that got none this step
    by_hand = math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in params[1:]))
    assert math.isclose(norm(), by_hand, rel_tol=1e-6)


def test_history_grad_norm_with_flat_buffers_matches_a_hand_step():
    """One full-batch epoch at lr 0: the recorded norm is that of the gradient computed by hand
    (the Tanh MLP's loss gradient from torch-free NumPy algebra)."""
    model = _model(3)
    w1, b1, w2, b2 = (p.data.astype(np.float64).copy() for p in model.parameters())
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 3)).astype(np.float32)
    y = rng.standard_normal((6, 2)).astype(np.float32)
    trainer = gs.Trainer(model, "mse", optim.SGD(model.parameters(), lr=0.0))
    history = trainer.fit((x, y), epochs=1, batch_size="full", verbose=0, shuffle=False)
    h = np.tanh(x @ w1.T + b1)
    out = h @ w2.T + b2
    g = 2 * (out - y) / out.size
    gw2, gb2 = g.T @ h, g.sum(0)
    gh = (g @ w2) * (1 - h**2)
    gw1, gb1 = gh.T @ x, gh.sum(0)
    by_hand = math.sqrt(sum(float((a**2).sum()) for a in (gw1, gb1, gw2, gb2)))
    assert math.isclose(history.history["grad_norm"][0], by_hand, rel_tol=1e-5)


def test_grad_norm_without_flat_buffers_skips_missing_gradients():
    model = _model()
    params = list(model.parameters())
    norm = grad_norm_function(params)  # not flattened: one dot per gradient
    model(gs.tensor(np.ones((2, 3), np.float32))).sum().backward()
    params[2].grad = None
    by_hand = math.sqrt(
        sum(float((p.grad.astype(np.float64) ** 2).sum()) for i, p in enumerate(params) if i != 2)
    )
    assert math.isclose(norm(), by_hand, rel_tol=1e-6)
