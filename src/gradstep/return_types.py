"""Named result pairs, as ``torch.return_types``."""

from __future__ import annotations

from typing import Any, NamedTuple


class MaxMin(NamedTuple):
    """``(values, indices)`` from ``max(dim)`` / ``min(dim)``."""

    values: Any
    indices: Any
