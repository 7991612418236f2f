"""Argument checks for user-facing entries: each returns the checked value or raises one sentence.

The sentence names the argument, what it must be, and what it got: TypeError for a wrong type,
ValueError for a wrong value (NaN is always a wrong value). nn/ and optim/ share these so that the
same mistake reads the same everywhere.

>>> real("gamma", 0.5, 0.0)
0.5
>>> integer("step_size", 0, 1)
Traceback (most recent call last):
ValueError: step_size must be a positive int, got 0.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from typing import Any

import numpy as np

__all__ = ["boolean", "integer", "real", "unit_interval"]


def real(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
    coerce: bool = False,
) -> float:
    """``value`` as a float in the range from ``low`` to ``high`` (closed unless ``low_open`` /
    ``high_open``), never NaN, and finite unless ``finite=False`` (torch's optimizers take lr=inf).

    Python and NumPy ints and floats are numbers; bools are not. ``coerce=True`` also takes what
    ``float()`` takes (``"inf"``, a 0-d array), as torch's clip_grad_* functions do.

    >>> real("lr", 1e-3, 0.0, finite=False)
    0.001
    """
    desc = _range(low, high, low_open, high_open, finite)
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be {desc}, got {_shown(value)}.")
    if isinstance(value, numbers.Real):
        v = float(value)
    elif coerce:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be {desc}, got {_shown(value)}.") from None
    else:
        raise TypeError(f"{name} must be {desc}, got {_shown(value)}.")
    too_low = v <= low if low_open else v < low
    too_high = v >= high if high_open else v > high
    if math.isnan(v) or (finite and math.isinf(v)) or too_low or too_high:
        raise ValueError(f"{name} must be {desc}, got {_shown(value)}.")
    return v


def _shown(value: Any) -> str:
    """``repr(value)``, shortened so that an array passed by mistake keeps the sentence short."""
    return reprlib.repr(value)


def _range(low: float, high: float, low_open: bool, high_open: bool, finite: bool) -> str:
    """The words for a range: "a finite number >= 0", "a number in (0, 1]", ..."""
    number = "a finite number" if finite else "a number"
    if math.isinf(low) and math.isinf(high):
        return number
    if math.isinf(high):
        return f"{number} {'>' if low_open else '>='} {low:g}"
    if math.isinf(low):
        return f"{number} {'<' if high_open else '<='} {high:g}"
    return f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def integer(name: str, value: Any, low: int | None = None) -> int:
    """``value`` as an int (Python or NumPy, not a bool or a float), at least ``low`` if given.

    >>> integer("patience", 10, 0)
    10
    """
    if low is None:
        desc = "an int"
    else:
        desc = {0: "a non-negative int", 1: "a positive int"}.get(low, f"an int >= {low}")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {desc}, got {_shown(value)}.")
    if low is not None and value < low:
        raise ValueError(f"{name} must be {desc}, got {_shown(value)}.")
    return int(value)


def boolean(name: str, value: Any) -> bool:
    """``value`` as a bool; only True and False (Python or NumPy) pass, not 0, 1 or "yes".

    >>> boolean("amsgrad", False)
    False
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_shown(value)}.")
    return bool(value)


def unit_interval(name: str, value: Any) -> float:
    """``value`` as a float in [0, 1): a decay rate such as Adam's betas or a plateau's factor.

    >>> unit_interval("betas[1]", 0.999)
    0.999
    """
    return real(name, value, 0.0, 1.0, high_open=True)
