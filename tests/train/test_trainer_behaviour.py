"""The training loop's behaviour against independent expectations: hand-computed learning rates,
PyTorch's clipping, weights recorded epoch by epoch, a scripted monitored value, the file system.

Each test here catches a specific wrong version of the loop that a same-code rerun would not: a
resume that retrains from epoch 0, stopping state dropped on resume, clipping ignored, a plateau
schedule never stepped, a best-only checkpoint written every epoch, the epoch loss as an unweighted
mean of batch means, and a checkpoint copied over its target instead of renamed onto it.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn, optim
from gradstep.train import EarlyStopping, LambdaCallback, ModelCheckpoint, Trainer


def blobs(n=48, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    y = rng.integers(0, 3, n)
    x = centers[y] + 0.5 * rng.standard_normal((n, 2))
    return x.astype(np.float32), y.astype(np.int64)


def small(seed=0, lr=0.05, opt=optim.Adam, **kw):
    gs.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))
    return Trainer(model, nn.CrossEntropyLoss(), opt(model.parameters(), lr=lr), **kw)


def scripted(key, values):
    """A callback that puts ``values[epoch]`` into the epoch's logs under ``key``; placed first, so
    the callbacks after it see the scripted value as a logged metric."""

    def put(epoch, logs):
        logs[key] = values[epoch]

    return LambdaCallback(on_epoch_end=put)


def recorder(store):
    """A callback that keeps a copy of the weights at the end of every epoch."""

    def keep(epoch, logs):
        store[epoch] = {k: v.copy() for k, v in store["model"].state_dict().items()}

    return LambdaCallback(on_epoch_end=keep)


# -- resume runs only the remaining epochs ------------------------------------------------------


def test_resume_runs_only_the_remaining_epochs(tmp_path):
    x, y = blobs()
    first = small()
    first.fit((x, y), epochs=2, batch_size=16, verbose=0)
    first.save(tmp_path / "s.safetensors")
    begun = []
    second = small(seed=5)
    second.fit(
        (x, y),
        epochs=5,
        batch_size=16,
        verbose=0,
        resume=tmp_path / "s.safetensors",
        callbacks=[LambdaCallback(on_epoch_begin=lambda e, logs: begun.append(e))],
    )
    assert begun == [2, 3, 4]  # 48 samples / 16 = 3 steps per epoch
    assert second.global_step == 5 * 3


def test_cli_resume_prints_only_the_remaining_epochs(tmp_path, capsys, monkeypatch):
    from gradstep.cli import main
    from gradstep.cli.train import INTERRUPT_ENV

    args = ["--data.name", "moons", "--model.hidden", "8", "--output.plot", "false"]
    args += ["--train.epochs", "4", "--output.dir", str(tmp_path), "--output.name", "r"]
    # moons: 210 training samples in batches of 32 -> 7 steps per epoch; stop before step 10
    monkeypatch.setenv(INTERRUPT_ENV, "10")
    assert main(["train", *args, "--train.verbose", "2"]) == 130
    monkeypatch.delenv(INTERRUPT_ENV)
    capsys.readouterr()
    assert main(["train", "--resume", str(tmp_path / "r"), "--train.verbose", "2"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch ")]
    assert [ln.split(" ")[1] for ln in lines] == ["2/4", "3/4", "4/4"]


# -- early stopping keeps its state and its best weights across a resume -----------------------


def test_early_stopping_state_and_best_weights_survive_resume(tmp_path):
    x, y = blobs()
    score = [5.0, 3.0, 4.0, 4.5, 4.2, 1.0, 1.0, 1.0]
    # best 3.0 at epoch 1; epochs 2, 3, 4 do not improve -> with patience 2 it stops after epoch 4
    weights: dict = {}
    first = small(callbacks=[scripted("score", score)])
    weights["model"] = first.model
    es1 = EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    first.fit((x, y), epochs=3, verbose=0, callbacks=[recorder(weights)], stop=es1)
    first.save(tmp_path / "s.safetensors")

    second = small(seed=7, callbacks=[scripted("score", score)])
    es2 = EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    h = second.fit((x, y), epochs=8, verbose=0, resume=tmp_path / "s.safetensors", stop=es2)
    assert second.epoch == 5 and len(h.history["loss"]) == 5
    assert es2.best == 3.0 and es2.best_epoch == 1
    assert "restored the weights of epoch 2" in h.stopped_by
    for k, v in second.model.state_dict().items():
        np.testing.assert_array_equal(v, weights[1][k])


def test_early_stopping_passed_as_a_callback_works_like_stop():
    x, y = blobs()
    score = [5.0, 3.0, 4.0, 4.5, 4.2, 1.0]
    es = EarlyStopping(monitor="score", patience=2)
    tr = small(callbacks=[scripted("score", score)])
    h = tr.fit((x, y), epochs=6, verbose=0, callbacks=[es])
    assert tr.epoch == 5 and "score did not improve for 2 epochs" in h.stopped_by


# -- gradient clipping ---------------------------------------------------------------------------


def test_grad_clip_scales_the_step_as_torch_clip_grad_norm():
    import torch

    rng = np.random.default_rng(3)
    x = rng.standard_normal((20, 4))
    y = rng.standard_normal((20, 2)) * 10  # large targets: a large gradient to clip
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 2)).double()
    w0 = {k: v.copy() for k, v in model.state_dict().items()}
    tr = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), grad_clip=0.5)
    h = tr.fit((x, y), epochs=1, batch_size="full", verbose=0, shuffle=False)

    tm = torch.nn.Linear(4, 2).double()
    tm.load_state_dict({k.removeprefix("0."): torch.from_numpy(v) for k, v in w0.items()})
    loss = torch.nn.functional.mse_loss(tm(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(tm.parameters(), 0.5)
    assert float(norm) > 0.5  # the test needs a gradient that is actually clipped
    with torch.no_grad():
        for p in tm.parameters():
            p -= 0.1 * p.grad
    np.testing.assert_allclose(model[0].weight.data, tm.weight.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(model[0].bias.data, tm.bias.detach().numpy(), rtol=1e-12)
    # History records the norm before clipping (what clip_grad_norm_ returns)
    assert h.history["grad_norm"][0] == pytest.approx(float(norm), rel=1e-12)


def test_cli_grad_clip_bounds_every_step(tmp_path, capsys):
    from safetensors.numpy import load_file

    from gradstep.cli import main

    def run(name, clip):
        args = ["--data.name", "moons", "--model.hidden", "8", "--output.plot", "false"]
        args += ["--optimizer.name", "sgd", "--optimizer.lr", "0.5", "--schedule.name", "none"]
        args += ["--train.epochs", "2", "--train.verbose", "0", "--data.batch_size", "full"]
        args += ["--output.dir", str(tmp_path), "--output.name", name, "--train.grad_clip", clip]
        assert main(["train", *args]) == 0
        return load_file(str(tmp_path / name / "model.safetensors"))

    # init weights are the same for both (same seed); with plain SGD each of the 2 full-batch steps
    # moves the weights by lr * min(|g|, clip), so a clip of 1e-6 bounds the total move by 1e-6
    clipped, free = run("clipped", "1e-6"), run("free", "0")
    gs.manual_seed(0)
    from gradstep.cli import _build

    init = _build.build_model(
        [
            {"type": "linear", "in": 2, "out": 8, "bias": True},
            {"type": "relu"},
            {"type": "linear", "in": 8, "out": 2, "bias": True},
        ]
    ).state_dict()

    def moved(w):
        return np.sqrt(sum(float(np.sum((w[k] - init[k]) ** 2)) for k in init))

    assert 0 < moved(clipped) <= 2 * 0.5 * 1e-6 * (1 + 1e-3)
    assert moved(free) > 1e-3


# -- the plateau schedule is stepped -------------------------------------------------------------


def test_reduce_lr_on_plateau_is_stepped_every_epoch():
    x, y = blobs()
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3))
    opt = optim.SGD(model.parameters(), lr=1e-12)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    tr = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched)
    # by hand: an lr of 1e-12 leaves val_loss flat, so after the first epoch no epoch improves
    # on it by the threshold and, with patience 0, every epoch end halves the lr
    h = tr.fit((x, y), epochs=5, val=(x, y), verbose=0)
    assert h.history["lr"] == pytest.approx([1e-12, 1e-12, 5e-13, 2.5e-13, 1.25e-13], rel=1e-12)
    assert opt.param_groups[0]["lr"] == pytest.approx(6.25e-14, rel=1e-12)


def test_reduce_lr_on_plateau_follows_its_monitor():
    x, y = blobs()
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3))
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0)
    sched.monitor = "score"
    score = [1.0, 2.0, 2.0, 0.5, 3.0]
    # a per-epoch scheduler steps after the user's callbacks, so the scripted score drives it;
    # by hand (mode max): 1 best; 2 better; 2 not better -> 0.5;
    # 0.5 worse -> 0.25; 3 better -> keep
    tr = Trainer(
        model, nn.CrossEntropyLoss(), opt, scheduler=sched, callbacks=[scripted("score", score)]
    )
    lrs = []
    tr.fit(
        (x, y),
        epochs=5,
        verbose=0,
        callbacks=[
            LambdaCallback(on_epoch_begin=lambda e, logs: lrs.append(opt.param_groups[0]["lr"]))
        ],
    )
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.25] and opt.param_groups[0]["lr"] == 0.25


def test_cli_plateau_schedule_lowers_the_lr(tmp_path, capsys):
    import csv

    from gradstep.cli import main

    args = ["--data.name", "moons", "--model.hidden", "8", "--output.plot", "false"]
    args += ["--optimizer.name", "sgd", "--optimizer.lr", "1e-12", "--schedule.name", "plateau"]
    args += ["--schedule.patience", "0", "--schedule.factor", "0.5", "--train.verbose", "0"]
    args += ["--train.epochs", "4", "--output.dir", str(tmp_path), "--output.name", "p"]
    assert main(["train", *args]) == 0
    with open(tmp_path / "p" / "metrics.csv") as f:
        lrs = [float(r["lr"]) for r in csv.DictReader(f)]
    # an lr of 1e-12 leaves val_loss flat: no improvement after the first epoch, halved each time
    assert lrs == pytest.approx([1e-12, 1e-12, 5e-13, 2.5e-13], rel=1e-9)


# -- best-only checkpoints hold the best epoch ---------------------------------------------------


def test_best_only_checkpoint_holds_the_best_epochs_weights(tmp_path):
    x, y = blobs()
    weights: dict = {}
    tr = small(callbacks=[scripted("score", [3.0, 5.0, 2.0, 4.0, 2.5])])
    weights["model"] = tr.model
    ck = ModelCheckpoint(tmp_path / "best.safetensors", monitor="score", save_best_only=True)
    tr.fit((x, y), epochs=5, verbose=0, callbacks=[recorder(weights), ck])
    saved = gs.load(tmp_path / "best.safetensors")
    meta = saved.metadata
    assert meta["epoch"] == 3 and meta["score"] == 2.0
    for k, v in saved.items():
        np.testing.assert_array_equal(v, weights[2][k])
    assert not np.array_equal(saved["0.weight"], weights[4]["0.weight"])


def test_cli_best_checkpoint_is_the_epoch_with_the_lowest_val_loss(tmp_path, capsys):
    import csv

    from gradstep.cli import main

    args = ["--data.name", "moons", "--model.hidden", "8", "--output.plot", "false"]
    args += ["--optimizer.lr", "0.3", "--train.verbose", "0", "--train.epochs", "6"]
    args += ["--output.dir", str(tmp_path), "--output.name", "b"]
    assert main(["train", *args]) == 0
    with open(tmp_path / "b" / "metrics.csv") as f:
        val = [float(r["val_loss"]) for r in csv.DictReader(f)]
    meta = gs.load(tmp_path / "b" / "best.safetensors").metadata
    assert meta["epoch"] == int(np.argmin(val)) + 1
    assert meta["val_loss"] == pytest.approx(min(val))


# -- the epoch loss is the mean over samples -----------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_epoch_loss_weights_a_short_last_batch_by_its_size(reduction):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((10, 3))
    y = rng.standard_normal((10, 1))
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 1)).double()
    w = model[0].weight.data.copy()
    b = model[0].bias.data.copy()
    loss = nn.MSELoss() if reduction == "mean" else nn.SSELoss()
    # lr 0: the weights stay put, so the epoch loss is the loss of the whole set at these weights
    tr = Trainer(model, loss, optim.SGD(model.parameters(), lr=0.0))
    h = tr.fit((x, y), epochs=1, batch_size=4, verbose=0)  # batches of 4, 4 and 2
    err = x @ w.T + b - y
    expected = np.mean(err**2) if reduction == "mean" else 0.5 * np.sum(err**2)
    assert h.history["loss"][0] == pytest.approx(expected, rel=1e-12)


# -- checkpoints replace their target by a rename ------------------------------------------------


def test_checkpoint_replaces_the_target_by_renaming_a_new_file(tmp_path, monkeypatch):
    target = tmp_path / "state.safetensors"
    tr = small()
    tr.save(target)
    before = os.stat(target).st_ino
    renames = []
    real_replace = os.replace

    def spy(src, dst, *a, **k):
        renames.append((os.fspath(src), os.fspath(dst)))
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", spy)
    x, y = blobs()
    tr.fit((x, y), epochs=1, verbose=0)
    tr.save(target)
    # a copy over the target would keep its inode; a rename brings the new file's
    assert os.stat(target).st_ino != before
    assert len(renames) == 1 and renames[0][1] == os.fspath(target)
    assert os.path.dirname(renames[0][0]) == os.fspath(tmp_path)
    assert not os.path.exists(renames[0][0])
    assert [p.name for p in tmp_path.iterdir()] == ["state.safetensors"]


# -- every hook that Callback declares fires -----------------------------------------------------


def test_test_and_predict_hooks_fire_in_order():
    x, y = blobs(40)
    events = []
    names = [
        "on_test_begin",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_test_end",
        "on_predict_begin",
        "on_predict_batch_begin",
        "on_predict_batch_end",
        "on_predict_end",
    ]
    hooks = {}
    for name in names:
        if "batch" in name:
            hooks[name] = lambda b, logs, name=name: events.append((name, b))
        else:
            hooks[name] = lambda logs, name=name: events.append(name)
    cb = LambdaCallback(**hooks)
    tr = small()
    tr.evaluate((x, y), batch_size=32, callbacks=[cb])
    assert events == [
        "on_test_begin",
        ("on_test_batch_begin", 0),
        ("on_test_batch_end", 0),
        ("on_test_batch_begin", 1),
        ("on_test_batch_end", 1),
        "on_test_end",
    ]
    events.clear()
    out = tr.predict(x, batch_size=25, callbacks=[cb])
    assert out.shape == (40, 3)
    assert events == [
        "on_predict_begin",
        ("on_predict_batch_begin", 0),
        ("on_predict_batch_end", 0),
        ("on_predict_batch_begin", 1),
        ("on_predict_batch_end", 1),
        "on_predict_end",
    ]
    events.clear()
    tr.fit((x, y), epochs=1, batch_size=40, val=(x, y), verbose=0, callbacks=[cb])
    assert events == [
        "on_test_begin",
        ("on_test_batch_begin", 0),
        ("on_test_batch_end", 0),
        "on_test_end",
    ]


def test_step_logs_carry_loss_lr_and_gradient_norm():
    x, y = blobs(32)
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3)).double()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.warmup_linear(opt, 4, total_steps=8)
    tr = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched)
    norms = []

    def by_hand(b, logs):
        g = np.concatenate([p.grad.ravel() for p in model.parameters()])
        norms.append(float(np.sqrt(g @ g)))

    h = tr.fit(
        (x.astype(np.float64), y),
        epochs=1,
        batch_size=4,
        verbose=0,
        log_every_step=True,
        callbacks=[LambdaCallback(on_train_batch_end=by_hand)],
    )
    # the lr each step used, by hand: warm-up (s + 1)/4, then a linear decay to 0 over 4 steps
    assert h.step_history["lr"] == pytest.approx(
        [0.025, 0.05, 0.075, 0.1, 0.1, 0.075, 0.05, 0.025], rel=1e-9
    )
    assert h.step_history["grad_norm"] == pytest.approx(norms, rel=1e-12)
    assert len(h.step_history["loss"]) == 8
