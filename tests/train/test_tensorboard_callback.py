"""The TensorBoard callback: what it writes (read back from tensorboardX's event file), the
tags, the step numbers, the per-step option, and the missing-extra message."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn, optim
from gradstep.train import TensorBoard


class Recorder:
    """A writer that keeps what it is given (the callback only needs these three methods)."""

    def __init__(self) -> None:
        self.scalars: list[tuple[str, float, int]] = []
        self.flushed = self.closed = 0

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def flush(self):
        self.flushed += 1

    def close(self):
        self.closed += 1


def _fit(callback, epochs=2, val=True, lr=0.05):
    gs.manual_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 3)), rng.integers(0, 2, 24)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    trainer = gs.Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr))
    history = trainer.fit((x, y), epochs=epochs, batch_size=8, callbacks=[callback], verbose=0,
                          val=(x[:8], y[:8]) if val else None)  # fmt: skip
    return trainer, history


def test_epoch_scalars_with_tags_and_steps():
    writer = Recorder()
    _, history = _fit(TensorBoard(writer=writer))
    got = {(tag, step): v for tag, v, step in writer.scalars}
    h = history.history
    for e in (1, 2):
        assert got[("loss/train", e)] == pytest.approx(h["loss"][e - 1])
        assert got[("loss/val", e)] == pytest.approx(h["val_loss"][e - 1])
        assert got[("accuracy/train", e)] == pytest.approx(h["accuracy"][e - 1])
        assert got[("accuracy/val", e)] == pytest.approx(h["val_accuracy"][e - 1])
        assert got[("lr", e)] == pytest.approx(0.05)
        assert ("grad_norm", e) in got
    assert not any(tag.startswith("step/") for tag, _, _ in writer.scalars)
    assert writer.flushed == 1 and writer.closed == 0  # a given writer is not closed


def test_step_scalars_every_n_steps():
    writer = Recorder()
    trainer, history = _fit(TensorBoard(writer=writer, update_freq=2), epochs=2, val=False)
    steps = [(step, v) for tag, v, step in writer.scalars if tag == "step/loss"]
    assert [s for s, _ in steps] == [2, 4, 6]  # 3 batches an epoch, 6 steps
    lrs = [v for tag, v, _ in writer.scalars if tag == "step/lr"]
    assert lrs == [0.05] * 3
    assert TensorBoard(writer=Recorder(), update_freq="batch").update_freq == 1


def test_non_finite_values_are_skipped():
    cb = TensorBoard(writer=Recorder())
    cb.on_epoch_end(0, {"loss": float("nan"), "val_loss": 1.0, "note": "text"})
    assert cb.writer.scalars == [("loss/val", 1.0, 1)]


def test_bad_update_freq():
    with pytest.raises(ValueError, match="update_freq must be 'epoch', 'batch' or a positive int"):
        TensorBoard(update_freq=0)


def _read_events(log_dir: Path) -> list[tuple[str, float, int]]:
    """Scalars from a TFRecord event file: [length u64][crc u32][Event proto][crc u32]..."""
    from tensorboardX.proto import event_pb2

    out = []
    for path in sorted(log_dir.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        i = 0
        while i < len(data):
            (n,) = struct.unpack("<Q", data[i : i + 8])
            event = event_pb2.Event()
            event.ParseFromString(data[i + 12 : i + 12 + n])
            i += 12 + n + 4
            for v in event.summary.value:
                out.append((v.tag, v.simple_value, event.step))
    return out


def test_real_tensorboardx_writer_round_trip(tmp_path):
    pytest.importorskip("tensorboardX")
    cb = TensorBoard(tmp_path / "tb", update_freq=3)
    _, history = _fit(cb, epochs=2)
    assert cb.writer is None  # the callback's own writer is closed at the end
    events = _read_events(tmp_path / "tb")
    got = {(tag, step): v for tag, v, step in events}
    assert got[("loss/train", 2)] == pytest.approx(history.history["loss"][1], rel=1e-6)
    assert got[("loss/val", 1)] == pytest.approx(history.history["val_loss"][0], rel=1e-6)
    assert ("step/loss", 3) in got and ("step/loss", 6) in got


def test_missing_tensorboardx_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"pip install 'gradstep\[tensorboard\]'"):
        _fit(TensorBoard(tmp_path / "tb"))
