"""Data-parallel training on several processes and machines, on MPI (via mpi4py).

Horovod's and PyTorch's names: ``init``, ``rank``, ``world_size``, ``is_main``, ``barrier``,
``broadcast_parameters``, ``broadcast_optimizer_state`` and ``DistributedOptimizer``; the data
side is ``gs.data.DistributedSampler``. ``Trainer.fit`` and ``gradstep train`` use all of it by
themselves when started by ``mpiexec -n N`` (or ``gradstep train --nproc N``): ``batch_size``
is per process, metrics are reduced exactly, and only rank 0 prints and writes files.

Only this package imports mpi4py, and only when the process was started by an MPI launcher; a
plain ``python`` process is a world of one in which every call here is a no-op. Install with
``pip install "gradstep[mpi]"``.

>>> import gradstep.distributed as dist
>>> dist.init()
>>> opt = dist.DistributedOptimizer(gs.optim.Adam(model.parameters()))
>>> dist.broadcast_parameters(model)
>>> loader = DataLoader(ds, batch_size=16, sampler=gs.data.DistributedSampler(ds, seed=1))
"""

from .broadcast import broadcast_optimizer_state, broadcast_parameters
from .launcher import launch, mpiexec_command
from .metrics import reduce_metrics
from .optimizer import DistributedOptimizer
from .world import (
    abort,
    allgather_object,
    allreduce,
    barrier,
    broadcast_object,
    comm,
    init,
    is_main,
    rank,
    world_size,
)

__all__ = [
    "DistributedOptimizer",
    "abort",
    "allgather_object",
    "allreduce",
    "barrier",
    "broadcast_object",
    "broadcast_optimizer_state",
    "broadcast_parameters",
    "comm",
    "init",
    "is_main",
    "launch",
    "mpiexec_command",
    "rank",
    "reduce_metrics",
    "world_size",
]
