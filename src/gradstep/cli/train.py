"""``gradstep train [CONFIG.toml] [--section.key VALUE ...]``: train and write a run directory.

The run directory holds config.toml (the resolved settings, which repeat the run), metrics.csv,
model.safetensors (final weights, PyTorch names), best.safetensors (best val_loss),
state.safetensors (the whole training state, for ``--resume``), summary.json and curves.png,
and what the pictures of ``gradstep plot`` / ``report`` are drawn from: steps.csv (every step's
loss, lr and gradient norm), gradient_health.json and, for 2-D classification, boundary.npz.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import itertools
import json
import math
import os
import secrets
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from .. import config as C
from .. import distributed as dist
from ..plain import to_plain
from ..train.callbacks import Callback, CSVLogger, ModelCheckpoint
from . import _build as B
from . import _dataset as D
from ._common import fail, print_json, split_flags

USAGE = """\
usage: gradstep train [CONFIG.toml] [--section.key VALUE ...] [--resume RUN] [--nproc N]
                      [--json] [--debug]

Train a model. Settings come from the defaults, then CONFIG.toml, then the flags (each key of the
config is a flag: --optimizer.lr 0.01, --model.hidden 64,32; - and _ are the same). With no
arguments: an MLP on the digits with Adam and warm-up, in a few seconds.

options:
  --resume RUN   continue an interrupted run (runs/<name>) up to its train.epochs
  --nproc N      train data-parallel on N local processes (starts mpiexec; data.batch_size is
                 per process; the gradstep[mpi] extra). `mpiexec -n N gradstep train ...` is the
                 same on a cluster; rank 0 writes the one run directory
  --json         print a JSON summary as the last line of standard output
  --debug        show the traceback of an error
  -h, --help     show this help

The run is written to output.dir/<time>-<hash>/: config.toml (repeat it with
`gradstep train runs/<name>/config.toml`), metrics.csv, model.safetensors, best.safetensors,
state.safetensors, summary.json, curves.png, steps.csv and gradient_health.json (and boundary.npz
for 2-D classification): `gradstep plot RUN` and `gradstep report RUN` draw from them.

settings (flag, default, meaning):
"""

INTERRUPT_ENV = "GRADSTEP_TEST_INTERRUPT_STEP"
"""Tests set this to N to raise KeyboardInterrupt before optimizer step N (a simulated Ctrl-C), or
to N:TERM / N:KILL to send the process that signal there."""


class _Snapshot(Callback):
    """Keeps a copy of the training state at the start of every epoch, so that Ctrl-C (or
    SIGTERM) saves a state that resumes exactly (the one of the last epoch boundary), and writes
    it to ``path`` every ``every`` epochs (0: only at the end or on an interrupt), so that even a
    killed run leaves a state to resume."""

    main_process_only = True

    def __init__(self, path: Path | None = None, every: int = 0) -> None:
        self.saved: tuple[dict[str, np.ndarray], dict[str, Any]] | None = None
        self.path, self.every = path, every
        self._first: int | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.saved = self.trainer.state()  # a snapshot: arrays and history are copies
        if self._first is None:
            self._first = epoch
        elif self.every and self.path is not None and (epoch - self._first) % self.every == 0:
            self.write(self.path)

    def write(self, path: Path) -> int:
        from ..io import save

        if self.saved is None:
            self.saved = self.trainer.state()
        arrays, meta = self.saved
        with _no_interrupts():  # a second Ctrl-C waits for the save instead of losing it
            save(arrays, path, metadata=meta)
        return int(meta["epoch"])


@contextlib.contextmanager
def _no_interrupts() -> Any:
    """Ignore Ctrl-C and SIGTERM inside (the main thread only); the previous handlers after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Any:
    """SIGTERM (a scheduler or `kill` ending the job) handled as Ctrl-C: the state is saved."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


class _InterruptAt(Callback):
    """Before optimizer step ``step``: raises KeyboardInterrupt (a simulated Ctrl-C), or sends
    this process SIGTERM or SIGKILL (``"N:TERM"``, ``"N:KILL"``) — the tests' hook, no sleeps."""

    def __init__(self, spec: str) -> None:
        step, _, how = spec.partition(":")
        self.step, self.how = int(step), how.upper() or "INT"

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self.trainer.global_step >= self.step:
            if self.how == "INT":
                raise KeyboardInterrupt
            os.kill(os.getpid(), getattr(signal, f"SIG{self.how}"))


