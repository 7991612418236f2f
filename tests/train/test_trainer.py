"""Trainer.fit / evaluate / predict / save / resume."""

import csv

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn, optim
from gradstep.data import DataLoader, TensorDataset
from gradstep.train import (
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    TargetLoss,
    Trainer,
)


def blobs(n=120, seed=0, classes=3):
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])[:classes]
    y = rng.integers(0, classes, n)
    x = centers[y] + 0.5 * rng.standard_normal((n, 2))
    return x.astype(np.float32), y.astype(np.int64)


def mlp(dropout=0.0, out=3):
    layers = [nn.Linear(2, 16), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(16, out))
    return nn.Sequential(*layers)


def make_trainer(seed=0, dropout=0.0, lr=0.05, scheduler=None, callbacks=()):
    gs.manual_seed(seed)
    model = mlp(dropout)
    opt = optim.Adam(model.parameters(), lr=lr)
    sched = scheduler(opt) if scheduler else None
    return Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched, callbacks=callbacks)


def test_fit_classification_history_and_accuracy():
    x, y = blobs()
    xv, yv = blobs(60, seed=1)
    tr = make_trainer()
    hist = tr.fit((x, y), epochs=15, batch_size=16, val=(xv, yv), verbose=0)
    keys = set(hist.history)
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "grad_norm", "time"} <= keys
    assert len(hist.history["loss"]) == 15
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert hist.history["val_accuracy"][-1] > 0.95
    res = tr.evaluate((xv, yv))
    assert res["accuracy"] == pytest.approx(hist.history["val_accuracy"][-1])
    pred = tr.predict(xv)
    assert pred.shape == (60, 3) and isinstance(pred, np.ndarray)
    assert np.mean(pred.argmax(1) == yv) == pytest.approx(res["accuracy"])


def test_validation_data_alias_and_both_is_an_error():
    x, y = blobs()
    tr = make_trainer()
    h = tr.fit((x, y), epochs=1, validation_data=(x, y), verbose=0)
    assert "val_loss" in h.history
    with pytest.raises(TypeError, match="not both"):
        tr.fit((x, y), epochs=1, val=(x, y), validation_data=(x, y), verbose=0)


def test_batch_modes_count_steps():
    x, y = blobs(40)
    tr = make_trainer()
    tr.fit((x, y), epochs=3, batch_size="full", verbose=0)
    assert tr.global_step == 3
    tr.fit((x, y), epochs=1, batch_size=1, verbose=0)
    assert tr.global_step == 3 + 40
    tr.fit((x, y), epochs=1, batch_size=16, verbose=0)
    assert tr.global_step == 3 + 40 + 3
    assert tr.epoch == 5


def test_second_fit_continues():
    x, y = blobs()
    a = make_trainer()
    a.fit((x, y), epochs=2, verbose=0)
    h = a.fit((x, y), epochs=2, verbose=0)
    b = make_trainer()
    b.fit((x, y), epochs=4, verbose=0)
    assert len(h.history["loss"]) == 4
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)


def test_regression_default_metrics_and_accuracy_is_an_error():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]])).astype(np.float32)
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 1))
    tr = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
    h = tr.fit((x, y), epochs=30, batch_size=16, verbose=0)
    assert {"mse", "mae", "r2"} <= set(h.history)
    assert h.history["r2"][-1] > 0.99
    with pytest.raises(ValueError, match="needs a classification loss"):
        Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), metrics=["accuracy"])


