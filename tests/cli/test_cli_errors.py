"""Every error path: one ``gradstep: error: ...`` line on stderr naming the key or file and the
fix, exit status 2, no traceback (unless --debug)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import gradstep
from gradstep.cli import main
from gradstep.config import ConfigError

SRC = str(Path(gradstep.__file__).resolve().parents[1])
MOONS = ["train", "--data.name", "moons", "--train.verbose", "0", "--output.plot", "false"]


def check_error(capsys, argv: list[str], needle: str) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("gradstep: error: "), err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in captured.err + captured.out
    assert needle in err, err
    return err


@pytest.fixture
def files(tmp_path):
    bad_key = tmp_path / "bad_key.toml"
    bad_key.write_text('[optimizer]\nname = "adam"\nlearning_rate = 0.1\n')
    bad_section = tmp_path / "bad_section.toml"
    bad_section.write_text("[optimiser]\nlr = 0.1\n")
    bad_toml = tmp_path / "broken.toml"
    bad_toml.write_text("[train\nepochs = 2\n")
    wrong_width = tmp_path / "rows.csv"
    wrong_width.write_text("a,b,c\n1,2,3\n")
    singletons = tmp_path / "singletons.csv"
    singletons.write_text("a,label\n" + "".join(f"{i},{i}\n" for i in range(10)))
    prices = tmp_path / "prices.csv"
    prices.write_text("rooms,price\n" + "".join(f"{i},{1000 * i + 7}\n" for i in range(10)))
    return {
        "singletons": str(singletons),
        "prices": str(prices),
        "bad_key": str(bad_key),
        "bad_section": str(bad_section),
        "broken": str(bad_toml),
        "rows": str(wrong_width),
        "tmp": str(tmp_path),
    }


CASES = [
    (["train", "--optimizer.learning_rate", "0.1"], "did you mean --optimizer.lr"),
    (["train", "--optimizer.lr", "fast"], "--optimizer.lr must be a number"),
    (["train", "--data.batch_size", "0"], '--data.batch_size must be a positive integer or "full"'),
    (["train", "--optimizer.name", "adamm"], "--optimizer.name must be one of"),
    (
        ["train", "--optimizer.name", "sgd", "--optimizer.betas", "0.5,0.6"],
        "optimizer.betas is set but only used when optimizer.name",
    ),
    (["train", "--lr", "0.1"], "unknown option --lr; did you mean --optimizer.lr?"),
    (["train", "--optimizer.lr"], "--optimizer.lr needs a value"),
    (["train", "--optimizer.lr", "--json"], "--optimizer.lr needs a value"),
    (["train", "missing.toml"], "config file missing.toml does not exist"),
    (["train", "a.toml", "b.toml"], "train takes one config file"),
    (
        ["train", "{bad_key}"],
        "unknown key optimizer.learning_rate in {bad_key}; did you mean optimizer.lr?",
    ),
    (
        ["train", "{bad_section}"],
        "unknown section [optimiser] in {bad_section}; did you mean [optimizer]?",
    ),
    (["train", "{broken}"], "is not valid TOML"),
    (["train", "--data.name", "digts"], "data.name: unknown dataset 'digts'"),
    (
        [*MOONS, "--model.layers", "3,8,2"],
        "model.layers starts with 3 inputs but dataset 'moons' has 2 features",
    ),
    ([*MOONS, "--model.layers", "2,8,3"], "ends with 3 outputs but dataset 'moons' has 2 classes"),
    (
        [
            *MOONS,
            "--model.layer",
            '[{type="linear", out=4}, {type="relu"}, {type="linear", out=5}]',
        ],
        "outputs 5 values but dataset 'moons' has 2 classes; set out = 2",
    ),
    (
        [*MOONS, "--model.layer", '[{type="linear", in=3, out=4}, {type="linear"}]'],
        "model.layer[0] (linear) has in = 3 but receives 2 values",
    ),
    ([*MOONS, "--loss.name", "mse"], "loss.name = 'mse' is a regression loss, but 'moons'"),
    (
        ["train", "--data.name", "water-heater", "--loss.name", "cross_entropy"],
        "needs a classification dataset",
    ),
    (
        ["train", "--data.name", "water-heater", "--train.metrics", "accuracy"],
        "train.metrics 'accuracy' needs a classification dataset",
    ),
    (
        [*MOONS, "--stop.patience", "2", "--stop.monitor", "val_acc"],
        "stop.monitor 'val_acc' is not logged by this run (did you mean 'val_accuracy'?)",
    ),
    ([*MOONS, "--data.options.noize", "0.1"], "has no option 'noize'"),
    (
        [*MOONS, "--schedule.name", "warmup_cosine", "--schedule.warmup_steps", "1000"],
        "schedule.warmup_steps = 1000 leaves no steps for the decay",
    ),
    (["train", "--resume", "{tmp}"], "no config.toml there"),
    (
        ["train", "--data.path", "{rows}", "--data.name", "iris"],
        "data.name is set but only used when data.path is not set",
    ),
    (["train", "--data.path", "nofile.csv"], "data.path nofile.csv does not exist"),
    (
        ["train", "--data.path", "{prices}", "--data.target", "price"],
        "pass --data.task regression if the column is a quantity",
    ),
    (
        ["train", "--data.path", "{singletons}"],
        "pass --data.task regression if the column is a quantity, or smaller --data.val_fraction",
    ),
    (["evaluate", "nowhere/run"], "nowhere/run does not exist"),
    (["evaluate"], "the following arguments are required: RUN_OR_CHECKPOINT"),
    (["evaluate", "{tmp}"], "holds no model.safetensors"),
    (["predict", "{tmp}", "--input", "none.csv"], "--input none.csv does not exist"),
    (["compare", "--optimizers", "sgd,foo"], "unknown optimizer 'foo'"),
    (["compare", "--warmup", "sometimes"], "--warmup must be on, off or both"),
    (["explain", "--sizes", "3,3,2"], "--sizes 3,3,2 does not fit water-heater"),
    (["explain", "--sample", "5000"], "--sample 5000 is out of range"),
    (["explain", "--lr", "abc"], "argument --lr: invalid float value"),
    (["datasets", "irs"], "Did you mean 'iris'?"),
    (["trian"], "unknown command 'trian'; did you mean 'train'?"),
]


@pytest.mark.parametrize(("argv", "needle"), CASES)
def test_error_paths(capsys, files, argv, needle):
    def fill(text: str) -> str:
        for name, value in files.items():
            text = text.replace("{" + name + "}", value)
        return text

    err = check_error(capsys, [fill(a) for a in argv], fill(needle))
    for python_spelling in ("task=", "stratify=", "classes=[", "target=", "delimiter="):
        assert python_spelling not in err, err  # the fix is a flag, not a Python argument


def test_data_that_does_not_fit_a_trained_model(tmp_path, capsys):
    assert main([*MOONS, "--train.epochs", "1", "--output.dir", str(tmp_path)]) == 0
    run = str(next(p for p in tmp_path.iterdir() if p.is_dir()))
    check_error(
        capsys,
        ["evaluate", run, "--dataset", "iris"],
        "the model takes 2 features but dataset 'iris' has 4",
    )
    assert main(["evaluate", run, "--dataset", "spirals"]) == 0  # 2 features, 2 classes: fits
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b,c\n1,2,3\n")
    check_error(
        capsys,
        ["predict", run, "--input", str(rows)],
        "has 3 feature columns but the model takes 2",
    )
    rows.write_text("x1,x2\n1,oops\n")
    check_error(
        capsys,
        ["predict", run, "--input", str(rows)],
        "line 2, column 'x2': 'oops' is not a number",
    )


def test_debug_shows_the_traceback(capsys):
    with pytest.raises(ConfigError):
        main(["train", "--optimizer.lr", "fast", "--debug"])


def test_unexpected_failures_exit_1_with_a_hint(monkeypatch, capsys):
    import gradstep.cli.datasets as command

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(command, "run", broken)
    assert main(["datasets"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gradstep: error: RuntimeError: boom") and "--debug" in err


def test_no_command_prints_usage_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: gradstep" in capsys.readouterr().err


def test_a_subprocess_error_is_one_line_without_traceback():
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-m", "gradstep", "train", "--optimizer.momentun", "0.9"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        "gradstep: error: unknown option --optimizer.momentun; did you mean --optimizer.momentum? "
        "(all options: gradstep train --help)\n"
    )
