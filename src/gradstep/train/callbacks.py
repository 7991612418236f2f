"""Callbacks with Keras's hook names, and the loggers / checkpointing built on them.

A callback sees the trainer as ``self.trainer`` (and the model as ``self.model``) and may stop
training by setting ``self.trainer.stop_training = True``. Batch hooks are only dispatched to
callbacks that define them, so an idle callback costs nothing per batch.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..plain import to_plain

_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class Callback:
    """Base class: override any of Keras's hooks. ``logs`` is a dict of floats."""

    trainer: Any = None

    @property
    def model(self) -> Any:
        return None if self.trainer is None else self.trainer.model

    def set_trainer(self, trainer: Any) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    # stateful callbacks save and restore their state with the run
    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def _defines(cb: Callback, hook: str) -> bool:
    """True when ``cb`` overrides ``hook`` (in its class, or on the instance as LambdaCallback)."""
    return hook in vars(cb) or getattr(type(cb), hook, None) is not getattr(Callback, hook)


class CallbackList:
    """Dispatches each hook to the callbacks that define it."""

    def __init__(self, callbacks: Iterable[Callback], trainer: Any) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be gs.train.Callback instances, got {type(cb).__name__}."
                )
            cb.set_trainer(trainer)
        self._by_hook = {
            h: [getattr(cb, h) for cb in self.callbacks if _defines(cb, h)] for h in _HOOKS
        }

    def has(self, hook: str) -> bool:
        return bool(self._by_hook[hook])

    def call(self, hook: str, *args: Any) -> None:
        for fn in self._by_hook[hook]:
            fn(*args)


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        for name, fn in hooks.items():
            if name not in _HOOKS:
                raise ValueError(f"unknown callback hook {name!r}; use one of {', '.join(_HOOKS)}.")
            setattr(self, name, fn)

    def set_trainer(self, trainer: Any) -> None:
        self.trainer = trainer


