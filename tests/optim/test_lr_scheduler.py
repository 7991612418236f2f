"""lr schedulers against torch.optim.lr_scheduler (60+ steps, two param groups, to 1e-12), and the
places where the closed form deliberately differs: resuming, a milestone at 0, building after a
resume, and a hand-made lr change."""

import json
import math
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tls

from gradstep.optim import SGD, Adagrad, Adam
from gradstep.optim import lr_scheduler as gls
from gradstep.tensor import tensor

STEPS = 64
TOL = 1e-12
LRS = (0.1, 0.02)


def gs_opt(kind="sgd", lrs=LRS):
    """A gradstep optimizer with one parameter per group, one group per lr."""
    groups = [{"params": [tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "sgd":
        return SGD(groups, lr=lrs[0], momentum=0.9)
    if kind == "adam":
        return Adam(groups, lr=lrs[0])
    return Adagrad(groups, lr=lrs[0])


def torch_opt(kind="sgd", lrs=LRS):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)
    return torch.optim.Adam(groups, lr=lrs[0])


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def run(opt, sched, steps=STEPS, metrics=None, extra=None):
    """lrs (and optionally momenta) of ``steps`` steps; checks get_last_lr against the groups."""
    lrs, moms = [], []
    for i in range(steps):
        last = sched.get_last_lr()
        assert last == pytest.approx([g["lr"] for g in opt.param_groups], abs=0)
        lrs.append(last)
        moms.append(momenta(opt))
        if isinstance(opt, torch.optim.Optimizer):
            opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
    return np.array(lrs), np.array(moms)


def assert_same(a, b):
    np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL)


PARITY = [
    ("StepLR", dict(step_size=1, gamma=0.5)),
    ("StepLR", dict(step_size=3)),
    ("StepLR", dict(step_size=7, gamma=0.9)),
    ("MultiStepLR", dict(milestones=[5, 10, 20], gamma=0.5)),
    ("MultiStepLR", dict(milestones=[0, 3, 3, 40])),
    ("MultiStepLR", dict(milestones=[63], gamma=0.2)),
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.5, total_iters=10)),
    ("ConstantLR", dict(factor=1.0, total_iters=3)),
    ("ConstantLR", dict(factor=0.1, total_iters=63)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=20)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.05, total_iters=30)),
    ("LinearLR", dict(start_factor=0.5, end_factor=0.5, total_iters=4)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("ExponentialLR", dict(gamma=0.99)),
    ("ExponentialLR", dict(gamma=1.0)),
    ("PolynomialLR", dict()),
    ("PolynomialLR", dict(total_iters=30, power=2.0)),
    ("PolynomialLR", dict(total_iters=64, power=0.5)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=25, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=64, eta_min=0.01)),
    ("CosineAnnealingLR", dict(T_max=1)),
    ("CosineAnnealingWarmRestarts", dict(T_0=10)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.01)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=3, eta_min=0.001)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95**e)),
    ("LambdaLR", dict(lr_lambda=[lambda e: 1 / (e + 1), lambda e: e % 4 + 1])),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.9)),
    ("MultiplicativeLR", dict(lr_lambda=[lambda e: 1.0 if e % 5 else 0.5, lambda e: 1.01])),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=STEPS)),
    ("OneCycleLR", dict(max_lr=[1.0, 0.3], total_steps=80, anneal_strategy="linear")),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=70, three_phase=True)),
    ("OneCycleLR", dict(max_lr=0.5, epochs=8, steps_per_epoch=8, pct_start=0.5, div_factor=10.0)),
    ("OneCycleLR", dict(max_lr=2.0, total_steps=100, final_div_factor=100.0, three_phase=True)),
    ("OneCycleLR", dict(max_lr=2.0, total_steps=90, cycle_momentum=False)),
    (
        "OneCycleLR",
        dict(max_lr=1.0, total_steps=64, base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.99]),
    ),
]


