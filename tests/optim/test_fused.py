"""Fused optimizer steps over flat buffers, against torch.optim (single-tensor path) as the oracle.

A flattened MLP (``model.flatten_parameters()``) trains in gradstep and its torch twin trains in
torch, each on its own weights; the learning rate changes at every step. A spy on the update
functions checks that each step made one call per run of parameters (1-D arrays) and no
per-parameter call, so a silent fallback to the per-parameter loop fails the test. Both kernel
paths run: the NumPy update functions and, when numba is installed, the numba kernels.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fused_helpers import (
    GS,
    HAS_NUMBA,
    KERNELS,
    STEPS,
    Spy,
    compare,
    compare_state,
    gs_backward,
    gs_linear_backward,
    linear_grads,
    lr_at,
    mlp,
    set_lr,
    torch_backward,
    torch_linear_backward,
    twin,
)

import gradstep as gs
from gradstep import nn, optim
from gradstep.optim import kernels as kernel_paths
from gradstep.optim import update_parts

GROUP0, GROUP1 = 12 * 6 + 12, 12 * 12 + 12 + 3 * 12 + 3  # run sizes: layer 1 | layers 2 and 3

# name, the constructor's hyperparameters, group 1's overrides (base lr included)
CASES64 = [
    ("SGD", {"lr": 0.1}, {"lr": 0.05}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.01, "maximize": True}, {"lr": 0.05}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"lr": 0.02, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}, {"lr": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}, {"momentum": 0.5, "dampening": 0.0}),
    ("Adagrad", {"lr": 0.1}, {"lr": 0.05, "weight_decay": 0.01}),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1},
        {"eps": 1e-6, "maximize": True},
    ),
    ("RMSprop", {"lr": 0.01}, {"lr": 0.005, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}, {"alpha": 0.9, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01, "centered": True}, {"centered": False, "lr": 0.02}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5, "maximize": True}, {"alpha": 0.3}),
    ("Adam", {"lr": 0.01}, {"lr": 0.02, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}, {"betas": (0.3, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "betas": (0.5, 0.9), "maximize": True}, {"amsgrad": True}),
    ("AdamW", {"lr": 0.01}, {"lr": 0.02, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05}, {"weight_decay": 0.0}),
]
# float32: every optimizer's defaults and its commonest options
CASES32 = [
    ("SGD", {"lr": 0.1}, {"lr": 0.05}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"lr": 0.02}),
    ("Adagrad", {"lr": 0.1}, {"lr": 0.05}),
    ("RMSprop", {"lr": 0.01}, {"lr": 0.005}),
    ("Adam", {"lr": 0.01}, {"lr": 0.02}),
    ("AdamW", {"lr": 0.01}, {"lr": 0.02}),
]


def groups_of(params, over1):
    return [{"params": params[:2]}, {"params": params[2:], **over1}]


def assert_fused(spy, name, hyper0, kernels_choice):
    """The step made exactly one call per group, over the group's 1-D run, on the chosen path."""
    calls = spy.take()
    assert sorted(shape for _, shape in calls) == sorted([(GROUP0,), (GROUP1,)]), calls
    plain = name == "SGD" and not hyper0.get("momentum") and not hyper0.get("weight_decay")
    plain = plain and not hyper0.get("maximize")
    want = "numpy" if kernels_choice == "numpy" or plain else "numba"
    assert {path for path, _ in calls} == {want}, calls


