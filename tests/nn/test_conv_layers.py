"""Conv, pooling and batch-norm layers: PyTorch's initialisation, reprs, state-dict names both
ways, batch norm's train/eval behaviour over several steps, a whole CNN against torch.nn in
float64, gs.summary's shapes and the layers' errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from oracle import close

import gradstep as gs
from gradstep import nn


def _rand(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _to_torch(sd):
    return {k: torch.from_numpy(np.array(v)) for k, v in sd.items()}


# -- initialisation and repr -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("layer", "fan_in"),
    [(lambda: nn.Conv1d(4, 8, 5), 20), (lambda: nn.Conv2d(6, 4, (3, 2), groups=2), 18)],
)
def test_conv_init_is_torch_default(layer, fan_in):
    gs.manual_seed(0)
    conv = layer()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=√5) and the bias bound are both this
    for p in (conv.weight, conv.bias):
        assert p.dtype == np.float32 and p.requires_grad
        assert np.abs(p.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.9 * bound  # the whole range is used
    gs.manual_seed(0)
    np.testing.assert_array_equal(layer().weight.data, conv.weight.data)


CONVS = [
    ("Conv1d", (1, 25, 5), dict(stride=2, padding=1)),
    ("Conv1d", (4, 4, 3), dict(padding="same", dilation=2, groups=2, bias=False)),
    ("Conv1d", (2, 3, 3), dict(padding="valid")),
    ("Conv2d", (1, 6, 5), dict(padding=2)),
    ("Conv2d", (6, 16, (3, 2)), dict(stride=(2, 1), dilation=(1, 2), groups=2)),
]


@pytest.mark.parametrize(("name", "args", "kw"), CONVS, ids=str)
def test_conv_repr_shapes_and_state_dict_match_torch_both_ways(name, args, kw):
    ours = getattr(nn, name)(*args, dtype=gs.float64, **kw)
    ref = getattr(torch.nn, name)(*args, **kw).double()
    assert repr(ours) == repr(ref)
    sd = ours.state_dict()
    assert {k: tuple(v.shape) for k, v in sd.items()} == {
        k: tuple(v.shape) for k, v in ref.state_dict().items()
    }
    ref.load_state_dict(_to_torch(sd))  # ours -> torch
    nsp = 1 if name == "Conv1d" else 2
    x = _rand((2, args[0]) + (9,) * nsp, 1)
    close(ours(gs.tensor(x, dtype=gs.float64)).data, ref(torch.tensor(x)))
    torch.nn.init.normal_(ref.weight)  # torch -> ours
    ours.load_state_dict(ref.state_dict())
    close(ours(gs.tensor(x, dtype=gs.float64)).data, ref(torch.tensor(x)))


@pytest.mark.parametrize(
    ("name", "args"),
    [("MaxPool1d", (3,)), ("MaxPool2d", (2,)), ("MaxPool2d", ((3, 2), 1, 1, 1, False, True)),
     ("AvgPool1d", (2,)), ("AvgPool1d", (3, 2, 1)), ("AvgPool2d", (2,)), ("AvgPool2d", (3, 1, 1)),
     ("AdaptiveAvgPool1d", (4,)), ("AdaptiveAvgPool2d", (1,)), ("AdaptiveAvgPool2d", ((None, 3),)),
     ("BatchNorm1d", (8,)), ("BatchNorm2d", (4, 1e-3, None, False, False))],
)  # fmt: skip
def test_pool_and_norm_reprs_match_torch(name, args):
    assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


# -- batch norm: train / eval over several steps ---------------------------------------------
@pytest.mark.parametrize(
    ("name", "shape", "kw"),
    [("BatchNorm1d", (8, 3), {}), ("BatchNorm1d", (4, 3, 5), dict(momentum=None)),
     ("BatchNorm2d", (4, 3, 2, 3), {}), ("BatchNorm2d", (2, 3, 3, 2), dict(affine=False)),
     ("BatchNorm2d", (4, 3, 2, 2), dict(momentum=None, eps=1e-3)),
     ("BatchNorm1d", (6, 3), dict(track_running_stats=False)),
     ("BatchNorm2d", (3, 3, 2, 2), dict(bias=False))],
)  # fmt: skip
def test_batch_norm_train_and_eval_follow_torch_over_steps(name, shape, kw):
    ours = getattr(nn, name)(3, dtype=gs.float64, **kw)
    ref = getattr(torch.nn, name)(3, **kw).double()
    assert repr(ours) == repr(ref)
    for step in range(4):
        if step == 3:
            ours.eval()
            ref.eval()
        x = _rand(shape, step) * (step + 1) + step
        gx = gs.tensor(x, dtype=gs.float64, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        out, expected = ours(gx), ref(tx)
        close(out.data, expected)
        g = _rand(shape, 10 + step)
        out.backward(g)
        expected.backward(torch.tensor(g))
        close(gx.grad, tx.grad)
        for (n, p), (tn, tp) in zip(ours.named_parameters(), ref.named_parameters()):
            assert n == tn
            close(p.grad, tp.grad)
            p.grad = None
            tp.grad = None
        for (n, b), (tn, tb) in zip(ours.named_buffers(), ref.named_buffers()):
            assert n == tn
            close(b.data, tb)
    assert list(ours.state_dict()) == list(ref.state_dict())


def test_batch_norm_buffers_dtypes_and_reset():
    bn = nn.BatchNorm2d(2)
    sd = bn.state_dict()
    assert list(sd) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert sd["num_batches_tracked"].dtype == np.int64 and sd["num_batches_tracked"].shape == ()
    bn(gs.tensor(_rand((3, 2, 2, 2))))
    assert int(bn.num_batches_tracked.item()) == 1
    bn.double()
    assert bn.running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64
    ref = torch.nn.BatchNorm2d(2).double()
    ref.load_state_dict(_to_torch(bn.state_dict()))  # loads in PyTorch, counter included
    assert int(ref.num_batches_tracked) == 1
    ref(torch.tensor(_rand((3, 2, 2, 2), 1)))  # one more step in PyTorch, then back
    bn.load_state_dict(ref.state_dict())
    assert int(bn.num_batches_tracked.item()) == 2 and bn.num_batches_tracked.dtype == np.int64
    close(bn.running_mean.data, ref.running_mean)
    bn.reset_running_stats()
    assert bn.running_var.data.tolist() == [1.0, 1.0] and int(bn.num_batches_tracked.item()) == 0
    assert nn.BatchNorm1d(3, track_running_stats=False).state_dict().keys() == {"weight", "bias"}


# -- a whole CNN -------------------------------------------------------------------------------
def _cnn(lib, dtype_kw):
    """Flat 36-pixel images -> Unflatten -> conv/bn/relu/pool twice -> global pool -> linear."""
    return lib.Sequential(
        lib.Unflatten(1, (1, 6, 6)),
        lib.Conv2d(1, 4, 3, padding=1, **dtype_kw), lib.BatchNorm2d(4, **dtype_kw), lib.ReLU(),
        lib.MaxPool2d(2),
        lib.Conv2d(4, 6, 2, groups=2, **dtype_kw), lib.ReLU(), lib.AvgPool2d(2, 1, 1),
        lib.AdaptiveAvgPool2d(1), lib.Flatten(), lib.Linear(6, 3, **dtype_kw),
    )  # fmt: skip


def test_cnn_forward_and_gradients_match_torch_and_summary_shows_shapes():
    gs.manual_seed(3)
    ours = _cnn(nn, dict(dtype=gs.float64))
    ref = _cnn(torch.nn, {}).double()
    ref.load_state_dict(_to_torch(ours.state_dict()))
    x, y = _rand((5, 36), 4), np.array([0, 2, 1, 1, 0])
    loss = gs.functional.cross_entropy(ours(gs.tensor(x, dtype=gs.float64)), gs.tensor(y))
    expected = torch.nn.functional.cross_entropy(ref(torch.tensor(x)), torch.tensor(y))
    close(loss.data, expected)
    loss.backward()
    expected.backward()
    for (_, p), (_, tp) in zip(ours.named_parameters(), ref.named_parameters()):
        close(p.grad, tp.grad)
    for (_, b), (_, tb) in zip(ours.named_buffers(), ref.named_buffers()):
        close(b.data, tb)
    text = gs.summary(ours, (36,))
    rows = {line.split()[0]: line for line in text.splitlines() if line[:1].isdigit()}
    assert "(1, 4, 6, 6)" in rows["1"] and "40" in rows["1"].split()[-1]  # 4·9 + 4
    assert "(1, 4, 3, 3)" in rows["4"] and "(1, 6, 2, 2)" in rows["5"]
    assert "(1, 6, 3, 3)" in rows["7"] and "(1, 6, 1, 1)" in rows["8"]


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: nn.Conv2d(3, 4, 3, padding_mode="reflect"), ValueError, "padding_mode='zeros'"),
        (lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"), ValueError, "is unknown"),
        (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, "divisible by groups"),
        (lambda: nn.Conv1d(3, 4, 3, stride=2, padding="same"), ValueError, "strided"),
        (lambda: nn.Conv1d(3, 4, 3, padding="full"), ValueError, "'valid' or 'same'"),
        (lambda: nn.Conv1d(3, 0, 3), ValueError, "out_channels must be >= 1"),
        (lambda: nn.Conv2d(3, 4, 0), ValueError, "kernel_size must be >= 1"),
        (lambda: nn.MaxPool2d(2, stride=0), ValueError, "stride must be >= 1"),
        (lambda: nn.BatchNorm2d(0), ValueError, "num_features must be >= 1"),
        (lambda: nn.BatchNorm1d(3, momentum=2.0), ValueError, "momentum must be in"),
    ],
)
def test_layer_argument_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize(
    ("layer", "shape", "match"),
    [
        (lambda: nn.Conv2d(3, 4, 3), (2, 1, 8, 8), "is 1 but the weight expects in_channels = 3"),
        (lambda: nn.Conv2d(3, 4, 3), (2, 64), r"4-D input \(N, C, H, W\)"),
        (lambda: nn.Conv1d(1, 4, 5), (2, 1, 3), "larger than the padded input"),
        (lambda: nn.BatchNorm2d(4), (2, 3, 5, 5), r"BatchNorm2d\(4\) got an input with 3 channels"),
        (lambda: nn.BatchNorm2d(4), (2, 4), "4-D"),
        (lambda: nn.BatchNorm1d(4), (2, 4, 1, 1), r"\(N, C\) or 3-D"),
        (lambda: nn.BatchNorm1d(4), (1, 4), "more than one value per channel"),
    ],
)
def test_layer_input_errors(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer()(gs.zeros(*shape))
