"""The Trainer's epoch loop: for each batch zero_grad, forward, loss and backward (replayed by
gs.capture after the fit's first batch, or eager), under MPI the gradient exchange, the
divergence guard on the loss and the gradient norm, the optimizer's update; then the epoch's
metrics, validation and callbacks."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..data.loader import DataLoader
from ..nn.utils import clip_grad_norm_
from ..tensor import Tensor
from . import metrics as M
from .callbacks import CallbackList
from .grad_norm import grad_norm_function
from .metric_batches import MetricBatches
from .weighting import WeightedLoss

if TYPE_CHECKING:
    from .trainer import Trainer


def run_epoch(
    trainer: Trainer, loader: DataLoader, val_loader: DataLoader | None, cblist: CallbackList
) -> None:
    """One epoch of ``trainer.fit``: the steps (eager or replayed, each checked by the divergence
    guard before the update), the metrics, validation and the epoch's callbacks."""
    epoch = trainer.epoch
    model, opt, loss_fn = trainer.model, trainer.optimizer, trainer.loss_fn
    loader.set_epoch(epoch)
    t0 = trainer._clock()
    cblist.call("on_epoch_begin", epoch, {})
    model.train()
    metrics = [M.get_metric(s, trainer.rule) for s in trainer.metric_specs]
    for m in metrics:
        m.reset()
    batches = MetricBatches(metrics)
    params = [p for g in opt.param_groups for p in g["params"]]
    grad_norm = grad_norm_function(params)
    batch_begin = cblist.has("on_train_batch_begin")
    batch_end = cblist.has("on_train_batch_end")
    clip = trainer.grad_clip
    dt = trainer.dtype
    weighted = getattr(loader, "weighted", False)
    wloss = WeightedLoss(loss_fn) if weighted else None
    loss_sum = 0.0
    n_seen = 0.0
    gn_sum = 0.0
    lr = opt.param_groups[0]["lr"]
    summed = getattr(loss_fn, "reduction", "mean") == "sum"
    first = epoch == 0 or trainer.global_step == 0
    sync = trainer._sync
    replay = trainer._replay(wloss) if trainer._capture else None
    float_targets = trainer.target_kind != "index"
    for b, batch in enumerate(loader):
        xb, yb = batch[0], batch[1]
        if xb.dtype != dt and xb.dtype.kind in "biuf":
            xb = xb.astype(dt)
        if batch_begin:
            cblist.call("on_train_batch_begin", b, {})
        replayed = replay is not None and not first
        if replayed:  # zero_grad, forward, loss and backward in one call
            if float_targets and yb.dtype != dt and yb.dtype.kind in "biuf":
                yb = yb.astype(dt)
            wb = batch[2] if weighted else None
            loss, out = replay(xb, yb, wb)
        else:  # eager (also a fit's first batch, whose outputs are checked before the loss)
            opt.zero_grad()
            out = model(Tensor._make(xb))
            if first:
                trainer._check_classes(out.data, loader, "training")
                first = False
            if float_targets and yb.dtype != out.data.dtype and yb.dtype.kind in "biuf":
                yb = yb.astype(out.data.dtype)
            wb = batch[2] if weighted else None
            loss = loss_fn(out, yb) if wb is None else wloss(out, yb, wb)
        lv = float(loss.data)
        n = xb.shape[0]
        count = n if wb is None else float(wb.sum())
        if sync is not None:  # MPI: gradients averaged; the step's loss and stop from all
            if not replayed:  # (a replay ran backward already: the exchange comes after it)
                loss.backward()
            lv, count, stop = sync.step(lv, count, trainer.stop_training)
            if stop:  # a process's callback stopped after the last step: none takes this one
                trainer.stop_training = True
                b -= 1
                break
        if not math.isfinite(lv):
            trainer._diverged("loss", lv, epoch, b)
            break
        if sync is None and not replayed:
            loss.backward()
        # the norm before clipping; a non-finite norm stops before the update either way
        gn = clip_grad_norm_(params, clip) if clip is not None else grad_norm()
        if not math.isfinite(gn):
            trainer._diverged("gradient norm", gn, epoch, b)
            break
        lr = opt.param_groups[0]["lr"]
        opt.step()
        trainer.global_step += 1
        loss_sum += lv if summed else lv * count
        n_seen += count
        gn_sum += gn
        batches.add(out.data, yb, wb)
        if batch_end:
            cblist.call("on_train_batch_end", b, {"loss": lv, "lr": lr, "grad_norm": gn, "size": n})
        if trainer.stop_training and sync is None:  # under MPI the next step's exchange tells all
            break
    if sync is not None:  # a stop asked for in the last step's callbacks holds for all
        sync.agree_on_stop(trainer)
    steps = max(b + 1, 1) if n_seen else 1
    logs: dict[str, float] = {"loss": loss_sum if summed else loss_sum / max(n_seen, 1)}
    batches.flush()
    results = [m.result() for m in metrics] if sync is None else sync.metrics(metrics)
    for m, value in zip(metrics, results):
        logs[m.name] = float(value)
    if trainer._wants_max_error and not trainer.stop_training:
        logs["max_error"] = trainer._max_error(loader)
    if val_loader is not None and not trainer.stop_reason:
        for k, v in trainer._evaluate_loader(val_loader, cblist).items():
            logs[f"val_{k}"] = v
    logs["lr"] = float(lr)
    logs["grad_norm"] = gn_sum / steps
    logs["time"] = trainer._clock() - t0
    if trainer.stop_reason is None or n_seen:
        trainer.epoch += 1
    cblist.call("on_epoch_end", epoch, logs)
    if sync is not None:
        sync.agree_on_stop(trainer)
    if trainer.stop_reason is not None:
        trainer.stop_training = True