# the optimizer matters only for OneCycleLR's momentum ("momentum" in SGD, "betas"[0] in Adam)
CASES = [(n, kw, "sgd") for n, kw in PARITY] + [(n, kw, "adam") for n, kw in PARITY if "Cycle" in n]


@pytest.mark.parametrize(
    "name,kwargs,kind", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_matches_torch(name, kwargs, kind):
    t_opt, g_opt = torch_opt(kind), gs_opt(kind)
    t_lrs, t_mom = run(t_opt, getattr(tls, name)(t_opt, **kwargs))
    g_lrs, g_mom = run(g_opt, getattr(gls, name)(g_opt, **kwargs))
    assert_same(g_lrs, t_lrs)
    assert_same(g_mom, t_mom)


def test_warm_restarts_fractional_epochs_match_torch():
    t_opt, g_opt = torch_opt(), gs_opt()
    t = tls.CosineAnnealingWarmRestarts(t_opt, T_0=3, T_mult=2, eta_min=0.001)
    g = gls.CosineAnnealingWarmRestarts(g_opt, T_0=3, T_mult=2, eta_min=0.001)
    for epoch in range(12):
        for batch in range(5):
            e = epoch + batch / 5
            t_opt.step()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t.step(e)
            g.step(e)
            assert_same(g.get_last_lr(), t.get_last_lr())
    assert g.last_epoch == t.last_epoch == 11


# improving with noise, then a long plateau
METRICS = [1.0 / (1 + 0.1 * i) + 0.05 * ((i * 7) % 5) for i in range(24)] + [
    0.4 + 0.01 * ((i * 3) % 4) for i in range(STEPS - 24)
]

PLATEAU = [
    dict(patience=2),
    dict(mode="max", patience=1, factor=0.5),
    dict(patience=0, threshold=0.01, threshold_mode="abs", cooldown=2),
    dict(patience=1, factor=0.3, min_lr=[0.001, 0.005]),
    dict(patience=0, factor=0.9, eps=0.005),
    dict(),
]


@pytest.mark.parametrize("kwargs", PLATEAU)
def test_reduce_on_plateau_matches_torch(kwargs):
    metrics = [-m for m in METRICS] if kwargs.get("mode") == "max" else METRICS
    t_opt, g_opt = torch_opt(), gs_opt()
    t_lrs, _ = run(t_opt, tls.ReduceLROnPlateau(t_opt, **kwargs), metrics=metrics)
    g_lrs, _ = run(g_opt, gls.ReduceLROnPlateau(g_opt, **kwargs), metrics=metrics)
    assert_same(g_lrs, t_lrs)
    assert len(set(g_lrs[:, 0])) > 2  # the metric sequence does make the lr drop


def _children(lib, opt, which):
    if which == 0:
        return [lib.LinearLR(opt, 0.1, 1.0, 5), lib.ExponentialLR(opt, 0.9)], [5]
    if which == 1:
        c = [lib.ConstantLR(opt, 0.5, 3), lib.CosineAnnealingLR(opt, 20), lib.StepLR(opt, 5, 0.5)]
        return c, [4, 30]
    return [lib.MultiStepLR(opt, [2, 4]), lib.LambdaLR(opt, lambda e: 1 / (1 + e))], [6]


@pytest.mark.parametrize("which", [0, 1, 2])
def test_sequential_matches_torch(which):
    t_opt, g_opt = torch_opt(), gs_opt()
    t_lrs, _ = run(t_opt, tls.SequentialLR(t_opt, *_children(tls, t_opt, which)))
    g_lrs, _ = run(g_opt, gls.SequentialLR(g_opt, *_children(gls, g_opt, which)))
    assert_same(g_lrs, t_lrs)


# -- where the closed form differs from torch's recurrence ----------------------------------------


def _seq(opt):
    return gls.SequentialLR(opt, [gls.LinearLR(opt, 0.1, 1.0, 5), gls.ExponentialLR(opt, 0.9)], [5])


@pytest.mark.parametrize("load_optimizer_first", [False, True])
def test_sequential_resumes_exactly(load_optimizer_first):
    """torch continues from a wrong lr here unless the optimizer is loaded after SequentialLR."""
    opt = gs_opt()
    ref, _ = run(opt, _seq(opt), steps=40)
    opt = gs_opt()
    sched = _seq(opt)
    run(opt, sched, steps=10)
    saved = json.loads(json.dumps(sched.state_dict(), allow_nan=False))
    saved_opt = opt.state_dict()
    opt2 = gs_opt()
    if load_optimizer_first:
        opt2.load_state_dict(saved_opt)
    sched2 = _seq(opt2)
    sched2.load_state_dict(saved)
    assert sched2.last_epoch == 10
    rest, _ = run(opt2, sched2, steps=30)
    assert_same(rest, ref[10:])


def test_sequential_milestone_zero_starts_with_second_schedule():
    """torch <= 2.12 started at the first schedule's lr and stepped the second from there."""
    opt = gs_opt()
    children = [gls.ConstantLR(opt, 0.5, 3), gls.ExponentialLR(opt, 0.9)]
    lrs, _ = run(opt, gls.SequentialLR(opt, children, [0]), steps=20)
    expected = [[base * 0.9**t for base in LRS] for t in range(20)]
    assert_same(lrs, expected)


def test_sequential_repeated_zero_milestones_skip_to_the_right_schedule():
    opt = gs_opt()
    children = [
        gls.ConstantLR(opt, 0.5, 3),
        gls.LinearLR(opt, 0.2, 1.0, 3),
        gls.StepLR(opt, 2, 0.5),
        gls.ExponentialLR(opt, 0.9),
    ]
    lrs, _ = run(opt, gls.SequentialLR(opt, children, [0, 0, 4]), steps=12)
    factors = [0.5 ** (t // 2) for t in range(4)] + [0.9 ** (t - 4) for t in range(4, 12)]
    assert_same(lrs, [[base * f for base in LRS] for f in factors])


RESUMABLE = [
    ("StepLR", dict(step_size=3, gamma=0.5)),  # torch decays twice when resumed on a decay step
    ("MultiStepLR", dict(milestones=[2, 6, 9])),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01)),
    ("LinearLR", dict(start_factor=0.2, total_iters=8)),
    ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=2)),  # torch wraps T_cur only once
    ("OneCycleLR", dict(max_lr=1.0, total_steps=30)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1 / (1 + e))),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95)),
]


