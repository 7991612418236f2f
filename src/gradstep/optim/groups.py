"""Parameter groups that exempt biases and normalisation weights from weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..validate import real


def param_groups_no_decay(
    named_parameters: Iterable[tuple[str, Any]], weight_decay: float
) -> list[dict[str, Any]]:
    """Two param groups from ``(name, parameter)`` pairs (e.g. ``model.named_parameters()``).

    Parameters with ``ndim <= 1`` (biases, normalisation weights) go to a group with
    ``weight_decay=0``; the others (weight matrices and kernels) get ``weight_decay``.
    Pass the result as an optimizer's ``params``: ``AdamW(param_groups_no_decay(...), lr=...)``.
    """
    real("weight_decay", weight_decay, 0.0, finite=False)
    decay: list[Any] = []
    no_decay: list[Any] = []
    for i, item in enumerate(named_parameters):
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise TypeError(
                f"named_parameters[{i}] is {type(item).__name__}, not a (name, parameter) pair; "
                "pass model.named_parameters()."
            )
        param = item[1]
        data = getattr(param, "data", param)
        (no_decay if data.ndim <= 1 else decay).append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
