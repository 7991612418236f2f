"""DistributedOptimizer: average the gradients over all processes, then take the wrapped step.

Data parallelism as an optimizer wrapper (Horovod's and ChainerMN's shape): every process runs
the same model on its share of the batch; before each update the gradients are summed across
processes with a few large allreduces over one contiguous buffer per dtype — the model's flat
gradient buffer itself when it has one (``model.flatten_parameters()``: no copies), otherwise a
preallocated bucket the gradients are packed into — and divided by the number of processes.
The model and the optimizer are unchanged; every process then takes the same step.

Order of a step: backward, :meth:`~DistributedOptimizer.synchronize` (the allreduce), gradient
clipping if any, then the update. ``step()`` synchronises by itself when ``synchronize()`` was
not called since the last step, so the plain loop needs no change:

>>> opt = dist.DistributedOptimizer(gs.optim.Adam(model.parameters(), lr=1e-3))
>>> loss.backward()
>>> opt.synchronize()                                   # only needed to clip in between
>>> gs.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
>>> opt.step()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import enable_grad
from ..nn.flat import find_flat_buffers
from .world import comm, import_mpi, world_size

__all__ = ["DistributedOptimizer"]

BUCKET_BYTES = 25 * 2**20  # PyTorch DDP's default bucket size (25 MiB)


class _Bucket:
    """One dtype's gradients as one contiguous 1-D array: the parameters' (offset, size) in it,
    and whether it is the model's own flat gradient buffer (then nothing is copied)."""

    def __init__(self, params: list[Any]) -> None:
        self.params = params
        self.offsets = []
        total = 0
        for p in params:
            self.offsets.append((total, int(p.data.size)))
            total += int(p.data.size)
        flat = find_flat_buffers(params)
        self.in_place = flat is not None
        self.buffer = (
            flat.grads if flat is not None else np.empty(total, dtype=params[0].data.dtype)
        )


