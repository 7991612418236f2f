"""One converter from the values training produces to plain JSON values.

Scheduler and callback state, epoch logs and run summaries hold NumPy scalars and arrays, tuples and
paths; JSON holds none of them. ``to_plain`` turns them into numbers, lists, strings and dicts.
(The checkpoint format's exactly-reversible encoding is ``io``'s own business.)

>>> to_plain({"lr": np.float32(0.5), "betas": (0.9, 0.999), "loss": float("inf")})
{'lr': 0.5, 'betas': [0.9, 0.999], 'loss': 'inf'}
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

import numpy as np

__all__ = ["to_plain"]


def to_plain(value: Any, *, nonfinite: str = "string") -> Any:
    """``value`` with tuples as lists, NumPy scalars and arrays as Python numbers and lists,
    paths as strings and dict keys as strings. Non-finite floats become ``"nan"``/``"inf"``/
    ``"-inf"`` (``nonfinite="string"``, valid JSON) or stay floats (``nonfinite="keep"``, for
    Python's own json module, which writes NaN and Infinity)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, dict):
        return {str(k): to_plain(v, nonfinite=nonfinite) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v, nonfinite=nonfinite) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist") and not isinstance(value, numbers.Number):
        return to_plain(value.tolist(), nonfinite=nonfinite)  # arrays
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        if nonfinite == "string" and not math.isfinite(v):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return v
    if isinstance(value, np.bool_):
        return bool(value)
    return value
