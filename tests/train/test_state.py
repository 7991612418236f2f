"""The training-state layout: named groups of arrays, optimizer state split into arrays and JSON,
callback state with arrays, and 0.1.0 training states that still resume."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest
import torch

from gradstep.io import CheckpointError, load, save
from gradstep.train.state import load_optimizer_state, pack, save_optimizer_state, unpack


def test_optimizer_state_round_trip_through_a_file(tmp_path):
    state_dict = {
        "state": {
            0: {
                "step": 7,
                "exp_avg": np.array([1.0, -2.5, np.nan], dtype=np.float32),
                "exp_avg_sq": np.arange(4.0).reshape(2, 2),
                "count": np.int64(5),
            },
            2: {"momentum_buffer": np.array([0.1, 0.2]), "best": float("nan")},
        },
        "param_groups": [
            {
                "lr": 0.1 + 0.2,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0,
                "amsgrad": False,
                "max_lr": float("inf"),
                "min_lr": float("-inf"),
                "foreach": None,
                "params": [0, 1, 2],
            }
        ],
    }
    arrays, json_part = save_optimizer_state(state_dict)
    assert sorted(arrays) == [
        "optim.state.0.count",
        "optim.state.0.exp_avg",
        "optim.state.0.exp_avg_sq",
        "optim.state.2.momentum_buffer",
    ]
    json.dumps(json_part, allow_nan=False)  # really JSON
    model = {"0.weight": np.ones((2, 2))}
    path = tmp_path / "state.safetensors"
    save(pack({"model": model}) | arrays, path, metadata={"optim": json_part, "epoch": 4})
    loaded = load(path)
    meta = loaded.metadata
    np.testing.assert_array_equal(unpack(loaded, "model")["0.weight"], model["0.weight"])
    back = load_optimizer_state(loaded, meta["optim"])
    assert list(back["state"]) == [0, 2]
    s0, s2 = back["state"][0], back["state"][2]
    assert list(s0) == ["step", "exp_avg", "exp_avg_sq", "count"]
    assert s0["step"] == 7 and type(s0["step"]) is int
    assert s0["exp_avg"].dtype == np.float32
    np.testing.assert_array_equal(s0["exp_avg"], state_dict["state"][0]["exp_avg"])
    np.testing.assert_array_equal(s0["exp_avg_sq"], state_dict["state"][0]["exp_avg_sq"])
    assert s0["count"].dtype == np.int64 and s0["count"] == 5
    assert math.isnan(s2["best"])
    group = back["param_groups"][0]
    original = state_dict["param_groups"][0]
    for key in ("lr", "eps", "weight_decay", "amsgrad", "foreach", "params", "betas"):
        assert group[key] == original[key] and type(group[key]) is type(original[key]), key
    assert struct.pack("<d", group["lr"]) == struct.pack("<d", original["lr"])
    assert group["max_lr"] == math.inf and group["min_lr"] == -math.inf


def test_torch_adam_state_dict_layout_round_trips():
    p = torch.nn.Parameter(torch.randn(3, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=1e-3, betas=(0.8, 0.9))
    p.sum().backward()
    opt.step()
    sd = opt.state_dict()
    as_numpy = {
        "state": {i: {k: v.numpy() for k, v in s.items()} for i, s in sd["state"].items()},
        "param_groups": sd["param_groups"],
    }
    arrays, json_part = save_optimizer_state(as_numpy, prefix="optim.")
    assert set(arrays) == {
        "optim.state.0.step",
        "optim.state.0.exp_avg",
        "optim.state.0.exp_avg_sq",
    }
    back = load_optimizer_state(arrays, json.loads(json.dumps(json_part)))
    assert back["param_groups"] == sd["param_groups"]
    for k, v in sd["state"][0].items():
        np.testing.assert_array_equal(back["state"][0][k], v.numpy())


def test_optimizer_state_missing_array_is_a_checkpoint_error():
    arrays, json_part = save_optimizer_state(
        {"state": {0: {"buf": np.ones(2)}}, "param_groups": []}
    )
    with pytest.raises(CheckpointError, match="optim.state.0.buf"):
        load_optimizer_state({}, json_part)
    with pytest.raises(TypeError, match="state_dict"):
        save_optimizer_state({"param_groups": []})


def test_pack_unpack():
    w, b, m = np.ones(2), np.zeros(1), np.full(2, 3.0)
    flat = pack({"model": {"0.weight": w, "0.bias": b}, "optim.": {"state.0.exp_avg": m}})
    assert list(flat) == ["model.0.weight", "model.0.bias", "optim.state.0.exp_avg"]
    assert unpack(flat, "model") == {"0.weight": w, "0.bias": b}
    assert unpack(flat, "model.") == {"0.weight": w, "0.bias": b}
    assert unpack(flat, "optim")["state.0.exp_avg"] is m
    with pytest.raises(ValueError, match="twice"):
        pack({"a": {"b.c": w}, "a.b": {"c": w}})


# -- a whole training state ----------------------------------------------------------------------

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def _fixture_setup(seed):
    """The run that wrote fixtures/state-0.1.0.safetensors with gradstep 0.1.0 (before stopping
    conditions became callbacks): 48 blobs, 2-8-3 tanh MLP, Adam 0.05 with a 4-step warm-up over
    18 steps, batch 16, ModelCheckpoint(monitor="loss", save_best_only=True) as a callback and
    stop=[TargetLoss(1e-6), EarlyStopping(monitor="loss", patience=10,
    restore_best_weights=True)], saved after 3 epochs."""
    import gradstep as gs
    from gradstep import nn, optim
    from gradstep.train import EarlyStopping, ModelCheckpoint, TargetLoss, Trainer

    rng = np.random.default_rng(0)
    centers = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    y = rng.integers(0, 3, 48)
    x = (centers[y] + 0.5 * rng.standard_normal((48, 2))).astype(np.float32)
    gs.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = optim.Adam(model.parameters(), lr=0.05)
    sched = optim.lr_scheduler.warmup_cosine(opt, warmup_steps=4, total_steps=6 * 3)
    ck = ModelCheckpoint(FIXTURES / "unused.safetensors", monitor="loss", save_best_only=True)
    tr = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched, callbacks=[ck])
    stops = [
        TargetLoss(1e-6),
        EarlyStopping(monitor="loss", patience=10, restore_best_weights=True),
    ]
    return tr, (x, y.astype(np.int64)), ck, stops


def test_a_state_saved_by_0_1_0_restores_every_callback(tmp_path):
    tr, data, ck, stops = _fixture_setup(seed=5)
    ck.filepath = str(tmp_path / "best.safetensors")
    path = FIXTURES / "state-0.1.0.safetensors"
    arrays = load(path)
    _ = arrays.metadata
    # epochs=3 is what the file holds: nothing runs, every state is restored
    h = tr.fit(data, epochs=3, batch_size=16, verbose=0, stop=stops, resume=path)
    es = stops[1]
    assert tr.epoch == 3 and len(h.history["loss"]) == 3
    assert es.best == ck.best == min(h.history["loss"]) == h.history["loss"][2]
    assert es.best_epoch == ck.best_epoch == 2 and es.wait == 0
    for k in ("0.weight", "0.bias", "2.weight", "2.bias"):
        np.testing.assert_array_equal(es.state_dict()["best_weights"][k], arrays[f"stop.1.{k}"])


def test_a_state_saved_by_0_1_0_resumes_to_the_same_numbers(tmp_path):
    """fixtures/resumed-0.1.0.npz holds what 0.1.0 itself gave when resuming that file to 6
    epochs: the History's losses and the final weights."""
    tr, data, ck, stops = _fixture_setup(seed=5)
    ck.filepath = str(tmp_path / "best.safetensors")
    h = tr.fit(
        data,
        epochs=6,
        batch_size=16,
        verbose=0,
        stop=stops,
        resume=FIXTURES / "state-0.1.0.safetensors",
    )
    with np.load(FIXTURES / "resumed-0.1.0.npz") as expected:
        np.testing.assert_array_equal(np.array(h.history["loss"]), expected["loss"])
        for k, v in tr.model.state_dict().items():
            np.testing.assert_array_equal(v, expected[k])
    # and the new layout: the stopping conditions are callbacks, their arrays named as such
    tr.save(tmp_path / "state.safetensors")
    arrays = load(tmp_path / "state.safetensors")
    meta = arrays.metadata
    assert "stopping" not in meta
    assert set(meta["callbacks"]) == {"ModelCheckpoint.0", "EarlyStopping.0"}
    assert "callbacks.EarlyStopping.0.best_weights.0.weight" in arrays