@pytest.mark.parametrize("name,kwargs", RESUMABLE, ids=[n for n, _ in RESUMABLE])
@pytest.mark.parametrize("load_optimizer", [True, False])
def test_built_after_resume_gives_that_steps_lr(name, kwargs, load_optimizer):
    opt = gs_opt()
    ref, ref_mom = run(opt, getattr(gls, name)(opt, **kwargs), steps=20)
    opt = gs_opt()
    sched = getattr(gls, name)(opt, **kwargs)
    run(opt, sched, steps=6)
    k = sched.last_epoch
    opt2 = gs_opt()
    if load_optimizer:
        opt2.load_state_dict(opt.state_dict())
    else:  # a fresh optimizer that only knows the base lrs
        for g, base in zip(opt2.param_groups, LRS):
            g["initial_lr"] = base
            g["lr"] = 123.0
    resumed = getattr(gls, name)(opt2, last_epoch=k - 1, **kwargs)
    assert resumed.last_epoch == k
    lrs, moms = run(opt2, resumed, steps=14)
    assert_same(lrs, ref[6:])
    assert_same(moms, ref_mom[6:])


def test_resume_needs_initial_lr():
    with pytest.raises(ValueError, match="initial_lr"):
        gls.StepLR(gs_opt(), step_size=2, last_epoch=4)


