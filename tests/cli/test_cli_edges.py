"""The edges a user of the command line hits: a header of numbers, columns in another order,
evaluating on one's own labelled file, TSV files and target columns by index, averages that say
what they are, a file too small to split, a run's config.toml with another optimizer, and
warnings that are noise."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

import gradstep
from gradstep import config as C
from gradstep.cli import main
from gradstep.cli._build import DEFAULT_LR
from gradstep.cli._common import tidy_warnings
from gradstep.data.split import split_indices

SRC = str(Path(gradstep.__file__).resolve().parents[1])
QUICK = ["--train.verbose", "0", "--output.plot", "false"]


def train(*args: str) -> dict:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["train", *QUICK, *args, "--json"]) == 0
    return json.loads(buf.getvalue().strip().splitlines()[-1])


def output(capsys, argv: list[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 0
    return capsys.readouterr().out


def spectra(n: int = 90, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three features (absorbances at 400, 410, 420 nm) and three classes."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.normal(size=(n, 3)) + np.eye(3)[y] * 2.5
    return x, y


def write_csv(path: Path, header: list[str] | None, x: np.ndarray, y=None, sep: str = ","):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter=sep)
        if header is not None:
            w.writerow(header)
        for i, row in enumerate(x):
            w.writerow([f"{v:.6f}" for v in row] + ([] if y is None else [y[i]]))
    return path


@pytest.fixture(scope="module")
def spectra_run(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("spectra")
    x, y = spectra()
    path = write_csv(base / "train.csv", ["400", "410", "420", "label"], x, y)
    summary = train(
        "--data.path",
        str(path),
        "--model.hidden",
        "8",
        "--train.epochs",
        "5",
        "--output.dir",
        str(base / "runs"),
    )
    return {"base": base, "path": path, "x": x, "y": y, **summary}


def predictions(capsys, run: str, path: Path) -> list[dict]:
    return list(csv.DictReader(output(capsys, ["predict", run, "--input", str(path)]).splitlines()))


def test_a_header_of_numbers_is_read_as_the_header_it_was_in_training(spectra_run, capsys):
    x = spectra_run["x"][:5]
    base, run = spectra_run["base"], spectra_run["run_dir"]
    with_header = predictions(capsys, run, write_csv(base / "h.csv", ["400", "410", "420"], x))
    without = predictions(capsys, run, write_csv(base / "n.csv", None, x))
    assert len(with_header) == len(without) == 5  # no row made of the header
    assert with_header == without
    swapped = write_csv(base / "s.csv", ["420", "400", "410"], x[:, [2, 0, 1]])
    assert predictions(capsys, run, swapped) == without  # features matched by name


def test_evaluate_on_a_labelled_file_equals_the_runs_own_test_split(spectra_run, capsys):
    x, y = spectra_run["x"], spectra_run["y"]
    _, _, test = split_indices(len(y), y, 0.15, 0.15, 0, True)  # the run's split (data.seed 0)
    base, run = spectra_run["base"], spectra_run["run_dir"]
    mine = write_csv(
        base / "mine.tsv",
        ["410", "label", "420", "400"],
        np.column_stack([x[test][:, 1], y[test], x[test][:, 2], x[test][:, 0]]),
        sep="\t",
    )
    own = json.loads(output(capsys, ["evaluate", run, "--json"]))
    theirs = json.loads(
        output(capsys, ["evaluate", run, "--data.path", str(mine), "--data.target", "1", "--json"])
    )
    assert theirs["samples"] == own["samples"] == len(test)
    assert theirs["metrics"] == pytest.approx(own["metrics"], rel=1e-6)
    assert theirs["confusion_matrix"] == own["confusion_matrix"]


def test_evaluate_reports_each_class_and_says_which_average(tmp_path, capsys):
    x, y = spectra(60)
    run = train(
        "--data.path",
        str(write_csv(tmp_path / "t.csv", ["a", "b", "c", "label"], x, y)),
        "--model.hidden",
        "8",
        "--train.epochs",
        "3",
        "--output.dir",
        str(tmp_path / "runs"),
    )["run_dir"]
    only_two = write_csv(tmp_path / "two.csv", ["a", "b", "c", "label"], x[y < 2], y[y < 2])
    result = json.loads(output(capsys, ["evaluate", run, "--data.path", str(only_two), "--json"]))
    cm = np.array(result["confusion_matrix"])
    true = np.repeat(np.arange(3), cm.sum(axis=1))
    pred = np.concatenate([np.repeat(np.arange(3), row) for row in cm])
    expected = precision_recall_fscore_support(true, pred, average="macro", zero_division=0)
    m = result["metrics"]
    assert [m["precision"], m["recall"], m["f1"]] == pytest.approx(list(expected[:3]))
    assert result["average"].startswith("macro")
    assert [c["class"] for c in result["per_class"]] == ["0", "1", "2"]
    assert [c["support"] for c in result["per_class"]] == [20, 20, 0]
    text = output(capsys, ["evaluate", run, "--data.path", str(only_two)])
    assert "precision (macro)" in text and "per class" in text
    if cm[:, 2].sum() == 0:  # class 2 neither present nor predicted
        assert "class '2' is neither present nor predicted here" in text


def test_a_tsv_and_a_target_by_index_train_the_same_run(tmp_path):
    x, y = spectra(60)
    csv_path = write_csv(tmp_path / "d.csv", ["a", "b", "c", "label"], x, y)
    tsv_path = write_csv(tmp_path / "d.tsv", ["a", "b", "c", "label"], x, y, sep="\t")
    common = ["--train.epochs", "2", "--model.hidden", "4", "--output.dir", str(tmp_path / "r")]
    by_name = train("--data.path", str(csv_path), *common)
    by_index = train("--data.path", str(tsv_path), "--data.target", "-1", *common)
    assert by_index["test"] == by_name["test"] and by_index["train"] == by_name["train"]


def test_a_file_too_small_to_split_warns_once(tmp_path, capsys):
    path = write_csv(tmp_path / "tiny.csv", ["a", "label"], np.array([[0.0], [1.0]]), [0, 1])
    capsys.readouterr()
    assert (
        main(
            [
                "train",
                *QUICK,
                "--data.path",
                str(path),
                "--train.epochs",
                "1",
                "--output.dir",
                str(tmp_path / "r"),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("gradstep: warning: data.path")
    assert "no validation rows (data.val_fraction = 0.15) and no test rows" in err[0]


def test_a_runs_config_with_another_optimizer_gives_it_its_own_defaults(tmp_path, capsys):
    run = Path(
        train("--data.name", "moons", "--train.epochs", "1", "--output.dir", str(tmp_path / "a"))[
            "run_dir"
        ]
    )
    written = run / "config.toml"
    assert "eps" in C.load_file(written)["optimizer"]  # Adam's settled values are in the file
    again = Path(
        train(str(written), "--optimizer.name", "sgd", "--output.dir", str(tmp_path / "b"))[
            "run_dir"
        ]
    )
    used = C.load_file(again / "config.toml")["optimizer"]
    assert used["name"] == "sgd" and "eps" not in used and "betas" not in used
    assert used["lr"] == DEFAULT_LR["sgd"] != DEFAULT_LR["adam"]  # sgd's own lr, not Adam's
    capsys.readouterr()
    assert (
        main(["train", str(written), "--optimizer.name", "sgd", "--optimizer.betas", "0.5,0.6"])
        == 2
    )
    assert "optimizer.betas is set but only used when" in capsys.readouterr().err


def test_noise_warnings_are_tidied(capsys):
    import numpy as np

    buf = io.StringIO()
    with pytest.warns(UserWarning, match="kept"), tidy_warnings(buf):
        np.ones(2) / np.zeros(2)
        np.float64(1e308) * np.float64(10)
        warnings.warn(
            "Glyph 29399 (\\N{CJK UNIFIED IDEOGRAPH-72D7}) missing from font(s) X.", stacklevel=1
        )
        warnings.warn(
            "Glyph 29483 (\\N{CJK UNIFIED IDEOGRAPH-732B}) missing from font(s) X.", stacklevel=1
        )
        warnings.warn(
            "Glyph 29399 (\\N{CJK UNIFIED IDEOGRAPH-72D7}) missing from font(s) X.", stacklevel=1
        )
        warnings.warn("a warning that is kept", UserWarning, stacklevel=1)
    assert buf.getvalue().splitlines() == [
        "gradstep: note: the plotting font has no glyph for 狗, 猫; those characters show as "
        "boxes in the pictures."
    ]


def test_a_diverging_run_prints_no_runtime_warnings(tmp_path):
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradstep",
            "train",
            "--data.name",
            "moons",
            "--optimizer.name",
            "sgd",
            "--optimizer.lr",
            "1e8",
            "--schedule.name",
            "none",
            "--train.epochs",
            "2",
            "--output.dir",
            str(tmp_path),
            *QUICK,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert "RuntimeWarning" not in proc.stderr and "encountered in" not in proc.stderr
