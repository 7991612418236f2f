"""What flat buffers make tricky for a fused step, against torch.optim as the oracle: frozen
parameters inside the buffer, gradients that are None on some steps, load_state_dict, copies
(deepcopy, pickle, lr_find's save and restore), and layouts that are not one flat run."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from fused_helpers import (
    GS,
    KERNELS,
    Spy,
    compare,
    compare_state,
    gs_backward,
    gs_linear_backward,
    linear_grads,
    mlp,
    set_lr,
    torch_backward,
    torch_linear_backward,
    twin,
)

import gradstep as gs
from gradstep.optim import Adam
from gradstep.optim import kernels as kernel_paths

RTOL, ATOL = 1e-9, 1e-12


def flat_pair(name, dtype=np.float64, **hyper):
    model = mlp(dtype)
    ws = twin(model)
    model.flatten_parameters()
    opt = GS[name](model.parameters(), **hyper)
    ref = getattr(torch.optim, name)(ws, foreach=False, **hyper)
    return model, ws, opt, ref


def train(model, ws, opt, ref, steps, start=0, base=None):
    for t in range(start, start + steps):
        if base is not None:
            set_lr([opt, ref], t, [base])
        gs_backward(model, t)
        torch_backward(ws, t)
        opt.step()
        ref.step()


# -- frozen parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
@pytest.mark.parametrize("frozen_in_optimizer", [True, False])
@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_frozen_layer_inside_the_flat_buffer_never_moves(
    kernels, name, frozen_in_optimizer, monkeypatch
):
    hyper = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01} if name == "SGD" else {"lr": 0.01}
    model = mlp(np.float64)
    ws = twin(model)
    flat, _ = model.flatten_parameters()
    model[2].requires_grad_(False)  # the middle layer, in the middle of the flat buffer
    ws[2].requires_grad_(False)
    ws[3].requires_grad_(False)
    params = list(model.parameters())
    frozen = [p.data.copy() for p in params[2:4]]
    chosen = params if frozen_in_optimizer else [p for p in params if p.requires_grad]
    opt = GS[name](chosen, **hyper)
    ref = getattr(torch.optim, name)(
        ws if frozen_in_optimizer else [w for w in ws if w.requires_grad], foreach=False, **hyper
    )
    spy = Spy(monkeypatch, name)
    for t in range(5):
        set_lr([opt, ref], t, [hyper["lr"]])
        gs_backward(model, t)
        torch_backward(ws, t)
        opt.step()
        ref.step()
        # two runs, one on each side of the frozen layer, and nothing else
        assert sorted(shape for _, shape in spy.take()) == [(39,), (84,)]
    for p, before in zip(params[2:4], frozen):
        assert np.array_equal(p.data, before)
        assert np.shares_memory(p.data, flat)
        assert p not in opt.state or not opt.state[p]
    compare(model, ws, RTOL, ATOL)


# -- gradients that are None on some steps -------------------------------------------------------

# which parameters (indices into parameters()) get no gradient at each step; all get one at the end
SKIPS = [set(), {3}, {0}, {3, 4}, set(), {1}, set(), set(), set()]


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
@pytest.mark.parametrize(
    ("name", "hyper"),
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9}),
        ("Adagrad", {"lr": 0.1}),
        ("RMSprop", {"lr": 0.01, "centered": True}),
        ("Adam", {"lr": 0.01, "amsgrad": True}),
    ],
)
def test_parameter_without_gradient_does_not_move_nor_change_state(
    kernels, name, hyper, monkeypatch
):
    model, ws, opt, ref = flat_pair(name, **hyper)
    params = list(model.parameters())
    spy = Spy(monkeypatch, name)
    for t, skip in enumerate(SKIPS):
        spy.take()  # keep the last step's calls only
        set_lr([opt, ref], t, [hyper["lr"]])
        cs = linear_grads(t, np.float64)
        gs_linear_backward(model, cs)
        torch_linear_backward(ws, cs)
        for i in skip:
            params[i].grad = None  # as if the loss never reached it
            ws[i].grad = None
        held = {i: (params[i].data.copy(), copy.deepcopy(dict(opt.state[params[i]]))) for i in skip}
        opt.step()
        ref.step()
        for i, (data, state) in held.items():
            assert np.array_equal(params[i].data, data)
            after = opt.state[params[i]]
            assert after.keys() == state.keys()
            for key, value in state.items():
                assert np.array_equal(after[key], value), key
    compare(model, ws, RTOL, ATOL)
    compare_state(opt, ref, params, RTOL, ATOL)
    # step counts now differ between parameters, yet the last step is fused again: each call
    # covers a run of parameters with equal step counts (1-D), none is the per-parameter loop
    last = spy.take()
    assert last and all(len(shape) == 1 for _, shape in last), last
    assert sum(shape[0] for _, shape in last) == sum(p.data.size for p in params)


# -- load_state_dict ---------------------------------------------------------------------------


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
@pytest.mark.parametrize(
    ("name", "hyper"),
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
        ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1}),
        ("RMSprop", {"lr": 0.01, "momentum": 0.5}),
        ("Adam", {"lr": 0.01}),
    ],
)
def test_load_state_dict_then_step_repacks_and_keeps_parity(kernels, name, hyper, monkeypatch):
    model, ws, opt, ref = flat_pair(name, **hyper)
    train(model, ws, opt, ref, 3, base=hyper["lr"])
    saved = opt.state_dict()
    # a new optimizer over the same parameters, loaded: its state arrays are loose copies
    opt = GS[name](model.parameters(), **hyper)
    opt.load_state_dict(saved)
    params = list(model.parameters())
    names = [k for k in saved["state"][0] if k != "step"]
    assert all(opt.state[p][names[0]].base is None for p in params)
    spy = Spy(monkeypatch, name)
    for t in range(3, 6):
        set_lr([opt, ref], t, [hyper["lr"]])
        gs_backward(model, t)
        torch_backward(ws, t)
        opt.step()
        ref.step()
        assert [shape for _, shape in spy.take()] == [(279,)]  # one fused call for the model
    for key in names:
        bases = {id(opt.state[p][key].base) for p in params}
        assert len(bases) == 1, key  # packed back into one flat array
    compare(model, ws, RTOL, ATOL)
    compare_state(opt, ref, params, RTOL, ATOL)


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
def test_torch_state_dict_loads_into_a_fused_optimizer(kernels):
    model, ws, opt, ref = flat_pair("Adam", lr=0.01, amsgrad=True)
    train(model, ws, opt, ref, 2)
    # torch trains on alone; then its state (tensors, float steps) is loaded, weights copied
    for t in range(2, 4):
        torch_backward(ws, t)
        ref.step()
    model.load_state_dict(
        {k: w.detach().numpy() for k, w in zip(model.state_dict(), ws)}
    )  # in place: the flat buffer stays
    opt.load_state_dict(ref.state_dict())
    train(model, ws, opt, ref, 3, start=4)
    compare(model, ws, RTOL, ATOL)
    compare_state(opt, ref, list(model.parameters()), RTOL, ATOL)


# -- copies --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
@pytest.mark.parametrize(
    ("name", "hyper"), [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01})]
)
def test_copies_of_model_and_optimizer_are_independent_and_correct(kernels, how, name, hyper):
    model, ws, opt, ref = flat_pair(name, **hyper)
    train(model, ws, opt, ref, 3)
    if how == "deepcopy":
        model2, opt2 = copy.deepcopy((model, opt))
    else:
        model2, opt2 = pickle.loads(pickle.dumps((model, opt)))
    ws2, ref2 = copy.deepcopy((ws, ref))
    for p, q in zip(model.parameters(), model2.parameters()):
        assert not np.shares_memory(p.data, q.data)
        assert opt2.state[q]["step" if name == "Adam" else "momentum_buffer"] is not None
    # the original and the copy train on different batches; each follows its own torch twin
    train(model, ws, opt, ref, 3, start=3)
    train(model2, ws2, opt2, ref2, 2, start=20)
    model2.flatten_parameters()  # a copy's parameters are loose arrays: flat again
    train(model2, ws2, opt2, ref2, 2, start=22)
    compare(model, ws, RTOL, ATOL)
    compare(model2, ws2, RTOL, ATOL)
    compare_state(opt, ref, list(model.parameters()), RTOL, ATOL)
    compare_state(opt2, ref2, list(model2.parameters()), RTOL, ATOL)


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
def test_deepcopy_of_the_optimizer_alone_steps_its_own_copies(kernels):
    """torch's semantics: a deep copy of an optimizer holds copies of the parameters."""
    model, ws, opt, ref = flat_pair("Adam", lr=0.01)
    train(model, ws, opt, ref, 2)
    before = [p.data.copy() for p in model.parameters()]
    opt2, ref2 = copy.deepcopy(opt), copy.deepcopy(ref)
    for p2, w2, t in zip(opt2.param_groups[0]["params"], ref2.param_groups[0]["params"], range(6)):
        g = np.random.default_rng(t).standard_normal(p2.data.shape)
        p2.grad, w2.grad = g, torch.from_numpy(g.copy())
    opt2.step()
    ref2.step()
    for p, b in zip(model.parameters(), before):
        assert np.array_equal(p.data, b)
    for p2, w2 in zip(opt2.param_groups[0]["params"], ref2.param_groups[0]["params"]):
        np.testing.assert_allclose(p2.data, w2.detach().numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
def test_lr_find_restores_a_fused_optimizer(kernels):
    """Trainer.lr_find saves and restores the weights (in place) and the optimizer's state
    (load_state_dict); training afterwards continues as torch does without the range test."""
    model, ws, opt, ref = flat_pair("Adam", lr=0.01)
    train(model, ws, opt, ref, 2)
    trainer = gs.Trainer(model, "cross_entropy", opt)
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((64, 6)), rng.integers(0, 3, 64)
    trainer.lr_find((x, y), batch_size=16, num_steps=5)
    train(model, ws, opt, ref, 3, start=2)
    compare(model, ws, RTOL, ATOL)
    compare_state(opt, ref, list(model.parameters()), RTOL, ATOL)


# -- layouts that are not one flat run -----------------------------------------------------------


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
def test_layouts_that_split_runs(kernels, monkeypatch):
    """Parameters given out of memory order, a non-flat model (a run per parameter), data rebound
    after planning, and user-assigned gradients (per-parameter path): all match torch."""
    model, ws, _, _ = flat_pair("Adam", lr=0.01)
    params = list(model.parameters())
    order = [4, 5, 0, 1, 2, 3]  # two runs: [w3, b3] and [w1, b1, w2, b2]
    opt = Adam([params[i] for i in order], lr=0.01)
    ref = torch.optim.Adam([ws[i] for i in order], lr=0.01, foreach=False)
    spy = Spy(monkeypatch, "Adam")
    train(model, ws, opt, ref, 2)
    assert sorted(s for _, s in spy.take()) == [(39,), (39,), (240,), (240,)]
    for p in params:  # data rebound: loose arrays, so one run per parameter (once replanned)
        p.data = p.data.copy()
    train(model, ws, opt, ref, 1, start=2)
    assert sorted(s for _, s in spy.take()) == sorted(tuple(p.data.shape) for p in params)
    train(model, ws, opt, ref, 1, start=3)
    calls = spy.take()
    assert sorted(s for _, s in calls) == sorted((p.data.size,) for p in params)
    for t, (p, w) in enumerate(zip(params, ws)):  # user-assigned gradients: the loop
        g = np.random.default_rng(t).standard_normal(p.data.shape)
        p.grad, w.grad = g, torch.from_numpy(g.copy())
    opt.step()
    ref.step()
    assert sorted(s for _, s in spy.take()) == sorted(tuple(p.data.shape) for p in params)
    compare(model, ws, RTOL, ATOL)


def test_parameter_like_objects_without_gradient_storage_take_the_loop():
    """Objects with only .data/.grad (no engine storage) are updated by the per-parameter loop."""

    class Plain:
        def __init__(self, data, grad):
            self.data, self.grad, self.requires_grad = data, grad, True

    flat = np.zeros(7)
    gflat = np.arange(7.0)
    params = [Plain(flat[:4], gflat[:4]), Plain(flat[4:], gflat[4:])]
    before = kernel_paths.kernel_choice()
    try:
        kernel_paths.select_kernels("numpy")
        opt = gs.optim.SGD(params, lr=0.5)
        opt.step()
    finally:
        kernel_paths.select_kernels(before)
    np.testing.assert_array_equal(flat, -0.5 * np.arange(7.0))
    assert opt._fused_plans[0].runs == [] and len(opt._fused_plans[0].singles) == 2