def test_initial_lr_is_set_once_and_kept():
    opt = gs_opt()
    gls.StepLR(opt, 2)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)
    opt.param_groups[0]["initial_lr"] = 0.5
    sched = gls.ExponentialLR(opt, 0.5)
    assert sched.base_lrs == [0.5, LRS[1]]
    assert sched.get_last_lr() == [0.5, LRS[1]]


def test_hand_made_lr_change_lasts_one_step():
    """torch's chainable schedulers keep scaling a changed lr; the closed form writes f(t) again."""
    opt = gs_opt()
    sched = gls.StepLR(opt, step_size=2, gamma=0.5)
    sched.step()
    opt.param_groups[0]["lr"] = 7.0
    sched.step()
    assert sched.get_last_lr() == pytest.approx([LRS[0] * 0.5, LRS[1] * 0.5], abs=0)
    opt.param_groups[0]["initial_lr"] = sched.base_lrs[0] = 1.0  # a lasting change
    sched.step()
    assert sched.get_last_lr()[0] == 0.5


# -- API details ----------------------------------------------------------------------------------


ALL = [
    ("LambdaLR", dict(lr_lambda=lambda e: 0.9**e)),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.9)),
    ("StepLR", dict(step_size=2)),
    ("MultiStepLR", dict(milestones=[1, 4])),
    ("ConstantLR", dict()),
    ("LinearLR", dict()),
    ("ExponentialLR", dict(gamma=0.8)),
    ("PolynomialLR", dict()),
    ("CosineAnnealingLR", dict(T_max=5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=20)),
]


@pytest.mark.parametrize("name,kwargs", ALL, ids=[n for n, _ in ALL])
def test_state_dict_is_json_and_round_trips(name, kwargs):
    opt = gs_opt()
    sched = getattr(gls, name)(opt, **kwargs)
    run(opt, sched, steps=7)
    text = json.dumps(sched.state_dict(), allow_nan=False)
    after, _ = run(opt, sched, steps=8)
    opt2 = gs_opt()
    sched2 = getattr(gls, name)(opt2, **kwargs)
    sched2.load_state_dict(json.loads(text))
    assert sched2.last_epoch == 7
    again, _ = run(opt2, sched2, steps=8)
    assert_same(again, after)


@pytest.mark.parametrize("name,kwargs", ALL, ids=[n for n, _ in ALL])
def test_construction_and_lr_at(name, kwargs):
    opt, t_opt = gs_opt(), torch_opt()
    sched = getattr(gls, name)(opt, **kwargs)
    t_sched = getattr(tls, name)(t_opt, **kwargs)
    assert sched.last_epoch == 0 and sched._step_count == 1
    first = sched.get_last_lr()
    assert all(type(x) is float for x in first)
    assert_same(first, t_sched.get_last_lr())
    ahead = [sched.lr_at(s) for s in range(10)]
    assert sched.get_last_lr() == first  # lr_at changes nothing
    lrs, _ = run(opt, sched, steps=10)
    assert_same(lrs, ahead)
    sched.step(3)  # a jump lands on the closed form
    assert_same(sched.get_last_lr(), ahead[3])


def test_intervals():
    opt = gs_opt()
    assert gls.StepLR(opt, 2).interval == "epoch"
    assert gls.StepLR(opt, 2, interval="step").interval == "step"
    assert gls.StepLR.interval == "epoch"
    assert gls.OneCycleLR.interval == "step"
    assert gls.ReduceLROnPlateau.interval == "epoch"
    assert gls.LambdaLR(opt, lambda e: 1.0, interval="step").interval == "step"
    for cls in (gls.MultiStepLR, gls.ExponentialLR, gls.CosineAnnealingLR, gls.LinearLR):
        assert cls.interval == "epoch"
    with pytest.raises(ValueError, match="interval must be 'step' or 'epoch'"):
        gls.StepLR(opt, 2, interval="batch")
    a = gls.LinearLR(opt, 0.1, interval="step")
    b = gls.CosineAnnealingLR(opt, 10, interval="step")
    assert gls.SequentialLR(opt, [a, b], [5]).interval == "step"
    with pytest.raises(ValueError, match="all step per 'step' or all per 'epoch'"):
        gls.SequentialLR(opt, [a, gls.CosineAnnealingLR(opt, 10)], [5])


