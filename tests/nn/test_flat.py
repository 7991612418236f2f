"""Flat parameter buffers: parameters and gradients as views into one array each."""

import copy

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn
from gradstep.nn import find_flat_buffers, flatten_parameters

F64 = np.float64


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 6, dtype=F64)
        self.a = nn.Linear(6, 2, dtype=F64)
        self.b = nn.Linear(6, 3, dtype=F64)

    def forward(self, x, head="a"):
        return getattr(self, head)(self.body(x).tanh())


def _loss(model, x, **kw):
    return (model(x, **kw) ** 2).sum()


def _concat(arrays):
    return np.concatenate([a.reshape(-1) for a in arrays])


def test_flatten_keeps_values_and_makes_views_in_parameter_order():
    gs.manual_seed(0)
    model = TwoHeads()
    before = [p.data.copy() for p in model.parameters()]
    flat, grads = flatten_parameters(model)
    assert flat.shape == grads.shape == (sum(b.size for b in before),)
    assert flat.dtype == grads.dtype == np.float64
    np.testing.assert_array_equal(flat, _concat(before))
    for p, b in zip(model.parameters(), before):
        assert np.shares_memory(p.data, flat) and p.data.shape == b.shape
        np.testing.assert_array_equal(p.data, b)
    assert not grads.any()
    found = find_flat_buffers(model.parameters())
    assert found.params is flat and found.grads is grads


def test_backward_lands_in_the_flat_gradient_array():
    gs.manual_seed(1)
    model = TwoHeads()
    plain = copy.deepcopy(model)
    x = gs.randn(5, 4, dtype=gs.float64)
    _, grads = model.flatten_parameters()
    _loss(model, x).backward()
    _loss(plain, x).backward()
    expected = _concat([p.grad if p.grad is not None else np.zeros(p.shape)
                        for p in plain.parameters()])  # fmt: skip
    np.testing.assert_allclose(grads, expected, rtol=1e-15, atol=0)
    for p in model.parameters():
        if p.grad is not None:
            assert np.shares_memory(p.grad, grads)


def test_zero_grad_then_backward_reuses_the_flat_buffer_and_unused_parameters_read_none():
    gs.manual_seed(2)
    model = TwoHeads()
    x = gs.randn(3, 4, dtype=gs.float64)
    _, grads = model.flatten_parameters()
    _loss(model, x, head="b").backward()
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    _loss(model, x, head="a").backward()  # head b gets no gradient in this step
    assert model.b.weight.grad is None and model.b.bias.grad is None
    for p in (model.body.weight, model.body.bias, model.a.weight, model.a.bias):
        assert np.shares_memory(p.grad, grads)
    fresh = copy.deepcopy(model)
    fresh.zero_grad()
    _loss(fresh, x, head="a").backward()
    np.testing.assert_allclose(model.body.weight.grad, fresh.body.weight.grad, rtol=1e-15)
    np.testing.assert_allclose(model.a.bias.grad, fresh.a.bias.grad, rtol=1e-15)


def test_gradients_accumulate_in_place_without_zero_grad():
    gs.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 2, dtype=F64))
    x = gs.randn(4, 3, dtype=gs.float64)
    _, grads = model.flatten_parameters()
    _loss(model, x).backward()
    once = grads.copy()
    _loss(model, x).backward()
    np.testing.assert_allclose(grads, 2 * once, rtol=1e-15)


def test_a_fused_update_of_the_flat_arrays_updates_every_parameter():
    gs.manual_seed(4)
    model = TwoHeads()
    reference = copy.deepcopy(model)
    x = gs.randn(3, 4, dtype=gs.float64)
    flat, grads = model.flatten_parameters()
    _loss(model, x).backward()
    _loss(reference, x).backward()
    flat -= 0.1 * grads  # one pass over all parameters
    for p in reference.parameters():
        if p.grad is not None:
            p.data -= 0.1 * p.grad
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-15)
    np.testing.assert_allclose(model(x).data, reference(x).data, rtol=1e-13)


def test_existing_gradients_move_into_the_flat_buffer():
    model = nn.Sequential(nn.Linear(2, 2, dtype=F64))
    _loss(model, gs.ones(1, 2, dtype=gs.float64)).backward()
    before = [p.grad.copy() for p in model.parameters()]
    _, grads = flatten_parameters(model.parameters())
    np.testing.assert_array_equal(grads, _concat(before))
    assert all(np.shares_memory(p.grad, grads) for p in model.parameters())


def test_load_state_dict_keeps_views_but_dtype_change_drops_them():
    model = TwoHeads()
    flat, _ = model.flatten_parameters()
    sd = TwoHeads().state_dict()
    model.load_state_dict(sd)
    assert find_flat_buffers(model.parameters()) is not None
    np.testing.assert_array_equal(flat, _concat(sd.values()))
    model.float()
    assert find_flat_buffers(model.parameters()) is None
    np.testing.assert_allclose(model.a.weight.data, sd["a.weight"].astype(np.float32))


def test_find_flat_buffers_rejects_partial_or_plain_parameter_sets():
    model = TwoHeads()
    assert find_flat_buffers(model.parameters()) is None
    model.flatten_parameters()
    params = list(model.parameters())
    assert find_flat_buffers(params[:-1]) is None
    assert find_flat_buffers(params[::-1]) is None
    assert find_flat_buffers([]) is None


def test_mixed_dtypes_are_refused():
    model = nn.Sequential(nn.Linear(2, 2, dtype=F64), nn.Linear(2, 2, dtype=gs.float32))
    with pytest.raises(ValueError, match="one dtype"):
        flatten_parameters(model)
    with pytest.raises(TypeError, match="not a Tensor"):
        flatten_parameters([np.zeros(2)])


def test_flattening_twice_keeps_the_buffers_and_the_views():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    first = flatten_parameters(model)
    views = [p.data for p in model.parameters()]
    first.params[:] = np.arange(first.params.size)  # values only the first buffer holds
    again = flatten_parameters(model)
    assert again.params is first.params and again.grads is first.grads
    assert all(p.data is v for p, v in zip(model.parameters(), views))
    np.testing.assert_array_equal(again.params, np.arange(first.params.size))
