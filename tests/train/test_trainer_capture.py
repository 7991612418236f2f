"""Trainer.fit(capture=True) replays each batch's forward and backward: the run must be
bit-identical to the eager Trainer's (itself checked against PyTorch and hand computations in the
other Trainer tests), and the replay must really be in use."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn, optim


def _data(n: int = 70, features: int = 6, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    return x, rng.integers(0, classes, n)


def _run(build, capture: bool | None, **fit):
    gs.manual_seed(0)
    model, opt, sched, kw = build()
    trainer = gs.Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched, **kw)
    x, y = _data()
    history = trainer.fit((x, y), epochs=3, batch_size=16, verbose=0, capture=capture, **fit)
    weights = [p.data.copy() for p in model.parameters()]
    buffers = [np.array(b.data, copy=True) for _, b in model.named_buffers()]
    return trainer, history.history, weights, buffers


def _bytes(model) -> list[bytes]:
    return [np.ascontiguousarray(p.data).tobytes() for p in model.parameters()]


def _mlp_adam():
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    return model, optim.Adam(model.parameters(), lr=1e-2), None, {}


def _dropout_warmup_clip():
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Dropout(0.3), nn.Linear(16, 3))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    sched = optim.lr_scheduler.warmup_linear(opt, warmup_steps=5, total_steps=15)
    return model, opt, sched, {"grad_clip": 0.5}


def _batchnorm_rmsprop():
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Linear(8, 3))
    return model, optim.RMSprop(model.parameters(), lr=1e-2), None, {}


@pytest.mark.parametrize("build", [_mlp_adam, _dropout_warmup_clip, _batchnorm_rmsprop])
def test_captured_fit_is_bit_identical_to_eager(build):
    _, h_eager, w_eager, b_eager = _run(build, False)
    trainer, h_cap, w_cap, b_cap = _run(build, True)
    assert trainer._forward_backward is not None and trainer._forward_backward.captured
    for key in ("loss", "accuracy", "grad_norm", "lr"):
        assert h_cap[key] == h_eager[key], key
    for a, b in zip(w_cap + b_cap, w_eager + b_eager):
        np.testing.assert_array_equal(a, b)


def test_the_short_last_batch_and_a_second_fit_keep_replaying():
    trainer, _, _, _ = _run(_mlp_adam, True)
    step = trainer._forward_backward.step
    assert step.recorded == 2  # batches of 16 and the last one of 70 − 64 = 6
    x, y = _data(seed=1)
    trainer.fit((x, y), epochs=1, batch_size=16, verbose=0, capture=True)
    assert trainer._forward_backward.step is step  # the recording is kept across fits


def test_a_diverging_captured_run_stops_before_updating():
    def build():
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
        return model, optim.SGD(model.parameters(), lr=1e6), None, {}

    t_eager, h_eager, w_eager, _ = _run(build, False)
    t_cap, h_cap, w_cap, _ = _run(build, True)
    assert t_eager.diverged and t_cap.diverged
    assert t_cap.stop_reason == t_eager.stop_reason
    assert all(np.isfinite(w).all() for w in w_cap)
    for a, b in zip(w_cap, w_eager):
        np.testing.assert_array_equal(a, b)
    assert math.isnan(h_cap["loss"][-1]) == math.isnan(h_eager["loss"][-1])


@pytest.mark.parametrize(
    "loss, weights",
    [
        ("mean", {"sample_weight": "ramp"}),
        ("mean", {"class_weight": "balanced"}),
        ("class-weighted", {"sample_weight": "ramp", "class_weight": {0: 2.0}}),
        ("sum", {"sample_weight": "ramp"}),
    ],
)
def test_weighted_fits_are_replayed_with_the_eager_numbers(loss, weights):
    """Batches with sample weights replay too (the weights are an input of the recording):
    losses, metrics and weights equal an eager fit's bit for bit."""
    x, y = _data()
    kw = {k: (np.linspace(0.5, 2.0, len(x)) if v == "ramp" else v) for k, v in weights.items()}
    results = []
    for capture in (False, True):
        gs.manual_seed(0)
        model, opt, _, _ = _mlp_adam()
        loss_fn = {
            "mean": nn.CrossEntropyLoss(),
            "sum": nn.CrossEntropyLoss(reduction="sum"),
            "class-weighted": nn.CrossEntropyLoss(weight=gs.tensor([1.0, 0.5, 2.0])),
        }[loss]
        trainer = gs.Trainer(model, loss_fn, opt, metrics=["accuracy"])
        h = trainer.fit((x, y), epochs=2, batch_size=16, verbose=0, capture=capture, **kw)
        results.append((h.history["loss"], h.history["accuracy"], _bytes(model)))
        if capture:
            assert trainer._forward_backward.captured, trainer._forward_backward.step.reason
    assert results[0] == results[1]


def test_capture_must_be_a_bool():
    model, opt, _, _ = _mlp_adam()
    trainer = gs.Trainer(model, nn.CrossEntropyLoss(), opt)
    with pytest.raises(TypeError, match="capture must be True or False"):
        trainer.fit(_data(), epochs=1, verbose=0, capture="yes")


class _ItemInForward(nn.Module):
    """A model that reads a value in Python during its forward: it cannot be recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(6, 3)

    def forward(self, x):
        out = self.lin(x)
        self.last_max = out.max().item()
        return out


def test_capture_is_the_default_and_the_environment_turns_it_off(monkeypatch):
    monkeypatch.delenv("GRADSTEP_CAPTURE", raising=False)
    trainer, _, _, _ = _run(_mlp_adam, None)
    assert trainer._forward_backward.captured
    monkeypatch.setenv("GRADSTEP_CAPTURE", "0")
    trainer, _, _, _ = _run(_mlp_adam, None)
    assert trainer._forward_backward is None


def test_a_model_that_cannot_be_recorded_runs_eagerly_warning_only_when_asked(recwarn, monkeypatch):
    from gradstep.capture import CaptureWarning

    monkeypatch.delenv("GRADSTEP_CAPTURE", raising=False)

    def build():
        model = _ItemInForward()
        return model, optim.SGD(model.parameters(), lr=0.1), None, {}

    _, h_default, w_default, _ = _run(build, None)
    assert not [w for w in recwarn if issubclass(w.category, CaptureWarning)]
    with pytest.warns(CaptureWarning, match=r"item\(\)|\.item"):
        _, h_asked, _, _ = _run(build, True)
    _, h_eager, w_eager, _ = _run(build, False)
    assert h_default["loss"] == h_eager["loss"] == h_asked["loss"]
    for a, b in zip(w_default, w_eager):
        np.testing.assert_array_equal(a, b)