def test_one_cycle_momentum_needs_momentum_or_betas():
    opt = gs_opt("adagrad")
    with pytest.raises(ValueError, match="cycle_momentum=False"):
        gls.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    sched = gls.OneCycleLR(opt, max_lr=1.0, total_steps=10, cycle_momentum=False)
    sched.step()
    assert "momentum" not in opt.param_groups[0]


def test_one_cycle_past_total_steps_raises():
    opt = gs_opt()
    sched = gls.OneCycleLR(opt, max_lr=1.0, total_steps=5)
    for _ in range(5):
        sched.step()  # step total_steps itself is still computed, as in torch
    with pytest.raises(ValueError, match="total_steps is 5"):
        sched.step()


def test_one_cycle_zero_length_phase_ends_at_its_end_value():
    """pct_start·total_steps = 1: torch divides by zero; the phase ends at max_lr at once."""
    opt = gs_opt()
    sched = gls.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.1)
    assert sched.get_last_lr() == [1.0, 1.0]
    assert momenta(opt) == [0.85, 0.85]


def test_one_cycle_total_steps_later():
    opt = gs_opt()
    sched = gls.OneCycleLR(opt, max_lr=1.0)
    assert sched.needs_total_steps
    assert sched.get_last_lr() == [1.0 / 25, 1.0 / 25]
    with pytest.raises(ValueError, match="set_total_steps"):
        sched.step()
    sched.set_total_steps(40)
    t_opt = torch_opt()
    t_lrs, _ = run(t_opt, tls.OneCycleLR(t_opt, max_lr=1.0, total_steps=40), steps=40)
    lrs, _ = run(opt, sched, steps=40)
    assert_same(lrs, t_lrs)


def test_reduce_on_plateau_state_resume_and_metric_types():
    opt = gs_opt()
    sched = gls.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    assert sched.state_dict()["best"] is None
    run(opt, sched, steps=20, metrics=METRICS)
    saved = json.loads(json.dumps(sched.state_dict(), allow_nan=False))
    after, _ = run(opt, sched, steps=20, metrics=METRICS[20:])
    opt2 = gs_opt()
    sched2 = gls.ReduceLROnPlateau(opt2, patience=1, cooldown=1)
    sched2.load_state_dict(saved)  # restores the lrs too
    again, _ = run(opt2, sched2, steps=20, metrics=METRICS[20:])
    assert_same(again, after)
    sched2.step(np.float32(0.1))
    sched2.step(torch.tensor(0.1))
    sched2.step(tensor(np.array(0.1)))
    with pytest.raises(TypeError, match="metric as a number"):
        sched2.step("low")
    with pytest.raises(TypeError, match="depends on the metrics"):
        sched2.lr_at(3)


