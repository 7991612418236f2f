"""Captured convolutional steps (Conv1d/Conv2d, max and average pooling, batch norm, dropout)
are bit-identical to eager steps, running statistics and random draws included."""

from __future__ import annotations

import pytest
from capture_helpers import batches, classic_step, eager_vs_captured

import gradstep as gs
from gradstep import nn, optim


def _cnn(dim: int, pool: str, bn: bool, dropout: bool) -> nn.Module:
    conv = nn.Conv1d if dim == 1 else nn.Conv2d
    norm = nn.BatchNorm1d if dim == 1 else nn.BatchNorm2d
    pools = {
        ("max", 1): nn.MaxPool1d,
        ("max", 2): nn.MaxPool2d,
        ("avg", 1): nn.AvgPool1d,
        ("avg", 2): nn.AvgPool2d,
    }
    layers = [conv(2, 4, 3, padding=1)]
    if bn:
        layers.append(norm(4))
    layers += [nn.ReLU(), pools[pool, dim](2), conv(4, 4, 3, stride=2, padding=1), nn.ReLU()]
    layers.append(nn.Flatten())
    if dropout:
        layers.append(nn.Dropout(0.3))
    layers.append(nn.Linear(4 * (2 if dim == 1 else 4), 3))
    return nn.Sequential(*layers)


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize(
    ("pool", "bn", "dropout"),
    [("max", False, False), ("max", True, True), ("avg", True, False), ("avg", False, True)],
)
def test_cnn_steps_replay_bit_for_bit(dim, pool, bn, dropout):
    def build():
        gs.manual_seed(0)
        model = _cnn(dim, pool, bn, dropout)
        opt = optim.Adam(model.parameters(), lr=0.01)
        return model, opt, classic_step(model, opt, nn.CrossEntropyLoss())

    shape = (2, 8) if dim == 1 else (2, 8, 8)
    eager_vs_captured(build, batches(0, "index", bs=6, shape=shape))


def test_batch_norm_and_dropout_in_an_mlp_float64():
    def build():
        gs.manual_seed(0)
        model = nn.Sequential(
            nn.Linear(6, 12), nn.ReLU(), nn.Dropout(0.5), nn.BatchNorm1d(12), nn.Linear(12, 3)
        ).double()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return model, opt, classic_step(model, opt, nn.CrossEntropyLoss())

    step = eager_vs_captured(build, batches(6, "index", "float64", n=4))
    assert "rng.random" in step.program()  # the mask is drawn at each replay


def test_dropout_masks_differ_between_replays_as_they_do_eagerly():
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 50), nn.Dropout(0.5), nn.Linear(50, 3))
    opt = optim.SGD(model.parameters(), lr=0.0)  # lr 0: only the masks change the loss
    step = gs.capture(classic_step(model, opt, nn.CrossEntropyLoss()), *batches(6, "index")[0])
    x, y = batches(6, "index")[0]
    losses = {float(step(x, y)) for _ in range(5)}
    assert len(losses) > 1


def test_eager_convolutions_between_replays_do_not_disturb_them():
    """The capture's scratch buffers are its own: eager steps of another network (same shapes,
    so the same workspace sizes) between replays leave the replays bit-identical to eager."""
    data = batches(0, "index", bs=6, shape=(2, 8, 8), n=4)
    other = batches(0, "index", bs=6, shape=(2, 8, 8), n=4, seed=11)

    def build(seed):
        gs.manual_seed(seed)
        model = _cnn(2, "max", False, False)
        opt = optim.SGD(model.parameters(), lr=0.1)
        return model, opt, classic_step(model, opt, nn.CrossEntropyLoss())

    ref_model, _, ref_step = build(0)
    expected = [float(ref_step(*b)) for b in data]
    model, _, step_fn = build(0)
    _, _, noise = build(1)
    step = gs.capture(step_fn, *data[0])
    assert step.captured, step.reason
    got = []
    for b, o in zip(data, other):
        got.append(float(step(*b)))
        noise(*o)
    assert got == expected
    for p, q in zip(model.parameters(), ref_model.parameters()):
        assert p.data.tobytes() == q.data.tobytes()
