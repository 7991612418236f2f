"""Gradient health: each layer's gradient norm and weight-update ratio ‖Δw‖ / ‖w‖ over training,
recorded by a callback — the numbers that show gradients vanishing through a deep stack of
sigmoids, and ReLU with a matching initialisation keeping them alive.

>>> health = GradientHealth(every=10)
>>> trainer.fit(data, epochs=5, callbacks=[health])
>>> health.grad_norm["0.weight"]        # one value per recorded step
>>> gs.viz.plot_gradient_health(health, "gradients.png")
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .callbacks import Callback

__all__ = ["GradientHealth"]


class GradientHealth(Callback):
    """Every ``every`` optimizer steps, record for each tracked parameter the norm of its
    gradient ‖∂E/∂w‖ (the loss's gradient, before clipping's effect on the update is seen) and the
    relative size of the update that step made, ‖w_after − w_before‖ / ‖w_before‖.

    ``every=None`` spreads about ``points`` records over the run (sized when training starts).
    By default the weight matrices and kernels are tracked (parameters of 2 or more dimensions,
    ordered from the input side); ``biases=True`` adds the biases. A recorded step copies the
    tracked weights once; the other steps cost nothing."""

    def __init__(self, every: int | None = None, points: int = 200, biases: bool = False) -> None:
        if every is not None and (
            not isinstance(every, int) or isinstance(every, bool) or every < 1
        ):
            raise ValueError(f"every must be a positive int or None, got {every!r}.")
        if not isinstance(points, int) or points < 1:
            raise ValueError(f"points must be a positive int, got {points!r}.")
        self.every = every
        self.points = points
        self.biases = biases
        self.steps: list[int] = []
        self.grad_norm: dict[str, list[float]] = {}
        self.update_ratio: dict[str, list[float]] = {}
        self.layers: dict[str, str] = {}  # parameter name -> the module that holds it
        self.steps_per_epoch: int | None = None
        self._before: dict[str, np.ndarray] | None = None
        self._params: list[tuple[str, Any]] = []

    # -- hooks -------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        model = self.trainer.model
        self._params = [
            (name, p)
            for name, p in model.named_parameters()
            if p.requires_grad and (self.biases or p.data.ndim >= 2)
        ]
        if not self._params:
            self._params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        for name, _ in self._params:
            self.grad_norm.setdefault(name, [])
            self.update_ratio.setdefault(name, [])
            self.layers.setdefault(name, _module_text(model, name))
        spe = self.trainer.steps_per_epoch
        self.steps_per_epoch = spe or self.steps_per_epoch
        if self.every is None:
            total = (self.trainer.target_epochs or 1) * (spe or 1)
            self.every = max(1, math.ceil(total / self.points))

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        # trainer.global_step counts the steps taken; this batch makes step global_step + 1
        if (self.trainer.global_step + 1) % self.every == 0 or self.trainer.global_step == 0:
            self._before = {name: np.array(p.data, copy=True) for name, p in self._params}
        else:
            self._before = None

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        before = self._before
        if before is None:
            return
        self._before = None
        self.steps.append(int(self.trainer.global_step))
        for name, p in self._params:
            g = p.grad
            gn = float(np.linalg.norm(np.asarray(g, dtype=np.float64))) if g is not None else 0.0
            w0 = before[name].astype(np.float64, copy=False)
            delta = float(np.linalg.norm(np.asarray(p.data, dtype=np.float64) - w0))
            size = float(np.linalg.norm(w0))
            self.grad_norm[name].append(gn)
            self.update_ratio[name].append(delta / size if size > 0 else math.nan)

    # -- results -----------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """The record as plain lists (what ``gs.viz.plot_gradient_health`` and a run
        directory's gradient_health.json hold)."""
        return {
            "steps": list(self.steps),
            "steps_per_epoch": self.steps_per_epoch,
            "every": self.every,
            "layers": dict(self.layers),
            "grad_norm": {k: list(v) for k, v in self.grad_norm.items()},
            "update_ratio": {k: list(v) for k, v in self.update_ratio.items()},
        }

    def state_dict(self) -> dict[str, Any]:
        return self.as_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = [int(s) for s in state.get("steps", [])]
        self.steps_per_epoch = state.get("steps_per_epoch")
        self.every = state.get("every", self.every)
        self.layers = dict(state.get("layers", {}))
        self.grad_norm = {k: [float(x) for x in v] for k, v in state.get("grad_norm", {}).items()}
        self.update_ratio = {
            k: [float(x) for x in v] for k, v in state.get("update_ratio", {}).items()
        }

    def __repr__(self) -> str:
        n, k = len(self.steps), len(self.layers)
        return f"GradientHealth(every={self.every}, records={n}, layers={k})"


def _module_text(model: Any, name: str) -> str:
    """ "Linear(64→128)" for "0.weight": the module holding the parameter, briefly."""
    owner = name.rpartition(".")[0]
    try:
        module = model.get_submodule(owner) if owner else model
    except (AttributeError, KeyError, ValueError):
        return ""
    kind = type(module).__name__
    for a, b in (("in_features", "out_features"), ("in_channels", "out_channels")):
        if hasattr(module, a) and hasattr(module, b):
            return f"{kind}({getattr(module, a)}→{getattr(module, b)})"
    return kind
