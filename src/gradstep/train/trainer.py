"""Trainer: Keras's fit / evaluate / predict on the engine, the optimizers and the data loaders."""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..data.dataset import Dataset, TensorDataset, check_finite, to_numpy
from ..data.loader import DataLoader
from ..tensor import Tensor
from . import metrics as M
from .callbacks import Callback, CallbackList, History
from .progress import ProgressDisplay
from .stopping import StoppingCondition, as_conditions

STATE_KIND = "gradstep.training_state"


class Trainer:
    """Trains ``model`` with ``loss`` and ``optimizer``; ``fit`` returns the History.

    ``metrics`` default by task: accuracy for classification losses (argmax for CE/NLL,
    logit > 0 for BCEWithLogits, p > 0.5 for BCE); mse, mae and r2 for regression losses.
    ``scheduler`` is stepped per batch or per epoch as its ``interval`` says.
    """

    def __init__(
        self,
        model: Any,
        loss: Any,
        optimizer: Any,
        metrics: Sequence[Any] | None = None,
        scheduler: Any = None,
        callbacks: Iterable[Callback] = (),
        *,
        grad_clip: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not callable(model) or not hasattr(model, "parameters"):
            raise TypeError(f"model must be a gs.nn.Module, got {type(model).__name__}.")
        self.model = model
        self.loss_fn = _resolve_loss(loss)
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "param_groups"):
            raise TypeError(
                f"optimizer must be a gs.optim optimizer (SGD, Adam, ...), got "
                f"{type(optimizer).__name__}."
            )
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.callbacks = list(callbacks)
        self.task = getattr(self.loss_fn, "task", None)
        self.target_kind = getattr(self.loss_fn, "target_kind", None)
        self.rule = _prediction_rule(self.loss_fn)
        self.metric_specs = list(metrics) if metrics is not None else _default_metrics(self.task)
        for spec in self.metric_specs:
            name = spec if isinstance(spec, str) else getattr(spec, "name", "")
            if self.task == "regression" and str(name).lower() in M.CLASSIFICATION_METRICS:
                raise ValueError(
                    f"metric {name!r} needs a classification loss, but "
                    f"{type(self.loss_fn).__name__} is a regression loss; use 'mse', 'mae' or "
                    "'r2', or a classification loss."
                )
            M.get_metric(spec, self.rule)  # validate names now
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"grad_clip must be > 0 or None, got {grad_clip!r}.")
        self.grad_clip = grad_clip
        self._clock = clock
        self.history = History()
        self.epoch = 0  # epochs completed
        self.global_step = 0  # optimizer steps taken
        self.stop_training = False
        self.stop_reason: str | None = None
        self.target_epochs: int | None = None
        self.steps_per_epoch: int | None = None
        self.loader_seed: int | None = None
        self._stop_conditions: list[StoppingCondition] = []
        self._restored_stop_state: list[Any] | None = None
        self._restored_callback_state: dict[str, Any] | None = None

    # -- data --------------------------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        for p in self.model.parameters():
            return p.data.dtype
        from ..backend import get_default_dtype

        return get_default_dtype()

    def _as_dataset(self, data: Any, what: str) -> Dataset:
        if isinstance(data, Dataset):
            return data
        if isinstance(data, tuple | list) and len(data) == 2:
            x, y = data
            x = check_finite(to_numpy(x), f"{what} inputs (x)")
            y = to_numpy(y)
            if y.dtype.kind == "f":
                check_finite(y, f"{what} targets (y)")
            if len(x) != len(y):
                raise ValueError(
                    f"{what} x has {len(x)} samples but y has {len(y)}; pass arrays with the "
                    "same first dimension."
                )
            return TensorDataset(x, y, float_dtype=None, validate=False)  # checked above
        raise TypeError(
            f"{what} data must be a Dataset, a DataLoader or an (x, y) pair of arrays, got "
            f"{type(data).__name__}."
        )

    def _prepare(self, ds: Dataset, what: str) -> Dataset:
        """Cast in-memory features (and regression targets) once to the model's dtype and check
        labels against the loss."""
        if not isinstance(ds, TensorDataset):
            return ds
        arrays = list(ds.arrays)
        dt = self.dtype
        changed = False
        if arrays[0].dtype.kind in "biuf" and arrays[0].dtype != dt:
            arrays[0] = arrays[0].astype(dt)
            changed = True
        if len(arrays) > 1:
            y = arrays[1]
            if self.target_kind == "index":
                if y.dtype.kind == "f":
                    if y.size and np.all(y == np.round(y)) and y.ndim == 1:
                        y = y.astype(np.int64)
                    elif y.ndim < 2:
                        raise TypeError(
                            f"{what} targets are floats but {type(self.loss_fn).__name__} needs "
                            "class indices; pass integer labels (y.astype(int))."
                        )
                if y.dtype.kind in "iu" and y.size and y.min() < 0:
                    ignore = getattr(self.loss_fn, "ignore_index", None)
                    bad = y[(y < 0) & (y != ignore)] if ignore is not None else y[y < 0]
                    if bad.size:
                        raise ValueError(
                            f"{what} labels must be class indices >= 0, found {int(bad.min())}; "
                            "map the labels to 0..n_classes-1."
                        )
            elif y.dtype.kind in "biuf" and y.dtype != dt:
                y = y.astype(dt)
            if y is not arrays[1]:
                arrays[1] = y
                changed = True
        return TensorDataset(*arrays, float_dtype=None, validate=False) if changed else ds

    def _loader(self, data: Any, batch_size: Any, shuffle: bool, what: str) -> DataLoader:
        if isinstance(data, DataLoader):
            return data
        ds = self._prepare(self._as_dataset(data, what), what)
        if self.loader_seed is None:
            self.loader_seed = int(_random.get_generator().integers(2**31 - 1))
        return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, seed=self.loader_seed)

    def _check_classes(self, out: np.ndarray, loader: DataLoader, what: str) -> None:
        if self.target_kind != "index" or out.ndim < 2:
            return
        ds = loader.dataset
        if isinstance(ds, TensorDataset) and len(ds.arrays) > 1:
            y = ds.arrays[1]
            if y.dtype.kind in "iu" and y.size:
                top = int(y.max())
                n = out.shape[1]
                if top >= n:
                    raise ValueError(
                        f"{what} labels go up to {top} but the model outputs {n} classes; "
                        f"give the last layer {top + 1} outputs."
                    )

    # -- training ------------------------------------------------------------------------------
    def fit(
        self,
        train: Any = None,
        epochs: int = 1,
        batch_size: int | str = 32,
        val: Any = None,
        stop: Any = None,
        callbacks: Iterable[Callback] = (),
        verbose: int = 1,
        resume: str | os.PathLike | None = None,
        *,
        validation_data: Any = None,
        shuffle: bool = True,
        log_every_step: bool = False,
        x: Any = None,
        y: Any = None,
    ) -> History:
        """Train for ``epochs`` more epochs (or, with ``resume=path``, up to ``epochs`` in total),
        stopping early when any condition in ``stop`` fires or a callback sets
        ``trainer.stop_training``. Returns the History of every epoch so far.

        A schedule that needs ``total_steps`` and was given none is sized here, from the epochs
        this call will reach; give ``total_steps`` explicitly when a run is split over several
        calls (or resumed) and must follow one schedule. The epoch's ``loss`` is the mean over
        samples, or the sum over the epoch for a loss with ``reduction="sum"`` (SSELoss: the
        textbook's total error E)."""
        if val is not None and validation_data is not None:
            raise TypeError("pass validation data as val= or validation_data=, not both.")
        val = val if val is not None else validation_data
        if train is None and x is not None:
            train = (x, y)
        if train is None:
            raise TypeError("fit() needs training data: a Dataset, a DataLoader or (x, y).")
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative int, got {epochs!r}.")
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}.")
        conditions = as_conditions(stop)
        if resume is not None:
            self.load(resume)
            target = epochs
            if target < self.epoch:
                raise ValueError(
                    f"the saved run already has {self.epoch} epochs; pass epochs >= {self.epoch} "
                    "(the total to reach)."
                )
        else:
            target = self.epoch + epochs
        self.target_epochs = target
        if self._restored_stop_state is not None:
            for cond, st in zip(conditions, self._restored_stop_state):
                if st is not None and st.get("class") == type(cond).__name__:
                    cond.load_state_dict(st.get("state", {}))
                    if hasattr(cond, "load_arrays") and "arrays" in st:
                        cond.load_arrays(st["arrays"])
            self._restored_stop_state = None
        self._stop_conditions = conditions

        loader = self._loader(train, batch_size, shuffle, "training")
        val_loader = None if val is None else self._loader(val, 256, False, "validation")
        n_batches = len(loader)
        if n_batches == 0:
            raise ValueError(
                "the training data gives no batches (empty, or drop_last with fewer samples than "
                "batch_size); pass more data or a smaller batch_size."
            )
        self.steps_per_epoch = n_batches
        sched = self.scheduler
        if sched is not None and getattr(sched, "needs_total_steps", False) is True:
            sched.set_total_steps(target * n_batches)
        per_step_sched = sched is not None and getattr(sched, "interval", "epoch") == "step"

        cbs = [self.history, *self.callbacks, *callbacks]
        if verbose:
            cbs.append(ProgressDisplay(verbose=verbose))
        cblist = CallbackList(cbs, self)
        if self._restored_callback_state is not None:
            for cb in cbs[1:]:
                st = self._restored_callback_state.get(_cb_key(cb, cbs))
                if st is not None:
                    cb.load_state_dict(st)
            self._restored_callback_state = None
        self.stop_training = False
        self.stop_reason = None
        for cond in conditions:
            cond.on_train_begin(self)
        cblist.call("on_train_begin", {})
        try:
            # Divergence is detected and reported by the loop; NumPy's overflow warnings on the
            # way there would only repeat it.
            with np.errstate(over="ignore", invalid="ignore"):
                while self.epoch < target and not self.stop_training:
                    self._run_epoch(loader, val_loader, cblist, per_step_sched, log_every_step)
        finally:
            for cond in conditions:
                cond.on_train_end(self)
            self.history.stopped_by = self.stop_reason
            cblist.call("on_train_end", {})
        return self.history

    def _run_epoch(
        self,
        loader: DataLoader,
        val_loader: DataLoader | None,
        cblist: CallbackList,
        per_step_sched: bool,
        log_every_step: bool,
    ) -> None:
        epoch = self.epoch
        model, opt, loss_fn = self.model, self.optimizer, self.loss_fn
        loader.set_epoch(epoch)
        t0 = self._clock()
        cblist.call("on_epoch_begin", epoch, {})
        model.train()
        metrics = [M.get_metric(s, self.rule) for s in self.metric_specs]
        for m in metrics:
            m.reset()
        params = [p for g in opt.param_groups for p in g["params"]]
        batch_begin = cblist.has("on_train_batch_begin")
        batch_end = cblist.has("on_train_batch_end")
        dt = self.dtype
        loss_sum = 0.0
        n_seen = 0
        gn_sum = 0.0
        lr = opt.param_groups[0]["lr"]
        summed = getattr(loss_fn, "reduction", "mean") == "sum"
        first = epoch == 0 or self.global_step == 0
        for b, batch in enumerate(loader):
            xb, yb = batch[0], batch[1]
            if xb.dtype != dt and xb.dtype.kind in "biuf":
                xb = xb.astype(dt)
            if batch_begin:
                cblist.call("on_train_batch_begin", b, {})
            opt.zero_grad()
            out = model(Tensor._make(xb))
            if first:
                self._check_classes(out.data, loader, "training")
                first = False
            if (
                self.target_kind != "index"
                and yb.dtype != out.data.dtype
                and yb.dtype.kind in "biuf"
            ):
                yb = yb.astype(out.data.dtype)
            loss = loss_fn(out, yb)
            lv = float(loss.data)
            if not math.isfinite(lv):
                self._diverged("loss", lv, epoch, b)
                break
            loss.backward()
            gn = _grad_norm(params)
            if not math.isfinite(gn):
                self._diverged("gradient norm", gn, epoch, b)
                break
            if self.grad_clip is not None and gn > self.grad_clip:
                scale = self.grad_clip / (gn + 1e-6)
                for p in params:
                    if p.grad is not None:
                        p.grad *= scale
            lr = opt.param_groups[0]["lr"]
            opt.step()
            if per_step_sched:
                self.scheduler.step()
            self.global_step += 1
            n = xb.shape[0]
            loss_sum += lv if summed else lv * n
            n_seen += n
            gn_sum += gn
            for m in metrics:
                m.update(out.data, yb)
            if log_every_step:
                sh = self.history.step_history
                sh.setdefault("loss", []).append(lv)
                sh.setdefault("lr", []).append(lr)
                sh.setdefault("grad_norm", []).append(gn)
            if batch_end:
                cblist.call("on_train_batch_end", b, {"loss": lv, "size": n})
            if self.stop_training:
                break
        steps = max(b + 1, 1) if n_seen else 1
        logs: dict[str, float] = {"loss": loss_sum if summed else loss_sum / max(n_seen, 1)}
        for m in metrics:
            logs[m.name] = float(m.result())
        if any(c.needs_max_error for c in self._stop_conditions) and not self.stop_training:
            logs["max_error"] = self._max_error(loader)
        if val_loader is not None and not self.stop_reason:
            for k, v in self._evaluate_loader(val_loader, cblist).items():
                logs[f"val_{k}"] = v
        logs["lr"] = float(lr)
        logs["grad_norm"] = gn_sum / steps
        logs["time"] = self._clock() - t0
        if self.stop_reason is None or n_seen:
            self.epoch += 1
        sched = self.scheduler
        if sched is not None and not per_step_sched and not self.stop_reason:
            from ..optim.lr_scheduler import ReduceLROnPlateau

            if isinstance(sched, ReduceLROnPlateau):
                key = getattr(sched, "monitor", None) or (
                    "val_loss" if "val_loss" in logs else "loss"
                )
                sched.step(logs[key])
            else:
                sched.step()
        cblist.call("on_epoch_end", epoch, logs)
        if self.stop_reason is None:
            for cond in self._stop_conditions:
                reason = cond.check(epoch, logs, self)
                if reason:
                    self.stop_reason = reason
                    self.stop_training = True
                    break
        elif not self.stop_training:
            self.stop_training = True

    def _diverged(self, what: str, value: float, epoch: int, batch: int) -> None:
        lr = self.optimizer.param_groups[0]["lr"]
        self.stop_reason = (
            f"the {what} became {value} at epoch {epoch + 1}, batch {batch + 1} "
            f"(step {self.global_step + 1}); the weights of the last good step are kept — lower "
            f"the learning rate (now {lr:g}) or standardise the inputs"
        )
        self.stop_training = True
        self.diverged = True

    def _max_error(self, loader: DataLoader) -> float:
        worst = 0.0
        with no_grad():
            was = self.model.training
            self.model.eval()
            try:
                for batch in _plain_batches(loader):
                    xb, yb = batch[0], batch[1]
                    out = self.model(Tensor._make(xb.astype(self.dtype, copy=False))).data
                    worst = max(worst, M.max_error(*self._comparable(out, yb)))
            finally:
                self.model.train(was)
        return worst

    def _comparable(self, out: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outputs and targets on the same scale: probabilities vs one-hot for classification."""
        if self.target_kind == "index":
            e = np.exp(out - out.max(axis=-1, keepdims=True))
            p = e / e.sum(axis=-1, keepdims=True)
            onehot = np.zeros_like(p)
            onehot[np.arange(len(y)), y.astype(np.int64)] = 1
            return p, onehot
        if self.rule == "logit":
            return 1 / (1 + np.exp(-out)), y.reshape(out.shape)
        return out, y.reshape(out.shape)

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate(
        self, data: Any, batch_size: int | str = 256, verbose: int = 0
    ) -> dict[str, float]:
        """Loss and metrics on ``data`` (eval mode, no gradients)."""
        loader = self._loader(data, batch_size, False, "evaluation")
        res = self._evaluate_loader(loader, None)
        if verbose:
            from .progress import format_logs

            print(format_logs(res))
        return res

    def _evaluate_loader(self, loader: DataLoader, cblist: CallbackList | None) -> dict[str, float]:
        metrics = [M.get_metric(s, self.rule) for s in self.metric_specs]
        summed = getattr(self.loss_fn, "reduction", "mean") == "sum"
        loss_sum, n_seen = 0.0, 0
        if cblist is not None:
            cblist.call("on_test_begin", {})
        was = self.model.training
        self.model.eval()
        first = True
        try:
            with no_grad():
                for b, batch in enumerate(_plain_batches(loader)):
                    xb, yb = batch[0], batch[1]
                    out = self.model(Tensor._make(xb.astype(self.dtype, copy=False)))
                    if first:
                        self._check_classes(out.data, loader, "evaluation")
                        first = False
                    if self.target_kind != "index" and yb.dtype.kind in "biuf":
                        yb = yb.astype(out.data.dtype, copy=False)
                    lv = float(self.loss_fn(out, yb).data)
                    n = xb.shape[0]
                    loss_sum += lv if summed else lv * n
                    n_seen += n
                    for m in metrics:
                        m.update(out.data, yb)
                    if cblist is not None and cblist.has("on_test_batch_end"):
                        cblist.call("on_test_batch_end", b, {"loss": lv})
        finally:
            self.model.train(was)
        res = {"loss": loss_sum if summed else loss_sum / max(n_seen, 1)}
        for m in metrics:
            res[m.name] = float(m.result())
        if cblist is not None:
            cblist.call("on_test_end", res)
        return res

    def predict(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Model outputs for ``x`` as a NumPy array (batched, no gradients, eval mode)."""
        if isinstance(x, DataLoader | Dataset):
            loader = x if isinstance(x, DataLoader) else DataLoader(x, batch_size=batch_size)
            batches = (b[0] if isinstance(b, tuple | list) else b for b in _plain_batches(loader))
        else:
            arr = check_finite(to_numpy(x), "predict input")
            batches = (arr[i : i + batch_size] for i in range(0, len(arr), batch_size))
        outs = []
        was = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for xb in batches:
                    outs.append(
                        self.model(Tensor._make(np.asarray(xb).astype(self.dtype, copy=False))).data
                    )
        finally:
            self.model.train(was)
        if not outs:
            return np.zeros((0,), dtype=self.dtype)
        return np.concatenate(outs, axis=0)

    # -- saving and resuming -----------------------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The whole training state as (arrays, JSON metadata) — what :meth:`save` writes.

        A snapshot: arrays and history are copies, so training on does not change it."""
        from ..io import pack, save_optimizer_state

        arrays = pack({"model": self.model.state_dict()})
        opt_arrays, opt_json = save_optimizer_state(self.optimizer.state_dict(), prefix="optim")
        arrays.update(opt_arrays)
        stops = []
        for i, cond in enumerate(self._stop_conditions):
            entry: dict[str, Any] = {"class": type(cond).__name__, "state": cond.state_dict()}
            extra = cond.arrays() if hasattr(cond, "arrays") else {}
            if extra:
                entry["arrays"] = sorted(extra)
                for k, v in extra.items():
                    arrays[f"stop.{i}.{k}"] = v
            stops.append(entry)
        cb_states = {}
        all_cbs = [self.history, *self.callbacks]
        for cb in all_cbs[1:]:
            st = cb.state_dict()
            if st:
                cb_states[_cb_key(cb, all_cbs)] = st
        meta = {
            "kind": STATE_KIND,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "optimizer": opt_json,
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "rng": _random.get_rng_state(),
            "loader_seed": self.loader_seed,
            "history": copy.deepcopy(self.history.state_dict()),
            "stopping": stops,
            "callbacks": cb_states,
        }
        return arrays, meta

    def save(self, path: str | os.PathLike) -> None:
        """Write the whole training state (weights, optimizer, scheduler, epoch, RNG, history,
        callback state) to one .safetensors file, atomically; ``fit(resume=path)`` takes it."""
        from ..io import save

        arrays, meta = self.state()
        save(arrays, path, metadata=meta)

    def load(self, path: str | os.PathLike) -> None:
        """Restore a state written by :meth:`save` into this trainer's model and optimizer."""
        from ..io import CheckpointError, load, load_optimizer_state, unpack

        arrays, meta = load(path)
        if not isinstance(meta, dict) or meta.get("kind") != STATE_KIND:
            raise CheckpointError(
                f"{os.fspath(path)} is not a training state (it holds weights only?); pass a "
                "file written by Trainer.save, or load weights with "
                "model.load_state_dict(gs.load(path)[0])."
            )
        self.model.load_state_dict(unpack(arrays, "model"))
        self.optimizer.load_state_dict(load_optimizer_state(arrays, meta["optimizer"]))
        if self.scheduler is not None and meta.get("scheduler") is not None:
            self.scheduler.load_state_dict(meta["scheduler"])
        _random.set_rng_state(meta["rng"])
        self.epoch = int(meta["epoch"])
        self.global_step = int(meta["global_step"])
        self.loader_seed = meta.get("loader_seed")
        self.history.load_state_dict(meta.get("history", {}))
        stops = []
        for i, st in enumerate(meta.get("stopping", [])):
            st = dict(st)
            if "arrays" in st:
                st["arrays"] = {k: arrays[f"stop.{i}.{k}"] for k in st["arrays"]}
            stops.append(st)
        self._restored_stop_state = stops
        self._restored_callback_state = meta.get("callbacks", {})


def _cb_key(cb: Callback, cbs: list[Callback]) -> str:
    same = [c for c in cbs if type(c) is type(cb)]
    return f"{type(cb).__name__}.{same.index(cb)}"


def _plain_batches(loader: DataLoader) -> Iterable[Any]:
    """Iterate a loader without advancing its epoch counter (evaluation passes)."""
    return loader._batches(loader.order()) if hasattr(loader, "_batches") else iter(loader)


def _grad_norm(params: list[Tensor]) -> float:
    total = 0.0
    for p in params:
        g = p.grad
        if g is not None:
            flat = g.reshape(-1)
            total += float(np.dot(flat, flat))
    return math.sqrt(total)


def _resolve_loss(loss: Any) -> Any:
    if isinstance(loss, str):
        from ..nn import loss as L

        names = {
            "cross_entropy": L.CrossEntropyLoss,
            "crossentropy": L.CrossEntropyLoss,
            "ce": L.CrossEntropyLoss,
            "nll": L.NLLLoss,
            "mse": L.MSELoss,
            "sse": L.SSELoss,
            "l1": L.L1Loss,
            "bce": L.BCELoss,
            "bce_with_logits": L.BCEWithLogitsLoss,
        }
        cls = names.get(loss.lower().replace("-", "_"))
        if cls is None:
            raise ValueError(f"unknown loss {loss!r}; use one of {sorted(names)} or a loss module.")
        return cls()
    if not callable(loss):
        raise TypeError(
            f"loss must be a loss module (e.g. gs.nn.CrossEntropyLoss()), got {loss!r}."
        )
    return loss


def _prediction_rule(loss: Any) -> str:
    name = type(loss).__name__
    if name == "BCEWithLogitsLoss":
        return "logit"
    if name == "BCELoss":
        return "probability"
    return "argmax"


def _default_metrics(task: str | None) -> list[str]:
    if task == "classification":
        return ["accuracy"]
    if task == "regression":
        return ["mse", "mae", "r2"]
    return []
