"""The MPI world: who this process is, and the few collective calls everything else is built on.

mpi4py is imported here, lazily, and only when the process was started by an MPI launcher
(mpiexec, mpirun, srun) or mpi4py is already loaded: a plain ``python script.py`` is a world of
one process that never touches MPI. Under MPI with more than one process, an uncaught exception
on any rank prints its traceback and ends the whole job (``MPI_Abort``), so that the other ranks,
blocked in a collective call, never wait for it forever.

>>> from gradstep import distributed as dist
>>> dist.init()
>>> dist.rank(), dist.world_size(), dist.is_main()
(0, 1, True)
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "abort",
    "allreduce",
    "barrier",
    "broadcast_object",
    "comm",
    "init",
    "is_main",
    "launched_size",
    "rank",
    "world_size",
]

# What MPI launchers put into each process's environment: (variable, what it holds).
_LAUNCH_SIZE_ENV = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_SIZE")
_LAUNCH_RANK_ENV = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")

INSTALL_HINT = 'pip install "gradstep[mpi]" (mpi4py and the mpich wheel, which ships mpiexec)'


@dataclass(frozen=True)
class _World:
    rank: int
    size: int
    comm: Any  # mpi4py's COMM_WORLD, or None in a one-process world without MPI


_world: _World | None = None


def launched_size() -> int | None:
    """The number of processes an MPI launcher started (from its environment), or None when
    this process was not started by one."""
    for name in _LAUNCH_SIZE_ENV:
        value = os.environ.get(name)
        if value and value.strip().isdigit():
            return int(value)
    if any(os.environ.get(name) for name in _LAUNCH_RANK_ENV):
        return 0  # started by a launcher that does not say how many: ask MPI
    return None


def import_mpi() -> Any:
    """mpi4py's MPI module, with one clear sentence when it is not installed."""
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise ImportError(
            f"gradstep.distributed needs mpi4py, which is not installed ({err}); {INSTALL_HINT}."
        ) from None
    return MPI


def init() -> None:
    """Join the MPI world (idempotent). Without an MPI launcher this is a world of one process
    and MPI is not loaded; under ``mpiexec -n N`` it is N processes, and an uncaught exception
    on any of them ends the job on all."""
    global _world
    if _world is not None:
        return
    expected = launched_size()
    if expected is None and "mpi4py.MPI" not in sys.modules:
        _world = _World(0, 1, None)
        return
    if expected == 1 and "mpi4py.MPI" not in sys.modules:
        _world = _World(0, 1, None)  # mpiexec -n 1: nothing to share
        return
    MPI = import_mpi()
    world = MPI.COMM_WORLD
    size = world.Get_size()
    if expected and size != expected:
        raise RuntimeError(
            f"this process was started as one of {expected} by an MPI launcher, but mpi4py's "
            f"MPI library sees {size}: the mpiexec used belongs to another MPI installation "
            f"than mpi4py's; use the mpiexec next to this Python ({os.path.dirname(sys.executable)}"
            "/mpiexec with the mpich wheel) or `gradstep train --nproc N`."
        )
    _world = _World(world.Get_rank(), size, world)
    if size > 1:
        _install_abort_on_error()


def _get() -> _World:
    if _world is None:
        init()
    assert _world is not None
    return _world


def rank() -> int:
    """This process's rank in the world, 0 to world_size() - 1 (0 without MPI)."""
    return _get().rank


def world_size() -> int:
    """How many processes train together (1 without MPI)."""
    return _get().size


def is_main() -> bool:
    """True on rank 0: the process that prints, logs and writes files."""
    return _get().rank == 0


def comm() -> Any:
    """mpi4py's world communicator, for calls gradstep does not wrap (None without MPI)."""
    return _get().comm


def barrier() -> None:
    """Wait until every process has reached this call (nothing to wait for in one process)."""
    w = _get()
    if w.size > 1:
        w.comm.Barrier()


def allreduce(value: Any, op: str = "sum") -> Any:
    """``value`` (a number or an array) combined over all processes by ``op`` ("sum", "max" or
    "min"); every process gets the result. A number comes back as a float, an array as a new
    float64 or int64 array; in one process it is returned as it is."""
    w = _get()
    ops = ("sum", "max", "min")
    if op not in ops:
        raise ValueError(f"op must be one of {', '.join(ops)}, got {op!r}.")
    if w.size == 1:
        return value
    MPI = import_mpi()
    arr = np.asarray(value)
    kind = np.int64 if arr.dtype.kind in "biu" else np.float64
    buf = np.ascontiguousarray(arr, dtype=kind).copy()
    w.comm.Allreduce(MPI.IN_PLACE, buf, op={"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op])
    return buf if arr.ndim else buf.item()


def broadcast_object(obj: Any, root: int = 0) -> Any:
    """Rank ``root``'s ``obj`` (anything picklable) on every process."""
    w = _get()
    if w.size == 1:
        return obj
    _check_root(root, w.size)
    return w.comm.bcast(obj, root=root)


def allgather_object(obj: Any) -> list[Any]:
    """Every process's ``obj``, in rank order, on every process."""
    w = _get()
    if w.size == 1:
        return [obj]
    return w.comm.allgather(obj)


def abort(message: str, code: int = 1) -> None:
    """Print ``message`` (naming this rank) and end the whole MPI job with ``code``; in one
    process, exit with ``code``."""
    w = _get()
    where = f"rank {w.rank} of {w.size}: " if w.size > 1 else ""
    print(f"gradstep: error: {where}{message}", file=sys.stderr, flush=True)
    if w.size > 1:
        sys.stdout.flush()
        # mpiexec forwards each rank's output asynchronously and drops what is still in flight
        # when the job is torn down: a moment's grace lets the message above reach the user
        # (seen lost under load). The job still ends well within the stated second.
        time.sleep(0.25)
        w.comm.Abort(code)
    raise SystemExit(code)


def _check_root(root: Any, size: int) -> None:
    if isinstance(root, bool) or not isinstance(root, int | np.integer) or not 0 <= root < size:
        raise ValueError(f"root must be a rank in [0, {size - 1}], got {root!r}.")


def _install_abort_on_error() -> None:
    """Make an uncaught exception end the job on every rank instead of leaving the others
    blocked in their next collective call (MPI_Finalize would wait for them forever)."""
    previous = sys.excepthook

    def abort_on_error(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        previous(kind, value, tb)
        code = 130 if issubclass(kind, KeyboardInterrupt) else 1
        abort(f"{kind.__name__}: {value}; ending the job on every rank", code)

    sys.excepthook = abort_on_error


def _reset_for_tests() -> None:
    """Forget the world (tests of init in one process)."""
    global _world
    _world = None
