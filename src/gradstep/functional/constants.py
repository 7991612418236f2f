"""Small read-only arrays that ops use at every step (row indices, a vector of ones), made once
per array module, size and dtype and kept: making them again costs as much as the op itself at
small sizes.

Example::

    >>> import numpy as np
    >>> ones(np, 3, np.float32).tolist(), arange(np, 6, 2).tolist()
    ([1.0, 1.0, 1.0], [0, 2, 4])
    >>> zeros(np, (1, 2), np.float64).tolist()
    [[0.0, 0.0]]
"""

from __future__ import annotations

from typing import Any

MAX_KEPT = 192
"""Arrays kept at most; the table is emptied when it is full (batch sizes rarely vary)."""

_kept: dict[tuple, Any] = {}


def _keep(key: tuple, a: Any) -> Any:
    if len(_kept) >= MAX_KEPT:
        _kept.clear()
    a.flags.writeable = False
    _kept[key] = a
    return a


def arange(xp: Any, stop: int, step: int = 1) -> Any:
    """0, step, 2·step, ... below ``stop`` (``xp.arange(0, stop, step)``), read-only."""
    key = ("arange", xp, stop, step)
    a = _kept.get(key)
    return a if a is not None else _keep(key, xp.arange(0, stop, step))


def ones(xp: Any, m: int, dtype: Any) -> Any:
    """A vector of ``m`` ones of ``dtype``, read-only."""
    key = ("ones", xp, m, dtype)
    a = _kept.get(key)
    return a if a is not None else _keep(key, xp.ones(m, dtype=dtype))


def zeros(xp: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """An array of zeros of ``shape`` and ``dtype``, read-only."""
    key = ("zeros", xp, shape, dtype)
    a = _kept.get(key)
    return a if a is not None else _keep(key, xp.zeros(shape, dtype=dtype))


__all__ = ["MAX_KEPT", "arange", "ones", "zeros"]