class History(Callback):
    """Per-epoch logs: ``history.history["loss"]`` is a list with one value per epoch (Keras)."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stopped_by: str | None = None
        self.step_history: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def state_dict(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "epoch": self.epoch,
            "stopped_by": self.stopped_by,
            "step_history": self.step_history,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = {k: list(v) for k, v in state.get("history", {}).items()}
        self.epoch = list(state.get("epoch", []))
        self.stopped_by = state.get("stopped_by")
        self.step_history = {k: list(v) for k, v in state.get("step_history", {}).items()}

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


class CSVLogger(Callback):
    """One CSV row per epoch; a resumed run appends to the same file under one header."""

    def __init__(
        self, filename: str | os.PathLike, separator: str = ",", append: bool = False
    ) -> None:
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        resumed = bool(self.trainer is not None and self.trainer.epoch > 0)
        exists = os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        if (self.append or resumed) and exists:
            with open(self.filename, newline="") as f:
                rows = list(csv.reader(f, delimiter=self.separator))
            header = rows[0] if rows else None
            self._keys = header[1:] if header else None
            if resumed:  # rows of epochs the resumed state has not seen (killed after the row)
                kept = [r for r in rows[1:] if r and _epoch_of(r[0]) < self.trainer.epoch]
                if len(kept) != len(rows) - 1:  # rewritten beside, then renamed over it
                    tmp = f"{self.filename}.{os.getpid()}.tmp"
                    with open(tmp, "w", newline="") as f:
                        csv.writer(f, delimiter=self.separator).writerows([header, *kept])
                    os.replace(tmp, self.filename)
        else:
            self._keys = None
            os.makedirs(os.path.dirname(os.path.abspath(self.filename)), exist_ok=True)
            open(self.filename, "w").close()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        write_header = self._keys is None
        if self._keys is None:
            self._keys = list(logs)
        with open(self.filename, "a", newline="") as f:
            w = csv.writer(f, delimiter=self.separator)
            if write_header:
                w.writerow(["epoch", *self._keys])
            w.writerow([epoch, *(_fmt(logs.get(k, "")) for k in self._keys)])


class JSONLinesLogger(Callback):
    """One JSON object per epoch ({"epoch": e, "loss": ...}) appended to a .jsonl file."""

    def __init__(self, filename: str | os.PathLike, append: bool = False) -> None:
        self.filename = os.fspath(filename)
        self.append = append

    def on_train_begin(self, logs: dict | None = None) -> None:
        resumed = bool(self.trainer is not None and self.trainer.epoch > 0)
        if not (self.append or resumed):
            os.makedirs(os.path.dirname(os.path.abspath(self.filename)), exist_ok=True)
            open(self.filename, "w").close()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row = {"epoch": epoch, **to_plain(dict(logs or {}))}
        with open(self.filename, "a") as f:
            f.write(json.dumps(row) + "\n")


class ModelCheckpoint(Callback):
    """Save the model's weights (a .safetensors file PyTorch can load): every epoch to
    ``filepath`` (which may contain ``{epoch}`` and log keys), or only when ``monitor`` improves
    with ``save_best_only``. ``last`` additionally names a file rewritten every epoch."""

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        last: str | os.PathLike | None = None,
    ) -> None:
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.last = None if last is None else os.fspath(last)
        self._sign = improvement_sign(monitor, mode)
        self.best: float | None = None
        self.best_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        from ..io import save

        logs = logs or {}
        weights = self.trainer.model.state_dict()
        meta = {"epoch": epoch + 1, **to_plain(dict(logs))}
        if self.last is not None:
            save(weights, self.last, metadata=meta)
        if self.save_best_only:
            if self.monitor not in logs and getattr(self.trainer, "stop_reason", None):
                return  # a diverged epoch has no validation: the best so far stays the best
            if self.monitor not in logs:
                raise KeyError(
                    f"ModelCheckpoint monitors {self.monitor!r}, which is not in the logs "
                    f"({', '.join(sorted(logs))}); pass validation data or change monitor."
                )
            value = float(logs[self.monitor])
            if math.isfinite(value) and (self.best is None or self._sign * (value - self.best) < 0):
                self.best, self.best_epoch = value, epoch
                save(weights, self._path(epoch, logs), metadata=meta)
        else:
            save(weights, self._path(epoch, logs), metadata=meta)

    def _path(self, epoch: int, logs: dict) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError):
            return self.filepath

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state.get("best")
        self.best_epoch = state.get("best_epoch")


class LearningRateMonitor(Callback):
    """Records the learning rate of every parameter group after each batch (``.lrs``) so a
    warm-up or schedule can be inspected; the epoch's logs carry ``lr`` anyway."""

    def __init__(self) -> None:
        self.lrs: list[list[float]] = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.lrs.append([g["lr"] for g in self.trainer.optimizer.param_groups])

    def state_dict(self) -> dict[str, Any]:
        return {"lrs": self.lrs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.lrs = [list(x) for x in state.get("lrs", [])]


class TerminateOnNaN(Callback):
    """Stop when a batch loss is NaN or infinite (the Trainer's divergence guard does this too)."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.trainer.stop_training = True


class LRSchedulerStep(Callback):
    """Steps the Trainer's learning-rate scheduler: after every batch (``interval="step"``) or
    after every epoch; a scheduler that reacts to a metric (``needs_metric``, as
    ReduceLROnPlateau) gets ``logs[monitor]``: its ``monitor`` attribute, else val_loss when
    logged, else loss. The Trainer puts a per-step one first in the callback list, so every
    other callback sees the lr of the next step, and a per-epoch one after the user's callbacks,
    so that a metric one of them adds to the logs can drive it."""

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler
        self.per_step = getattr(scheduler, "interval", "epoch") == "step"
        if self.per_step:  # defined on the instance so that epoch-wise ones cost nothing per batch
            self.on_train_batch_end = self._step_batch
        else:
            self.on_epoch_end = self._step_epoch

    def _step_batch(self, batch: int, logs: dict | None = None) -> None:
        self.scheduler.step()

    def _step_epoch(self, epoch: int, logs: dict | None = None) -> None:
        if self.trainer.stop_reason is not None:  # diverged: the epoch did not finish
            return
        sched = self.scheduler
        if getattr(sched, "needs_metric", False):
            logs = logs or {}
            key = getattr(sched, "monitor", None) or ("val_loss" if "val_loss" in logs else "loss")
            if key not in logs:
                raise KeyError(
                    f"{type(sched).__name__} monitors {key!r}, which is not in the epoch's logs "
                    f"({', '.join(sorted(logs))}); pass validation data or set its monitor."
                )
            sched.step(logs[key])
        else:
            sched.step()


class StepLogger(Callback):
    """Records every step's loss, learning rate and gradient norm in the History's
    ``step_history`` (what ``fit(log_every_step=True)`` adds)."""

    _KEYS = ("loss", "lr", "grad_norm")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        sh = self.trainer.history.step_history
        for k in self._KEYS:
            sh.setdefault(k, []).append((logs or {})[k])


def _fmt(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return repr(float(v))
    return v


def _epoch_of(cell: str) -> float:
    try:
        return int(cell)
    except ValueError:
        return float("inf")  # a torn last line: dropped


def improvement_sign(monitor: str, mode: str) -> int:
    """+1 when smaller values of ``monitor`` are better, -1 when larger are (``mode="auto"``:
    accuracy-like names are maximised, everything else minimised)."""
    if mode == "min":
        return 1
    if mode == "max":
        return -1
    name = monitor.removeprefix("val_")
    return -1 if any(k in name for k in ("acc", "r2", "f1", "precision", "recall")) else 1