class DistributedOptimizer:
    """Wraps any gradstep optimizer so that each ``step()`` uses the gradients averaged over
    all MPI processes (``op="average"``, the default, as in Horovod and PyTorch DDP) or summed
    (``op="sum"``, for losses that add over samples, like ``SSELoss``).

    The allreduce goes over one contiguous buffer per dtype in calls of at most
    ``bucket_bytes`` (25 MiB by default). Parameters that got no gradient on any process keep
    ``grad`` None and are skipped by the update; one that got a gradient on some processes only
    counts as zero on the others. Everything else (``param_groups``, ``state``, ``zero_grad``,
    ``state_dict``, ``load_state_dict``) is the wrapped optimizer's. In one process the
    gradients are left as they are.
    """

    def __init__(
        self, optimizer: Any, *, op: str = "average", bucket_bytes: int = BUCKET_BYTES
    ) -> None:
        if isinstance(optimizer, DistributedOptimizer):
            raise TypeError("the optimizer is already a DistributedOptimizer; wrap it once.")
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "param_groups"):
            raise TypeError(
                f"DistributedOptimizer wraps a gs.optim optimizer (SGD, Adam, ...), got "
                f"{type(optimizer).__name__}."
            )
        if op not in ("average", "sum"):
            raise ValueError(f"op must be 'average' or 'sum', got {op!r}.")
        if isinstance(bucket_bytes, bool) or not isinstance(bucket_bytes, int) or bucket_bytes < 1:
            raise ValueError(f"bucket_bytes must be a positive int, got {bucket_bytes!r}.")
        self.optimizer = optimizer
        self.op = op
        self.bucket_bytes = bucket_bytes
        self._layout: tuple[tuple[Any, ...], list[_Bucket]] | None = None
        self._synchronized = False

    # -- the wrapped optimizer ----------------------------------------------------------------
    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.optimizer.param_groups

    @property
    def state(self) -> Any:
        return self.optimizer.state

    @property
    def defaults(self) -> dict[str, Any]:
        return self.optimizer.defaults

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none)

    def state_dict(self) -> dict[str, Any]:
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state_dict)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        self.optimizer.add_param_group(param_group)
        self._layout = None

    def __getattr__(self, name: str) -> Any:
        if name == "optimizer":  # not set yet (during unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.optimizer, name)

    def __repr__(self) -> str:
        return f"DistributedOptimizer(op={self.op!r}, {self.optimizer!r})"

    # -- the allreduce ------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Synchronise the gradients (unless :meth:`synchronize` already did since the last
        step), then take the wrapped optimizer's step. ``closure`` re-evaluates the loss first
        (with gradient recording on), as in torch.optim; its loss is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
            self._synchronized = False
        if not self._synchronized:
            self.synchronize()
        self._synchronized = False
        self.optimizer.step()
        return loss

    def synchronize(self, weight: float | None = None, values: Sequence[float] = ()) -> np.ndarray:
        """Replace every gradient by its average over the processes (or sum, ``op="sum"``).

        ``weight`` makes the average weighted: process r's gradient counts ``weight_r / Σ
        weight`` (the Trainer passes each batch's sample count or weight sum, so that a mean
        loss over uneven shares averages exactly). ``values`` are numbers summed over the
        processes in the same exchange (the Trainer's loss and stop flag); their sums are
        returned as a float64 array.
        """
        vals = np.asarray(values, dtype=np.float64).reshape(-1)
        if weight is not None and self.op == "sum":
            raise ValueError("weight= needs op='average'; a summed gradient takes no weights.")
        self._synchronized = True
        if world_size() == 1:
            return vals
        MPI = import_mpi()
        world = comm()
        params, buckets = self._buckets()
        # one small exchange first: the weights' total, the values, and who has which gradient
        head = np.empty(1 + vals.size + len(params), dtype=np.float64)
        head[0] = 1.0 if weight is None else float(weight)
        head[1 : 1 + vals.size] = vals
        head[1 + vals.size :] = [p.grad is not None for p in params]
        world.Allreduce(MPI.IN_PLACE, head, op=MPI.SUM)
        total = head[0]
        if self.op == "sum":
            scale = 1.0
        else:
            scale = (1.0 if weight is None else float(weight)) / total if total else 0.0
        has_grad = dict(zip(map(id, params), head[1 + vals.size :] > 0))
        for bucket in buckets:
            self._reduce(world, MPI, bucket, scale, has_grad)
        return head[1 : 1 + vals.size].copy()

    def _buckets(self) -> tuple[list[Any], list[_Bucket]]:
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        key = tuple((id(p), p.data.dtype, p.data.size) for p in params)  # redone after .to()
        if self._layout is None or self._layout[0] != key:
            by_dtype: dict[Any, list[Any]] = {}
            for p in params:
                by_dtype.setdefault(p.data.dtype, []).append(p)
            self._layout = (key, [_Bucket(group) for group in by_dtype.values()])
        return params, self._layout[1]

    def _reduce(
        self, world: Any, MPI: Any, bucket: _Bucket, scale: float, has_grad: dict[int, bool]
    ) -> None:
        buf = bucket.buffer
        in_place = bucket.in_place
        for p, (o, n) in zip(bucket.params, bucket.offsets):
            g = p.grad
            part = buf[o : o + n]
            if g is None:
                part[...] = 0  # a flat buffer keeps an earlier step's values there
            elif in_place:
                if not _is_part(g, buf, o):  # a gradient assigned by hand: copy it in
                    part[...] = g.reshape(-1)
            elif scale == 1.0:
                part[...] = g.reshape(-1)
            else:
                np.multiply(g.reshape(-1), scale, out=part)
        if in_place and scale != 1.0:
            buf *= scale
        step = max(1, self.bucket_bytes // buf.itemsize)
        for start in range(0, buf.size, step):
            world.Allreduce(MPI.IN_PLACE, buf[start : start + step], op=MPI.SUM)
        for p, (o, n) in zip(bucket.params, bucket.offsets):
            if not has_grad[id(p)]:
                continue
            part = buf[o : o + n].reshape(p.data.shape)
            if p.grad is None:
                # only other processes' gradients: expose the parameter's kept storage (the
                # same memory when in place), so the optimizer's fused step still applies
                store = getattr(p, "_grad_store", None)
                if in_place and store is not None and _is_part(store, buf, o):
                    p.grad = store
                else:
                    p.grad = part if in_place else part.copy()
            elif not (in_place and _is_part(p.grad, buf, o)):
                p.grad[...] = part


def _is_part(g: Any, buf: np.ndarray, offset: int) -> bool:
    """True when the gradient array ``g`` is the view of ``buf`` that starts at ``offset``."""
    if g.base is not buf:
        return False
    start = buf.__array_interface__["data"][0] + offset * buf.itemsize
    return g.__array_interface__["data"][0] == start and g.flags.c_contiguous
