"""TensorBoard logging as a callback, for users who already watch their runs there (the
``tensorboard`` extra: tensorboardX's SummaryWriter; any object with its ``add_scalar``,
``flush`` and ``close`` methods may be passed instead, e.g. torch.utils.tensorboard's).

>>> trainer.fit(data, epochs=10, callbacks=[TensorBoard("runs/tb", update_freq=10)])
$ tensorboard --logdir runs/tb
"""

from __future__ import annotations

import math
import os
from typing import Any

from .callbacks import Callback

__all__ = ["TensorBoard"]

_STEP_KEYS = ("loss", "lr", "grad_norm")


def _writer(log_dir: str) -> Any:
    try:
        from tensorboardX import SummaryWriter
    except ImportError as err:
        raise ImportError(
            "the TensorBoard callback needs tensorboardX; install it with pip install "
            "'gradstep[tensorboard]'"
        ) from err
    return SummaryWriter(log_dir)


class TensorBoard(Callback):
    """Write every epoch's logs as scalars (``loss`` and ``val_loss`` as ``loss/train`` and
    ``loss/val``, so TensorBoard draws them on one chart; ``lr``, ``grad_norm``, ``time`` as
    they are) at step = the epoch number (1-based); ``update_freq`` = N also writes
    ``step/loss``, ``step/lr`` and ``step/grad_norm`` every N optimizer steps ("batch" = 1,
    "epoch" = never). Non-finite values are skipped. The writer is created when training starts
    (tensorboardX, imported then) unless ``writer`` is given; one the callback created is
    closed when training ends, a given one only flushed."""

    def __init__(
        self,
        log_dir: str | os.PathLike = "runs/tensorboard",
        update_freq: int | str = "epoch",
        writer: Any = None,
    ) -> None:
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (
            not isinstance(update_freq, int) or isinstance(update_freq, bool) or update_freq < 1
        ):
            raise ValueError(
                f"update_freq must be 'epoch', 'batch' or a positive int, got {update_freq!r}."
            )
        self.log_dir = os.fspath(log_dir)
        self.update_freq = update_freq
        self.writer = writer
        self._owns = writer is None
        if update_freq != "epoch":  # only then does a batch cost a call
            self.on_train_batch_end = self._batch_end

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.writer is None:
            self.writer = _writer(self.log_dir)
            self._owns = True

    def _scalar(self, tag: str, value: Any, step: int) -> None:
        try:
            v = float(value)
        except (TypeError, ValueError):
            return
        if math.isfinite(v):
            self.writer.add_scalar(tag, v, step)

    def _batch_end(self, batch: int, logs: dict | None = None) -> None:
        step = int(self.trainer.global_step)
        if step % int(self.update_freq) != 0:
            return
        for k in _STEP_KEYS:
            if k in (logs or {}):
                self._scalar(f"step/{k}", logs[k], step)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        for key, value in logs.items():
            base = key.removeprefix("val_")
            paired = key.startswith("val_") or f"val_{key}" in logs
            if paired:
                tag = f"{base}/{'val' if key.startswith('val_') else 'train'}"
            else:
                tag = key
            self._scalar(tag, value, epoch + 1)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.writer is None:
            return
        self.writer.flush()
        if self._owns:
            self.writer.close()
            self.writer = None