def test_lambda_state_saves_callable_objects_not_functions():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, e):
            return self.rate**e

    opt = gs_opt()
    fn = Decay()
    sched = gls.LambdaLR(opt, [fn, lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    fn2 = Decay()
    fn2.rate = 0.9
    sched2 = gls.LambdaLR(gs_opt(), [fn2, lambda e: 1.0])
    sched2.load_state_dict(state)
    assert fn2.rate == 0.5


def test_group_count_change_is_reported():
    opt = gs_opt()
    sched = gls.StepLR(opt, 2)
    opt.add_param_group({"params": [tensor(np.zeros(1), requires_grad=True)], "lr": 0.3})
    with pytest.raises(ValueError, match="after add_param_group"):
        sched.step()


def test_duck_typed_optimizer():
    class StandIn:
        param_groups = [{"lr": 0.5, "momentum": 0.0}]

    opt = StandIn()
    sched = gls.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    sched.step()
    assert opt.param_groups[0]["lr"] == sched.get_last_lr()[0] > 1.0 / 25
    assert 0.85 < opt.param_groups[0]["momentum"] < 0.95


BAD = [
    (lambda o: gls.StepLR(o, 0), ValueError, "step_size must be a positive int, got 0."),
    (lambda o: gls.StepLR(o, 2.5), TypeError, "step_size must be a positive int, got 2.5."),
    (lambda o: gls.StepLR(o, 2, gamma=-1), ValueError, "gamma must be a finite number >= 0"),
    (lambda o: gls.StepLR(o, 2, last_epoch=-2), ValueError, "last_epoch must be an int >= -1"),
    (lambda o: gls.MultiStepLR(o, [3, -1]), ValueError, "non-negative int"),
    (lambda o: gls.MultiStepLR(o, 5), TypeError, "milestones must be a list"),
    (lambda o: gls.ConstantLR(o, factor=1.5), ValueError, r"factor must be a number in \[0, 1\]"),
    (lambda o: gls.LinearLR(o, start_factor=0), ValueError, r"start_factor must be .*\(0, 1\]"),
    (lambda o: gls.LinearLR(o, total_iters=-1), ValueError, "total_iters must be a non-negative"),
    (lambda o: gls.ExponentialLR(o, gamma=math.nan), ValueError, "gamma must be"),
    (lambda o: gls.ExponentialLR(o, gamma="0.9"), TypeError, "gamma must be"),
    (lambda o: gls.CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be a positive int"),
    (lambda o: gls.CosineAnnealingLR(o, 5, eta_min=-1), ValueError, "eta_min must be"),
    (lambda o: gls.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError, "T_mult"),
    (lambda o: gls.LambdaLR(o, 3.0), TypeError, "lr_lambda must be a function"),
    (lambda o: gls.LambdaLR(o, [lambda e: 1]), ValueError, "has 1 functions but the optimizer"),
    (lambda o: gls.OneCycleLR(o, 1.0, total_steps=0), ValueError, "total_steps must be a posit"),
    (lambda o: gls.OneCycleLR(o, 1.0, epochs=3), ValueError, "both epochs and steps_per_epoch"),
    (lambda o: gls.OneCycleLR(o, 1.0, 10, pct_start=1.5), ValueError, "pct_start must be"),
    (lambda o: gls.OneCycleLR(o, 1.0, 10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
    (lambda o: gls.OneCycleLR(o, [1.0], 10), ValueError, "max_lr has 1 values"),
    (lambda o: gls.OneCycleLR(o, 1.0, 10, div_factor=0), ValueError, "div_factor must be"),
    (lambda o: gls.ReduceLROnPlateau(o, factor=1.0), ValueError, r"factor must be .*\[0, 1\)"),
    (lambda o: gls.ReduceLROnPlateau(o, mode="low"), ValueError, "mode must be 'min' or 'max'"),
    (lambda o: gls.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold_mode"),
    (lambda o: gls.ReduceLROnPlateau(o, patience=-1), ValueError, "patience must be"),
    (lambda o: gls.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "min_lr has 1 values"),
    (lambda o: gls.SequentialLR(o, [], []), ValueError, "non-empty list"),
    (lambda o: gls.SequentialLR(o, [gls.StepLR(o, 2)], [3]), ValueError, "one entry fewer"),
    (
        lambda o: gls.SequentialLR(o, [gls.StepLR(o, 2), gls.StepLR(o, 3)], [-1]),
        ValueError,
        "non-negative int",
    ),
    (
        lambda o: gls.SequentialLR(o, [gls.StepLR(o, 2)] * 3, [4, 2]),
        ValueError,
        "non-decreasing",
    ),
    (
        lambda o: gls.SequentialLR(o, [gls.StepLR(o, 2), gls.ReduceLROnPlateau(o)], [3]),
        ValueError,
        "needs a metric",
    ),
    (
        lambda o: gls.SequentialLR(o, [gls.StepLR(o, 2), gls.StepLR(gs_opt(), 2)], [3]),
        ValueError,
        "another optimizer",
    ),
    (lambda o: gls.StepLR(object(), 2), TypeError, "optimizer must have param_groups"),
    (lambda o: gls.StepLR(o, 2).step(-1), ValueError, "epoch must be a non-negative int"),
    (lambda o: gls.StepLR(o, 2).set_total_steps(5), TypeError, "StepLR has no total_steps"),
    (lambda o: gls.StepLR(o, 2).load_state_dict([1]), TypeError, "needs a dict"),
]


@pytest.mark.parametrize("build,exc,message", BAD, ids=[m[:30] for _, _, m in BAD])
def test_bad_arguments(build, exc, message):
    with pytest.raises(exc, match=message):
        build(gs_opt())


def test_torch_style_subclass_overriding_get_lr():
    class Halving(gls.LRScheduler):
        def get_lr(self):
            return [base * 0.5**self.last_epoch for base in self.base_lrs]

    opt = gs_opt()
    sched = Halving(opt)
    sched.step()
    sched.step()
    assert sched.get_last_lr() == [LRS[0] / 4, LRS[1] / 4]


def test_public_names_of_the_module():
    """Every name users import from gradstep.optim.lr_scheduler, wherever its code lives."""
    names = {
        "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
        "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
        "CosineAnnealingWarmRestarts", "SequentialLR", "OneCycleLR", "ReduceLROnPlateau",
        "WarmupLR", "warmup_cosine", "warmup_linear", "warmup_constant", "with_warmup",
    }  # fmt: skip
    assert set(gls.__all__) == names
    for name in names:
        assert callable(getattr(gls, name))
        if isinstance(getattr(gls, name), type):
            assert issubclass(getattr(gls, name), gls.LRScheduler)


def test_state_dict_contents_by_hand():
    """Plain Python values (a NumPy gamma becomes a float), infinities kept as floats, no best yet
    saved as None."""
    opt = gs_opt()
    sched = gls.StepLR(opt, 2, gamma=np.float32(0.5))
    for _ in range(3):
        sched.step()
    sd = sched.state_dict()
    assert sd == {
        "last_epoch": 3,
        "base_lrs": [0.1, 0.02],
        "_step_count": 4,
        "_last_lr": [0.1 * 0.5, 0.02 * 0.5],
        "step_size": 2,
        "gamma": 0.5,
    }
    assert type(sd["gamma"]) is float

    opt = gs_opt()
    plateau = gls.ReduceLROnPlateau(opt, patience=0)
    want = {
        "last_epoch": 0,
        "base_lrs": [0.1, 0.02],
        "_step_count": 0,
        "_last_lr": [0.1, 0.02],
        "mode": "min",
        "factor": 0.1,
        "patience": 0,
        "threshold": 1e-4,
        "threshold_mode": "rel",
        "cooldown": 0,
        "min_lrs": [0.0, 0.0],
        "default_min_lr": 0.0,
        "eps": 1e-8,
        "best": None,
        "num_bad_epochs": 0,
        "cooldown_counter": 0,
    }
    assert plateau.state_dict() == want
    plateau.step(np.float32(2.0))
    plateau.step(math.inf)  # worse: the lr drops by factor
    sd = plateau.state_dict()
    assert sd["best"] == 2.0 and type(sd["best"]) is float
    assert sd["_last_lr"] == [0.1 * 0.1, 0.02 * 0.1]
    assert (sd["last_epoch"], sd["_step_count"], sd["num_bad_epochs"]) == (2, 2, 0)

    sched = gls.ExponentialLR(gs_opt(), gamma=1.0)
    sched.base_lrs = [math.inf, 0.02]
    assert sched.state_dict()["base_lrs"] == [math.inf, 0.02]  # kept a float, not "inf"
