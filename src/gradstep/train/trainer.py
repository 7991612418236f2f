"""Trainer: Keras's fit / evaluate / predict on the engine, the optimizers and the data loaders.

Everything that reacts to training is a callback with Keras's hooks, in one list: the scheduler's
stepping, the History, the user's callbacks, stopping conditions and the progress display.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..data.coerce import check_class_count
from ..data.dataset import Dataset, check_finite, to_numpy
from ..data.loader import DataLoader
from ..data.split import Standardizer
from ..nn.registry import get_loss
from ..tensor import Tensor
from . import metrics as M
from .callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    History,
    JSONLinesLogger,
    LRSchedulerStep,
    ModelCheckpoint,
    StepLogger,
)
from .captured import ForwardBackward
from .epoch import run_epoch
from .fit_data import dataset_for, fit_loaders, loader_for
from .grad_norm import flatten_model
from .metric_batches import update as update_metrics
from .progress import ProgressDisplay
from .state import STATE_KIND, callback_key, restore_training_state, training_state
from .stopping import as_conditions
from .weighting import WeightedLoss

__all__ = ["STATE_KIND", "Trainer"]


class Trainer:
    """Trains ``model`` with ``loss`` and ``optimizer``; ``fit`` returns the History.

    ``metrics`` default by task: accuracy for classification losses (argmax for CE/NLL,
    logit > 0 for BCEWithLogits, p > 0.5 for BCE); mse, mae and r2 for regression losses.
    ``scheduler`` is stepped per batch or per epoch as its ``interval`` says (a built-in
    callback does it). ``grad_clip`` clips the gradients' global norm with
    ``nn.utils.clip_grad_norm_`` before every step; History's ``grad_norm`` is the norm before
    clipping. ``standardize=True`` fits a per-feature standardisation on the first fit's training
    part and applies it to every input from then on (training, validation, evaluate, predict);
    it is saved with the state, so raw inputs work after a resume. Without it nothing is applied.
    ``flatten=True`` (the default) lays the model's parameters and gradients out in one flat
    buffer each (``nn.flatten_parameters``): the optimizer then updates the whole model in one
    pass. Parameters keep their values and identities, but an array taken from ``p.data`` before
    the Trainer was built is no longer the parameter's memory; pass ``flatten=False`` to keep the
    arrays as they are.

    Started by ``mpiexec -n N``, ``fit`` trains data-parallel by itself (see
    ``gradstep.distributed``): ``batch_size`` is per process, every step averages the
    gradients (before clipping), metrics and validation are reduced exactly, and only rank 0
    prints and runs the callbacks that write files (``main_process_only``); ``save`` writes on
    rank 0 only. ``evaluate`` and ``predict`` run on each process's own, whole data.

    >>> trainer = gs.Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()))
    >>> history = trainer.fit((x, y), epochs=10, callbacks=[EarlyStopping(monitor="loss")])
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
        standardize: bool = False,
        flatten: bool = True,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not callable(model) or not hasattr(model, "parameters"):
            raise TypeError(f"model must be a gs.nn.Module, got {type(model).__name__}.")
        self.model = model
        self.loss_fn = get_loss(loss)
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "param_groups"):
            raise TypeError(
                f"optimizer must be a gs.optim optimizer (SGD, Adam, ...), got "
                f"{type(optimizer).__name__}."
            )
        self.optimizer = optimizer
        if not isinstance(flatten, bool):
            raise TypeError(f"flatten must be True or False, got {flatten!r}.")
        self.flattened = flatten and flatten_model(model)
        self.scheduler = scheduler
        self.callbacks = list(callbacks)
        self.task = getattr(self.loss_fn, "task", None)
        self.target_kind = getattr(self.loss_fn, "target_kind", None)
        self.rule = getattr(self.loss_fn, "prediction", "argmax")
        self.metric_specs = M.check_metrics(
            M.default_metrics(self.task) if metrics is None else list(metrics),
            self.task,
            self.rule,
            type(self.loss_fn).__name__,
        )
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
        self.diverged = False
        self.validation_indices: np.ndarray | None = None  # held out by validation_split
        if not isinstance(standardize, bool):
            raise TypeError(f"standardize must be True or False, got {standardize!r}.")
        self.standardize = standardize
        self.scaler: Standardizer | None = None  # fitted on the first fit's training part
        self.schedule_sized_by_fit = False
        self._fit_callbacks: list[Callback] = []  # those of the current (or last) fit beyond ours
        self._sync: Any = None  # the MPI side of the current fit (FitSync), None in one process
        self._capture = False  # replay each batch's forward and backward (fit's capture)
        self._capture_asked = False  # capture=True given: warn when it falls back
        self._forward_backward: ForwardBackward | None = None
        self._restored_callback_state: dict[str, Any] | None = None
        self._initial = (
            copy.deepcopy(optimizer.state_dict()),
            None if scheduler is None else copy.deepcopy(scheduler.state_dict()),
        )

    # -- data --------------------------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        for p in self.model.parameters():
            return p.data.dtype
        from ..backend import get_default_dtype

        return get_default_dtype()

    def _loader(self, data: Any, batch_size: Any, shuffle: bool, what: str) -> DataLoader:
        return loader_for(self, data, batch_size, shuffle, what)

    def _check_classes(self, out: np.ndarray, loader: DataLoader, what: str) -> None:
        if self.target_kind == "index" and out.ndim >= 2:
            check_class_count(loader.dataset, out.shape[1], what)

    # -- training ------------------------------------------------------------------------------
    def fit(
        self,
        train: Any = None,
        y: Any = None,
        *,
        epochs: int = 1,
        batch_size: int | str = 32,
        val: Any = None,
        stop: Any = None,
        callbacks: Iterable[Callback] = (),
        verbose: int = 1,
        resume: str | os.PathLike | None = None,
        validation_data: Any = None,
        shuffle: bool = True,
        log_every_step: bool = False,
        x: Any = None,
        sample_weight: Any = None,
        class_weight: Any = None,
        validation_split: float | None = None,
        reset: bool = False,
        capture: bool | None = None,
    ) -> History:
        """Train for ``epochs`` more epochs (or, with ``resume=path``, up to ``epochs`` in total)
        on ``train`` — a Dataset, a DataLoader or an (x, y) pair — or, as in Keras, on x and y
        given as two arguments (``fit(x, y, epochs=5)``; ``fit(data, 5)`` also reads 5 as epochs),
        stopping early when a callback sets ``trainer.stop_training`` — a stopping condition
        (EarlyStopping, TargetLoss, ...) in ``callbacks`` or in ``stop``, which appends to them.
        Returns the History of every epoch so far; ``log_every_step`` also records each step's
        loss, lr and gradient norm in ``history.step_history``.

        A second ``fit`` continues (weights, optimizer state, epoch count, History) unless
        ``reset=True``, which starts over from freshly initialised weights. ``sample_weight``
        (one number per sample) and ``class_weight`` ("balanced" or {class: weight}) make every
        loss and metric a weighted mean (see ``train.weighting``), validation included;
        ``validation_split`` holds out a share of (x, y) (``val`` wins when both are given).
        Each batch's forward and backward is recorded once (``gs.capture``) and replayed
        without the engine from then on, with the same numbers (unweighted fits in one process;
        the fit's first batch runs eagerly). ``capture=False`` (or the environment variable
        ``GRADSTEP_CAPTURE=0``) keeps every step eager; a model that cannot be recorded runs
        eagerly either way, with a CaptureWarning only when ``capture=True`` was asked for.

        A schedule that needs ``total_steps`` and was given none is sized here, from the epochs
        this call will reach; when a later call trains past that end, it is re-sized to the new
        total (and says so). Give ``total_steps`` explicitly when a run is split over several
        calls (or resumed) and must follow one schedule: continuing then equals one longer run.
        The epoch's ``loss`` is the (weighted) mean over samples, or the sum over the epoch for
        a loss with ``reduction="sum"`` (SSELoss: the textbook's total error E)."""
        if val is not None and validation_data is not None:
            raise TypeError("pass validation data as val= or validation_data=, not both.")
        val = val if val is not None else validation_data
        if isinstance(y, int) and not isinstance(y, bool):  # fit(data, 5): the epochs
            if epochs != 1:
                raise TypeError(f"fit got {y} as y and epochs={epochs}; pass epochs once.")
            epochs, y = y, None
        if x is not None:
            if train is not None:
                raise TypeError("pass the inputs as the first argument or as x=, not both.")
            train = x
        if y is not None:
            train = (train, y)
        if train is None:
            raise TypeError("fit() needs training data: a Dataset, a DataLoader or (x, y).")
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative int, got {epochs!r}.")
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}.")
        asked = capture is not None
        if capture is None:  # the default: on, unless GRADSTEP_CAPTURE=0 turns it off
            capture = os.environ.get("GRADSTEP_CAPTURE", "1") != "0"
        if not isinstance(capture, bool):
            raise TypeError(f"capture must be True or False, got {capture!r}.")
        self._capture = capture
        self._capture_asked = asked
        extra = [*callbacks, *as_conditions(stop)]
        if log_every_step:
            extra.append(StepLogger())
        if reset:
            if resume is not None:
                raise TypeError("pass resume= or reset=True, not both.")
            self.reset()
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
        self._sync = _fit_sync(self)
        if self._sync is not None and self._sync.rank != 0:
            verbose = 0  # rank 0 speaks for all

        loader, val_loader = fit_loaders(
            self, train, val, batch_size, shuffle, sample_weight, class_weight, validation_split
        )
        n_batches = len(loader)
        if self._sync is not None:
            self._sync.check_batches(n_batches)
        if n_batches == 0:
            raise ValueError(
                "the training data gives no batches (empty, or drop_last with fewer samples than "
                "batch_size); pass more data or a smaller batch_size."
            )
        self.steps_per_epoch = n_batches
        sched = self.scheduler
        self._size_schedule(target * n_batches, verbose)

        self._fit_callbacks = extra
        cbs: list[Callback] = [self.history, *self.callbacks, *extra]
        if sched is not None:
            stepper = LRSchedulerStep(sched)
            # per step: first, so that the other callbacks see the next step's lr; per epoch:
            # after the user's callbacks, so that a metric one of them logs can drive it
            cbs.insert(0 if stepper.per_step else len(cbs), stepper)
        if verbose:
            cbs.append(ProgressDisplay(verbose=verbose))
        if self._sync is not None and self._sync.rank != 0:
            cbs = [cb for cb in cbs if not _main_process_only(cb)]
        cblist = CallbackList(cbs, self)
        if self._restored_callback_state is not None:
            stateful = self.stateful_callbacks()
            for cb in stateful:
                st = self._restored_callback_state.get(callback_key(cb, stateful))
                if st is not None:
                    cb.load_state_dict(st)
            self._restored_callback_state = None
        self.stop_training = False
        self.stop_reason = None
        self.diverged = False
        self._wants_max_error = any(getattr(cb, "needs_max_error", False) for cb in cbs)
        cblist.call("on_train_begin", {})
        try:
            # Divergence is detected and reported by the loop; NumPy's overflow warnings on the
            # way there would only repeat it.
            with np.errstate(over="ignore", invalid="ignore"):
                while self.epoch < target and not self.stop_training:
                    run_epoch(self, loader, val_loader, cblist)
        finally:
            self.history.stopped_by = self.stop_reason
            cblist.call("on_train_end", {})
        return self.history

    def reset(self) -> None:
        """Start over: freshly initialised weights (each layer's ``reset_parameters``), the
        optimizer and scheduler as they were built, no epochs, an empty History."""
        for m in self.model.modules():
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()
        opt_state, sched_state = self._initial
        self.optimizer.load_state_dict(copy.deepcopy(opt_state))
        if self.scheduler is not None:
            self.scheduler.load_state_dict(copy.deepcopy(sched_state))
        self.epoch = self.global_step = 0
        self.history = History()
        self.loader_seed = None
        self.validation_indices = None
        self.schedule_sized_by_fit = False
        self._restored_callback_state = None

    def _size_schedule(self, total: int, verbose: int) -> None:
        """Give a schedule that needs it its length; re-size one that fit sized before when
        training now goes past its end (saying so), so that continuing never runs at its last lr."""
        sched = self.scheduler
        if sched is None:
            return
        if getattr(sched, "needs_total_steps", False) is True:
            sched.set_total_steps(total)
            self.schedule_sized_by_fit = True
            return
        old = getattr(sched, "total_steps", None)
        if self.schedule_sized_by_fit and isinstance(old, int) and total > old:
            sched.set_total_steps(total)
            if verbose:
                print(
                    f"note: the schedule was sized for {old} steps; training on to step {total}, "
                    f"it now runs to {total} (pass total_steps= to follow one fixed schedule)",
                    flush=True,
                )

    def stateful_callbacks(self) -> list[Callback]:
        """The callbacks whose ``state_dict()`` a saved training state holds: the Trainer's own
        and those of the current (or last) fit, stopping conditions included."""
        return [*self.callbacks, *self._fit_callbacks]

    def _replay(self, weighted: Any = None) -> ForwardBackward:
        """The captured forward-backward of this model, optimizer and loss (kept across fits);
        ``weighted`` (a WeightedLoss) for batches that carry sample weights."""
        fb = self._forward_backward
        same = fb is not None and fb.model is self.model and fb.optimizer is self.optimizer
        if (
            not same
            or fb.loss_fn is not self.loss_fn
            or (fb.weighted is None) != (weighted is None)
        ):
            fb = self._forward_backward = ForwardBackward(
                self.model,
                self.optimizer,
                self.loss_fn,
                capture=True,
                quiet=not self._capture_asked,
                weighted=weighted,
            )
        return fb

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
                    worst = max(
                        worst,
                        M.max_error(*M.on_target_scale(out, yb, self.target_kind, self.rule)),
                    )
            finally:
                self.model.train(was)
        return worst if self._sync is None else self._sync.max(worst)

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate(
        self,
        data: Any = None,
        y: Any = None,
        batch_size: int | str = 256,
        verbose: int = 0,
        callbacks: Iterable[Callback] = (),
        *,
        sample_weight: Any = None,
    ) -> dict[str, float]:
        """Loss and metrics on ``data`` — a Dataset, a DataLoader, an (x, y) pair, or x and y as
        two arguments as in Keras — in eval mode without gradients, weighted by
        ``sample_weight`` when given; ``callbacks`` get Keras's ``on_test_*`` hooks."""
        if y is not None:
            data = (data, y)
        if data is None:
            raise TypeError("evaluate() needs data: a Dataset, a DataLoader, (x, y) or x, y.")
        if sample_weight is not None and not isinstance(data, DataLoader | Dataset):
            data = dataset_for(self, data, "evaluation", sample_weight)
        loader = self._loader(data, batch_size, False, "evaluation")
        cblist = CallbackList(list(callbacks), self) if callbacks else None
        res = self._evaluate_loader(loader, cblist)
        if verbose:
            from .progress import format_logs

            print(format_logs(res))
        return res

    def _evaluate_loader(self, loader: DataLoader, cblist: CallbackList | None) -> dict[str, float]:
        metrics = [M.get_metric(s, self.rule) for s in self.metric_specs]
        summed = getattr(self.loss_fn, "reduction", "mean") == "sum"
        weighted = getattr(loader, "weighted", False)
        wloss = WeightedLoss(self.loss_fn) if weighted else None
        loss_sum, n_seen = 0.0, 0.0
        begin = cblist is not None and cblist.has("on_test_batch_begin")
        end = cblist is not None and cblist.has("on_test_batch_end")
        if cblist is not None:
            cblist.call("on_test_begin", {})
        was = self.model.training
        self.model.eval()
        first = True
        try:
            with no_grad():
                for b, batch in enumerate(_plain_batches(loader)):
                    if begin:
                        cblist.call("on_test_batch_begin", b, {})
                    xb, yb = batch[0], batch[1]
                    out = self.model(Tensor._make(xb.astype(self.dtype, copy=False)))
                    if first:
                        self._check_classes(out.data, loader, "evaluation")
                        first = False
                    if self.target_kind != "index" and yb.dtype.kind in "biuf":
                        yb = yb.astype(out.data.dtype, copy=False)
                    wb = batch[2] if weighted else None
                    loss = self.loss_fn(out, yb) if wb is None else wloss(out, yb, wb)
                    lv = float(loss.data)
                    n = xb.shape[0]
                    count = n if wb is None else float(wb.sum())
                    loss_sum += lv if summed else lv * count
                    n_seen += count
                    update_metrics(metrics, out.data, yb, wb)
                    if end:
                        cblist.call("on_test_batch_end", b, {"loss": lv, "size": n})
        finally:
            self.model.train(was)
        if getattr(loader, "sharded", False) and self._sync is not None:  # fit's validation
            loss_sum, n_seen, results = self._sync.evaluation(loss_sum, n_seen, metrics)
        else:
            results = [m.result() for m in metrics]
        res = {"loss": loss_sum if summed else loss_sum / max(n_seen, 1)}
        for m, value in zip(metrics, results):
            res[m.name] = float(value)
        if cblist is not None:
            cblist.call("on_test_end", res)
        return res

    def predict(
        self, x: Any, batch_size: int = 256, callbacks: Iterable[Callback] = ()
    ) -> np.ndarray:
        """Model outputs for ``x`` as a NumPy array (batched, no gradients, eval mode);
        ``callbacks`` get Keras's ``on_predict_*`` hooks (batch logs: ``{"outputs": array}``)."""
        if isinstance(x, DataLoader | Dataset):
            loader = x if isinstance(x, DataLoader) else DataLoader(x, batch_size=batch_size)
            batches = (b[0] if isinstance(b, tuple | list) else b for b in _plain_batches(loader))
        else:
            arr = check_finite(to_numpy(x), "predict input")
            batches = (arr[i : i + batch_size] for i in range(0, len(arr), batch_size))
        cblist = CallbackList(list(callbacks), self) if callbacks else None
        if cblist is not None:
            cblist.call("on_predict_begin", {})
        outs = []
        was = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for b, xb in enumerate(batches):
                    if cblist is not None:
                        cblist.call("on_predict_batch_begin", b, {})
                    if self.scaler is not None:
                        xb = self.scaler.transform(xb)
                    xb = np.asarray(xb).astype(self.dtype, copy=False)
                    outs.append(self.model(Tensor._make(xb)).data)
                    if cblist is not None:
                        cblist.call("on_predict_batch_end", b, {"outputs": outs[-1]})
        finally:
            self.model.train(was)
        if cblist is not None:
            cblist.call("on_predict_end", {})
        if not outs:
            return np.zeros((0,), dtype=self.dtype)
        return np.concatenate(outs, axis=0)

    def lr_find(self, train: Any, batch_size: int | str = 32, **options: Any) -> Any:
        """The learning-rate range test (see ``gradstep.train.lr_find``): a few steps with the lr
        growing from ``start_lr`` to ``end_lr``; the model, optimizer, scheduler and RNG are
        restored exactly afterwards. Returns the curve and suggested lrs (heuristics)."""
        from .lr_find import lr_find

        return lr_find(self, train, batch_size, **options)

    def predict_proba(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Class probabilities for ``x``: the loss's link applied to :meth:`predict`'s outputs —
        softmax for CrossEntropyLoss (and NLLLoss's log-probabilities exponentiated), sigmoid
        for BCEWithLogitsLoss, the outputs themselves for BCELoss."""
        out = self.predict(x, batch_size)
        if self.task != "classification":
            raise TypeError(
                f"predict_proba needs a classification loss, but {type(self.loss_fn).__name__} "
                "is a regression loss; use predict()."
            )
        if self.rule == "logit":
            return 1.0 / (1.0 + np.exp(-out))
        if self.rule == "probability":
            return out
        if type(self.loss_fn).__name__ == "NLLLoss":  # the model outputs log-probabilities
            return np.exp(out)
        e = np.exp(out - out.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    # -- saving and resuming -----------------------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The whole training state as (arrays, JSON metadata) — what :meth:`save` writes.

        A snapshot: arrays and history are copies, so training on does not change it."""
        return training_state(self)

    def save(self, path: str | os.PathLike) -> None:
        """Write the whole training state (weights, optimizer, scheduler, epoch, RNG, history,
        callback state) to one .safetensors file, atomically; ``fit(resume=path)`` takes it.
        Under MPI only rank 0 writes (every process holds the same state)."""
        from ..distributed import is_main
        from ..io import save

        if not is_main():
            return
        arrays, meta = self.state()
        save(arrays, path, metadata=meta)

    def load(self, path: str | os.PathLike) -> None:
        """Restore a state written by :meth:`save` into this trainer's model and optimizer; the
        callbacks' states go to the callbacks of the next ``fit``. Under MPI every process must
        call it (``fit(resume=...)`` does): rank 0 reads the file and sends it to the others,
        which need not see it."""
        from ..distributed import broadcast_object, is_main, world_size
        from ..io import load

        if world_size() == 1:
            ckpt = load(path)
            arrays, meta = ckpt, ckpt.metadata
        else:
            ckpt = load(path) if is_main() else None
            arrays, meta = broadcast_object(None if ckpt is None else (dict(ckpt), ckpt.metadata))
        self._restored_callback_state = restore_training_state(self, arrays, meta, os.fspath(path))


def _fit_sync(trainer: Trainer) -> Any:
    """The MPI side of a fit (``distributed.fitting.FitSync``) when several processes train
    together, else None: a one-process fit runs exactly as without MPI."""
    from ..distributed import world_size

    if world_size() == 1:
        return None
    from ..distributed.fitting import FitSync

    return FitSync(trainer, getattr(trainer.loss_fn, "reduction", "mean") == "sum")


def _main_process_only(cb: Callback) -> bool:
    """Whether ``cb`` runs on rank 0 only under MPI: its ``main_process_only`` attribute, else
    True for the built-in callbacks that print or write files."""
    flag = getattr(cb, "main_process_only", None)
    if flag is not None:
        return bool(flag)
    from .tensorboard import TensorBoard

    return isinstance(
        cb, CSVLogger | JSONLinesLogger | ModelCheckpoint | ProgressDisplay | TensorBoard
    )


def _plain_batches(loader: DataLoader) -> Iterable[Any]:
    """Iterate a loader without advancing its epoch counter (evaluation passes)."""
    return loader._batches(loader.order()) if hasattr(loader, "_batches") else iter(loader)
