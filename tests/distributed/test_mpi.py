"""Under ``mpiexec -n 2``, in subprocesses: two ranks with batch 16 end with the weights (and
History) of one process with batch 32 — through the plain API, Trainer.fit and the command line
— within 1e-12 in float64; only rank 0 writes; a run started on 2 ranks resumes on 1; a stop
asked for by one rank stops all; a rank that raises, or is killed mid-epoch, ends the job.

The one-process references are computed here, in this process, by the same problem definitions
(mpi_scenarios.py) without any of gradstep.distributed. MPI sessions never overlap: each runs
under a lock shared by the xdist workers, and its results are computed once per test session
(kept in the session's shared temporary folder). The subprocess timeout is the hang detector.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import mpi4py  # noqa: F401  (the mpi extra: these tests need mpi4py and the mpich wheel)
import numpy as np
import pytest
from safetensors.numpy import load_file

from gradstep.cli import main

from . import mpi_scenarios as S

SCENARIOS = str(Path(S.__file__).resolve())
MPIEXEC = str(Path(sys.executable).parent / "mpiexec")
HANG = 120  # seconds: far beyond what any of these jobs takes; reaching it means a hang
TOL = 1e-12


@contextlib.contextmanager
def mpi_lock(root: Path):
    """One MPI job at a time across the xdist workers (two jobs of 2 ranks on 2 cores, each
    busy-waiting in its collectives, would crawl)."""
    with open(root / "mpi.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def shared(tmp_path_factory, worker_id) -> Path:
    """A folder this test session's xdist workers share."""
    base = tmp_path_factory.getbasetemp()
    root = (base if worker_id == "master" else base.parent) / "mpi"
    root.mkdir(exist_ok=True)
    return root


def run_once(shared: Path, name: str, command: list[str]) -> tuple[Path, dict]:
    """Run ``command`` (with OUT set to its folder) once per session; later calls, from any
    worker, get the folder and the recorded exit status and output."""
    out = shared / name
    with mpi_lock(shared):
        done = out / "result.json"
        if not done.exists():
            out.mkdir(exist_ok=True)
            env = {**os.environ, "OMP_NUM_THREADS": "1"}
            cmd = [c.replace("{OUT}", str(out)) for c in command]
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=HANG, env=env, cwd=out
            )
            done.write_text(
                json.dumps({"code": proc.returncode, "out": proc.stdout, "err": proc.stderr})
            )
    return out, json.loads((out / "result.json").read_text())


def scenario(shared: Path, name: str) -> tuple[Path, dict]:
    return run_once(shared, name, [MPIEXEC, "-n", "2", sys.executable, SCENARIOS, name, "{OUT}"])


@pytest.fixture(scope="session")
def trained(shared) -> Path:
    out, res = scenario(shared, "train")
    assert res["code"] == 0, res["err"]
    return out


def close(a: dict, b: dict) -> float:
    assert set(a) == set(b)
    return max(float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k])))) for k in a)


def test_two_ranks_of_16_take_the_steps_of_one_process_of_32(trained):
    ref, clipped = S.api_run(32, distributed=False)
    got = dict(np.load(trained / "api.npz"))
    assert int(got.pop("clipped")) == clipped == S.STEPS  # clipping acts on every step
    assert close(ref, got) < TOL
    flat = dict(np.load(trained / "api_flat.npz"))  # in place over flat buffers, many buckets
    assert close(ref, flat) < TOL


def test_a_captured_step_replays_the_allreduce_on_two_ranks(trained):
    """gs.capture of a step that calls DistributedOptimizer.synchronize and .step: two ranks of
    16 replaying it end where one eager process of 32 does."""
    ref, _ = S.api_run(32, distributed=False)
    got = dict(np.load(trained / "api_captured.npz"))
    assert bool(got.pop("captured"))
    assert close(ref, got) < TOL


def test_fit_on_two_ranks_equals_fit_in_one_process(trained):
    trainer = S.classifier()
    S.fit_classifier(trainer, 10, 32)
    history = S.fit_classifier(trainer, 15, 32).history
    assert close(S.weights(trainer.model), dict(np.load(trained / "fit.npz"))) < TOL
    theirs = json.loads((trained / "history.json").read_text())["fit"]
    keys = set(history) - {"time"}
    assert keys == {"loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1", "lr"} | {
        "grad_norm"
    }
    for k in keys:  # exact reductions: the epoch's sums, not means of the ranks' means
        assert np.max(np.abs(np.subtract(history[k], theirs[k]))) < TOL, k


