"""Start every process from the same point: rank ``root``'s weights and optimizer state on all.

Call both once before training when the processes may have initialised differently (no common
seed) or when only one of them loaded a checkpoint; ``Trainer.fit`` does it itself.

>>> dist.broadcast_parameters(model)
>>> dist.broadcast_optimizer_state(optimizer)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .world import _check_root, import_mpi, world_size
from .world import comm as _comm

__all__ = ["broadcast_optimizer_state", "broadcast_parameters"]


def _arrays_of(params: Any) -> list[Any]:
    """The arrays to overwrite in place: a Module's parameters and buffers, a state dict's
    values, or an iterable of parameters (Tensors) or arrays."""
    if hasattr(params, "state_dict") and hasattr(params, "parameters"):
        return [t.data for t in params.state_dict(keep_vars=True).values()]
    values = params.values() if isinstance(params, Mapping) else params
    if not isinstance(values, Iterable):
        raise TypeError(
            f"broadcast_parameters takes a Module, a state dict or parameters, got "
            f"{type(params).__name__}."
        )
    out = []
    for v in values:
        arr = getattr(v, "data", v) if hasattr(v, "grad") else v
        if not isinstance(arr, np.ndarray):
            raise TypeError(
                f"broadcast_parameters needs NumPy arrays or Tensors, got {type(v).__name__}; "
                "pass model or model.state_dict(keep_vars=True)."
            )
        out.append(arr)
    return out


def broadcast_parameters(params: Any, root: int = 0) -> None:
    """Overwrite, in place, every process's parameters and buffers with those of rank ``root``.

    ``params`` is a Module (parameters and buffers), a ``state_dict(keep_vars=True)``, or an
    iterable of parameters; views into flat buffers stay views. Nothing happens in one process.
    """
    arrays = _arrays_of(params)
    size = world_size()
    _check_root(root, size)
    if size == 1:
        return
    MPI = import_mpi()
    world = _comm()
    for arr in arrays:
        if arr.flags.c_contiguous and arr.flags.writeable:
            world.Bcast([arr, MPI.BYTE], root=root)
        else:
            tmp = np.ascontiguousarray(arr)
            world.Bcast([tmp, MPI.BYTE], root=root)
            arr[...] = tmp


def broadcast_optimizer_state(optimizer: Any, root: int = 0) -> None:
    """Give every process rank ``root``'s optimizer state (moments, step counts, the groups'
    hyperparameters, learning rates included). ``optimizer`` may be a DistributedOptimizer."""
    inner = getattr(optimizer, "optimizer", optimizer)
    if not hasattr(inner, "param_groups") or not hasattr(inner, "load_state_dict"):
        raise TypeError(
            f"broadcast_optimizer_state takes a gs.optim optimizer, got {type(inner).__name__}."
        )
    size = world_size()
    _check_root(root, size)
    if size == 1:
        return
    world = _comm()
    state = world.bcast(inner.state_dict() if world.Get_rank() == root else None, root=root)
    if world.Get_rank() != root:
        inner.load_state_dict(state)
