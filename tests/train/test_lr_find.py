"""The learning-rate range test: exact restoration, the lr schedule it sweeps, its stopping rule
and its suggestions, in the library and on the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn, optim
from gradstep.train import Trainer
from gradstep.train.lr_find import _suggest


def blobs(n=96, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    y = rng.integers(0, 3, n)
    return (centers[y] + 0.5 * rng.standard_normal((n, 2))).astype(np.float32), y


def make():
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.warmup_cosine(opt, warmup_steps=3, total_steps=30)
    return Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched)


def test_lr_find_restores_model_optimizer_scheduler_and_rng_exactly():
    x, y = blobs()
    tr = make()
    tr.fit((x, y), epochs=1, batch_size=32, verbose=0)  # some optimizer state to keep
    before = (
        {k: v.copy() for k, v in tr.model.state_dict().items()},
        tr.optimizer.state_dict(),
        tr.scheduler.state_dict(),
        gs.random.get_rng_state(),
    )
    result = tr.lr_find((x, y), batch_size=16, start_lr=1e-5, end_lr=1e2, num_steps=40)
    assert len(result.lrs) >= 3
    for k, v in tr.model.state_dict().items():
        np.testing.assert_array_equal(v, before[0][k])
    after = tr.optimizer.state_dict()
    assert after["param_groups"] == before[1]["param_groups"]
    for i, st in before[1]["state"].items():
        for name, value in st.items():
            np.testing.assert_array_equal(after["state"][i][name], value)
    assert tr.scheduler.state_dict() == before[2]
    assert gs.random.get_rng_state() == before[3]
    # and training goes on as if the test had never run
    other = make()
    other.fit((x, y), epochs=1, batch_size=32, verbose=0)
    tr.fit((x, y), epochs=1, batch_size=32, verbose=0)
    other.fit((x, y), epochs=1, batch_size=32, verbose=0)
    for a, b in zip(tr.model.parameters(), other.model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_the_lrs_grow_geometrically_and_a_blow_up_stops_the_test():
    x, y = blobs()
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))
    tr = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    r = tr.lr_find((x, y), start_lr=1e-4, end_lr=1e6, num_steps=50)
    ratio = (1e6 / 1e-4) ** (1 / 49)
    np.testing.assert_allclose(r.lrs, [1e-4 * ratio**i for i in range(len(r.lrs))], rtol=1e-12)
    assert len(r.lrs) < 50 and ("4×" in r.stopped_by or "became" in r.stopped_by)
    assert r.lrs[-1] < 1e6


def test_smoothing_and_suggestions_by_hand():
    lrs = [1e-3, 1e-2, 1e-1, 1.0]
    smoothed = [2.0, 1.9, 1.0, 0.9]
    # d(loss)/d(log lr) by central differences is steepest between 1e-2 and 1e-1
    s = _suggest(lrs, smoothed)
    assert s["steepest"] in (1e-2, 1e-1) and s["minimum / 10"] == pytest.approx(0.1)
    assert _suggest(lrs[:2], smoothed[:2]) == {}


def test_cli_lr_find(tmp_path, capsys):
    from gradstep.cli import main

    out = tmp_path / "curve.png"
    args = ["lr-find", "--data.name", "moons", "--model.hidden", "8", "--steps", "30"]
    assert main([*args, "--output", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(summary["suggestions"]) == {"steepest", "minimum / 10"}
    assert summary["steps"] <= 30 and out.stat().st_size > 0
    assert main(["lr-find", "--start-lr", "1", "--end-lr", "0.1"]) == 2
    assert "must be > 0 and below --end-lr" in capsys.readouterr().err