def test_a_run_started_on_two_ranks_resumes_on_one(trained):
    straight = S.classifier()
    S.fit_classifier(straight, 25, 32)
    resumed = S.classifier(seed=99)  # other initial weights: the state must replace them
    S.fit_classifier(resumed, 25, 32, resume=trained / "state10.safetensors")
    assert resumed.epoch == 25
    assert close(S.weights(straight.model), S.weights(resumed.model)) < TOL


def test_a_summed_loss_adds_the_ranks_gradients_and_regression_metrics_are_exact(trained):
    trainer = S.regressor()
    history = S.fit_regressor(trainer, 32).history
    assert close(S.weights(trainer.model), dict(np.load(trained / "reg.npz"))) < TOL
    recorded = json.loads((trained / "history.json").read_text())
    # the two ranks replayed their steps between the exchanges (unless capture is turned off)
    assert recorded["reg_replayed"] == (os.environ.get("GRADSTEP_CAPTURE", "1") != "0")
    theirs = recorded["reg"]
    for k in set(history) - {"time"}:
        assert np.max(np.abs(np.subtract(history[k], theirs[k]))) < 1e-11, k


def test_only_rank_zero_writes(trained):
    assert not (trained / "saves-1.txt").exists()
    saves = (trained / "saves-0.txt").read_text().split()
    assert saves.count("state10.safetensors") == 1
    assert set(saves) == {"state10.safetensors", "best.safetensors"}
    rows = (trained / "log.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) == 1 + 25  # one header, one row per epoch
    assert [int(r.split(",")[0]) for r in rows[1:]] == list(range(25))


def test_a_stop_asked_for_on_one_rank_stops_every_rank_at_the_same_step(trained):
    zero = json.loads((trained / "stops-0.json").read_text())
    one = json.loads((trained / "stops-1.json").read_text())
    assert zero == one  # same epoch, step, reason and weights on both ranks
    alone = S.classifier()
    S.fit_classifier(alone, 10, 32, callbacks=[S.StopAfterStep(5)])
    assert zero["step_stop"] == [alone.epoch, alone.global_step, None] == [3, 5, None]
    w = {k: np.asarray(v) for k, v in zero["weights"].items()}
    assert close(S.weights(alone.model), w) < TOL
    assert zero["epoch_stop"] == [2, 4, "rank 1 says stop"]


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_failing_rank_ends_the_job_on_every_rank(shared, how):
    out, res = scenario(shared, how)  # returns at all: no hang
    assert res["code"] != 0
    assert not list(out.glob("finished-*"))  # rank 0 did not go on training alone
    if how == "raise":
        assert "rank 1 of 2: RuntimeError: rank 1 fails on purpose" in res["err"]
        assert "ending the job on every rank" in res["err"]
    else:
        assert "signal 9" in (res["out"] + res["err"]).lower()  # mpiexec names the kill


CLI = [
    "--data.name",
    "moons",
    "--model.hidden",
    "8",
    "--model.dtype",
    "float64",
    "--train.epochs",
    "3",
    "--train.grad_clip",
    "0.5",
    "--output.plot",
    "false",
    "--train.verbose",
    "1",
]


def test_the_command_line_on_two_processes_equals_one_process(shared, tmp_path, capsys):
    cmd = [sys.executable, "-m", "gradstep", "train", "--nproc", "2", *CLI]
    out, res = run_once(
        shared, "cli", [*cmd, "--data.batch_size", "16", "--output.dir", "{OUT}/runs"]
    )
    assert res["code"] == 0, res["err"]
    (run,) = (out / "runs").iterdir()  # one run directory, written by rank 0
    assert "on 2 processes" in res["out"] and res["out"].count("epoch 3/3") == 1
    assert main(["train", *CLI, "--data.batch_size", "32", "--output.dir", str(tmp_path)]) == 0
    capsys.readouterr()
    (ref,) = tmp_path.iterdir()
    ours, theirs = (
        load_file(str(run / "model.safetensors")),
        load_file(str(ref / "model.safetensors")),
    )
    assert ours["0.weight"].dtype == np.float64
    assert close(ours, theirs) < TOL
    steps = np.genfromtxt(run / "steps.csv", delimiter=",", names=True)
    ref_steps = np.genfromtxt(ref / "steps.csv", delimiter=",", names=True)
    assert len(steps) == len(ref_steps) == 21  # 210 samples, 105 per rank: 7 steps per epoch
    for k in ("loss", "lr", "grad_norm"):
        assert np.max(np.abs(steps[k] - ref_steps[k])) < TOL, k
    assert len((run / "metrics.csv").read_text().splitlines()) == 1 + 3