def test_callback_state_with_arrays_round_trips(tmp_path):
    from gradstep.train import Callback

    class Keeper(Callback):
        def __init__(self):
            self.kept = {"w": np.arange(3.0), "nested": [np.ones((2, 2), np.float32), 4]}
            self.count = 2

        def state_dict(self):
            return {"kept": self.kept, "count": self.count, "inf": float("inf")}

        def load_state_dict(self, state):
            self.kept, self.count, self.inf = state["kept"], state["count"], state["inf"]

    tr, data, _, _ = _fixture_setup(seed=0)
    tr.callbacks = [Keeper()]
    tr.save(tmp_path / "s.safetensors")
    tr2, _, _, _ = _fixture_setup(seed=1)
    back = Keeper()
    back.kept, back.count = None, 0
    tr2.callbacks = [back]
    tr2.fit(data, epochs=0, verbose=0, resume=tmp_path / "s.safetensors")
    np.testing.assert_array_equal(back.kept["w"], np.arange(3.0))
    assert back.kept["nested"][0].dtype == np.float32 and back.kept["nested"][1] == 4
    assert back.count == 2 and back.inf == math.inf


def test_a_weights_file_is_not_a_training_state(tmp_path):
    tr, data, _, _ = _fixture_setup(seed=0)
    save(tr.model.state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(CheckpointError, match="not a training state"):
        tr.fit(data, epochs=1, verbose=0, resume=tmp_path / "w.safetensors")
