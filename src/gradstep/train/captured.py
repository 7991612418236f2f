"""One batch's zero_grad, forward, loss and backward for the Trainer: replayed by ``gs.capture``
(the default; ``fit(capture=False)``, the config's ``train.capture = false`` or the environment
variable ``GRADSTEP_CAPTURE=0`` turn it off), or eager.

The optimizer's update stays outside the recording: the Trainer checks the loss and the gradient
norm between the two (its divergence guard), so a non-finite step never updates the weights, and
the update is the optimizer's own fused step either way. A step that cannot be recorded runs
eagerly, after one warning that says why.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..tensor import Tensor


class ForwardBackward:
    """``run(x, y) -> (loss, output)`` for one batch of arrays, with gradients left in ``.grad``.

    >>> import numpy as np, gradstep as gs
    >>> model = gs.nn.Linear(3, 2)
    >>> opt = gs.optim.SGD(model.parameters(), lr=0.1)
    >>> fb = ForwardBackward(model, opt, gs.nn.CrossEntropyLoss(), capture=True)
    >>> loss, out = fb(np.ones((4, 3), np.float32), np.array([0, 1, 0, 1]))
    >>> out.shape, model.weight.grad.shape, fb.captured
    ((4, 2), (2, 3), True)
    """

    def __init__(
        self,
        model: Any,
        optimizer: Any,
        loss_fn: Any,
        capture: bool = False,
        quiet: bool = False,
        weighted: Any = None,
    ) -> None:
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.weighted = weighted  # a WeightedLoss: batches come with their samples' weights
        self.capture = bool(capture)
        self.quiet = quiet  # fall back to eager without a warning (capture was not asked for)
        self.step: Any = None  # the CapturedStep, made at the first batch

    def eager(self, x: Tensor, y: Any, w: Any = None) -> tuple[Tensor, Tensor]:
        self.optimizer.zero_grad()
        out = self.model(x)
        loss = self.loss_fn(out, y) if w is None else self.weighted(out, y, w)
        loss.backward()
        return loss, out

    def __call__(self, xb: Any, yb: Any, wb: Any = None) -> tuple[Tensor, Tensor]:
        x = Tensor._make(xb)
        args = (x, yb) if self.weighted is None else (x, yb, wb)
        if not self.capture:
            return self.eager(*args)
        if self.step is None:
            from ..capture import CaptureWarning, capture

            if self.quiet:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", CaptureWarning)
                    self.step = capture(self.eager, *args)
                self.step.quiet = True
            else:
                self.step = capture(self.eager, *args)
        return self.step(*args)

    @property
    def captured(self) -> bool:
        """Whether the first batch's step is replayed (False: eager, or not asked to capture)."""
        return self.step is not None and self.step.captured

    def program(self) -> str:
        """The recorded calls of one step (see ``CapturedStep.program``)."""
        if self.step is None:
            return "not captured"
        return self.step.program()
