"""Recorded training steps: ``gs.capture(train_step, x0, y0)`` replays a step as array calls.

See :func:`capture`. This is the NumPy recorder (an ndarray subclass traces one eager step); a
CUDA-graph recorder would be a sibling module.
"""

from .step import CapturedStep, CaptureWarning, capture

__all__ = ["CaptureWarning", "CapturedStep", "capture"]
