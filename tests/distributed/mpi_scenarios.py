"""Programs that test_mpi.py runs under ``mpiexec -n 2`` (and the one-process references it
computes in its own process from the same problem).

``python mpi_scenarios.py NAME OUTDIR``: NAME is ``train`` (every training scenario in one MPI
session, to keep the suite fast), ``raise`` or ``kill`` (a rank fails mid-epoch). Results go to
OUTDIR as .npz / .json files written by rank 0 (and per-rank files where ranks are compared).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np

import gradstep as gs
import gradstep.distributed as dist
from gradstep import nn
from gradstep.data import DataLoader, DistributedSampler, TensorDataset
from gradstep.optim import SGD, Adam
from gradstep.optim.lr_scheduler import warmup_cosine
from gradstep.train import Callback, CSVLogger, ModelCheckpoint, StoppingCondition, Trainer

N = 64  # divisible by 32: two ranks with batch 16 see what one process with batch 32 sees
STEPS = 50
CLIP = 0.1


def problem() -> dict[str, np.ndarray]:
    """A 3-class problem with sample weights and an odd-sized validation set (uneven shards)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 5))
    y = ((x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.int64) + (x[:, 3] > 0.5)).astype(np.int64)
    xv = rng.normal(size=(21, 5))
    yv = ((xv[:, 0] + xv[:, 1] * xv[:, 2] > 0).astype(np.int64) + (xv[:, 3] > 0.5)).astype(np.int64)
    w = rng.uniform(0.5, 2.0, size=N)
    t = np.sin(x[:, :2].sum(axis=1, keepdims=True)) + 0.1 * x[:, 2:3]  # regression targets
    return {"x": x, "y": y, "xv": xv, "yv": yv, "w": w, "t": t}


def mlp(seed: int, outputs: int = 3) -> nn.Module:
    gs.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, outputs)).double()


def weights(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in model.state_dict().items()}


# -- 1. the plain API: sampler, broadcast, DistributedOptimizer, clipping in between -------------
def api_run(batch: int, distributed: bool, flat: bool = False) -> tuple[dict[str, np.ndarray], int]:
    """50 Adam steps with clipping; returns the weights and how many steps were clipped.
    ``distributed``: DistributedSampler + DistributedOptimizer, each rank starting from other
    weights (broadcast must fix that); else one process with the DataLoader's own shuffle.
    ``flat``: the model's flat buffers, reduced in place, in buckets of 200 bytes. An unused
    parameter rides along in the optimizer: it never gets a gradient and must stay as it is."""
    p = problem()
    ds = TensorDataset(p["x"], p["y"])
    model = mlp(11 + (dist.rank() if distributed else 0))
    if flat:
        model.flatten_parameters()
    unused = nn.Parameter(gs.ones(3))  # float32: a bucket of its own, packed
    opt = Adam([*model.parameters(), unused], lr=0.01)
    if distributed:
        dist.broadcast_parameters(model)
        opt = dist.DistributedOptimizer(
            opt, bucket_bytes=200 if flat else dist.optimizer.BUCKET_BYTES
        )
        loader = DataLoader(ds, batch_size=batch, sampler=DistributedSampler(ds, seed=5))
    else:
        loader = DataLoader(ds, batch_size=batch, shuffle=True, seed=5)
    params = list(model.parameters())
    steps = clipped = epoch = 0
    while steps < STEPS:
        loader.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            loss = gs.functional.cross_entropy(model(gs.tensor(xb, dtype=gs.float64)), yb)
            loss.backward()
            if distributed:
                opt.synchronize()
            clipped += gs.nn.utils.clip_grad_norm_(params, CLIP) > CLIP
            opt.step()
            steps += 1
            if steps == STEPS:
                break
        epoch += 1
    assert unused.grad is None and np.array_equal(unused.data, np.ones(3))
    if distributed:  # the float64 bucket is the model's own flat buffer exactly when flattened
        assert [b.in_place for b in opt._layout[1]] == [flat, False]
    return weights(model), int(clipped)


def captured_api_run(batch: int) -> tuple[dict[str, np.ndarray], bool]:
    """api_run's 50 steps on two ranks (flat buffers), each step replayed by gs.capture: the
    allreduce (``synchronize``), clipping and the update are recorded calls, run at every
    replay. Returns the weights and whether the step was captured."""
    p = problem()
    ds = TensorDataset(p["x"], p["y"])
    model = mlp(11 + dist.rank())
    model.flatten_parameters()
    dist.broadcast_parameters(model)
    params = list(model.parameters())
    opt = dist.DistributedOptimizer(Adam(params, lr=0.01))
    loader = DataLoader(ds, batch_size=batch, sampler=DistributedSampler(ds, seed=5))

    def train_step(x, y):
        opt.zero_grad()
        loss = gs.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.synchronize()
        gs.nn.utils.clip_grad_norm_(params, CLIP)
        opt.step()
        return loss

    step = None
    steps = epoch = 0
    while steps < STEPS:
        loader.set_epoch(epoch)
        for xb, yb in loader:
            x = gs.tensor(xb, dtype=gs.float64)
            if step is None:
                step = gs.capture(train_step, x, yb)
            step(x, yb)
            steps += 1
            if steps == STEPS:
                break
        epoch += 1
    return weights(model), bool(step.captured)