def build(name, hyper0, over1, dtype):
    model = mlp(dtype)
    ws = twin(model)
    model.flatten_parameters()
    params = list(model.parameters())
    opt = GS[name](groups_of(params, over1), **hyper0)
    ref = getattr(torch.optim, name)(groups_of(ws, over1), foreach=False, **hyper0)
    return model, ws, opt, ref, [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
@pytest.mark.parametrize(("name", "hyper0", "over1"), CASES64)
def test_fused_float64_trajectory_matches_torch(kernels, name, hyper0, over1, monkeypatch):
    """Gradients from each side's own backward (gradstep's lands in the flat buffer)."""
    model, ws, opt, ref, bases = build(name, hyper0, over1, np.float64)
    spy = Spy(monkeypatch, name)
    init = [p.data.copy() for p in model.parameters()]
    for t in range(STEPS):
        set_lr([opt, ref], t, bases)
        gs_backward(model, t)
        torch_backward(ws, t)
        opt.step()
        ref.step()
        assert_fused(spy, name, hyper0, kernels)
    assert not any(np.allclose(p.data, a) for p, a in zip(model.parameters(), init))
    compare(model, ws, rtol=1e-9, atol=1e-12)
    compare_state(opt, ref, list(model.parameters()), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
@pytest.mark.parametrize(("name", "hyper0", "over1"), CASES32)
def test_fused_float32_trajectory_matches_torch(kernels, name, hyper0, over1, monkeypatch):
    """Both sides get bit-identical float32 gradients (those of a loss linear in the weights),
    so any difference comes from the update arithmetic; float32 state stays float32."""
    model, ws, opt, ref, bases = build(name, hyper0, over1, np.float32)
    spy = Spy(monkeypatch, name)
    for t in range(STEPS):
        set_lr([opt, ref], t, bases)
        cs = linear_grads(t, np.float32)
        gs_linear_backward(model, cs)
        torch_linear_backward(ws, cs)
        opt.step()
        ref.step()
        assert_fused(spy, name, hyper0, kernels)
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    compare(model, ws, rtol=2e-6, atol=2e-6)
    compare_state(opt, ref, list(model.parameters()), rtol=2e-6, atol=2e-6)
    for entries in opt.state.values():
        assert all(v.dtype == np.float32 for k, v in entries.items() if k != "step")


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
def test_state_entries_are_views_of_one_flat_array_per_run(kernels):
    model, ws, opt, ref, bases = build("Adam", {"lr": 0.01}, {}, np.float64)
    gs_backward(model, 0)
    opt.step()
    params = list(model.parameters())
    for name in ("exp_avg", "exp_avg_sq"):
        arrays = [opt.state[p][name] for p in params]
        assert [a.shape for a in arrays] == [p.data.shape for p in params]
        # one owner per group's run, the views back to back in it
        assert arrays[0].base is arrays[1].base
        assert arrays[2].base is arrays[3].base is arrays[5].base
        assert arrays[1].base is not arrays[2].base
        assert np.shares_memory(arrays[0].base, arrays[1])
    assert opt.state[params[0]]["step"] == 1


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
def test_writing_a_state_entry_is_seen_by_the_next_step(kernels, monkeypatch):
    """Replacing one state array (as torch users reset a momentum buffer) is honoured: the next
    step packs it back into the flat layout with its new values, exactly as torch continues."""
    model, ws, opt, ref, bases = build("SGD", {"lr": 0.1, "momentum": 0.9}, {}, np.float64)
    for t in range(2):
        gs_backward(model, t)
        torch_backward(ws, t)
        opt.step()
        ref.step()
    params = list(model.parameters())
    opt.state[params[2]]["momentum_buffer"] = np.zeros(params[2].data.shape)
    ref.state[ws[2]]["momentum_buffer"] = torch.zeros(ws[2].shape, dtype=torch.float64)
    spy = Spy(monkeypatch, "SGD")
    for t in range(2, 4):
        gs_backward(model, t)
        torch_backward(ws, t)
        opt.step()
        ref.step()
        assert len(spy.take()) == 2
    compare(model, ws, rtol=1e-9, atol=1e-12)
    bufs = [opt.state[p]["momentum_buffer"] for p in params]
    assert bufs[2].base is bufs[3].base is bufs[5].base  # group 1: one flat array again


def test_kernels_choice_from_the_environment(monkeypatch):
    before = kernel_paths.kernel_choice()
    try:
        monkeypatch.setenv("GRADSTEP_KERNELS", "numpy")
        assert kernel_paths.select_kernels() == "numpy"
        monkeypatch.setenv("GRADSTEP_KERNELS", "none")
        assert kernel_paths.select_kernels() == "none"
        monkeypatch.setenv("GRADSTEP_KERNELS", "fastest")
        with pytest.raises(ValueError, match="GRADSTEP_KERNELS"):
            kernel_paths.select_kernels()
        with monkeypatch.context() as m:
            m.setattr(kernel_paths, "_load_numba", lambda: None)  # as if numba were not installed
            m.setattr(kernel_paths, "_numba_installed", lambda: False)
            with pytest.warns(RuntimeWarning, match="numba"):
                assert kernel_paths.select_kernels("numba") == "numpy"
            assert kernel_paths.select_kernels("auto") == "numpy"
        with monkeypatch.context() as m:  # found but broken: "auto" falls back at first use
            m.setattr(kernel_paths, "_load_numba", lambda: None)
            m.setattr(kernel_paths, "_numba_installed", lambda: True)
            m.setattr(kernel_paths, "_numba_module", None)
            m.setattr(kernel_paths, "_spent", kernel_paths.NUMBA_LOAD_AFTER)  # time to load it
            assert kernel_paths.select_kernels("auto") == "numba"
            assert kernel_paths.numba_kernels() is None
            assert kernel_paths.kernel_choice() == "numpy"
    finally:
        kernel_paths.select_kernels(before)


class _Clock:
    """An injected clock: every NumPy update seems to take ``tick`` seconds."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick  # read before and after each update
        return self.now


def _linear_run(dtype, steps: int, name: str = "Adam", **hyper) -> tuple[list, optim.Optimizer]:
    """``steps`` steps of a flattened 64-32 linear layer (2,080 parameters in one run: big enough
    for BLAS axpy) on fixed data (Adam with weight decay unless told); the parameters after."""
    gs.manual_seed(0)
    model = nn.Linear(64, 32, dtype=dtype)
    model.flatten_parameters()
    hyper = hyper or {"lr": 0.01, "weight_decay": 0.01}
    opt = GS[name](model.parameters(), **hyper)
    x = np.random.default_rng(1).standard_normal((5, 64)).astype(dtype)
    for _ in range(steps):
        opt.zero_grad()
        (model(gs.tensor(x)) ** 2).sum().backward()
        opt.step()
    return [p.data.copy() for p in model.parameters()], opt


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed (the `fast` extra)")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_auto_loads_numba_once_numpy_updates_spent_its_load_time(dtype, monkeypatch):
    """With "auto", the NumPy update functions run until they have taken NUMBA_LOAD_AFTER
    seconds (an injected clock), then the numba kernel: and the run's numbers are the same bits
    as numba's from the first step (the NumPy functions keep off BLAS axpy meanwhile)."""
    from gradstep.optim import kernels_numba

    monkeypatch.setattr(kernel_paths, "_choice", kernel_paths.kernel_choice())  # restored after
    assert kernel_paths.select_kernels("numba") == "numba"
    want, _ = _linear_run(dtype, 6)  # numba from the first step

    calls, loads = [], []
    real = kernels_numba.adam
    monkeypatch.setattr(
        kernels_numba, "adam", lambda *a, **k: (calls.append(a[0].size), real(*a, **k))
    )
    real_load = kernel_paths._load_numba
    monkeypatch.setattr(kernel_paths, "_load_numba", lambda: (loads.append(1), real_load())[1])
    monkeypatch.setattr(kernel_paths, "_numba_module", None)  # as in a fresh process
    monkeypatch.setattr(kernel_paths, "_spent", 0.0)
    monkeypatch.setattr(kernel_paths, "clock", _Clock(kernel_paths.NUMBA_LOAD_AFTER / 2.5))
    blas = []  # BLAS axpy calls: none while the NumPy functions stand in for numba
    real_axpy = update_parts.axpy
    monkeypatch.setattr(update_parts, "axpy", lambda *a: (blas.append(1), real_axpy(*a))[1])
    assert kernel_paths.select_kernels("auto") == "numba"
    got, opt = _linear_run(dtype, 6)
    # steps 1-3 on NumPy (0.4, 0.8, 1.2 of the load time spent), then numba: loaded once
    assert calls == [2080] * 3 and loads == [1] and blas == []
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)

    # forced NumPy uses BLAS again and counts no time
    assert kernel_paths.select_kernels("numpy") == "numpy"
    spent = kernel_paths._spent
    opt.step()
    assert kernel_paths._spent == spent and len(calls) == 3 and blas


STAND_IN_CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "momentum_form": "textbook", "nesterov": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "eps_inside_sqrt": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
]


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed (the `fast` extra)")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "hyper"), STAND_IN_CASES)
def test_numpy_updates_standing_in_for_numba_give_its_bits(name, hyper, dtype, monkeypatch):
    """Every optimizer's NumPy update, while it stands in for a numba kernel not loaded yet,
    leaves the same bits as the kernel: switching between them can change no number."""
    monkeypatch.setattr(kernel_paths, "_choice", kernel_paths.kernel_choice())  # restored after
    assert kernel_paths.select_kernels("numba") == "numba"
    want, _ = _linear_run(dtype, 5, name, **hyper)
    monkeypatch.setattr(kernel_paths, "_numba_module", None)  # not loaded, and never will be:
    monkeypatch.setattr(kernel_paths, "_load_numba", lambda: pytest.fail("numba loaded"))
    monkeypatch.setattr(kernel_paths, "NUMBA_LOAD_AFTER", float("inf"))
    assert kernel_paths.select_kernels("auto") == "numba"
    got, _ = _linear_run(dtype, 5, name, **hyper)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_auto_never_loads_numba_for_a_short_run(monkeypatch):
    """A run whose NumPy updates take less than NUMBA_LOAD_AFTER never imports numba."""
    loads = []
    monkeypatch.setattr(kernel_paths, "_choice", kernel_paths.kernel_choice())  # restored after
    monkeypatch.setattr(kernel_paths, "_numba_installed", lambda: True)
    monkeypatch.setattr(kernel_paths, "_load_numba", lambda: loads.append(1))
    monkeypatch.setattr(kernel_paths, "_numba_module", None)
    monkeypatch.setattr(kernel_paths, "_spent", 0.0)
    monkeypatch.setattr(kernel_paths, "clock", _Clock(kernel_paths.NUMBA_LOAD_AFTER / 10))
    assert kernel_paths.select_kernels("auto") == "numba"
    _linear_run(np.float64, 9)
    assert loads == []
    assert kernel_paths._spent == pytest.approx(0.9 * kernel_paths.NUMBA_LOAD_AFTER)
    kernel_paths.spent(1.0, kernel_paths.NUMBA_MIN_SIZE - 1)  # a small run counts nothing
    assert kernel_paths._spent == pytest.approx(0.9 * kernel_paths.NUMBA_LOAD_AFTER)


