"""Sample and class weights, validation_split, reset, continued schedules and predict_proba,
against hand computations, PyTorch and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn, optim
from gradstep.train import Trainer
from gradstep.train.weighting import class_weight_table


def blobs(n=60, seed=0, classes=3):
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])[:classes]
    y = rng.integers(0, classes, n)
    x = centers[y] + 0.8 * rng.standard_normal((n, 2))
    return x, y.astype(np.int64)


def test_balanced_class_weights_equal_scikit_learns():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0, 0, 0, 0, 1, 2, 2])
    expected = compute_class_weight("balanced", classes=np.arange(3), y=y)
    np.testing.assert_allclose(class_weight_table(y, "balanced"), expected, rtol=1e-15)
    np.testing.assert_array_equal(class_weight_table(y, {1: 3.0}), [1.0, 3.0, 1.0])
    with pytest.raises(ValueError, match="'balanced' or a dict"):
        class_weight_table(y, "even")


def test_weighted_step_equals_torch_weighted_mean():
    import torch

    x, y = blobs(24)
    sw = np.random.default_rng(1).uniform(0.1, 3.0, len(y))
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3)).double()
    w0 = {k: v.copy() for k, v in model.state_dict().items()}
    tr = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.5))
    h = tr.fit(
        (x, y),
        epochs=1,
        batch_size="full",
        verbose=0,
        sample_weight=sw,
        class_weight="balanced",
    )
    cw = class_weight_table(y, "balanced")
    v = torch.from_numpy(sw * cw[y])
    tm = torch.nn.Linear(2, 3).double()
    tm.load_state_dict({k.removeprefix("0."): torch.from_numpy(a) for k, a in w0.items()})
    per = torch.nn.functional.cross_entropy(
        tm(torch.from_numpy(x)), torch.from_numpy(y), reduction="none"
    )
    loss = (per * v).sum() / v.sum()
    loss.backward()
    assert h.history["loss"][0] == pytest.approx(loss.item(), rel=1e-12)
    with torch.no_grad():
        expected = tm.weight - 0.5 * tm.weight.grad
    np.testing.assert_allclose(model[0].weight.data, expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_weighted_regression_loss_and_metrics_by_hand(reduction):
    from sklearn.metrics import mean_absolute_error, r2_score

    rng = np.random.default_rng(2)
    x = rng.standard_normal((11, 3))
    y = rng.standard_normal((11, 2))
    sw = rng.uniform(0.0, 2.0, 11)
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2)).double()
    w, b = model[0].weight.data.copy(), model[0].bias.data.copy()
    loss = nn.MSELoss() if reduction == "mean" else nn.SSELoss()
    tr = Trainer(model, loss, optim.SGD(model.parameters(), lr=0.0))
    h = tr.fit((x, y), epochs=1, batch_size=4, verbose=0, sample_weight=sw)
    out = x @ w.T + b
    err = (out - y) ** 2
    if reduction == "mean":  # each sample's mean over its outputs, then the weighted mean
        expected = np.sum(sw * err.mean(axis=1)) / sw.sum()
    else:  # ½Σ per sample, weighted sum over the epoch
        expected = np.sum(sw * 0.5 * err.sum(axis=1))
    assert h.history["loss"][0] == pytest.approx(expected, rel=1e-12)
    assert h.history["mae"][0] == pytest.approx(
        mean_absolute_error(y, out, sample_weight=sw), rel=1e-12
    )
    assert h.history["r2"][0] == pytest.approx(r2_score(y, out, sample_weight=sw), rel=1e-10)
    res = tr.evaluate(x, y, sample_weight=sw)
    assert res["loss"] == pytest.approx(expected, rel=1e-12)


def test_weighted_accuracy_and_f1_equal_scikit_learns():
    from sklearn.metrics import accuracy_score, f1_score

    x, y = blobs(50, seed=3)
    sw = np.random.default_rng(4).uniform(0.0, 2.0, len(y))
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3)).double()
    tr = Trainer(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.0),
        metrics=["accuracy", "f1"],
    )
    res = tr.evaluate((x, y, sw), batch_size=16)
    pred = tr.predict(x).argmax(1)
    assert res["accuracy"] == pytest.approx(accuracy_score(y, pred, sample_weight=sw), rel=1e-12)
    assert res["f1"] == pytest.approx(
        f1_score(y, pred, average="macro", sample_weight=sw, labels=[0, 1, 2]), rel=1e-12
    )


def test_validation_split_is_stratified_seeded_and_kept_on_resume(tmp_path):
    rng = np.random.default_rng(5)
    y = np.repeat([0, 1, 2], [200, 70, 30])
    x = rng.standard_normal((300, 2)) + y[:, None]
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3))
    tr = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05))
    h = tr.fit((x, y), epochs=2, verbose=0, validation_split=0.2)
    va = tr.validation_indices
    assert len(va) == 60 and "val_loss" in h.history
    # stratified: each class keeps its share, 20 % of 200, 70 and 30
    np.testing.assert_array_equal(np.bincount(y[va], minlength=3), [40, 14, 6])
    assert va.max() > 240 and va.min() < 60  # shuffled, not the tail of the data
    # the validation loss is the loss of exactly those samples
    assert tr.evaluate(x[va], y[va])["loss"] == pytest.approx(h.history["val_loss"][-1], rel=1e-6)
    tr.save(tmp_path / "s.safetensors")
    np.testing.assert_array_equal(gs.load(tmp_path / "s.safetensors")["validation_indices"], va)
    gs.manual_seed(9)
    model2 = nn.Sequential(nn.Linear(2, 3))
    tr2 = Trainer(model2, nn.CrossEntropyLoss(), optim.Adam(model2.parameters(), lr=0.05))
    tr2.fit((x, y), epochs=3, verbose=0, validation_split=0.2, resume=tmp_path / "s.safetensors")
    np.testing.assert_array_equal(tr2.validation_indices, va)
    # an explicit validation set wins over the split
    tr3 = Trainer(model2, nn.CrossEntropyLoss(), optim.Adam(model2.parameters(), lr=0.05))
    tr3.fit((x, y), epochs=1, verbose=0, validation_split=0.2, val=(x[:5], y[:5]))
    assert tr3.validation_indices is None


def test_reset_starts_over():
    x, y = blobs()
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3))
    opt = optim.Adam(model.parameters(), lr=0.05)
    sched = optim.lr_scheduler.warmup_cosine(opt, warmup_steps=2)
    tr = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched)
    tr.fit((x, y), epochs=2, verbose=0)
    trained = model[0].weight.data.copy()
    h = tr.fit((x, y), epochs=2, verbose=0, reset=True, log_every_step=True)
    assert tr.epoch == 2 and len(h.history["loss"]) == 2 and tr.global_step == 4
    assert not np.array_equal(model[0].weight.data, trained)
    assert opt.state_dict()["state"][0]["step"] == 4  # the optimizer restarted from step 0
    # the schedule restarted, sized for this fit alone: lr of step 0 = 0.05·(0 + 1)/2
    assert h.step_history["lr"][0] == pytest.approx(0.025)
    assert len(h.step_history["lr"]) == 4


def test_continuing_with_total_steps_equals_one_longer_run():
    x, y = blobs()

    def run(parts):
        gs.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))
        opt = optim.Adam(model.parameters(), lr=0.05)
        sched = optim.lr_scheduler.warmup_cosine(opt, warmup_steps=3, total_steps=4 * 2)
        tr = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched)
        for epochs in parts:
            tr.fit((x, y), epochs=epochs, batch_size=32, verbose=0)
        return model.state_dict(), tr.history.history["lr"]

    whole, lr_whole = run([4])
    split, lr_split = run([1, 3])
    assert lr_split == lr_whole
    for k in whole:
        np.testing.assert_array_equal(split[k], whole[k])


def test_a_schedule_sized_by_fit_is_resized_when_training_goes_on(capsys):
    x, y = blobs(64)
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3))
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.warmup_linear(opt, warmup_steps=2)
    tr = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched)
    tr.fit((x, y), epochs=2, batch_size=32, verbose=0)
    assert sched.total_steps == 4 and opt.param_groups[0]["lr"] == pytest.approx(0.0)
    h = tr.fit((x, y), epochs=2, batch_size=32, verbose=2, log_every_step=True)
    assert "now runs to 8" in capsys.readouterr().out
    assert sched.total_steps == 8
    # by hand: steps 4..7 of a linear decay from step 2 to 8: lr = 0.1·(1 − (s − 2)/6)
    expected = [0.1 * (1 - (s - 2) / 6) for s in range(4, 8)]
    assert h.step_history["lr"][-4:] == pytest.approx(expected, rel=1e-12)


def test_predict_proba_applies_the_losses_link():
    import torch

    x, y = blobs(10)
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3)).double()
    tr = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    p = tr.predict_proba(x)
    expected = torch.softmax(torch.from_numpy(tr.predict(x)), dim=-1).numpy()
    np.testing.assert_allclose(p, expected, rtol=1e-12)
    binary = Trainer(
        nn.Sequential(nn.Linear(2, 1)).double(),
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=0.1),
    )
    logits = binary.predict(x)
    np.testing.assert_allclose(binary.predict_proba(x), 1 / (1 + np.exp(-logits)), rtol=1e-12)
    reg = Trainer(nn.Sequential(nn.Linear(2, 1)), nn.MSELoss(), optim.SGD(model.parameters()))
    with pytest.raises(TypeError, match="needs a classification loss"):
        reg.predict_proba(x)


def test_bad_weights_are_clear_errors():
    x, y = blobs(10)
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3))
    tr = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="sample_weight must be 10 numbers"):
        tr.fit((x, y), epochs=1, verbose=0, sample_weight=np.ones(9))
    with pytest.raises(ValueError, match="finite and >= 0"):
        tr.fit((x, y), epochs=1, verbose=0, sample_weight=-np.ones(10))
    with pytest.raises(ValueError, match="sum to 0"):
        tr.fit((x, y), epochs=1, verbose=0, sample_weight=np.zeros(10))
    with pytest.raises(ValueError, match="validation_split must be a fraction"):
        tr.fit((x, y), epochs=1, verbose=0, validation_split=1.5)


def test_pandas_lists_and_keras_style_arguments_are_accepted():
    import pandas as pd

    x, y = blobs(40)
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3)).double()
    tr = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0))
    frame, series = pd.DataFrame(x, columns=["a", "b"]), pd.Series(y)
    # lr 0: the epoch loss is the loss at the starting weights, whatever the input's form
    a = tr.fit(frame, series, epochs=1, verbose=0).history["loss"][-1]
    b = tr.fit(x.tolist(), y.tolist(), epochs=1, verbose=0).history["loss"][-1]
    c = tr.fit((x.astype(np.float32), y.astype(np.int32)), 1, verbose=0).history["loss"][-1]
    assert a == pytest.approx(b, rel=1e-12) and b == pytest.approx(c, rel=1e-6)
    assert tr.epoch == 3
    assert tr.evaluate(frame, series)["loss"] == pytest.approx(a, rel=1e-12)
    with pytest.raises(TypeError, match=r"training targets \(y\) have dtype object"):
        tr.fit(frame, pd.Series(["a", "b"] * 20), verbose=0)
    with pytest.raises(TypeError, match=r"training inputs \(x\) have dtype <U1"):
        tr.fit(np.array([["a", "b"]] * 40), series, verbose=0)
    with pytest.raises(TypeError, match="pass epochs once"):
        tr.fit((x, y), 3, epochs=2, verbose=0)


def test_epoch_metrics_equal_scikit_learns_on_the_epochs_predictions():
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    x, y = blobs(70, seed=8)
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3)).double()
    metrics = ["accuracy", "precision", "recall", "f1"]
    tr = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0), metrics)
    # lr 0: every batch is predicted by the same weights, so the epoch's predictions are these
    h = tr.fit(x, y, epochs=1, batch_size=16, verbose=0)  # 16, 16, 16, 16 and a short 6
    pred = tr.predict(x).argmax(1)
    assert h.history["accuracy"][0] == pytest.approx(accuracy_score(y, pred), rel=1e-12)
    for name, fn in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
        expected = fn(y, pred, average="macro", zero_division=0)
        assert h.history[name][0] == pytest.approx(expected, rel=1e-12), name


def test_standardize_fits_on_the_training_part_and_travels_with_the_state(tmp_path):
    x, y = blobs(80, seed=6)
    x = x * np.array([1000.0, 0.001]) + np.array([5e4, -3.0])  # wildly different scales
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3)).double()
    tr = Trainer(
        model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05), standardize=True
    )
    tr.fit(x, y, epochs=3, verbose=0, validation_split=0.25)
    keep = np.setdiff1d(np.arange(80), tr.validation_indices)
    np.testing.assert_allclose(tr.scaler.mean_, x[keep].mean(0), rtol=1e-12)
    np.testing.assert_allclose(tr.scaler.scale_, x[keep].std(0), rtol=1e-12)
    # predict takes raw inputs: the model sees (x − mean)/std
    z = (x - x[keep].mean(0)) / x[keep].std(0)
    np.testing.assert_allclose(tr.predict(x), model(gs.tensor(z, dtype=gs.float64)).numpy())
    tr.save(tmp_path / "s.safetensors")
    gs.manual_seed(3)
    model2 = nn.Sequential(nn.Linear(2, 3)).double()
    tr2 = Trainer(
        model2, nn.CrossEntropyLoss(), optim.Adam(model2.parameters(), lr=0.05), standardize=True
    )
    tr2.fit(x, y, epochs=3, verbose=0, resume=tmp_path / "s.safetensors")
    np.testing.assert_array_equal(tr2.predict(x), tr.predict(x))
    # without standardize nothing is applied: inputs reach the model as they are
    plain = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0))
    np.testing.assert_array_equal(plain.predict(z), tr.predict(x))
