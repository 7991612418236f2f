"""The MPI world in a plain process (a world of one, MPI never loaded), the missing-extra error,
the launcher's command line and --nproc's checks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import gradstep.distributed as dist
from gradstep.cli import main
from gradstep.distributed import world


@pytest.fixture
def fresh_world(monkeypatch):
    """A world not yet initialised, and again after the test (so nothing leaks)."""
    for name in (*world._LAUNCH_SIZE_ENV, *world._LAUNCH_RANK_ENV):
        monkeypatch.delenv(name, raising=False)
    world._reset_for_tests()
    yield
    world._reset_for_tests()


def test_a_plain_process_is_a_world_of_one_without_mpi(fresh_world):
    dist.init()
    dist.init()  # idempotent
    assert (dist.rank(), dist.world_size(), dist.is_main(), dist.comm()) == (0, 1, True, None)
    dist.barrier()
    a = np.arange(3.0)
    assert dist.allreduce(a) is a and dist.allreduce(2.5, "max") == 2.5
    assert dist.broadcast_object({"k": 1}) == {"k": 1}
    assert dist.allgather_object(7) == [7]
    assert "mpi4py.MPI" not in sys.modules  # nothing loaded MPI


def test_mpiexec_n_1_needs_no_mpi(fresh_world, monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "1")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if not installed
    assert dist.world_size() == 1


def test_a_launched_process_without_mpi4py_names_the_extra(fresh_world, monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setenv("PMI_RANK", "0")
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"gradstep\[mpi\]"):
        dist.init()


def test_launched_size_reads_the_launchers_environment(fresh_world, monkeypatch):
    assert world.launched_size() is None
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert world.launched_size() == 4


def test_allreduce_checks_its_op(fresh_world):
    with pytest.raises(ValueError, match="op must be one of sum, max, min"):
        dist.allreduce(1.0, "mean")


def test_abort_in_one_process_exits_with_the_message(fresh_world, capsys):
    with pytest.raises(SystemExit) as info:
        dist.abort("the data is gone", 3)
    assert info.value.code == 3
    assert "gradstep: error: the data is gone" in capsys.readouterr().err


def test_the_launcher_runs_python_m_gradstep_under_the_mpiexec_beside_python():
    cmd = dist.mpiexec_command(3, ["train", "cfg.toml"], mpiexec="/bin/true")
    assert cmd == ["/bin/true", "-n", "3", sys.executable, "-m", "gradstep", "train", "cfg.toml"]
    beside = Path(sys.executable).parent / "mpiexec"
    assert dist.mpiexec_command(2, ["train"])[0] == str(beside)  # the mpich wheel's
    with pytest.raises(ValueError, match="positive integer"):
        dist.mpiexec_command(0, ["train"])


@pytest.mark.parametrize("value", ["0", "two", "-3"])
def test_nproc_must_be_a_positive_number(fresh_world, value, capsys):
    assert main(["train", "--nproc", value, "--train.epochs", "1"]) == 2
    assert "--nproc needs a positive number of processes" in capsys.readouterr().err


def test_without_mpi4py_the_launcher_names_the_extra(monkeypatch, capsys):
    import gradstep.distributed.launcher as L

    real = L.importlib.util.find_spec
    monkeypatch.setattr(
        L.importlib.util, "find_spec", lambda name: None if name == "mpi4py" else real(name)
    )
    with pytest.raises(ImportError, match=r"needs mpi4py; pip install \"gradstep\[mpi\]\""):
        L.find_mpiexec()
    assert main(["train", "--nproc", "2", "--train.epochs", "1"]) == 2
    assert 'pip install "gradstep[mpi]"' in capsys.readouterr().err


def test_the_launched_command_drops_nproc_and_keeps_the_rest():
    from gradstep.cli.train import _without_nproc

    args = ["cfg.toml", "--nproc", "4", "--optimizer.lr", "0.1", "--nproc=4", "--json"]
    assert _without_nproc(args) == ["cfg.toml", "--optimizer.lr", "0.1", "--json"]