def test_kernels_none_takes_the_per_parameter_path(monkeypatch):
    before = kernel_paths.kernel_choice()
    try:
        kernel_paths.select_kernels("none")
        model, ws, opt, ref, bases = build("Adam", {"lr": 0.01}, {}, np.float64)
        spy = Spy(monkeypatch, "Adam")
        gs_backward(model, 0)
        torch_backward(ws, 0)
        opt.step()
        ref.step()
        assert sorted(shape for _, shape in spy.take()) == sorted(
            tuple(p.data.shape) for p in model.parameters()
        )
        compare(model, ws, rtol=1e-12, atol=1e-14)
    finally:
        kernel_paths.select_kernels(before)


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
def test_fused_steps_allocate_no_arrays_once_warmed_up(kernels):
    import tracemalloc

    model = mlp(np.float64)
    model.flatten_parameters()
    opt = GS["Adam"](model.parameters(), lr=0.01, amsgrad=True)
    gs_backward(model, 0)
    opt.step()
    opt.step()
    tracemalloc.start()
    try:
        opt.step()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000, f"{peak} bytes allocated during a step"


# -- options torch does not have, against the formulas by hand (float64) -------------------------

TORCHLESS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "momentum_form": "textbook"}),
    (
        "SGD",
        {
            "lr": 0.1,
            "momentum": 0.7,
            "dampening": 0.2,
            "weight_decay": 0.1,
            "maximize": True,
            "momentum_form": "textbook",
        },
    ),  # fmt: skip
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "momentum_form": "textbook"}),
    ("Adagrad", {"lr": 0.1, "eps_inside_sqrt": True, "eps": 1e-7, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "eps_inside_sqrt": True, "eps": 1e-7, "alpha": 0.9}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.5}),
]


