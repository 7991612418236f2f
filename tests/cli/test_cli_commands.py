"""evaluate, predict, compare, explain and datasets, in process (the train tests cover the
subprocess path)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from gradstep.cli import main
from gradstep.data import datasets

QUICK = ["--train.verbose", "0", "--output.plot", "false"]


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory) -> dict:
    """One trained moons run shared by the evaluate / predict tests."""
    import contextlib
    import io

    base = tmp_path_factory.mktemp("runs")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(
            [
                "train",
                "--data.name",
                "moons",
                "--model.hidden",
                "16",
                "--train.epochs",
                "15",
                "--optimizer.lr",
                "0.02",
                *QUICK,
                "--output.dir",
                str(base),
                "--json",
            ]
        )
    assert code == 0
    return json.loads(buf.getvalue().strip().splitlines()[-1])


def test_evaluate_prints_metrics_and_a_confusion_matrix(moons_run, capsys):
    run = moons_run["run_dir"]
    assert main(["evaluate", run]) == 0
    out = capsys.readouterr().out
    assert "moons · test split · 45 samples" in out
    assert re.search(r"accuracy\s+" + f"{moons_run['test']['accuracy']:.4f}", out)
    assert "confusion matrix" in out and "true \\ predicted" in out
    assert main(["evaluate", run, "--split", "val", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["metrics"]["accuracy"] == pytest.approx(moons_run["val"]["accuracy"])
    cm = np.array(result["confusion_matrix"])
    assert cm.shape == (2, 2) and cm.sum() == result["samples"] == 45
    assert np.trace(cm) / cm.sum() == pytest.approx(result["metrics"]["accuracy"])
    assert set(result["metrics"]) == {"loss", "accuracy", "precision", "recall", "f1"}


def test_evaluate_a_checkpoint_file_finds_its_config(moons_run, capsys):
    best = Path(moons_run["run_dir"]) / "best.safetensors"
    assert main(["evaluate", str(best), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["weights"] == str(best)
    assert 0.5 < result["metrics"]["accuracy"] <= 1.0
    state = Path(moons_run["run_dir"]) / "state.safetensors"
    assert main(["evaluate", str(state), "--json"]) == 0  # a training state holds the weights too
    from_state = json.loads(capsys.readouterr().out)["metrics"]
    assert main(["evaluate", moons_run["run_dir"], "--json"]) == 0
    assert from_state == json.loads(capsys.readouterr().out)["metrics"]


def test_predict_applies_the_runs_standardisation(moons_run, tmp_path, capsys):
    raw = datasets.load("moons", seed=0, standardize=False).test.arrays
    scaled = datasets.load("moons", seed=0).test.arrays
    x, y = raw
    path = tmp_path / "rows.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x1", "x2", "label"])
        w.writerows([[*row, int(t)] for row, t in zip(x.tolist(), y)])
    run = moons_run["run_dir"]
    assert main(["predict", run, "--input", str(path)]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(rows) == len(y)
    assert list(rows[0]) == ["class", "label", "p_0", "p_1"]
    probs = np.array([[float(r["p_0"]), float(r["p_1"])] for r in rows])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    predicted = np.array([int(r["class"]) for r in rows])
    assert np.mean(predicted == y) == pytest.approx(moons_run["test"]["accuracy"])
    # the same rows as NPZ, written to a file; already standardised rows with --raw
    npz = tmp_path / "rows.npz"
    np.savez(npz, x=scaled[0])
    out = tmp_path / "pred.csv"
    assert main(["predict", run, "--input", str(npz), "--output", str(out), "--raw"]) == 0
    assert f"wrote {len(y)} predictions" in capsys.readouterr().out
    with open(out) as f:
        again = np.array([int(r["class"]) for r in csv.DictReader(f)])
    np.testing.assert_array_equal(again, predicted)


def test_predict_regression_values(tmp_path, capsys):
    assert (
        main(
            [
                "train",
                "--data.name",
                "water-heater",
                "--data.options.n_samples",
                "40",
                "--train.epochs",
                "1",
                *QUICK,
                "--output.dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    run = next(p for p in tmp_path.iterdir() if p.is_dir())
    path = tmp_path / "valves.csv"
    path.write_text("hot_valve,cold_valve\n0.5,0.5\n1.0,0.1\n")
    capsys.readouterr()
    assert main(["predict", str(run), "--input", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "temperature,amount"
    assert len(lines) == 3 and all(len(ln.split(",")) == 2 for ln in lines[1:])
    assert main(["evaluate", str(run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["metrics"]) == {"loss", "mse", "mae", "r2"}
    assert "confusion_matrix" not in result


def test_compare_trains_every_optimizer_from_the_same_start(tmp_path, capsys):
    args = [
        "compare",
        "--data.name",
        "moons",
        "--model.hidden",
        "8",
        "--train.epochs",
        "2",
        "--output.dir",
        str(tmp_path),
        "--train.verbose",
        "0",
        "--json",
    ]
    assert (
        main(
            [
                *args,
                "--optimizers",
                "sgd,adam",
                "--warmup",
                "both",
                "--lr.sgd",
                "0.2",
                "--target",
                "loss=0.6",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    labels = [r["optimizer"] for r in result["results"]]
    assert labels == ["sgd + warm-up", "sgd", "adam + warm-up", "adam"]
    assert [r["lr"] for r in result["results"]] == [0.2, 0.2, 0.003, 0.003]
    assert "epochs to loss <= 0.6" in out and "best val accuracy" in out
    folder = Path(result["dir"])
    assert (folder / "compare.png").is_file() and (folder / "compare.csv").is_file()
    saved = json.loads((folder / "compare.json").read_text())
    assert set(saved["histories"]) == set(labels)
    # the same optimizer twice: the same start and batch order give the same numbers
    assert main([*args, "--optimizers", "rmsprop,rmsprop", "--output.plot", "false"]) == 0
    twice = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["results"]
    assert twice[0]["final_loss"] == twice[1]["final_loss"]
    assert twice[0]["epochs_to_target"] == twice[1]["epochs_to_target"]


def test_explain_matches_the_engine(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    assert "network 2-3-2" in out and "water-heater" in out
    assert "δ_k = o_k·(1 − o_k)·(t_k − o_k)" in out and "Δw_ji" in out
    worst = float(re.search(r"largest difference: (\S+)", out).group(1))
    assert worst < 1e-12
    assert (
        main(
            [
                "explain",
                "--dataset",
                "xor",
                "--sizes",
                "2,4,3,2",
                "--lr",
                "2",
                "--seed",
                "3",
                "--sample",
                "1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "hidden layer 2" in out
    assert float(re.search(r"largest difference: (\S+)", out).group(1)) < 1e-12


def test_explain_program_prints_the_recorded_step(capsys):
    """--program: the step as gs.capture replays it, in the order of the algorithm."""
    assert main(["explain", "--program"]) == 0
    out = capsys.readouterr().out
    program = out.split("5. The same step as gs.capture records it", 1)[1]
    lines = [line.split(None, 1)[1] for line in program.splitlines() if re.match(r"\s+\d+ ", line)]
    assert lines[0].startswith("SGD.zero_grad()") and lines[-1].startswith("SGD.step()")
    assert lines[1] == "matmul(x, model.0.weightᵀ) -> t0"  # the first layer's net input
    assert sum("expit(" in line for line in lines) == 2  # one sigmoid per layer
    assert "runs eagerly" not in program


def test_datasets_lists_every_builtin(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for info in datasets.info():
        assert re.search(rf"^{re.escape(info.name)}\s+{info.task}\s+{info.n_samples}\s", out, re.M)
    assert main(["datasets", "--json"]) == 0
    names = [d["name"] for d in json.loads(capsys.readouterr().out)]
    assert names == datasets.names()
    assert main(["datasets", "water-heater"]) == 0
    out = capsys.readouterr().out
    assert "regression" in out and "n_samples" in out and "noise" in out


def test_top_level_help_and_version(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("train", "evaluate", "predict", "compare", "explain", "datasets"):
        assert command in out
    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--optimizer.lr X" in out and "--data.batch_size N|full" in out
    assert main(["compare", "--help"]) == 0
    assert "--optimizers" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("gradstep ")


def test_curves_without_matplotlib_are_skipped_with_a_note(monkeypatch, tmp_path, capsys):
    import sys

    from gradstep.viz.curves import plot_history

    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError, match=r"gradstep\[plot\]"):
        plot_history({"loss": [1.0, 0.5]}, tmp_path / "x.png")
    assert (
        main(
            [
                "train",
                "--data.name",
                "xor",
                "--train.epochs",
                "1",
                "--train.verbose",
                "2",
                "--output.dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert "curves.png not drawn" in capsys.readouterr().err
    run = next(p for p in tmp_path.iterdir() if p.is_dir())
    assert not (run / "curves.png").exists() and (run / "model.safetensors").is_file()