def run(args: list[str]) -> int:
    own = {"--resume": True, "--json": False, "--nproc": True, "-h": False, "--help": False}
    positionals, flags, options = split_flags(args, own)
    if options.get("-h") or options.get("--help"):
        sys.stdout.write(USAGE + C.format_help())
        return 0
    if len(positionals) > 1:
        fail(f"train takes one config file, got {len(positionals)}: {' '.join(positionals)}")
    resume = options.get("--resume")
    if resume is not None and positionals:
        fail("pass either a config file or --resume RUN, not both")
    as_json = bool(options.get("--json"))
    if resume is not None:
        run_dir = Path(resume)
        if run_dir.suffix == ".toml" or run_dir.name.endswith(".safetensors"):
            run_dir = run_dir.parent
        if not (run_dir / "config.toml").is_file():
            fail(f"--resume {resume}: no config.toml there; pass a run directory (runs/<name>).")
        if not (run_dir / "state.safetensors").is_file():
            fail(f"--resume {resume}: no state.safetensors there; the run cannot be continued.")
        source = str(run_dir / "config.toml")
    else:
        run_dir = None
        source = positionals[0] if positionals else None
    data_in = C.load_file(source) if source else None
    cfg, _ = C.resolve(data_in, flags, source=source or "the defaults")
    nproc = _nproc(options.get("--nproc"))
    if nproc > 1 and dist.world_size() == 1:  # the settings are checked: start the processes
        return dist.launch(nproc, ["train", *_without_nproc(args)])
    if dist.world_size() > 1:
        return _train_or_abort(cfg, run_dir, as_json)
    return train(cfg, run_dir=run_dir, as_json=as_json)


def _nproc(text: Any) -> int:
    """--nproc's value: a positive number of processes (1 when not given); under mpiexec it
    must be the number mpiexec started."""
    if text is None:
        return dist.world_size()
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        fail(f"--nproc needs a positive number of processes, got {text!r}")
    world = dist.world_size()
    if world > 1 and n != world:
        fail(f"--nproc {n} under an mpiexec that started {world} processes; drop --nproc")
    return n


def _without_nproc(args: list[str]) -> list[str]:
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == "--nproc":
            skip = True
        elif not a.startswith("--nproc="):
            out.append(a)
    return out


def _train_or_abort(cfg: dict[str, Any], run_dir: Path | None, as_json: bool) -> int:
    """Train as one of several MPI processes: an error on any of them ends the job on all,
    with its message, instead of leaving the others waiting (see gradstep.distributed)."""
    from ._common import CLIError

    try:
        return train(cfg, run_dir=run_dir, as_json=as_json)
    except (CLIError, C.ConfigError, ValueError, TypeError, KeyError, OSError, ImportError) as e:
        dist.abort(str(e), 2)
    except Exception as err:
        traceback.print_exc()
        dist.abort(f"{type(err).__name__}: {err} (this looks like a bug)", 1)
    return 1