def test_resume_two_plus_two_equals_four_bit_for_bit(tmp_path):
    x, y = blobs()
    xv, yv = blobs(30, seed=2)

    def sched(opt):  # the planned length must be known to the first half too
        return optim.lr_scheduler.warmup_cosine(opt, warmup_steps=5, total_steps=4 * 8)

    straight = make_trainer(dropout=0.2, scheduler=sched)
    straight.fit(
        (x, y), epochs=4, batch_size=16, val=(xv, yv), verbose=0, stop=EarlyStopping(patience=10)
    )

    first = make_trainer(dropout=0.2, scheduler=sched, callbacks=[CSVLogger(tmp_path / "m.csv")])
    first.fit(
        (x, y), epochs=2, batch_size=16, val=(xv, yv), verbose=0, stop=EarlyStopping(patience=10)
    )
    first.save(tmp_path / "state.safetensors")

    gs.manual_seed(123)  # a fresh process would not share the RNG: scramble it
    second = make_trainer(
        seed=99, dropout=0.2, scheduler=sched, callbacks=[CSVLogger(tmp_path / "m.csv")]
    )
    h = second.fit(
        (x, y),
        epochs=4,
        batch_size=16,
        val=(xv, yv),
        verbose=0,
        resume=tmp_path / "state.safetensors",
        stop=EarlyStopping(patience=10),
    )
    assert second.epoch == 4 and len(h.history["loss"]) == 4
    for pa, pb in zip(straight.model.parameters(), second.model.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    assert h.history["loss"] == straight.history.history["loss"]
    rows = list(csv.reader(open(tmp_path / "m.csv")))
    assert rows[0][0] == "epoch" and [r[0] for r in rows[1:]] == ["0", "1", "2", "3"]


def test_resume_rejects_fewer_epochs_than_done(tmp_path):
    x, y = blobs()
    tr = make_trainer()
    tr.fit((x, y), epochs=3, verbose=0)
    tr.save(tmp_path / "s.safetensors")
    with pytest.raises(ValueError, match="already has 3 epochs"):
        make_trainer().fit((x, y), epochs=2, resume=tmp_path / "s.safetensors", verbose=0)


def test_target_loss_stops_early():
    x, y = blobs()
    tr = make_trainer()
    h = tr.fit((x, y), epochs=200, stop=TargetLoss(0.3), verbose=0)
    assert len(h.history["loss"]) < 200
    assert h.history["loss"][-1] <= 0.3
    assert "reached the target" in h.stopped_by


def test_divergence_stops_and_keeps_last_good_weights():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x.sum(1, keepdims=True) * 3).astype(np.float32)
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 1))
    tr = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=50.0))
    seen = []
    cb = LambdaCallback(
        on_train_batch_end=lambda b, logs: seen.append([p.data.copy() for p in model.parameters()])
    )
    h = tr.fit((x, y), epochs=50, batch_size=8, verbose=0, callbacks=[cb])
    assert tr.stop_reason is not None and "became" in tr.stop_reason and "step" in tr.stop_reason
    assert "lower the learning rate" in tr.stop_reason
    assert h.stopped_by == tr.stop_reason
    assert tr.epoch < 50
    for p, last in zip(model.parameters(), seen[-1]):
        np.testing.assert_array_equal(p.data, last)
        assert np.all(np.isfinite(p.data))


def test_callback_hooks_order_and_stop_training():
    x, y = blobs(32)
    events = []
    tr = make_trainer()

    def on_epoch_end(epoch, logs):
        events.append(("epoch_end", epoch))
        if epoch == 1:
            tr.stop_training = True

    cb = LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda e, logs: events.append(("epoch_begin", e)),
        on_epoch_end=on_epoch_end,
        on_train_end=lambda logs: events.append("train_end"),
    )
    tr.fit((x, y), epochs=5, batch_size=32, callbacks=[cb], verbose=0)
    assert events == [
        "train_begin",
        ("epoch_begin", 0),
        ("epoch_end", 0),
        ("epoch_begin", 1),
        ("epoch_end", 1),
        "train_end",
    ]


def test_bad_labels_are_clear_errors():
    x, y = blobs()
    tr = make_trainer()
    with pytest.raises(ValueError, match="labels go up to 5 but the model outputs 3 classes"):
        tr.fit((x, np.where(y == 2, 5, y)), epochs=1, verbose=0)
    with pytest.raises(TypeError, match="needs class indices"):
        tr.fit((x, y + 0.5), epochs=1, verbose=0)
    xn = x.copy()
    xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        tr.fit((xn, y), epochs=1, verbose=0)


def test_scheduler_total_steps_filled_in_and_stepped_per_batch():
    x, y = blobs(64)
    tr = make_trainer(lr=0.01, scheduler=lambda o: optim.lr_scheduler.warmup_linear(o, 4))
    h = tr.fit((x, y), epochs=2, batch_size=16, verbose=0, log_every_step=True)
    lrs = h.step_history["lr"]
    assert len(lrs) == 8
    assert lrs[:4] == pytest.approx([0.0025, 0.005, 0.0075, 0.01])
    assert lrs[-1] < lrs[4]


def test_dataloader_and_dataset_inputs():
    x, y = blobs(50)
    tr = make_trainer()
    tr.fit(
        DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True, seed=1), epochs=1, verbose=0
    )
    assert tr.global_step == 5
    tr.fit(TensorDataset(x, y), epochs=1, batch_size=25, verbose=0)
    assert tr.global_step == 7


def test_checkpoints_best_and_last_load_in_pytorch(tmp_path):
    import torch
    from safetensors.torch import load_file

    x, y = blobs()
    tr = make_trainer()
    ck = ModelCheckpoint(
        tmp_path / "best.safetensors",
        monitor="val_loss",
        save_best_only=True,
        last=tmp_path / "last.safetensors",
    )
    tr.fit((x, y), epochs=3, val=(x, y), callbacks=[ck], verbose=0)
    tm = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    tm.load_state_dict(load_file(str(tmp_path / "last.safetensors")))
    out = tm(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out, tr.predict(x), rtol=1e-5, atol=1e-6)
    assert (tmp_path / "best.safetensors").exists()


def test_progress_lines(capsys):
    x, y = blobs(32)
    tr = make_trainer()
    tr.fit((x, y), epochs=2, verbose=2)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and out[0].startswith("epoch 1/2") and "loss" in out[0]
    tr.fit((x, y), epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_predict_is_eval_mode():
    x, _ = blobs(20)
    tr = make_trainer(dropout=0.5)
    a = tr.predict(x)
    b = tr.predict(x)
    np.testing.assert_array_equal(a, b)
    assert tr.model.training
