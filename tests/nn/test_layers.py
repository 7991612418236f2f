"""Layers: Linear's initialisation, forward values and gradients of MLPs with every activation
against torch.nn in float64, finite differences, and Flatten / Unflatten / Dropout / Identity."""

import math

import numpy as np
import pytest
import torch

import gradstep as gs
from gradstep import nn
from gradstep.autograd import gradcheck

F64 = np.float64

ACTIVATIONS = [
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    (lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    (lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
    (lambda: nn.Softplus(beta=2.0, threshold=1.0), lambda: torch.nn.Softplus(2.0, 1.0)),
    (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    (lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
    (lambda: nn.Identity(), lambda: torch.nn.Identity()),
]


def _pair(act_gs, act_torch):
    """The same 5-7-7-3 MLP in both libraries (float64), torch's weights copied from ours."""
    model = nn.Sequential(
        nn.Linear(5, 7, dtype=F64), act_gs(), nn.Linear(7, 7, dtype=F64), act_gs(),
        nn.Linear(7, 3, dtype=F64),
    )  # fmt: skip
    ref = torch.nn.Sequential(
        torch.nn.Linear(5, 7), act_torch(), torch.nn.Linear(7, 7), act_torch(),
        torch.nn.Linear(7, 3),
    ).double()  # fmt: skip
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    return model, ref


# -- Linear initialisation ------------------------------------------------------------------
def test_linear_shapes_dtype_and_bounds():
    gs.manual_seed(0)
    lin = nn.Linear(64, 256)
    assert lin.weight.shape == (256, 64) and lin.bias.shape == (256,)
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    bound = 1 / math.sqrt(64)
    for p in (lin.weight, lin.bias):
        assert np.abs(p.data).max() <= bound
        assert p.requires_grad and isinstance(p, nn.Parameter)
    w = lin.weight.data.astype(F64)
    # U(-b, b): mean 0, std b/sqrt(3); 16384 draws -> std error of the mean ~ 0.0023 * b
    assert abs(w.mean()) < 0.02 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert np.abs(w).max() > 0.99 * bound  # the whole range is used
    assert nn.Linear(3, 2, dtype=gs.float64).weight.dtype == np.float64


def test_linear_init_is_repeatable_under_manual_seed():
    gs.manual_seed(7)
    a = nn.Linear(4, 3)
    gs.manual_seed(7)
    b = nn.Linear(4, 3)
    c = nn.Linear(4, 3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(b.weight.data, c.weight.data)


def test_linear_without_bias_and_argument_checks():
    lin = nn.Linear(3, 2, bias=False)
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    assert repr(lin) == "Linear(in_features=3, out_features=2, bias=False)"
    with pytest.raises(ValueError, match="in_features must be >= 0"):
        nn.Linear(-1, 2)
    with pytest.raises(TypeError, match="out_features must be an int"):
        nn.Linear(2, 2.5)
    with pytest.raises(TypeError, match="floating"):
        nn.Linear(2, 2, dtype=gs.int64)
    with pytest.raises(ValueError, match="4 features"):
        nn.Linear(4, 2)(gs.ones(3, 5))


def test_linear_forward_keeps_float32_and_accepts_extra_dims():
    lin = nn.Linear(4, 2)
    assert lin(gs.ones(3, 4)).dtype == np.float32
    assert lin(np.ones((3, 4))).dtype == np.float32  # raw data takes the layer's dtype
    out = lin(gs.ones(2, 5, 4))
    assert out.shape == (2, 5, 2)
    np.testing.assert_allclose(out.data[1, 3], lin.weight.data.sum(1) + lin.bias.data, rtol=1e-6)


def test_reset_parameters_draws_new_weights():
    lin = nn.Linear(4, 4)
    before = lin.weight.data.copy()
    arr = lin.weight.data
    lin.reset_parameters()
    assert lin.weight.data is arr and not np.array_equal(arr, before)


# -- values and gradients against torch -------------------------------------------------------
@pytest.mark.parametrize("acts", ACTIVATIONS, ids=lambda a: repr(a[0]()))
def test_mlp_forward_and_gradients_match_torch(acts):
    gs.manual_seed(11)
    model, ref = _pair(*acts)
    x = np.random.default_rng(1).standard_normal((6, 5)) * 2
    xg = gs.tensor(x, dtype=gs.float64, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out_g, out_t = model(xg), ref(xt)
    np.testing.assert_allclose(out_g.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    ((out_g - 0.5) ** 2).sum().backward()
    ((out_t - 0.5) ** 2).sum().backward()
    for (name, p), (tname, tp) in zip(model.named_parameters(), ref.named_parameters()):
        assert name == tname
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(xg.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_mlp_passes_finite_difference_gradcheck():
    gs.manual_seed(5)
    model = nn.Sequential(
        nn.Linear(3, 4, dtype=F64), nn.Tanh(), nn.Linear(4, 4, dtype=F64), nn.GELU(),
        nn.Linear(4, 2, dtype=F64), nn.Softplus(), nn.Linear(2, 2, dtype=F64), nn.LogSoftmax(1),
    )  # fmt: skip
    x = gs.tensor(np.random.default_rng(2).standard_normal((5, 3)), dtype=gs.float64)
    params = list(model.parameters())
    assert gradcheck(lambda *ps: model(x), params)


# -- shape layers and dropout ---------------------------------------------------------------
def test_flatten_and_unflatten_match_torch_shapes():
    x = np.arange(2 * 3 * 4 * 5, dtype=F64).reshape(2, 3, 4, 5)
    cases = [
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
        (nn.Flatten(2), torch.nn.Flatten(2)),
        (nn.Unflatten(1, (3, 1)), torch.nn.Unflatten(1, (3, 1))),
        (nn.Unflatten(-1, (5, 1)), torch.nn.Unflatten(-1, (5, 1))),
        (nn.Unflatten(2, (2, -1)), torch.nn.Unflatten(2, (2, -1))),
    ]
    for g, t in cases:
        out = g(gs.tensor(x, dtype=gs.float64)).data
        np.testing.assert_array_equal(out, t(torch.from_numpy(x)).numpy())
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, 6)


def test_flatten_gradient_flows_back_in_the_input_shape():
    x = gs.randn(2, 3, 4, dtype=gs.float64, requires_grad=True)
    (nn.Flatten()(x) * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 3, 4), 2.0))


def test_dropout_obeys_train_and_eval():
    drop = nn.Dropout(p=0.25)
    x = gs.ones(200, 50, dtype=gs.float64)
    gs.manual_seed(0)
    out = drop(x).data
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-15)
    assert abs(kept.mean() - 0.75) < 0.02
    drop.eval()
    np.testing.assert_array_equal(drop(x).data, x.data)
    assert (nn.Dropout(0.0)(x).data == 1).all()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nn.Dropout(1.5)


def test_dropout_is_repeatable_under_manual_seed():
    drop = nn.Dropout(0.5)
    x = gs.ones(10, 10)
    gs.manual_seed(3)
    a = drop(x).data
    gs.manual_seed(3)
    np.testing.assert_array_equal(a, drop(x).data)


def test_identity_ignores_arguments_and_returns_input():
    x = gs.ones(2)
    assert nn.Identity(3, foo=1)(x) is x


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