def train(cfg: dict[str, Any], run_dir: Path | None = None, as_json: bool = False) -> int:
    """Build the run from a resolved config and train it (``run_dir`` set: resume that run)."""
    from ..io import load as load_checkpoint
    from ..io import save as save_weights
    from ..random import manual_seed

    cfg = copy.deepcopy(cfg)
    if cfg["train"]["seed"] == -1:
        cfg["train"]["seed"] = secrets.randbelow(2**31 - 1)
    cfg["train"]["seed"] = dist.broadcast_object(cfg["train"]["seed"])  # under MPI: rank 0's
    main = dist.is_main()  # under MPI only rank 0 prints and writes
    manual_seed(cfg["train"]["seed"])
    B.apply_threads(cfg)
    data = D.load_data(cfg)
    cfg = B.settle(_per_process_warmup(cfg, data), data)
    layers = B.architecture(cfg, data)
    model = B.build_model(layers, cfg["model"]["dtype"])
    stops = B.build_stops(cfg)
    verbose = cfg["train"]["verbose"]
    resuming = run_dir is not None
    if resuming:
        state = load_checkpoint(run_dir / "state.safetensors")
        saved = state.metadata
        done = int(saved.get("epoch", 0)) if isinstance(saved, dict) else 0
        finished = (run_dir / "summary.json").is_file()  # else killed while finishing
        if done >= cfg["train"]["epochs"] and (finished or done > cfg["train"]["epochs"]):
            fail(
                f"--resume {run_dir}: the run already has {done} epochs; pass "
                f"--train.epochs N with N > {done} to train further."
            )
        _check_resumable(state, model, run_dir)  # before anything in the run is rewritten
    else:
        run_dir = dist.broadcast_object(_new_run_dir(cfg) if main else None)
    meta = B.meta_for(cfg, data, layers)
    if main:
        (run_dir / "config.toml").write_text(C.dumps(cfg, meta))

    state_path = run_dir / "state.safetensors"
    snapshot = _Snapshot(state_path, cfg["train"]["save_every"])
    callbacks: list[Callback] = [CSVLogger(run_dir / "metrics.csv")]
    if data.val is not None:
        callbacks.append(
            ModelCheckpoint(run_dir / "best.safetensors", monitor="val_loss", save_best_only=True)
        )
    callbacks.append(snapshot)
    recorders = _recorders(data)
    callbacks.extend(recorders)
    interrupt_at = os.environ.get(INTERRUPT_ENV)
    if interrupt_at:
        callbacks.append(_InterruptAt(interrupt_at))
    trainer = B.trainer_for(cfg, model, callbacks)
    if verbose and main:
        what = "resuming" if resuming else "training"
        world = dist.world_size()
        on = f" on {world} processes (batch per process)" if world > 1 else ""
        print(f"{what} {_describe(cfg, data)}{on} -> {run_dir}", flush=True)
    start = time.perf_counter()
    try:
        with _sigterm_as_interrupt():
            history = _fit(trainer, data, cfg, stops, verbose, state_path if resuming else None)
    except KeyboardInterrupt:
        if not main:
            return 130
        epoch = snapshot.write(state_path)
        print(
            f"\ninterrupted: saved the state after {epoch} epochs to {state_path}; continue with "
            f"`gradstep train --resume {run_dir}`",
            file=sys.stderr,
            flush=True,
        )
        return 130
    seconds = time.perf_counter() - start
    if not main:
        return 0
    trainer.save(state_path)
    weights_meta = {
        k: meta[k]
        for k in ("task", "n_features", "n_outputs", "architecture", "target_names")
        if k in meta
    }
    save_weights(model.state_dict(), run_dir / "model.safetensors", metadata=weights_meta)
    summary = _summary(trainer, history, data, run_dir, seconds, cfg)
    on_disk = {**summary, "architecture": layers}  # evaluate / predict can rebuild the model
    _write_atomically(run_dir / "summary.json", json.dumps(to_plain(on_disk), indent=2) + "\n")
    _write_records(run_dir, trainer, recorders, data)
    if cfg["output"]["plot"]:
        _plot(run_dir, verbose)
    if verbose:
        _print_result(summary)
    if as_json:
        print_json(summary)
    return 0


def _per_process_warmup(cfg: dict[str, Any], data: Any) -> dict[str, Any]:
    """Under MPI an epoch takes ceil(ceil(n / processes) / batch) steps: an "auto" warm-up
    length (warmup_epochs × steps per epoch) is settled from that here, since the builders
    count the steps of one process over all the data."""
    sched, bs, world = cfg["schedule"], cfg["data"]["batch_size"], dist.world_size()
    if world == 1 or bs == "full" or sched.get("warmup_steps") != C.AUTO:
        return cfg
    if not str(sched.get("name", "")).startswith("warmup"):
        return cfg
    per_epoch = max(1, math.ceil(math.ceil(len(data.train) / world) / bs))
    total = cfg["train"]["epochs"] * per_epoch
    cfg = copy.deepcopy(cfg)
    steps = round(sched["warmup_epochs"] * per_epoch)
    cfg["schedule"]["warmup_steps"] = int(min(steps, max(total - 1, 0)))
    return cfg


