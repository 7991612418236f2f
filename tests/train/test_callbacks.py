"""Callbacks: dispatch, loggers, learning-rate monitor, checkpoint state."""

import io
import json

import numpy as np

import gradstep as gs
from gradstep import nn, optim
from gradstep.train import (
    Callback,
    JSONLinesLogger,
    LearningRateMonitor,
    ModelCheckpoint,
    ProgressDisplay,
    Trainer,
)
from gradstep.train.callbacks import CallbackList


def small_trainer(lr=0.1, scheduler=None):
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.SGD(model.parameters(), lr=lr)
    sched = scheduler(opt) if scheduler else None
    return Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched)


def xy(n=20):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 2)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def test_batch_hooks_only_reach_callbacks_that_define_them():
    class EpochOnly(Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    class Batchy(Callback):
        def on_train_batch_end(self, batch, logs=None):
            pass

    cl = CallbackList([EpochOnly()], trainer=None)
    assert not cl.has("on_train_batch_end") and cl.has("on_epoch_end")
    cl = CallbackList([EpochOnly(), Batchy()], trainer=None)
    assert len(cl._by_hook["on_train_batch_end"]) == 1


def test_jsonl_logger_and_lr_monitor(tmp_path):
    x, y = xy()
    tr = small_trainer(scheduler=lambda o: optim.lr_scheduler.warmup_constant(o, 3))
    mon = LearningRateMonitor()
    tr.fit(
        (x, y),
        epochs=2,
        batch_size=10,
        verbose=0,
        callbacks=[JSONLinesLogger(tmp_path / "log.jsonl"), mon],
    )
    rows = [json.loads(line) for line in open(tmp_path / "log.jsonl")]
    assert [r["epoch"] for r in rows] == [0, 1]
    assert rows[1]["loss"] == tr.history.history["loss"][1]
    # the lr read after each batch: the scheduler has already moved to the next step's value
    assert np.allclose([v[0] for v in mon.lrs], [0.1 * 2 / 3, 0.1, 0.1, 0.1])


def test_model_checkpoint_keeps_best_state_across_resume(tmp_path):
    x, y = xy()
    ck = ModelCheckpoint(tmp_path / "best.safetensors", monitor="loss", save_best_only=True)
    tr = small_trainer()
    tr.callbacks.append(ck)
    tr.fit((x, y), epochs=3, verbose=0)
    tr.save(tmp_path / "s.safetensors")
    ck2 = ModelCheckpoint(tmp_path / "best.safetensors", monitor="loss", save_best_only=True)
    tr2 = small_trainer()
    tr2.callbacks.append(ck2)
    tr2.fit((x, y), epochs=3, resume=tmp_path / "s.safetensors", verbose=0)
    assert ck2.best == ck.best and ck2.best_epoch == ck.best_epoch
    weights = gs.load(tmp_path / "best.safetensors")
    meta = weights.metadata
    assert set(weights) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert meta["epoch"] == ck.best_epoch + 1


def test_progress_display_plain_lines_with_injected_clock():
    x, y = xy()
    ticks = iter(range(1000))
    buf = io.StringIO()
    disp = ProgressDisplay(verbose=2, stream=buf, live=False, clock=lambda: float(next(ticks)))
    tr = small_trainer()
    tr.fit((x, y), epochs=2, batch_size=5, verbose=0, callbacks=[disp])
    lines = buf.getvalue().strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2 · loss ") and "accuracy" in lines[0]
    assert "µs/step" in lines[0] or "ms/step" in lines[0]
