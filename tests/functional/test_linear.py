"""The fused linear map and whole MLPs built from the primitives, against PyTorch in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from oracle import close as _close
from oracle import f64 as _f64

import gradstep as gs
from gradstep import functional as F


def _t64(a, requires_grad: bool = True) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)


def _rand(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# -- fused linear ------------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_grad", [True, False])
def test_linear_matches_torch(x_shape, bias, x_grad):
    x, w, b = _rand(x_shape, 1), _rand((4, 3), 2), _rand(4, 3)
    gx, gw, gb = _f64(x, x_grad), _f64(w), _f64(b) if bias else None
    tx, tw, tb = _t64(x, x_grad), _t64(w), _t64(b) if bias else None
    out, ref = F.linear(gx, gw, gb), TF.linear(tx, tw, tb)
    assert out.shape == tuple(ref.shape)
    _close(out.data, ref)
    g = _rand(tuple(ref.shape), 4)
    out.backward(g)
    ref.backward(torch.tensor(g))
    _close(gw.grad, tw.grad)
    if bias:
        _close(gb.grad, tb.grad)
    if x_grad:
        _close(gx.grad, tx.grad)
    else:
        assert gx.grad is None


@pytest.mark.parametrize(
    ("x_shape", "out_features"),
    [
        ((200, 30), 1),  # one output: the input gradient is an outer product
        ((200, 30), 10),  # narrow layer, big batch: forward through a contiguous copy of Wᵀ
        ((2, 100, 30), 16),  # the same with leading batch dims
        ((128, 30), 17),  # just wider than the narrow rule
        ((300, 1000), 200),  # big enough for the BLAS thread steering
    ],
)
def test_linear_special_shapes_match_torch(x_shape, out_features):
    x, w, b = _rand(x_shape, 1), _rand((out_features, x_shape[-1]), 2), _rand(out_features, 3)
    gx, gw, gb = _f64(x), _f64(w), _f64(b)
    tx, tw, tb = _t64(x), _t64(w), _t64(b)
    out, ref = F.linear(gx, gw, gb), TF.linear(tx, tw, tb)
    _close(out.data, ref)
    g = _rand(tuple(ref.shape), 4)
    out.backward(g)
    ref.backward(torch.tensor(g))
    for mine, theirs in ((gx, tx), (gw, tw), (gb, tb)):
        _close(mine.grad, theirs.grad)


@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(x_shape, bias):
    inputs = [_f64(_rand(x_shape, 5)), _f64(_rand((2, 3), 6))]
    if bias:
        inputs.append(_f64(_rand(2, 7)))
    assert gs.gradcheck(F.linear, inputs)


def test_linear_input_without_grad_gets_no_gradient_computed():
    x = gs.tensor(_rand((5, 3), 8))  # data: does not require grad
    w = gs.tensor(_rand((2, 3), 9), requires_grad=True)
    b = gs.tensor(_rand(2, 10), requires_grad=True)
    y = F.linear(x, w, b)
    node = y.grad_fn
    assert node.needs == (False, True, True)
    gx, gw, gb = node.backward(np.ones(y.shape, dtype=np.float32))
    assert gx is None and gw is not None and gb is not None
    y.sum().backward()
    assert x.grad is None and w.grad.shape == (2, 3) and b.grad.shape == (2,)


def _zeroed_after_one_backward(*params):
    """Run one backward so each parameter keeps gradient storage, then zero it (as an optimizer)."""
    sum(p.sum() for p in params).backward()
    for p in params:
        p.grad = None


def test_linear_reuses_kept_gradient_storage():
    w, b = _f64(_rand((2, 3), 13)), _f64(_rand(2, 14))
    _zeroed_after_one_backward(w, b)
    kept_w, kept_b = w._grad_store, b._grad_store
    x = _rand((5, 3), 15)
    F.linear(gs.tensor(x, dtype=gs.float64), w, b).sum().backward()
    assert w.grad is kept_w and b.grad is kept_b
    _close(w.grad, np.ones((2, 5)) @ x)
    _close(b.grad, np.full(2, 5.0))


def test_linear_gradients_accumulate_across_two_backward_calls():
    w, b = _f64(_rand((2, 3), 16)), _f64(_rand(2, 17))
    _zeroed_after_one_backward(w, b)
    tw, tb = _t64(w.data), _t64(b.data)
    x = _rand((4, 3), 18)
    for _ in range(2):
        F.linear(gs.tensor(x, dtype=gs.float64), w, b).tanh().sum().backward()
        TF.linear(torch.tensor(x), tw, tb).tanh().sum().backward()
    _close(w.grad, tw.grad)
    _close(b.grad, tb.grad)


def test_linear_with_a_weight_used_twice_in_one_graph_matches_torch():
    w, b = _f64(_rand((3, 3), 19)), _f64(_rand(3, 20))
    _zeroed_after_one_backward(w, b)
    tw, tb = _t64(w.data), _t64(b.data)
    x = _rand((4, 3), 21)
    y = F.linear(F.linear(gs.tensor(x, dtype=gs.float64), w, b).sigmoid(), w, b)
    ty = TF.linear(TF.linear(torch.tensor(x), tw, tb).sigmoid(), tw, tb)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    _close(w.grad, tw.grad)
    _close(b.grad, tb.grad)


def test_linear_with_the_same_tensor_as_input_and_weight_matches_torch():
    a = _rand((3, 3), 22)
    m, tm = _f64(a), _t64(a)
    _zeroed_after_one_backward(m)
    F.linear(m, m).sum().backward()
    TF.linear(tm, tm).sum().backward()
    _close(m.grad, tm.grad)


def test_linear_float32_and_raw_array_input():
    w = gs.tensor(_rand((2, 3), 11), requires_grad=True)
    y = F.linear(_rand((4, 3), 12), w)  # a float64 NumPy array takes the layer's dtype
    assert y.dtype == gs.float32
    y.sum().backward()
    assert w.grad.dtype == np.float32
    assert F.linear(np.ones((1, 3), dtype=np.int64), w).dtype == gs.float32


def test_linear_shape_errors_name_the_problem():
    w = gs.ones(2, 3)
    with pytest.raises(ValueError, match="3 features"):
        F.linear(gs.ones(4, 5), w)
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.linear(gs.ones(4, 3), gs.ones(3))
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        F.linear(gs.ones(4, 3), w, gs.ones(3))


# -- MLPs: compositions of every primitive the training loop uses --------------------------------
ACTIVATIONS = {
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "relu": (F.relu, torch.relu),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.05), lambda x: TF.leaky_relu(x, 0.05)),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
    ),
}


def _mlp_params(sizes, seed):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((o, i)) / np.sqrt(i), rng.standard_normal(o) * 0.1)
        for i, o in zip(sizes[:-1], sizes[1:])
    ]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("head", ["cross_entropy", "squared_error"])
def test_mlp_forward_and_gradients_match_torch(name, head):
    act, t_act = ACTIVATIONS[name]
    sizes = [4, 8, 6, 3]
    params = _mlp_params(sizes, seed=20)
    rng = np.random.default_rng(21)
    x, y = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
    target = rng.standard_normal((10, 3))

    def run(lib):
        if lib == "gs":
            ps = [(_f64(w), _f64(b)) for w, b in params]
            h = gs.tensor(x, dtype=gs.float64)
            for i, (w, b) in enumerate(ps):
                h = F.linear(h, w, b)
                if i < len(ps) - 1:
                    h = act(h)
            if head == "cross_entropy":
                loss = -F.log_softmax(h, dim=1)[gs.arange(10), gs.tensor(y)].mean()
            else:
                loss = 0.5 * ((h - gs.tensor(target, dtype=gs.float64)) ** 2).sum()
        else:
            ps = [(_t64(w), _t64(b)) for w, b in params]
            h = torch.tensor(x)
            for i, (w, b) in enumerate(ps):
                h = TF.linear(h, w, b)
                if i < len(ps) - 1:
                    h = t_act(h)
            if head == "cross_entropy":
                loss = TF.cross_entropy(h, torch.tensor(y))
            else:
                loss = 0.5 * ((h - torch.tensor(target)) ** 2).sum()
        loss.backward()
        return loss, ps

    g_loss, g_ps = run("gs")
    t_loss, t_ps = run("torch")
    _close(g_loss.item(), t_loss.item())
    for (gw, gb), (tw, tb) in zip(g_ps, t_ps):
        _close(gw.grad, tw.grad)
        _close(gb.grad, tb.grad)


def test_mlp_with_explicit_matmul_softmax_and_batched_3d_input_matches_torch():
    # x @ W.T + b, softmax, a reused hidden state and a 3-D batch: the unfused path.
    params = _mlp_params([3, 5, 4], seed=30)
    x = np.random.default_rng(31).standard_normal((2, 6, 3))

    def run(lib):
        mod, to = (gs, _f64) if lib == "gs" else (torch, _t64)
        (w1, b1), (w2, b2) = [(to(w), to(b)) for w, b in params]
        xt = mod.tensor(x, dtype=mod.float64)
        h = mod.tanh(xt @ w1.T + b1)
        h = h * mod.sigmoid(h)  # one tensor used twice
        p = (h @ w2.T + b2).softmax(-1)
        loss = (p * p.log()).sum() / 12.0
        loss.backward()
        return loss, [w1, b1, w2, b2]

    g_loss, g_ps = run("gs")
    t_loss, t_ps = run("torch")
    _close(g_loss.item(), t_loss.item())
    for g, t in zip(g_ps, t_ps):
        _close(g.grad, t.grad)


def test_weight_used_as_input_too_keeps_its_gradient_across_steps():
    """linear(w, w, b): the engine must not write dW into w's kept storage while w is also x."""
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((4, 4))
    b0 = rng.standard_normal(4)
    w = gs.tensor(w0, dtype=gs.float64, requires_grad=True)
    b = gs.tensor(b0, dtype=gs.float64, requires_grad=True)
    tw = torch.tensor(w0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    for _ in range(3):
        w.grad = b.grad = None
        tw.grad = tb.grad = None
        F.linear(w, w, b).sum().backward()
        torch.nn.functional.linear(tw, tw, tb).sum().backward()
        _close(w.grad, tw.grad)
        _close(b.grad, tb.grad)