def _write_atomically(path: Path, text: str) -> None:
    """Write beside ``path`` and rename over it: summary.json marks a finished run, so it must
    never be seen half-written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _fit(trainer: Any, data: Any, cfg: dict, stops: list, verbose: int, resume: Any) -> Any:
    return trainer.fit(
        data.train,
        epochs=cfg["train"]["epochs"],
        batch_size=cfg["data"]["batch_size"],
        val=data.val,
        stop=stops,
        verbose=verbose,
        shuffle=cfg["data"]["shuffle"],
        resume=resume,
        log_every_step=True,
        capture=None if cfg["train"]["capture"] else False,  # None: on, quiet if it cannot
    )


def _check_resumable(state: Any, model: Any, run_dir: Path) -> None:
    """Fail, before anything is written, when the saved weights do not fit the model the
    settings now describe (e.g. --model.hidden changed on --resume)."""
    from ..train.state import unpack

    try:
        model.load_state_dict(unpack(state, "model"))
    except (KeyError, ValueError, RuntimeError, TypeError) as err:
        fail(
            f"--resume {run_dir}: the saved weights do not fit the model these settings describe "
            f"({err}); resume with the run's own model settings (drop the --model.* flags), or "
            "start a new run"
        )


def _describe(cfg: dict[str, Any], data: Any) -> str:
    o = cfg["optimizer"]
    return (
        f"{data.name} ({len(data.train)} train samples) with {o['name']} lr {o['lr']:g}, "
        f"batch {cfg['data']['batch_size']}, {cfg['train']['epochs']} epochs"
    )


def _new_run_dir(cfg: dict[str, Any]) -> Path:
    base = Path(cfg["output"]["dir"])
    stem = cfg["output"]["name"] or f"{time.strftime('%Y%m%d-%H%M%S')}-{C.config_hash(cfg)}"
    if "/" in stem or stem in (".", ".."):
        fail(f"output.name {stem!r} must be a plain folder name (no '/').")
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        fail(f"cannot create output.dir {base} ({err.strerror}); pass a writable --output.dir.")
    for i in itertools.count(1):
        candidate = base / (stem if i == 1 else f"{stem}-{i}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        except OSError as err:
            fail(
                f"cannot create the run directory {candidate} ({err.strerror}); pass a "
                "writable --output.dir."
            )
        return candidate
    raise AssertionError("unreachable")


def _summary(
    trainer: Any, history: Any, data: Any, run_dir: Path, seconds: float, cfg: dict[str, Any]
) -> dict[str, Any]:
    h = history.history
    result: dict[str, Any] = {"run_dir": str(run_dir)}
    for split in ("train", "val", "test"):
        part = getattr(data, split)
        if part is not None:
            result[split] = trainer.evaluate(part)
    result["epochs"] = trainer.epoch
    result["seconds"] = round(seconds, 3)
    result["stop_reason"] = trainer.stop_reason or f"reached {cfg['train']['epochs']} epochs"
    if "val_loss" in h and h["val_loss"]:
        vals = np.asarray(h["val_loss"], dtype=float)
        best = int(np.nanargmin(vals)) if np.isfinite(vals).any() else None
        if best is not None:
            result["best_epoch"] = best + 1
            result["best_val_loss"] = float(vals[best])
    result["dataset"] = data.name
    result["task"] = data.task
    result["seed"] = cfg["train"]["seed"]
    return result


def _recorders(data: Any) -> list[Callback]:
    """What a run records for its pictures: per-layer gradient health (about 200 points over the
    run) and, for a 2-D classification dataset, the decision boundary at a few epochs."""
    from ..train.gradient_health import GradientHealth

    out: list[Callback] = [GradientHealth()]
    x = getattr(data.train, "arrays", (None,))[0]
    if data.task == "classification" and x is not None and x.ndim == 2 and x.shape[1] == 2:
        from ..viz.boundary import BoundaryRecorder

        out.append(BoundaryRecorder(x))
    return out


def _write_records(run_dir: Path, trainer: Any, recorders: list[Callback], data: Any) -> None:
    """steps.csv (every step's loss, lr and gradient norm), gradient_health.json and, for 2-D
    classification, boundary.npz (snapshots with the training points): the data behind
    `gradstep plot` and `gradstep report`."""
    sh = trainer.history.step_history
    n = len(sh.get("loss", []))
    first = trainer.global_step - n  # steps taken before step logging began (an older run)
    per = trainer.steps_per_epoch or max(n, 1)
    with open(run_dir / "steps.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "epoch", "loss", "lr", "grad_norm"])
        for i in range(n):
            step = first + i + 1
            row = [sh[k][i] if i < len(sh.get(k, [])) else "" for k in ("loss", "lr", "grad_norm")]
            w.writerow([step, (step - 1) // per + 1, *(repr(float(v)) for v in row)])
    for rec in recorders:
        if hasattr(rec, "as_dict"):
            text = json.dumps(to_plain(rec.as_dict()), indent=1)
            (run_dir / "gradient_health.json").write_text(text + "\n")
        elif hasattr(rec, "as_arrays") and rec.epochs:
            x, y = data.train.arrays[0], data.train.arrays[1]
            np.savez_compressed(run_dir / "boundary.npz", **rec.as_arrays(), x=x, y=y)


def _plot(run_dir: Path, verbose: int) -> None:
    """curves.png from the files just written (what `gradstep plot RUN` draws again)."""
    try:
        from ..viz.curves import plot_run

        plot_run(run_dir)
    except ImportError as err:
        if verbose:
            print(f"note: curves.png not drawn ({err})", file=sys.stderr)


def _print_result(summary: dict[str, Any]) -> None:
    parts = []
    for split in ("train", "val", "test"):
        if split in summary:
            parts.append(split + " " + " ".join(f"{k} {v:.4f}" for k, v in summary[split].items()))
    print(" · ".join(parts))
    print(
        f"{summary['epochs']} epochs in {summary['seconds']:.1f} s ({summary['stop_reason']}); "
        f"run saved in {summary['run_dir']}",
        flush=True,
    )
