"""SIGKILL at seeded kill points — training steps and the phases of a save (a hook kills the
process there; no sleeps) — leaves a run that --resume finishes with weights, optimizer state and
RNG state identical bit for bit to an uninterrupted run's; a kill before the first save leaves a
run that says clearly there is nothing to resume.

The suite runs KILL_POINTS points (default 12); `.ci/run` runs 50 in a separate step."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradstep
from gradstep.cli import main

SRC = str(Path(gradstep.__file__).resolve().parents[1])
# moons: 210 training samples in batches of 32 -> 7 steps an epoch, 6 epochs, states at epoch starts
ARGS = ["--data.name", "moons", "--model.hidden", "8", "--output.plot", "false"]
ARGS += ["--train.verbose", "0", "--train.epochs", "6", "--model.dropout", "0.1"]
STEPS = 42
SAVES = (
    10  # files a run renames into place: 3 periodic states, best (4), final state, model, summary
)
PHASES = ("step", "before_replace", "after_replace")

CHILD = """
import os, sys, signal
from gradstep import io
kind, n = sys.argv[1], int(sys.argv[2])
seen = {"saves": 0}
def kill(*a):
    os.kill(os.getpid(), signal.SIGKILL)
if kind == "before_replace":
    def hook(tmp, path):
        seen["saves"] += 1
        if seen["saves"] == n:
            kill()
    io._before_replace = hook
elif kind == "after_replace":
    real = os.replace
    def replace(src, dst, *a, **k):
        real(src, dst, *a, **k)
        seen["saves"] += 1
        if seen["saves"] == n:
            kill()
    os.replace = replace
else:
    os.environ["GRADSTEP_TEST_INTERRUPT_STEP"] = f"{n}:KILL"
from gradstep.cli import main
sys.exit(main(sys.argv[3:]))
"""


def kill_points(count: int) -> list[tuple[str, int]]:
    rng = np.random.default_rng(20261130)
    points = [("step", 1)]  # before the first save
    count = min(count, STEPS - 1 + 2 * SAVES - 1)  # as many as there are distinct points
    while len(points) < count:
        kind = PHASES[int(rng.integers(len(PHASES)))]
        top = {"step": STEPS - 1, "before_replace": SAVES - 1, "after_replace": SAVES}[kind]
        n = int(rng.integers(1, top + 1))
        if (kind, n) not in points:
            points.append((kind, n))
    return points


def final_state(run: Path) -> tuple[dict, dict]:
    ckpt = gradstep.load(run / "state.safetensors")
    return dict(ckpt), ckpt.metadata


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    assert main(["train", *ARGS, "--output.dir", str(out), "--output.name", "w"]) == 0
    return final_state(out / "w")


POINTS = kill_points(int(os.environ.get("KILL_POINTS", "12")))


@pytest.mark.parametrize("kind,n", POINTS, ids=[f"{k}-{n}" for k, n in POINTS])
def test_a_killed_run_resumes_to_the_same_state(tmp_path, uninterrupted, kind, n, capsys):
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop("GRADSTEP_TEST_INTERRUPT_STEP", None)
    cmd = [sys.executable, "-c", CHILD, kind, str(n), "train", *ARGS]
    proc = subprocess.run(
        [*cmd, "--output.dir", str(tmp_path), "--output.name", "r"], env=env, capture_output=True
    )
    run = tmp_path / "r"
    assert proc.returncode == -9, f"kill point {kind} {n} was not reached: {proc.stderr!r}"
    capsys.readouterr()
    code = main(["train", "--resume", str(run)])
    if not (run / "state.safetensors").exists():
        assert code == 2
        assert "no state.safetensors there; the run cannot be continued" in capsys.readouterr().err
        return
    assert code == 0
    arrays, meta = final_state(run)
    want_arrays, want_meta = uninterrupted
    assert arrays.keys() == want_arrays.keys()
    for k in arrays:  # weights and optimizer state
        np.testing.assert_array_equal(arrays[k], want_arrays[k], err_msg=k)
    assert meta["rng"] == want_meta["rng"] and meta["epoch"] == want_meta["epoch"] == 6
    with open(run / "metrics.csv") as f:
        assert [r["epoch"] for r in csv.DictReader(f)] == [str(e) for e in range(6)]
