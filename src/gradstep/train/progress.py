"""Progress display: a live line per epoch on a terminal or in Jupyter, plain lines elsewhere.

verbose=0 is silent, 1 a live line (a plain line per epoch when not on a terminal), 2 one plain
line per epoch. Like Keras, the time per step ignores the first step of each epoch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from .callbacks import Callback


def _in_notebook() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def format_logs(logs: dict[str, Any]) -> str:
    """``loss 0.1234 · accuracy 0.9712 · lr 1.0e-03`` from an epoch's logs."""
    parts = []
    for k, v in logs.items():
        if k in ("time", "grad_norm") or not isinstance(v, int | float):
            continue
        if k == "lr":
            parts.append(f"lr {v:.2e}")
        else:
            parts.append(f"{k} {v:.4f}")
    return " · ".join(parts)


class ProgressDisplay(Callback):
    """Shows training progress; added by ``Trainer.fit`` according to ``verbose``."""

    def __init__(
        self,
        verbose: int = 1,
        stream: TextIO | None = None,
        live: bool | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.verbose = verbose
        self.stream = stream
        self._clock = clock
        out = stream if stream is not None else sys.stdout
        if live is None:
            live = verbose == 1 and (getattr(out, "isatty", lambda: False)() or _in_notebook())
        self.live = live
        self._progress: Any = None
        self._task: Any = None
        self._stride = 1

    # rich is imported only when a live display is used
    def on_train_begin(self, logs: dict | None = None) -> None:
        self._total_epochs = self.trainer.target_epochs if self.trainer else None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = self._clock()
        self._first_step_end: float | None = None
        self._steps = 0
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            n = self.trainer.steps_per_epoch if self.trainer else None
            self._stride = max(1, (n or 1) // 50)
            console = Console(file=self.stream) if self.stream is not None else None
            self._progress = Progress(
                TextColumn(f"epoch {epoch + 1}/{self._total_epochs or '?'}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                console=console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("train", total=n, info="")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._steps += 1
        if self._first_step_end is None:
            self._first_step_end = self._clock()
        if self._progress is not None and (batch + 1) % self._stride == 0:
            loss = (logs or {}).get("loss")
            info = f"loss {loss:.4f}" if isinstance(loss, float) else ""
            self._progress.update(self._task, completed=batch + 1, info=info)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self.verbose == 0:
            return
        logs = logs or {}
        elapsed = self._clock() - self._epoch_start
        per_step = ""
        if self._first_step_end is not None and self._steps > 1:
            us = (self._clock() - self._first_step_end) / (self._steps - 1) * 1e6
            per_step = f" · {us:.0f} µs/step" if us < 1e4 else f" · {us / 1e3:.1f} ms/step"
        total = self._total_epochs or "?"
        line = f"epoch {epoch + 1}/{total} · {format_logs(logs)} · {elapsed:.2f} s{per_step}"
        self._print(line)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        reason = getattr(self.trainer, "stop_reason", None) if self.trainer else None
        if self.verbose and reason:
            self._print(f"stopped: {reason}")

    def _print(self, line: str) -> None:
        out = self.stream if self.stream is not None else sys.stdout
        print(line, file=out, flush=True)
