"""One-call warm-up schedules: the closed form by hand, torch's SequentialLR as an independent
oracle, total_steps given later, resuming, argument checks, and a training step with warm-up on."""

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler as tls

from gradstep.optim import SGD
from gradstep.optim import lr_scheduler as gls
from gradstep.tensor import tensor

TOL = 1e-12
LRS = (0.1, 0.04)


def gs_opt(lrs=LRS):
    groups = [{"params": [tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in lrs]
    return SGD(groups, lr=lrs[0], momentum=0.9)


def torch_opt(lrs=LRS):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def lrs_of(opt, sched, steps):
    out = []
    for _ in range(steps):
        out.append(sched.get_last_lr())
        assert out[-1] == [g["lr"] for g in opt.param_groups]
        if isinstance(opt, torch.optim.Optimizer):
            opt.step()
        sched.step()
    return np.array(out)


def by_hand(kind, base, s, w, total=None, min_lr=0.0):
    """The documented formula, written out once more."""
    if s < w:
        return base * (s + 1) / w
    if kind == "constant":
        return base
    u, d = min(s - w, total - w), total - w
    shape = 0.5 * (1 + math.cos(math.pi * u / d)) if kind == "cosine" else 1 - u / d
    return min_lr + (base - min_lr) * shape


@pytest.mark.parametrize(
    "kind,w,total,min_lr",
    [
        ("cosine", 5, 40, 0.0),
        ("cosine", 1, 30, 0.001),
        ("cosine", 0, 25, 0.01),
        ("linear", 8, 50, 0.0),
        ("linear", 0, 20, 0.002),
        ("constant", 6, None, 0.0),
        ("constant", 0, None, 0.0),
    ],
)
def test_closed_form_by_hand(kind, w, total, min_lr):
    opt = gs_opt()
    if kind == "constant":
        sched = gls.warmup_constant(opt, w)
    else:
        sched = getattr(gls, f"warmup_{kind}")(opt, w, total, min_lr=min_lr)
    steps = 60
    lrs = lrs_of(opt, sched, steps)
    expected = [[by_hand(kind, b, s, w, total, min_lr) for b in LRS] for s in range(steps)]
    np.testing.assert_allclose(lrs, expected, rtol=TOL, atol=TOL)
    assert lrs.min() > 0 or min_lr == 0.0  # warm-up never sets 0
    if w:
        assert lrs[0].tolist() == pytest.approx([b / w for b in LRS], rel=1e-15)
        assert lrs[w - 1].tolist() == list(LRS)  # exactly the base lr at the end of warm-up
    if total is not None:  # the floor from total_steps on
        np.testing.assert_allclose(lrs[total:], [[min_lr] * 2] * (steps - total), atol=TOL)


def torch_oracle(opt, kind, w, total, min_lr):
    """torch's SequentialLR: LinearLR from 1/w to 1 over w − 1 steps, then the decay."""
    warm = tls.LinearLR(opt, start_factor=1 / w, end_factor=1.0, total_iters=w - 1)
    if kind == "cosine":
        decay = tls.CosineAnnealingLR(opt, T_max=total - w, eta_min=min_lr)
    else:  # torch's LinearLR takes one factor for all groups: use min_lr = 0
        decay = tls.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=total - w)
    return tls.SequentialLR(opt, [warm, decay], milestones=[w])


@pytest.mark.parametrize(
    "kind,w,total,min_lr",
    [
        ("cosine", 5, 40, 0.0),
        ("cosine", 10, 64, 0.003),
        ("cosine", 2, 70, 0.0),
        ("linear", 7, 60, 0),
    ],
)
def test_matches_torch_sequential(kind, w, total, min_lr):
    t_opt, opt = torch_opt(), gs_opt()
    t_lrs = lrs_of(t_opt, torch_oracle(t_opt, kind, w, total, min_lr), total + 1)
    g_lrs = lrs_of(opt, getattr(gls, f"warmup_{kind}")(opt, w, total, min_lr), total + 1)
    np.testing.assert_allclose(g_lrs, t_lrs, rtol=TOL, atol=TOL)


def test_constant_matches_torch_linear():
    t_opt, opt = torch_opt(), gs_opt()
    t_lrs = lrs_of(t_opt, tls.LinearLR(t_opt, start_factor=1 / 9, total_iters=8), 50)
    np.testing.assert_allclose(lrs_of(opt, gls.warmup_constant(opt, 9), 50), t_lrs, atol=TOL)


def test_with_warmup_wraps_any_schedule():
    opt = gs_opt()
    sched = gls.with_warmup(opt, 4, lambda u: 0.5 ** (u // 3))
    assert sched.interval == "step"
    lrs = lrs_of(opt, sched, 20)
    factors = [(s + 1) / 4 if s < 4 else 0.5 ** ((s - 4) // 3) for s in range(20)]
    np.testing.assert_allclose(lrs, [[b * f for b in LRS] for f in factors], atol=TOL)


def test_min_lr_per_group_and_intervals():
    opt = gs_opt()
    sched = gls.warmup_linear(opt, 2, 10, min_lr=[0.01, 0.0])
    assert sched.interval == gls.WarmupLR.interval == "step"
    lrs = lrs_of(opt, sched, 12)
    np.testing.assert_allclose(lrs[10:], [[0.01, 0.0]] * 2, atol=TOL)


def test_total_steps_given_later():
    opt = gs_opt()
    sched = gls.warmup_cosine(opt, 3)
    assert sched.needs_total_steps
    assert sched.get_last_lr() == pytest.approx([b / 3 for b in LRS], rel=1e-15)
    with pytest.raises(ValueError, match="pass total_steps= .* set_total_steps"):
        sched.step()
    with pytest.raises(ValueError, match="total_steps must be > warmup_steps"):
        sched.set_total_steps(3)
    sched.set_total_steps(20)
    assert not sched.needs_total_steps
    ref_opt = gs_opt()
    ref = lrs_of(ref_opt, gls.warmup_cosine(ref_opt, 3, 20), 25)
    np.testing.assert_allclose(lrs_of(opt, sched, 25), ref, atol=0)
    assert not gls.warmup_constant(gs_opt(), 3).needs_total_steps
    seq_opt = gs_opt()
    seq = gls.SequentialLR(
        seq_opt, [gls.warmup_linear(seq_opt, 2), gls.warmup_constant(seq_opt, 1)], [5]
    )
    assert seq.needs_total_steps
    with pytest.raises(ValueError, match="warmup_linear has no total_steps"):
        seq.step()


@pytest.mark.parametrize("at", [2, 9, 30])
def test_resume_from_state_dict_and_from_last_epoch(at):
    opt = gs_opt()
    ref = lrs_of(opt, gls.warmup_cosine(opt, 10, 40, min_lr=0.001), 45)
    opt = gs_opt()
    sched = gls.warmup_cosine(opt, 10, 40, min_lr=0.001)
    lrs_of(opt, sched, at)
    saved = json.loads(json.dumps(sched.state_dict(), allow_nan=False))
    opt2 = gs_opt()
    sched2 = gls.warmup_cosine(opt2, 10)  # total_steps comes back with the state
    sched2.load_state_dict(saved)
    np.testing.assert_allclose(lrs_of(opt2, sched2, 45 - at), ref[at:], atol=0)
    opt3 = gs_opt()
    opt3.load_state_dict(opt.state_dict())
    sched3 = gls.warmup_cosine(opt3, 10, 40, min_lr=0.001, last_epoch=at - 1)
    np.testing.assert_allclose(lrs_of(opt3, sched3, 45 - at), ref[at:], atol=0)


BAD = [
    (lambda o: gls.warmup_cosine(o, -1, 10), ValueError, "warmup_steps must be a non-negative int"),
    (lambda o: gls.warmup_cosine(o, 2.5, 10), TypeError, "warmup_steps must be a non-negative int"),
    (lambda o: gls.warmup_linear(o, True, 10), TypeError, "warmup_steps must be"),
    (
        lambda o: gls.warmup_cosine(o, 10, 10),
        ValueError,
        r"total_steps must be > warmup_steps \(10\)",
    ),
    (lambda o: gls.warmup_linear(o, 0, 0), ValueError, "total_steps must be a positive int"),
    (
        lambda o: gls.warmup_cosine(o, 2, 10, min_lr=-0.1),
        ValueError,
        "min_lr must be a finite number >= 0",
    ),
    (
        lambda o: gls.warmup_cosine(o, 2, 10, min_lr=0.05),
        ValueError,
        "base lr 0.04 of param group 1",
    ),
    (lambda o: gls.with_warmup(o, 2, 0.5), TypeError, "schedule must be a function"),
    (lambda o: gls.WarmupLR(o, 2, "exp"), ValueError, "decay must be 'cosine'"),
]


@pytest.mark.parametrize("build,exc,message", BAD, ids=[m[:30] for _, _, m in BAD])
def test_bad_arguments(build, exc, message):
    with pytest.raises(exc, match=message):
        build(gs_opt())


@settings(deadline=None, max_examples=60)
@given(
    w=st.integers(0, 20),
    extra=st.integers(1, 50),
    base=st.floats(1e-4, 10.0),
    min_frac=st.floats(0.0, 1.0),
    kind=st.sampled_from(["cosine", "linear"]),
)
def test_shape_properties(w, extra, base, min_frac, kind):
    """Warm-up rises from base/w to base, never 0; the decay never rises, within [min_lr, base]."""
    opt = gs_opt((base,))
    min_lr = base * min_frac
    sched = getattr(gls, f"warmup_{kind}")(opt, w, w + extra, min_lr=min_lr)
    lrs = [sched.lr_at(s)[0] for s in range(w + extra + 5)]
    assert all(lr > 0 for lr in lrs[:w])
    assert lrs[:w] == pytest.approx([base * (s + 1) / w for s in range(w)], rel=1e-15)
    decay = lrs[w:]
    assert decay[0] == base
    assert all(min_lr - 1e-12 <= lr <= base for lr in decay)
    assert all(b <= a + 1e-15 for a, b in zip(decay, decay[1:]))


def test_training_steps_use_the_scheduled_lr():
    """gradstep SGD + warmup_cosine against torch SGD + LambdaLR of the same closed form."""
    w, total = 3, 12
    x0 = np.array([1.0, -2.0, 0.5])
    p = tensor(x0, dtype="float64", requires_grad=True)
    opt = SGD([p], lr=0.2, momentum=0.9)
    sched = gls.warmup_cosine(opt, w, total)
    tp = torch.nn.Parameter(torch.tensor(x0))
    t_opt = torch.optim.SGD([tp], lr=0.2, momentum=0.9)
    t_sched = tls.LambdaLR(t_opt, lambda s: by_hand("cosine", 1.0, s, w, total))
    for _ in range(total):
        p.grad = 2 * p.data  # d/dx of x²
        tp.grad = 2 * tp.detach().clone()
        opt.step()
        t_opt.step()
        sched.step()
        t_sched.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-12, atol=1e-12)
