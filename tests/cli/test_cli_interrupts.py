"""Nothing lost when a run is interrupted or changed on resume: SIGTERM like Ctrl-C, a second
Ctrl-C during the save, periodic states that survive SIGKILL, settings that cannot apply refused
before anything is written, and "train further" after a finished run."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

import gradstep
from gradstep.cli import main
from gradstep.cli.train import INTERRUPT_ENV

SRC = str(Path(gradstep.__file__).resolve().parents[1])
# moons: 210 training samples in batches of 32 -> 7 steps per epoch
BASE = ["--data.name", "moons", "--model.hidden", "8", "--output.plot", "false"]
BASE += ["--train.verbose", "0", "--train.epochs", "4"]


def train(tmp: Path, name: str, *extra: str) -> int:
    return main(["train", *BASE, "--output.dir", str(tmp), "--output.name", name, *extra])


def epochs_in_state(run: Path) -> int:
    return int(gradstep.load(run / "state.safetensors").metadata["epoch"])


def same_weights(a: Path, b: Path) -> None:
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k])


def test_sigterm_saves_the_state_like_ctrl_c_and_the_run_resumes_exactly(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv(INTERRUPT_ENV, "10:TERM")
    assert train(tmp_path, "cut", "--train.save_every", "0") == 130
    assert "saved the state after 1 epochs" in capsys.readouterr().err
    monkeypatch.delenv(INTERRUPT_ENV)
    assert epochs_in_state(tmp_path / "cut") == 1
    assert main(["train", "--resume", str(tmp_path / "cut")]) == 0
    assert train(tmp_path, "whole") == 0
    same_weights(tmp_path / "cut", tmp_path / "whole")


def test_a_second_ctrl_c_during_the_save_waits_for_it(tmp_path, monkeypatch, capsys):
    from gradstep import io

    def second_interrupt(tmp: str, path: str) -> None:
        if path.endswith("state.safetensors"):  # arrives while the state is being written
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setenv(INTERRUPT_ENV, "10")
    monkeypatch.setattr(io, "_before_replace", second_interrupt)
    assert train(tmp_path, "cut", "--train.save_every", "0") == 130
    monkeypatch.setattr(io, "_before_replace", None)
    assert epochs_in_state(tmp_path / "cut") == 1  # the save finished
    assert sorted(p.name for p in (tmp_path / "cut").iterdir() if p.name.endswith(".tmp")) == []


def test_a_killed_run_resumes_from_its_last_periodic_state(tmp_path):
    env = {**os.environ, "PYTHONPATH": SRC, INTERRUPT_ENV: "17:KILL"}  # in epoch 3
    cmd = [sys.executable, "-m", "gradstep", "train", *BASE, "--output.dir", str(tmp_path)]
    proc = subprocess.run([*cmd, "--output.name", "cut"], env=env, capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    run = tmp_path / "cut"
    assert epochs_in_state(run) == 2  # written when epoch 3 began
    assert main(["train", "--resume", str(run)]) == 0
    assert train(tmp_path, "whole") == 0
    same_weights(run, tmp_path / "whole")
    with open(run / "metrics.csv") as f:
        assert [r["epoch"] for r in csv.DictReader(f)] == ["0", "1", "2", "3"]


def test_resume_with_settings_that_cannot_apply_changes_nothing(tmp_path, capsys):
    assert train(tmp_path, "r", "--train.epochs", "2") == 0
    run = tmp_path / "r"
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    capsys.readouterr()
    code = main(["train", "--resume", str(run), "--train.epochs", "4", "--model.hidden", "32"])
    assert code == 2
    err = capsys.readouterr().err
    assert "do not fit the model" in err and "drop the --model.* flags" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    after = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert after == before


def test_training_further_after_a_finished_run_resizes_the_schedule(tmp_path, capsys):
    assert train(tmp_path, "r", "--train.epochs", "2") == 0
    capsys.readouterr()
    run = tmp_path / "r"
    args = ["train", "--resume", str(run), "--train.epochs", "4", "--train.verbose", "2"]
    assert main([*args, "--json"]) == 0
    out = capsys.readouterr().out
    assert "now runs to 28" in out  # 4 epochs × 7 steps
    assert json.loads(out.strip().splitlines()[-1])["epochs"] == 4
    with open(run / "steps.csv") as f:
        lrs = [float(r["lr"]) for r in csv.DictReader(f)]
    # the default warm-up cosine was at its end (lr 0) after 14 steps; training on, it decays
    # again from where the longer schedule stands instead of running at lr 0
    assert len(lrs) == 28 and all(lr > 0 for lr in lrs[14:27])


def test_ctrl_c_while_the_library_is_imported_ends_with_one_line():
    # the hook: importing gradstep.cli raises KeyboardInterrupt, as Ctrl-C during start-up would
    code = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def hooked(name, *a, **k):\n"
        "    if name == 'gradstep.cli':\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = hooked\n"
        "import gradstep_entry\n"
        "sys.exit(gradstep_entry.main())\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 130
    assert proc.stderr.strip() == "gradstep: interrupted"
