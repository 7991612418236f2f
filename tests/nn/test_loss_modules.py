"""Loss modules: same values as the functional forms and PyTorch's modules, torch's repr and
state, the trainer's task tags, constructor validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradstep as gs
from gradstep import functional as F
from gradstep.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
    SSELoss,
)
from gradstep.nn.module import Module

ALL = [
    CrossEntropyLoss,
    NLLLoss,
    MSELoss,
    SSELoss,
    L1Loss,
    HuberLoss,
    SmoothL1Loss,
    BCELoss,
    BCEWithLogitsLoss,
]
TASKS = {
    CrossEntropyLoss: ("classification", "index"),
    NLLLoss: ("classification", "index"),
    BCELoss: ("classification", "binary"),
    BCEWithLogitsLoss: ("classification", "binary"),
    MSELoss: ("regression", "value"),
    SSELoss: ("regression", "value"),
    L1Loss: ("regression", "value"),
    HuberLoss: ("regression", "value"),
    SmoothL1Loss: ("regression", "value"),
}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((5, 3))
    return x, rng.integers(0, 3, 5), rng.random((5, 3))


def _run(loss, x, target):
    gx = gs.tensor(x, dtype=gs.float64, requires_grad=True)
    out = loss(gx, target)
    out.backward(np.ones(out.shape))
    return out.data, gx.grad


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_modules_equal_their_functional_forms(reduction):
    x, idx, q = _data()
    w = np.array([0.5, 2.0, 1.0])
    p = 1 / (1 + np.exp(-x))
    cases = [
        (
            CrossEntropyLoss(weight=gs.tensor(w, dtype=gs.float64), ignore_index=1,
                             reduction=reduction, label_smoothing=0.2),
            lambda a: F.cross_entropy(a, idx, weight=w, ignore_index=1, reduction=reduction,
                                      label_smoothing=0.2),
            x, idx,
        ),
        (
            CrossEntropyLoss(reduction=reduction),
            lambda a: F.cross_entropy(a, q, reduction=reduction),
            x, q,
        ),
        (
            NLLLoss(weight=w, reduction=reduction),
            lambda a: F.nll_loss(a, idx, weight=w, reduction=reduction),
            x, idx,
        ),
        (MSELoss(reduction=reduction), lambda a: F.mse_loss(a, q, reduction=reduction), x, q),
        (SSELoss(reduction=reduction), lambda a: F.sse_loss(a, q, reduction=reduction), x, q),
        (L1Loss(reduction=reduction), lambda a: F.l1_loss(a, q, reduction=reduction), x, q),
        (
            HuberLoss(reduction=reduction, delta=0.5),
            lambda a: F.huber_loss(a, q, reduction=reduction, delta=0.5),
            x, q,
        ),
        (
            SmoothL1Loss(reduction=reduction, beta=0.5),
            lambda a: F.smooth_l1_loss(a, q, reduction=reduction, beta=0.5),
            x, q,
        ),
        (
            BCELoss(weight=w, reduction=reduction),
            lambda a: F.binary_cross_entropy(a, q, weight=w, reduction=reduction),
            p, q,
        ),
        (
            BCEWithLogitsLoss(weight=w, reduction=reduction, pos_weight=w[::-1].copy()),
            lambda a: F.binary_cross_entropy_with_logits(
                a, q, weight=w, reduction=reduction, pos_weight=w[::-1].copy()
            ),
            x, q,
        ),
    ]  # fmt: skip
    for module, functional, inp, target in cases:
        value, grad = _run(module, inp, target)
        ref_value, ref_grad = _run(lambda a, _t, f=functional: f(a), inp, target)
        np.testing.assert_array_equal(value, ref_value)
        np.testing.assert_array_equal(grad, ref_grad)


def test_modules_match_torch_modules():
    x, idx, q = _data(1)
    w = np.array([0.5, 2.0, 1.0])
    tw = torch.tensor(w)
    pairs = [
        (
            CrossEntropyLoss(weight=w, label_smoothing=0.1, ignore_index=2),
            torch.nn.CrossEntropyLoss(weight=tw, label_smoothing=0.1, ignore_index=2),
            idx,
        ),
        (BCEWithLogitsLoss(pos_weight=w), torch.nn.BCEWithLogitsLoss(pos_weight=tw), q),
        (MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum"), q),
    ]
    for ours, ref, target in pairs:
        value, grad = _run(ours, x, target)
        tx = torch.tensor(x, requires_grad=True)
        tv = ref(tx, torch.tensor(target))
        tv.backward()
        np.testing.assert_allclose(value, tv.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_sse_loss_defaults_to_the_textbook_sum():
    o = np.array([[0.2, 0.7], [0.5, 1.0]])
    t = np.array([[0.0, 1.0], [1.0, 1.0]])
    loss = SSELoss()
    assert loss.reduction == "sum"
    value, grad = _run(loss, o, t)
    assert float(value) == pytest.approx(0.19, abs=1e-15)  # ½·(0.04 + 0.09 + 0.25)
    np.testing.assert_allclose(grad, o - t, atol=1e-15)
    assert float(_run(SSELoss("mean"), o, t)[0]) == pytest.approx(0.095, abs=1e-15)


@pytest.mark.parametrize("cls", ALL)
def test_repr_task_and_module_base(cls):
    loss = cls()
    assert isinstance(loss, Module)
    assert repr(loss) == f"{cls.__name__}()"
    if hasattr(torch.nn, cls.__name__):
        assert repr(loss) == repr(getattr(torch.nn, cls.__name__)())
    assert (cls.task, cls.target_kind) == TASKS[cls]
    assert cls.__doc__ and ("=" in cls.__doc__)  # the formula is stated


def test_weights_are_buffers_like_torch():
    w = np.array([1.0, 2.0, 3.0])
    ce = CrossEntropyLoss(weight=w)
    assert list(ce.state_dict()) == list(
        torch.nn.CrossEntropyLoss(weight=torch.tensor(w)).state_dict()
    )
    assert [n for n, _ in ce.named_buffers()] == ["weight"]
    assert list(CrossEntropyLoss().state_dict()) == []
    bce = BCEWithLogitsLoss(weight=w, pos_weight=w)
    ref = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(w))
    assert list(bce.state_dict()) == list(ref.state_dict())
    ce.float()
    assert ce.weight.dtype == np.float32
    ce.double()
    assert ce.weight.dtype == np.float64
    assert list(ce.parameters()) == []


def test_float32_model_output_with_float64_weight_stays_float32():
    ce = CrossEntropyLoss(weight=np.array([1.0, 2.0, 3.0]))
    x = gs.tensor(np.random.default_rng(2).standard_normal((4, 3)), requires_grad=True)
    out = ce(x, np.array([0, 1, 2, 1]))
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32


@pytest.mark.filterwarnings("ignore:.*size_average and reduce")
def test_legacy_constructor_flags_set_reduction_as_torch():
    for kwargs in ({"reduce": False}, {"size_average": False}, {"size_average": True}):
        with pytest.warns(UserWarning, match=r"size_average and reduce are deprecated"):
            assert MSELoss(**kwargs).reduction == torch.nn.MSELoss(**kwargs).reduction
        assert CrossEntropyLoss(**kwargs).reduction == torch.nn.CrossEntropyLoss(**kwargs).reduction


def test_constructor_errors():
    for cls in ALL:
        with pytest.raises(ValueError, match=r"reduction must be one of 'mean', 'sum' or 'none'"):
            cls(reduction="avg")
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(ValueError, match=r"weight must be 1-D with one entry per class"):
        CrossEntropyLoss(weight=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"weight must be 1-D with one entry per class"):
        NLLLoss(weight=1.0)
    with pytest.raises(ValueError, match=r"HuberLoss delta must be > 0"):
        HuberLoss(delta=0)
    with pytest.raises(ValueError, match=r"SmoothL1Loss beta must be >= 0"):
        SmoothL1Loss(beta=-1)


def test_call_time_errors_come_from_the_functional_checks():
    with pytest.raises(ValueError, match=r"target 3 is out of range for 3 classes"):
        CrossEntropyLoss()(gs.zeros(2, 3), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"weight has shape \(2,\) but the input has 3 classes"):
        CrossEntropyLoss(weight=np.ones(2))(gs.zeros(2, 3), np.array([0, 1]))


def test_exported_from_nn_package():
    from gradstep import nn
    from gradstep.nn import loss

    for name in loss.__all__:
        assert getattr(nn, name) is getattr(loss, name)
