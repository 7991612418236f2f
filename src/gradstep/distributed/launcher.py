"""Start a command on N local processes with mpiexec: what ``gradstep train --nproc N`` runs.

The mpiexec used is the one beside this Python (the mpich wheel of ``gradstep[mpi]`` installs it
there), else the first on PATH. Each process gets ``OMP_NUM_THREADS`` = cores / N unless it is
set, so that N processes do not each start a BLAS thread per core.

>>> mpiexec_command(4, ["train", "cfg.toml"])
['/venv/bin/mpiexec', '-n', '4', '/venv/bin/python', '-m', 'gradstep', 'train', 'cfg.toml']
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .world import INSTALL_HINT

__all__ = ["find_mpiexec", "launch", "mpiexec_command"]


def find_mpiexec() -> str:
    """The mpiexec to start processes with; an ImportError naming the extra when there is none
    (or when mpi4py, which the processes need, is missing)."""
    if importlib.util.find_spec("mpi4py") is None:
        raise ImportError(f"running on several processes needs mpi4py; {INSTALL_HINT}.")
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    for name in ("mpiexec", "mpirun"):
        found = shutil.which(name)
        if found:
            return found
    raise ImportError(f"no mpiexec found beside {sys.executable} or on PATH; {INSTALL_HINT}.")


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        out = subprocess.run(
            [mpiexec, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in out.stdout + out.stderr or "OpenRTE" in out.stdout + out.stderr


def mpiexec_command(nproc: int, args: Sequence[str], mpiexec: str | None = None) -> list[str]:
    """The command line that runs ``python -m gradstep ARGS`` on ``nproc`` local processes."""
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"the number of processes must be a positive integer, got {nproc!r}.")
    exe = mpiexec or find_mpiexec()
    extra: list[str] = []
    if _is_open_mpi(exe):  # Open MPI refuses root and more processes than cores unless told
        extra = ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    return [exe, *extra, "-n", str(nproc), sys.executable, "-m", "gradstep", *args]


def launch(nproc: int, args: Sequence[str]) -> int:
    """Run ``gradstep ARGS`` on ``nproc`` processes and wait; returns mpiexec's exit status.

    When the job fails or a process is killed, mpiexec ends every process at once and this
    says so in one line (the failing rank's own message is above it)."""
    cmd = mpiexec_command(nproc, args)
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    proc = subprocess.Popen(cmd, env=env)
    try:
        code = proc.wait()
    except KeyboardInterrupt:  # Ctrl-C reaches every process; let rank 0 save and exit
        code = proc.wait()
    if code not in (0, 1, 2, 130):
        print(
            f"gradstep: error: the job on {nproc} processes ended with status {code} (a process "
            "failed or was killed, see above); mpiexec stopped all of them.",
            file=sys.stderr,
            flush=True,
        )
    return code
