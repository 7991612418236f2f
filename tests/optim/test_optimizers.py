"""Optimizers against hand-written formulas, plus groups, state_dict, validation and convergence."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from gradstep.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop, param_groups_no_decay
from gradstep.optim.optimizer import axpy_
from gradstep.tensor import tensor

SHAPES = [(3, 4), (4,), (48, 64)]


def make_params(seed: int = 0, dtype=np.float64) -> list:
    rng = np.random.default_rng(seed)
    return [tensor(rng.standard_normal(s), dtype=dtype, requires_grad=True) for s in SHAPES]


def quad_grad(w: np.ndarray, t: int, k: int) -> np.ndarray:
    """Gradient of a per-entry quadratic bowl plus a fixed per-step wiggle (deterministic)."""
    rng = np.random.default_rng(1000 * t + k)
    c = np.linspace(0.5, 2.0, w.size).reshape(w.shape)
    return c * (w - 0.3) + 0.1 * rng.standard_normal(w.shape)


def lr_at(t: int, base: float) -> float:
    """A warm-up ramp then decay, so the learning rate changes at every step."""
    return base * min(1.0, (t + 1) / 5) * (0.97**t)


def run(opt_cls, kwargs, steps, base_lr, seed=0, dtype=np.float64):
    params = make_params(seed, dtype)
    opt = opt_cls(params, lr=base_lr, **kwargs)
    for t in range(steps):
        for k, p in enumerate(params):
            p.grad = quad_grad(p.data, t, k).astype(dtype)
        opt.param_groups[0]["lr"] = lr_at(t, base_lr)
        opt.step()
    return [p.data for p in params], opt


# -- hand-written formulas, float64 -------------------------------------------------------------


def hand_sgd(
    w,
    steps,
    k,
    base,
    momentum=0.0,
    dampening=0.0,
    wd=0.0,
    nesterov=False,
    maximize=False,
    textbook=False,
):
    w = w.copy()
    b = None
    for t in range(steps):
        lr = lr_at(t, base)
        g = quad_grad(w, t, k)
        g = -g if maximize else g
        g = g + wd * w
        if momentum == 0:
            w = w - lr * g
            continue
        if textbook:  # v = η·v + (1 − τ)·α·g; w = w − v (or w − (η·v + α·g))
            b = lr * g if b is None else momentum * b + (1 - dampening) * lr * g
            w = w - (momentum * b + lr * g if nesterov else b)
        else:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            d = g + momentum * b if nesterov else b
            w = w - lr * d
    return w


def hand_adagrad(
    w, steps, k, base, lr_decay=0.0, wd=0.0, init=0.0, eps=1e-10, maximize=False, inside=False
):
    w = w.copy()
    s = np.full_like(w, init)
    for t in range(steps):
        g = quad_grad(w, t, k)
        g = (-g if maximize else g) + wd * w
        clr = lr_at(t, base) / (1 + t * lr_decay)
        s = s + g * g
        w = w - clr * g / (np.sqrt(s + eps) if inside else np.sqrt(s) + eps)
    return w


def hand_rmsprop(
    w,
    steps,
    k,
    base,
    alpha=0.99,
    eps=1e-8,
    wd=0.0,
    momentum=0.0,
    centered=False,
    maximize=False,
    inside=False,
):
    w = w.copy()
    s = np.zeros_like(w)
    gbar = np.zeros_like(w)
    b = np.zeros_like(w)
    for t in range(steps):
        lr = lr_at(t, base)
        g = quad_grad(w, t, k)
        g = (-g if maximize else g) + wd * w
        s = alpha * s + (1 - alpha) * g * g
        c = s
        if centered:
            gbar = alpha * gbar + (1 - alpha) * g
            c = s - gbar * gbar
        u = g / (np.sqrt(c + eps) if inside else np.sqrt(c) + eps)
        if momentum > 0:
            b = momentum * b + u
            w = w - lr * b
        else:
            w = w - lr * u
    return w


def hand_adam(
    w,
    steps,
    k,
    base,
    betas=(0.9, 0.999),
    eps=1e-8,
    wd=0.0,
    amsgrad=False,
    maximize=False,
    decoupled=False,
):
    w = w.copy()
    b1, b2 = betas
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    vmax = np.zeros_like(w)
    for t in range(1, steps + 1):
        lr = lr_at(t - 1, base)
        g = quad_grad(w, t - 1, k)
        g = -g if maximize else g
        if decoupled:
            w = w * (1 - lr * wd)
        else:
            g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - b1**t)
        v_hat = (vmax if amsgrad else v) / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


HAND_CASES = [
    (SGD, {}, hand_sgd, {}, 0.1),
    (SGD, {"momentum": 0.9}, hand_sgd, {"momentum": 0.9}, 0.05),
    (
        SGD,
        {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
        hand_sgd,
        {"momentum": 0.9, "nesterov": True, "wd": 0.01},
        0.05,
    ),
    (
        SGD,
        {"momentum": 0.8, "dampening": 0.3, "maximize": True},
        hand_sgd,
        {"momentum": 0.8, "dampening": 0.3, "maximize": True},
        0.01,
    ),
    (
        SGD,
        {"momentum": 0.9, "momentum_form": "textbook"},
        hand_sgd,
        {"momentum": 0.9, "textbook": True},
        0.05,
    ),
    (
        SGD,
        {"momentum": 0.7, "dampening": 0.2, "weight_decay": 0.1, "momentum_form": "textbook"},
        hand_sgd,
        {"momentum": 0.7, "dampening": 0.2, "wd": 0.1, "textbook": True},
        0.05,
    ),
    (
        SGD,
        {"momentum": 0.9, "nesterov": True, "momentum_form": "textbook"},
        hand_sgd,
        {"momentum": 0.9, "nesterov": True, "textbook": True},
        0.05,
    ),
    (
        SGD,
        {"momentum_form": "textbook", "maximize": True},
        hand_sgd,
        {"textbook": True, "maximize": True},
        0.05,
    ),
    (Adagrad, {}, hand_adagrad, {}, 0.1),
    (
        Adagrad,
        {"lr_decay": 0.1, "weight_decay": 0.05, "initial_accumulator_value": 0.1},
        hand_adagrad,
        {"lr_decay": 0.1, "wd": 0.05, "init": 0.1},
        0.1,
    ),
    (
        Adagrad,
        {"eps": 1e-7, "eps_inside_sqrt": True, "maximize": True},
        hand_adagrad,
        {"eps": 1e-7, "inside": True, "maximize": True},
        0.1,
    ),
    (RMSprop, {}, hand_rmsprop, {}, 0.01),
    (
        RMSprop,
        {"momentum": 0.9, "weight_decay": 0.01},
        hand_rmsprop,
        {"momentum": 0.9, "wd": 0.01},
        0.01,
    ),
    (
        RMSprop,
        {"centered": True, "alpha": 0.9, "maximize": True},
        hand_rmsprop,
        {"centered": True, "alpha": 0.9, "maximize": True},
        0.01,
    ),
    (
        RMSprop,
        {"alpha": 0.9, "eps": 1e-7, "eps_inside_sqrt": True},
        hand_rmsprop,
        {"alpha": 0.9, "eps": 1e-7, "inside": True},
        0.01,
    ),
    (
        RMSprop,
        {"centered": True, "momentum": 0.5, "eps_inside_sqrt": True},
        hand_rmsprop,
        {"centered": True, "momentum": 0.5, "inside": True},
        0.01,
    ),
    (Adam, {}, hand_adam, {}, 0.05),
    (Adam, {"amsgrad": True, "weight_decay": 0.01}, hand_adam, {"amsgrad": True, "wd": 0.01}, 0.05),
    (
        Adam,
        {"betas": (0.5, 0.9), "maximize": True},
        hand_adam,
        {"betas": (0.5, 0.9), "maximize": True},
        0.05,
    ),
    (
        Adam,
        {"weight_decay": 0.1, "decoupled_weight_decay": True},
        hand_adam,
        {"wd": 0.1, "decoupled": True},
        0.05,
    ),
    (AdamW, {}, hand_adam, {"wd": 0.01, "decoupled": True}, 0.05),
    (
        AdamW,
        {"weight_decay": 0.2, "amsgrad": True},
        hand_adam,
        {"wd": 0.2, "decoupled": True, "amsgrad": True},
        0.05,
    ),
]


@pytest.mark.parametrize(("cls", "kwargs", "hand", "hand_kwargs", "lr"), HAND_CASES)
def test_matches_hand_formula(cls, kwargs, hand, hand_kwargs, lr):
    steps = 12
    got, _ = run(cls, kwargs, steps, lr)
    for k, w0 in enumerate(p.data for p in make_params()):
        want = hand(w0, steps, k, lr, **hand_kwargs)
        np.testing.assert_allclose(got[k], want, rtol=1e-12, atol=1e-13)


# -- the textbook forms, by hand -----------------------------------------------------------------


def one_param(values, grad):
    p = tensor(np.array(values, dtype=np.float64), dtype=np.float64, requires_grad=True)
    p.grad = np.array(grad, dtype=np.float64)
    return p


def test_rmsprop_textbook_form_one_step_by_hand():
    # S = 0.9·0 + 0.1·2² = 0.4; w = 1 − 0.01·2/√(0.4 + 1e-7)
    p = one_param([1.0], [2.0])
    RMSprop([p], lr=0.01, alpha=0.9, eps=1e-7, eps_inside_sqrt=True).step()
    assert p.data[0] == pytest.approx(1 - 0.02 / math.sqrt(0.4 + 1e-7), rel=1e-15)


def test_adagrad_textbook_form_two_steps_by_hand():
    # G = 9, w = 2 − 0.1·3/√(9 + 1e-7); then G = 9 + 1, w −= 0.1·1/√(10 + 1e-7)
    p = one_param([2.0], [3.0])
    opt = Adagrad([p], lr=0.1, eps=1e-7, eps_inside_sqrt=True)
    opt.step()
    w1 = 2 - 0.3 / math.sqrt(9 + 1e-7)
    assert p.data[0] == pytest.approx(w1, rel=1e-15)
    p.grad = np.array([1.0])
    opt.step()
    assert p.data[0] == pytest.approx(w1 - 0.1 / math.sqrt(10 + 1e-7), rel=1e-15)


def test_textbook_momentum_by_hand_with_changing_lr():
    # v = 0.9·v + α·g; w = w − v with α = 0.1 then 0.2, g = 1 both times:
    # v1 = 0.1, w1 = 0.9; v2 = 0.09 + 0.2 = 0.29, w2 = 0.61.
    # torch's form: b2 = 0.9·1 + 1 = 1.9, w2 = 0.9 − 0.2·1.9 = 0.52.
    for form, want in (("textbook", 0.61), ("torch", 0.52)):
        p = one_param([1.0], [1.0])
        opt = SGD([p], lr=0.1, momentum=0.9, momentum_form=form)
        opt.step()
        assert p.data[0] == pytest.approx(0.9, rel=1e-15)
        opt.param_groups[0]["lr"] = 0.2
        opt.step()
        assert p.data[0] == pytest.approx(want, rel=1e-14)


def test_momentum_forms_agree_while_lr_is_constant():
    params = [make_params(), make_params()]
    opts = [
        SGD(params[0], lr=0.05, momentum=0.9),
        SGD(params[1], lr=0.05, momentum=0.9, momentum_form="textbook"),
    ]
    for t in range(10):
        for ps, opt in zip(params, opts):
            for k, p in enumerate(ps):
                p.grad = quad_grad(p.data, t, k)
            opt.step()
    for a, b in zip(*params):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12)


# -- state_dict ----------------------------------------------------------------------------------

STATEFUL = [
    (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (SGD, {"lr": 0.05, "momentum": 0.9, "momentum_form": "textbook"}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.01}),
    (RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True}),
    (Adam, {"lr": 0.05, "amsgrad": True}),
    (AdamW, {"lr": 0.05}),
]


def steps_on(params, opt, start, stop, base):
    for t in range(start, stop):
        for k, p in enumerate(params):
            p.grad = quad_grad(p.data, t, k)
        opt.param_groups[0]["lr"] = lr_at(t, base)
        opt.step()


@pytest.mark.parametrize(("cls", "kwargs"), STATEFUL)
def test_state_dict_resume_is_bit_for_bit(cls, kwargs):
    straight = make_params()
    opt = cls(straight, **kwargs)
    steps_on(straight, opt, 0, 10, kwargs["lr"])

    first = make_params()
    opt1 = cls(first, **kwargs)
    steps_on(first, opt1, 0, 5, kwargs["lr"])
    saved = opt1.state_dict()
    resumed = [tensor(p.data, dtype=np.float64, requires_grad=True) for p in first]
    opt2 = cls(resumed, **{**kwargs, "lr": 123.0})
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == opt1.param_groups[0]["lr"]
    steps_on(resumed, opt2, 5, 10, kwargs["lr"])
    for a, b in zip(straight, resumed):
        assert np.array_equal(a.data, b.data)
    assert set(opt2.state_dict()["state"][0]) == set(opt.state_dict()["state"][0])


def test_state_dict_layout_and_deep_copy():
    params = make_params()
    opt = Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], lr=0.1)
    steps_on(params, opt, 0, 3, 0.1)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 3 and isinstance(sd["state"][0]["step"], int)
    before = opt.state[params[0]]["exp_avg"].copy()
    lr = opt.param_groups[0]["lr"]
    sd["state"][0]["exp_avg"][...] = 999.0
    sd["param_groups"][0]["lr"] = 7.0
    sd["param_groups"][0]["betas"] = (0.1, 0.1)
    assert np.array_equal(opt.state[params[0]]["exp_avg"], before)
    assert opt.param_groups[0]["lr"] == lr and opt.param_groups[0]["betas"] == (0.9, 0.999)


def test_load_state_dict_copies_its_input():
    params = make_params()
    opt = RMSprop(params, lr=0.01)
    steps_on(params, opt, 0, 2, 0.01)
    sd = opt.state_dict()
    other = RMSprop(make_params(), lr=0.01)
    other.load_state_dict(sd)
    sd["state"][0]["square_avg"][...] = -1.0
    assert (other.state_dict()["state"][0]["square_avg"] >= 0).all()


def test_load_state_dict_takes_the_parameter_dtype():
    p64 = make_params()
    opt = Adam(p64, lr=0.1)
    steps_on(p64, opt, 0, 2, 0.1)
    p32 = make_params(dtype=np.float32)
    opt32 = Adam(p32, lr=0.1)
    opt32.load_state_dict(opt.state_dict())
    assert opt32.state[p32[0]]["exp_avg"].dtype == np.float32


def test_load_state_dict_rejects_mismatches():
    params = make_params()
    opt = Adam(params, lr=0.1)
    steps_on(params, opt, 0, 1, 0.1)
    sd = opt.state_dict()
    two_groups = Adam([{"params": make_params()[:1]}, {"params": make_params(1)[1:]}])
    with pytest.raises(ValueError, match="parameter groups"):
        two_groups.load_state_dict(sd)
    with pytest.raises(ValueError, match="has 3 parameters"):
        Adam(make_params()[:1]).load_state_dict(sd)
    bad = copy.deepcopy(sd)
    bad["state"][1]["exp_avg"] = np.zeros(5)
    target = Adam(make_params())
    with pytest.raises(ValueError, match="shape"):
        target.load_state_dict(bad)
    assert len(target.state) == 0  # nothing changed by the failed load
    with pytest.raises(ValueError, match="state_dict"):
        target.load_state_dict({"state": {}})
    bad = copy.deepcopy(sd)
    bad["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="lr"):
        target.load_state_dict(bad)


def test_adagrad_state_exists_before_the_first_step_as_in_torch():
    params = make_params()
    opt = Adagrad(params, initial_accumulator_value=0.5)
    sd = opt.state_dict()
    assert sd["state"][0]["step"] == 0
    assert np.array_equal(sd["state"][0]["sum"], np.full((3, 4), 0.5))


# -- validation ----------------------------------------------------------------------------------

BAD = [
    (SGD, {"lr": -0.1}, "lr"),
    (SGD, {"momentum": -0.5}, "momentum"),
    (SGD, {"weight_decay": -1.0}, "weight_decay"),
    (SGD, {"nesterov": True}, "nesterov"),
    (SGD, {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "nesterov"),
    (SGD, {"momentum_form": "keras"}, "momentum_form"),
    (SGD, {"lr": float("nan")}, "lr"),
    (Adagrad, {"lr": -1.0}, "lr"),
    (Adagrad, {"lr_decay": -0.1}, "lr_decay"),
    (Adagrad, {"weight_decay": -0.1}, "weight_decay"),
    (Adagrad, {"initial_accumulator_value": -0.1}, "initial_accumulator_value"),
    (Adagrad, {"eps": -1e-10}, "eps"),
    (RMSprop, {"lr": -1.0}, "lr"),
    (RMSprop, {"alpha": -0.1}, "alpha"),
    (RMSprop, {"eps": -1.0}, "eps"),
    (RMSprop, {"momentum": -0.1}, "momentum"),
    (RMSprop, {"weight_decay": -0.1}, "weight_decay"),
    (Adam, {"lr": -1.0}, "lr"),
    (Adam, {"betas": (1.0, 0.999)}, r"betas\[0\]"),
    (Adam, {"betas": (-0.1, 0.999)}, r"betas\[0\]"),
    (Adam, {"betas": (0.9, 1.0)}, r"betas\[1\]"),
    (Adam, {"eps": -1e-8}, "eps"),
    (Adam, {"weight_decay": -1e-2}, "weight_decay"),
    (AdamW, {"weight_decay": -1e-2}, "weight_decay"),
    (AdamW, {"betas": (0.9, 1.5)}, r"betas\[1\]"),
]


@pytest.mark.parametrize(("cls", "kwargs", "name"), BAD)
def test_bad_hyperparameter_raises_naming_it(cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls(make_params(), **kwargs)


@pytest.mark.parametrize(("cls", "kwargs", "name"), BAD[:3] + BAD[7:9] + BAD[17:20])
def test_bad_hyperparameter_in_an_added_group_raises(cls, kwargs, name):
    params = make_params()
    opt = cls(params[:1])
    with pytest.raises(ValueError, match=name):
        opt.add_param_group({"params": params[1:], **kwargs})
    assert len(opt.param_groups) == 1


def test_bad_types_raise_type_errors():
    with pytest.raises(TypeError, match="lr"):
        SGD(make_params(), lr="fast")
    with pytest.raises(TypeError, match="betas"):
        Adam(make_params(), betas=0.9)
    with pytest.raises(TypeError, match="amsgrad"):
        Adam(make_params(), amsgrad="yes")
    with pytest.raises(TypeError, match="params"):
        SGD(make_params()[0])
    with pytest.raises(TypeError, match="set"):
        SGD(set(make_params()))
    with pytest.raises(TypeError, match="floating"):
        SGD([tensor(np.arange(3), requires_grad=False)])
    with pytest.raises(ValueError, match="empty"):
        SGD([])
    p = make_params()
    with pytest.raises(ValueError, match="more than one"):
        SGD([{"params": p}, {"params": p[:1]}])
    with pytest.raises(ValueError, match="twice"):
        SGD([p[0], p[0]])


def test_torch_defaults():
    params = make_params()
    assert SGD(params).defaults["lr"] == 1e-3
    a = Adagrad(params).defaults
    assert (a["lr"], a["eps"], a["initial_accumulator_value"]) == (1e-2, 1e-10, 0)
    r = RMSprop(params).defaults
    assert (r["lr"], r["alpha"], r["eps"], r["momentum"], r["centered"]) == (
        1e-2,
        0.99,
        1e-8,
        0,
        False,
    )
    d = Adam(params).defaults
    assert (d["lr"], d["betas"], d["eps"], d["weight_decay"]) == (1e-3, (0.9, 0.999), 1e-8, 0)
    assert AdamW(params).defaults["weight_decay"] == 1e-2


# -- groups, missing gradients, zero_grad, closure -------------------------------------------------


@pytest.mark.parametrize(("cls", "kwargs"), STATEFUL)
def test_parameters_without_gradient_are_untouched(cls, kwargs):
    params = make_params()
    opt = cls(params, **kwargs)
    before = params[1].data.copy()
    for t in range(3):
        params[0].grad = quad_grad(params[0].data, t, 0)
        params[1].grad = None
        opt.step()
    assert np.array_equal(params[1].data, before)
    if cls is not Adagrad:  # Adagrad's state exists from the start, as in torch
        assert params[1] not in opt.state
    # a parameter that skips a step keeps its state as it was
    params[1].grad = quad_grad(params[1].data, 0, 1)
    opt.step()
    saved = copy.deepcopy(opt.state[params[1]])
    params[1].grad = None
    params[0].grad = quad_grad(params[0].data, 9, 0)
    opt.step()
    for name, value in saved.items():
        assert np.array_equal(opt.state[params[1]][name], value)


def test_param_groups_behave_like_separate_optimizers():
    params = make_params()
    joint = Adam(
        [{"params": params[:1], "lr": 0.1}, {"params": params[1:], "lr": 0.01, "weight_decay": 0.1}]
    )
    alone = make_params()
    separate = [Adam(alone[:1], lr=0.1), Adam(alone[1:], lr=0.01, weight_decay=0.1)]
    for t in range(6):
        for k in range(2):
            params[k].grad = quad_grad(params[k].data, t, k)
            alone[k].grad = quad_grad(alone[k].data, t, k)
        joint.step()
        for o in separate:
            o.step()
    for a, b in zip(params, alone):
        assert np.array_equal(a.data, b.data)


def test_add_param_group_fills_defaults_and_trains_the_new_group():
    params = make_params()
    opt = SGD(params[:1], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": params[1], "lr": 0.5})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.5
    before = params[1].data.copy()
    params[1].grad = np.ones(4)
    opt.step()
    np.testing.assert_allclose(params[1].data, before - 0.5)


def test_named_parameters_are_accepted():
    params = make_params()
    opt = SGD([("w", params[0]), ("b", params[1])], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def test_zero_grad_both_modes():
    params = make_params()
    opt = SGD(params, lr=0.1)
    for p in params:
        p.grad = np.ones(p.shape)
    arrays = [p.grad for p in params]
    opt.zero_grad(set_to_none=False)
    for p, a in zip(params, arrays):
        assert p.grad is a and not a.any()
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    opt.zero_grad()  # no gradients: nothing to do


def test_step_calls_the_closure_and_returns_its_loss():
    params = make_params()
    opt = SGD(params, lr=0.1)
    calls = []

    def closure():
        calls.append(1)
        for p in params:
            p.grad = np.ones(p.shape)
        return 42.0

    before = params[0].data.copy()
    assert opt.step(closure) == 42.0
    assert calls == [1]
    np.testing.assert_allclose(params[0].data, before - 0.1)
    assert opt.step() is None


class FlatParam:
    """A parameter whose data and grad are views into shared flat buffers."""

    def __init__(self, data, grad):
        self.data, self.grad, self.requires_grad = data, grad, True


@pytest.mark.parametrize(("cls", "kwargs"), STATEFUL)
def test_updates_in_place_into_a_flat_buffer(cls, kwargs):
    flat = np.random.default_rng(0).standard_normal(16)
    gflat = np.linspace(-1, 1, 16)
    params = [
        FlatParam(flat[:12].reshape(3, 4), gflat[:12].reshape(3, 4)),
        FlatParam(flat[12:], gflat[12:]),
    ]
    views = [p.data for p in params]
    before = flat.copy()
    opt = cls(params, **kwargs)
    for _ in range(3):
        opt.step()
    assert all(p.data is v for p, v in zip(params, views))
    assert not np.array_equal(flat, before)
    assert np.array_equal(gflat, np.linspace(-1, 1, 16))  # gradients are never written


ALL_CONFIGS = STATEFUL + [
    (SGD, {"lr": 0.1, "weight_decay": 0.01, "maximize": True}),
    (SGD, {"lr": 0.1, "momentum": 0.5, "dampening": 0.5}),
    (Adagrad, {"lr": 0.1, "eps_inside_sqrt": True, "weight_decay": 0.1}),
    (RMSprop, {"lr": 0.01, "eps_inside_sqrt": True, "maximize": True}),
    (Adam, {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    (AdamW, {"lr": 0.01, "amsgrad": True}),
]


@pytest.mark.parametrize(("cls", "kwargs"), ALL_CONFIGS)
def test_float32_stays_float32(cls, kwargs):
    params = make_params(dtype=np.float32)
    opt = cls(params, **kwargs)
    for t in range(3):
        for k, p in enumerate(params):
            p.grad = quad_grad(p.data, t, k).astype(np.float32)
        opt.step()
    assert all(p.data.dtype == np.float32 for p in params)
    for entries in opt.state_dict()["state"].values():
        for name, value in entries.items():
            if name != "step":
                assert value.dtype == np.float32, name
    # and float32 follows the float64 trajectory closely
    want = make_params()
    opt64 = cls(want, **kwargs)
    for t in range(3):
        for k, p in enumerate(want):
            p.grad = quad_grad(p.data, t, k)
        opt64.step()
    for a, b in zip(params, want):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-4, atol=1e-5)


def test_param_groups_no_decay_splits_by_ndim():
    shapes = {"w1": (3, 4), "b1": (3,), "k": (2, 2, 2), "scale": ()}
    named = [
        (n, tensor(np.ones(s), dtype=np.float64, requires_grad=True)) for n, s in shapes.items()
    ]
    groups = param_groups_no_decay(named, 0.1)
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    assert [p.data.shape for p in groups[0]["params"]] == [(3, 4), (2, 2, 2)]
    assert [p.data.shape for p in groups[1]["params"]] == [(3,), ()]
    opt = AdamW(groups, lr=0.5)
    for _, p in named:
        p.grad = np.zeros(p.shape)
    opt.step()  # zero gradients: only the decoupled decay moves the weights
    assert np.allclose(named[0][1].data, 1 - 0.5 * 0.1)
    assert np.array_equal(named[1][1].data, np.ones(3))
    with pytest.raises(ValueError, match="weight_decay"):
        param_groups_no_decay(named, -1.0)
    with pytest.raises(TypeError, match="pair"):
        param_groups_no_decay([named[0][1]], 0.1)


def test_optimizer_repr_names_groups():
    text = repr(Adam(make_params(), lr=0.1))
    assert text.startswith("Adam (") and "lr: 0.1" in text
    assert isinstance(Adam(make_params()), Optimizer)


# -- convergence on iris ---------------------------------------------------------------------------


def iris():
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    x = (x - x.mean(0)) / x.std(0)
    return x, np.eye(3)[y]


def softmax_loss_and_grads(w, b, x, onehot):
    z = x @ w.T + b
    z = z - z.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    loss = -(onehot * logp).sum() / len(x)
    delta = (np.exp(logp) - onehot) / len(x)
    return loss, delta.T @ x, delta.sum(0)


CONVERGENCE = [  # optimizer, kwargs, steps, the loss it must get below (start: ln 3 ≈ 1.10)
    (SGD, {"lr": 0.5}, 100, 0.20),
    (SGD, {"lr": 0.1, "momentum": 0.9}, 100, 0.15),
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}, 100, 0.15),
    (Adagrad, {"lr": 0.5}, 100, 0.15),
    (RMSprop, {"lr": 0.01}, 100, 0.25),
    (RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.5}, 100, 0.15),
    (Adam, {"lr": 0.05}, 100, 0.15),
    (AdamW, {"lr": 0.05, "weight_decay": 1e-3}, 100, 0.15),
]


@pytest.mark.parametrize(("cls", "kwargs", "steps", "bound"), CONVERGENCE)
def test_softmax_regression_on_iris_converges(cls, kwargs, steps, bound):
    x, onehot = iris()
    w = tensor(np.zeros((3, 4)), dtype=np.float64, requires_grad=True)
    b = tensor(np.zeros(3), dtype=np.float64, requires_grad=True)
    opt = cls([w, b], **kwargs)
    losses = []
    for _ in range(steps):
        loss, w.grad, b.grad = softmax_loss_and_grads(w.data, b.data, x, onehot)
        losses.append(loss)
        opt.step()
    final = softmax_loss_and_grads(w.data, b.data, x, onehot)[0]
    assert losses[0] == pytest.approx(math.log(3))
    assert final < bound, f"{cls.__name__} reached {final:.4f}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5,), (64, 64)])
def test_axpy_in_place(dtype, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    y = rng.standard_normal(shape).astype(dtype)
    want = y.astype(np.float64) + 0.3 * x.astype(np.float64)
    held = y
    axpy_(np, 0.3, x, y, np.empty_like(y))
    assert y is held and y.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol)
    # a strided view is updated in place too
    big = np.zeros((64, 128), dtype)
    view = big[:, ::2]
    axpy_(np, 2.0, np.ones((64, 64), dtype), view, np.empty((64, 64), dtype))
    assert (big[:, ::2] == 2).all() and (big[:, 1::2] == 0).all()


@pytest.mark.parametrize(("cls", "kwargs"), ALL_CONFIGS)
def test_steps_allocate_no_arrays_once_warmed_up(cls, kwargs):
    """Updates run in place on the state and on reused scratch arrays (made in the first steps)."""
    import tracemalloc

    p = tensor(np.ones((200, 500)), dtype=np.float64, requires_grad=True)  # 800 kB
    p.grad = np.full((200, 500), 0.5)
    opt = cls([p], **kwargs)
    opt.step()
    opt.step()
    tracemalloc.start()
    try:
        opt.step()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000, f"{peak} bytes allocated during a step"
