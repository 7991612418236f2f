"""Scratch buffers that large ops hand back after use and take again on the next call.

A fresh multi-megabyte array costs a page fault per 4 KiB page on first write (the allocator
returns freed memory to the system between training steps); a convolution's column matrix is
rebuilt every step with the same shape, so reusing the last one saves most of that. Only arrays
that no caller can still see (an op's own temporaries) may be handed back.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

MAX_KEPT = 8
"""Buffers kept at most (the least recently handed back is dropped first)."""

MAX_KEPT_BYTES = 128 * 2**20
"""Bytes kept at most, over all buffers."""

_kept: OrderedDict[tuple, Any] = OrderedDict()


def _key(xp: Any, shape: tuple[int, ...], dtype: Any) -> tuple:
    return (xp.__name__, tuple(shape), str(dtype))


def take(xp: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """An uninitialised array of ``shape`` and ``dtype``: a kept one if it fits, else new."""
    buf = _kept.pop(_key(xp, shape, dtype), None)
    return xp.empty(shape, dtype=dtype) if buf is None else buf


def give(xp: Any, buf: Any) -> None:
    """Keep ``buf`` for a later :func:`take`; the caller must not use it afterwards."""
    if buf.nbytes > MAX_KEPT_BYTES:
        return
    key = _key(xp, buf.shape, buf.dtype)
    _kept.pop(key, None)
    _kept[key] = buf
    while len(_kept) > MAX_KEPT or sum(b.nbytes for b in _kept.values()) > MAX_KEPT_BYTES:
        _kept.popitem(last=False)


def clear() -> None:
    """Drop every kept buffer (frees their memory)."""
    _kept.clear()


__all__: list[str] = []