def by_hand(name, h, w, steps):
    """The documented formulas on the concatenated weights, gradients linear_grads(t)."""
    w = w.copy()
    v = s = gbar = b = None
    for t in range(steps):
        lr = lr_at(t, h["lr"])
        g = np.concatenate([c.ravel() for c in linear_grads(t, np.float64)])
        g = (-g if h.get("maximize") else g) + h.get("weight_decay", 0.0) * w
        if name == "SGD":  # textbook: v = η·v + (1 − τ)·α·g; w −= v (or η·v + α·g)
            mom, damp = h["momentum"], h.get("dampening", 0.0)
            v = lr * g if v is None else mom * v + (1 - damp) * lr * g
            w = w - (mom * v + lr * g if h.get("nesterov") else v)
        elif name == "Adagrad":
            s = g * g if s is None else s + g * g
            w = w - lr * g / np.sqrt(s + h["eps"])
        else:
            a = h["alpha"]
            s = (1 - a) * g * g if s is None else a * s + (1 - a) * g * g
            gbar = (1 - a) * g if gbar is None else a * gbar + (1 - a) * g
            c = s - gbar * gbar if h.get("centered") else s
            u = g / (np.sqrt(c + h["eps"]) if h.get("eps_inside_sqrt") else np.sqrt(c) + h["eps"])
            b = u if b is None else h.get("momentum", 0.0) * b + u
            w = w - lr * (b if h.get("momentum") else u)
    return w


