"""Fixtures of the optimizer tests."""

import pytest

from gradstep.optim import kernels as kernel_paths


@pytest.fixture
def kernels(request, monkeypatch):
    """Select the fused-step kernel path named by the test's parameter ("numpy", "numba",
    "none"); the previous choice is restored afterwards. With "numba" every run takes the numba
    kernels, however small (the tests' models are far below ``NUMBA_MIN_SIZE``)."""
    before = kernel_paths.kernel_choice()
    chosen = kernel_paths.select_kernels(request.param)
    assert chosen == request.param
    if chosen == "numba":
        monkeypatch.setattr(kernel_paths, "NUMBA_MIN_SIZE", 0)
    yield chosen
    kernel_paths.select_kernels(before)