# -- 2. Trainer.fit: weighted classification with validation, clipping and a warm-up -------------
def classifier(seed: int = 7) -> Trainer:
    model = mlp(seed)
    opt = Adam(model.parameters(), lr=0.02)
    sched = warmup_cosine(opt, warmup_steps=10, total_steps=STEPS)
    return Trainer(
        model, nn.CrossEntropyLoss(), opt, ["accuracy", "f1"], scheduler=sched, grad_clip=CLIP
    )


def fit_classifier(trainer: Trainer, epochs: int, batch: int, callbacks=(), **kw):
    p = problem()
    return trainer.fit(
        (p["x"], p["y"]),
        epochs=epochs,
        batch_size=batch,
        val=(p["xv"], p["yv"]),
        sample_weight=p["w"],
        verbose=0,
        callbacks=list(callbacks),
        **kw,
    )


# -- 3. Trainer.fit: a summed loss (SSE), regression metrics and validation_split ----------------
def regressor(seed: int = 3) -> Trainer:
    model = mlp(seed, outputs=1)
    return Trainer(model, nn.SSELoss(), SGD(model.parameters(), lr=0.01, momentum=0.9))


def fit_regressor(trainer: Trainer, batch: int):
    p = problem()
    return trainer.fit(
        (p["x"], p["t"]), epochs=10, batch_size=batch, validation_split=0.25, verbose=0
    )


# -- 4. stop requests from one rank only --------------------------------------------------------
class StopAfterStep(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if self.trainer.global_step == self.step:
            self.trainer.stop_training = True


class StopAtEpoch(StoppingCondition):
    def check(self, epoch, logs, trainer):
        return "rank 1 says stop" if epoch == 1 else None


def stop_runs() -> dict[str, list]:
    mine = dist.rank() == 1
    a = classifier()
    fit_classifier(a, 10, 16, callbacks=[StopAfterStep(5)] if mine else [])
    b = classifier()
    fit_classifier(b, 10, 16, callbacks=[StopAtEpoch()] if mine else [])
    return {
        "step_stop": [a.epoch, a.global_step, a.stop_reason],
        "epoch_stop": [b.epoch, b.global_step, b.stop_reason],
        "weights": {k: v.tolist() for k, v in weights(a.model).items()},
    }


def record_saves(out: Path) -> None:
    """Log every gs.save call with this rank, to check that only rank 0 writes."""
    import gradstep.io as io

    original = io.save
    log = out / f"saves-{dist.rank()}.txt"

    def save(obj, path, metadata=None):
        with open(log, "a") as f:
            f.write(f"{Path(path).name}\n")
        return original(obj, path, metadata=metadata)

    io.save = save


def train_scenarios(out: Path) -> None:
    record_saves(out)
    api, clipped = api_run(16, distributed=True)
    api_flat, _ = api_run(16, distributed=True, flat=True)
    api_captured, was_captured = captured_api_run(16)

    trainer = classifier(seed=7 + dist.rank())  # other weights on rank 1: fit broadcasts
    writers = [
        CSVLogger(out / "log.csv"),
        ModelCheckpoint(out / "best.safetensors", monitor="val_loss", save_best_only=True),
    ]
    fit_classifier(trainer, 10, 16, callbacks=writers)
    trainer.save(out / "state10.safetensors")
    history = fit_classifier(trainer, 25, 16, callbacks=writers, resume=out / "state10.safetensors")

    reg = regressor()
    reg_history = fit_regressor(reg, 16)
    stops = stop_runs()
    (out / f"stops-{dist.rank()}.json").write_text(json.dumps(stops))
    if dist.is_main():
        np.savez(out / "api.npz", clipped=clipped, **api)
        np.savez(out / "api_flat.npz", **api_flat)
        np.savez(out / "api_captured.npz", captured=was_captured, **api_captured)
        np.savez(out / "fit.npz", **weights(trainer.model))
        np.savez(out / "reg.npz", **weights(reg.model))
        (out / "history.json").write_text(
            json.dumps(
                {
                    "fit": history.history,
                    "reg": reg_history.history,
                    # the unweighted fit replays its forward-backward between the exchanges
                    "reg_replayed": reg._forward_backward is not None
                    and reg._forward_backward.captured,
                }
            )
        )


# -- faults: a rank that raises, a rank that is killed ---------------------------------------------
class Fail(Callback):
    def __init__(self, how: str) -> None:
        self.how = how

    def on_train_batch_begin(self, batch, logs=None):
        if self.trainer.global_step == 3:
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("rank 1 fails on purpose")


def fault(how: str, out: Path) -> None:
    trainer = classifier()
    fit_classifier(trainer, 50, 16, callbacks=[Fail(how)] if dist.rank() == 1 else [])
    (out / f"finished-{dist.rank()}").write_text("the job went on")


if __name__ == "__main__":
    name, where = sys.argv[1], Path(sys.argv[2])
    dist.init()
    if name == "train":
        train_scenarios(where)
    else:
        fault(name, where)