@pytest.mark.parametrize("kernels", KERNELS, indirect=True)
@pytest.mark.parametrize(("name", "hyper"), TORCHLESS)
def test_fused_options_torch_lacks_match_the_formulas(kernels, name, hyper, monkeypatch):
    hyper = {"eps": 1e-8, **hyper} if name == "RMSprop" else hyper
    model = mlp(np.float64)
    flat, _ = model.flatten_parameters()
    start = flat.copy()
    opt = GS[name](model.parameters(), **hyper)
    spy = Spy(monkeypatch, name)
    for t in range(STEPS):
        opt.param_groups[0]["lr"] = lr_at(t, hyper["lr"])
        gs_linear_backward(model, linear_grads(t, np.float64))
        opt.step()
        assert [shape for _, shape in spy.take()] == [(GROUP0 + GROUP1,)]
    np.testing.assert_allclose(flat, by_hand(name, hyper, start, STEPS), rtol=1e-12, atol=1e-14)


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed (the `fast` extra)")
def test_a_kernel_that_fails_to_compile_falls_back_to_numpy(monkeypatch):
    from gradstep.optim import kernels_numba

    def broken(*flags):
        raise RuntimeError("no compiler today")

    before = kernel_paths.kernel_choice()
    try:
        kernel_paths.select_kernels("numba")
        monkeypatch.setattr(kernels_numba, "_make_adam", broken)
        model, ws, opt, ref, bases = build("Adam", {"lr": 0.01}, {}, np.float64)
        spy = Spy(monkeypatch, "Adam")
        gs_backward(model, 0)
        torch_backward(ws, 0)
        with pytest.warns(RuntimeWarning, match="no compiler today"):
            opt.step()
        ref.step()
        assert kernel_paths.kernel_choice() == "numpy"
        # the numba call was tried, then the NumPy function did the whole update, once per run
        calls = spy.take()
        assert [c for c in calls if c[0] == "numpy"] == [("numpy", (GROUP0,)), ("numpy", (GROUP1,))]
        compare(model, ws, rtol=1e-12, atol=1e-14)
    finally:
        kernel_paths.select_kernels(before)
