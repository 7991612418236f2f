"""``gradstep train``: the default run end to end, the run directory, the config round trip,
Ctrl-C (through a test hook) and --resume."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

import gradstep
from gradstep.cli import main
from gradstep.cli.train import INTERRUPT_ENV

SRC = str(Path(gradstep.__file__).resolve().parents[1])
QUICK = ["--train.verbose", "0", "--output.plot", "false"]
MOONS = ["--data.name", "moons", "--model.hidden", "8", "--train.epochs", "3", *QUICK]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    full_env.pop(INTERRUPT_ENV, None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "gradstep", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
    )


def only_run(base: Path) -> Path:
    runs = [p for p in base.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def train_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(["train", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_default_run_writes_a_complete_run_directory(tmp_path):
    import torch

    proc = run_cli("train", "--train.epochs", "2", "--output.dir", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert any(line.startswith("epoch 1/2") for line in lines)  # the Trainer's progress lines
    summary = json.loads(lines[-1])
    run = Path(summary["run_dir"])
    assert run.parent == tmp_path
    assert summary["epochs"] == 2 and summary["dataset"] == "digits"
    assert set(summary["test"]) == {"loss", "accuracy"}
    assert summary["test"]["accuracy"] > 0.5
    for name in (
        "config.toml",
        "metrics.csv",
        "model.safetensors",
        "best.safetensors",
        "state.safetensors",
        "summary.json",
        "curves.png",
    ):
        assert (run / name).is_file(), name
    on_disk = json.loads((run / "summary.json").read_text())
    assert on_disk["test"] == summary["test"]
    assert [layer["type"] for layer in on_disk["architecture"]] == [
        "linear",
        "relu",
        "linear",
        "relu",
        "linear",
    ]
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} <= set(rows[0])
    resolved = tomllib.loads((run / "config.toml").read_text())
    assert resolved["optimizer"]["name"] == "adam" and resolved["optimizer"]["lr"] == 0.003
    assert resolved["schedule"]["name"] == "warmup_cosine"
    assert resolved["schedule"]["warmup_steps"] == 40  # one epoch of 1257 samples in batches of 32
    assert resolved["loss"] == {
        "name": "cross_entropy",
        "label_smoothing": 0.1,
        "reduction": "mean",
    }
    assert resolved["meta"]["seed"] == 0 and "numpy" in resolved["meta"]["versions"]
    # the final weights load into the same network built by PyTorch
    weights = load_file(run / "model.safetensors")
    net = torch.nn.Sequential(
        torch.nn.Linear(64, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )
    net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})


def test_resolved_config_repeats_the_run(tmp_path, capsys):
    first = train_json(
        capsys,
        *MOONS,
        "--train.seed",
        "-1",
        "--optimizer.name",
        "momentum",
        "--output.dir",
        str(tmp_path / "a"),
    )
    run = Path(first["run_dir"])
    resolved = tomllib.loads((run / "config.toml").read_text())
    assert resolved["train"]["seed"] == first["seed"] >= 0  # the random seed that was drawn
    assert resolved["optimizer"]["momentum"] == 0.9  # "auto" settled and written down
    second = train_json(capsys, str(run / "config.toml"), "--output.dir", str(tmp_path / "b"))
    a = load_file(run / "model.safetensors")
    b = load_file(Path(second["run_dir"]) / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert first["test"] == second["test"]


def test_runs_never_overwrite_each_other(tmp_path, capsys):
    args = [*MOONS, "--train.epochs", "1", "--output.dir", str(tmp_path), "--output.name", "same"]
    one = train_json(capsys, *args)
    two = train_json(capsys, *args)
    assert Path(one["run_dir"]).name == "same"
    assert Path(two["run_dir"]).name == "same-2"


def test_regression_with_explicit_layers_and_full_batch(tmp_path, capsys):
    config = tmp_path / "heater.toml"
    config.write_text(
        '[data]\nname = "water-heater"\nbatch_size = "full"\n[data.options]\nn_samples = 60\n'
        '[model]\n[[model.layer]]\ntype = "linear"\nout = 6\n[[model.layer]]\ntype = "tanh"\n'
        '[[model.layer]]\ntype = "linear"\n'
        '[loss]\nname = "sse"\n[optimizer]\nname = "sgd"\nlr = 0.0001\n[schedule]\nname = "none"\n'
        "[train]\nepochs = 2\n"
    )
    out = train_json(capsys, str(config), *QUICK, "--output.dir", str(tmp_path / "runs"))
    assert set(out["test"]) == {"loss", "mse", "mae", "r2"}
    assert out["task"] == "regression"
    resolved = tomllib.loads((Path(out["run_dir"]) / "config.toml").read_text())
    assert resolved["loss"]["reduction"] == "sum"  # sse: the textbook's E
    assert resolved["meta"]["architecture"] == [
        {"type": "linear", "out": 6, "bias": True, "in": 2},
        {"type": "tanh"},
        {"type": "linear", "bias": True, "out": 2, "in": 6},
    ]
    with open(Path(out["run_dir"]) / "metrics.csv") as f:
        assert len(list(csv.DictReader(f))) == 2  # one full batch per epoch, two epochs


def test_stopping_conditions_end_the_run_early(tmp_path, capsys):
    out = train_json(
        capsys,
        *MOONS,
        "--train.epochs",
        "50",
        "--stop.target_loss",
        "10",
        "--output.dir",
        str(tmp_path),
    )
    assert out["epochs"] == 1
    assert "reached the target" in out["stop_reason"]


def test_progress_lines_and_json_last(tmp_path, capsys):
    assert (
        main(["train", *MOONS, "--train.verbose", "2", "--output.dir", str(tmp_path), "--json"])
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("training moons")
    assert [ln.split(" ·")[0] for ln in lines if ln.startswith("epoch")] == [
        "epoch 1/3",
        "epoch 2/3",
        "epoch 3/3",
    ]
    assert json.loads(lines[-1])["epochs"] == 3


def test_ctrl_c_saves_the_state_and_resume_finishes_the_same_run(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(INTERRUPT_ENV, raising=False)
    args = [*MOONS, "--train.epochs", "4", "--model.dropout", "0.1"]
    # moons: 210 training samples in batches of 32 -> 7 steps per epoch; stop before step 10
    proc = run_cli("train", *args, "--output.dir", str(tmp_path / "cut"), env={INTERRUPT_ENV: "10"})
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    run = only_run(tmp_path / "cut")
    assert f"--resume {run}" in proc.stderr
    assert (run / "state.safetensors").is_file()
    assert not (run / "model.safetensors").exists()
    with open(run / "metrics.csv") as f:
        assert len(list(csv.DictReader(f))) == 1  # the state is the one after epoch 1

    resumed = train_json(capsys, "--resume", str(run))
    assert resumed["epochs"] == 4 and resumed["run_dir"] == str(run)
    whole = train_json(capsys, *args, "--output.dir", str(tmp_path / "whole"))
    a = load_file(run / "model.safetensors")
    b = load_file(Path(whole["run_dir"]) / "model.safetensors")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    with open(run / "metrics.csv") as f:
        assert [r["epoch"] for r in csv.DictReader(f)] == ["0", "1", "2", "3"]

    # resuming a finished run asks for more epochs; with more, it continues
    assert main(["train", "--resume", str(run)]) == 2
    assert "already has 4 epochs" in capsys.readouterr().err
    more = train_json(capsys, "--resume", str(run), "--train.epochs", "5")
    assert more["epochs"] == 5


def test_training_on_a_csv_file_with_string_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    labels = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    path = tmp_path / "rows.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "c", "answer"])
        w.writerows([[*row, lab] for row, lab in zip(x.tolist(), labels)])
    out = train_json(
        capsys,
        "--data.path",
        str(path),
        "--data.target",
        "answer",
        "--model.hidden",
        "8",
        "--train.epochs",
        "2",
        *QUICK,
        "--output.dir",
        str(tmp_path / "runs"),
    )
    assert out["dataset"] == "rows.csv" and out["task"] == "classification"
    assert {"train", "val", "test"} <= set(out)
    run = Path(out["run_dir"])
    meta = tomllib.loads((run / "config.toml").read_text())["meta"]
    assert meta["target_names"] == ["no", "yes"] and meta["feature_names"] == ["a", "b", "c"]
    assert main(["predict", str(run), "--input", str(path)]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(rows) == 60 and {r["label"] for r in rows} <= {"no", "yes"}


def test_train_capture_gives_the_eager_run_bit_for_bit(tmp_path, capsys, monkeypatch):
    """``train.capture = true`` replays each step (gs.capture): every logged number and the saved
    weights equal the eager run's."""
    from gradstep.train.captured import ForwardBackward

    calls = []
    original = ForwardBackward.__call__

    def spy(self, *batch):
        calls.append(self.captured)
        return original(self, *batch)

    monkeypatch.setattr(ForwardBackward, "__call__", spy)
    monkeypatch.delenv("GRADSTEP_CAPTURE", raising=False)
    runs = {}
    for flag in ("false", "true"):
        out = tmp_path / flag
        calls.clear()
        summary = train_json(capsys, *MOONS, "--train.capture", flag, "--output.dir", str(out))
        assert (flag == "true") == (len(calls) > 0 and calls[-1])  # replaying by the end
        run = Path(summary["run_dir"])
        with open(run / "metrics.csv") as f:
            rows = list(csv.DictReader(f))
        runs[flag] = (rows, load_file(str(run / "model.safetensors")))
    (rows_e, w_e), (rows_c, w_c) = runs["false"], runs["true"]
    assert [r["loss"] for r in rows_c] == [r["loss"] for r in rows_e]
    assert [r["val_loss"] for r in rows_c] == [r["val_loss"] for r in rows_e]
    assert w_c.keys() == w_e.keys()
    for k in w_e:
        np.testing.assert_array_equal(w_c[k], w_e[k])
