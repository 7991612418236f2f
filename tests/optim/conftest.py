"""Fixtures of the optimizer tests."""

import pytest

from gradstep.optim import kernels as kernel_paths


@pytest.fixture
def kernels(request, monkeypatch):
    """Select the fused-step kernel path named by the test's parameter ("numpy", "numba",
    "none"); the previous choice is restored afterwards. "numba" asked for by name loads the
    kernels at once, and every run takes them from its first update."""
    before = kernel_paths.kernel_choice()
    chosen = kernel_paths.select_kernels(request.param)
    assert chosen == request.param
    yield chosen
    kernel_paths.select_kernels(before)
