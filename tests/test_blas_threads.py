"""Products run on one BLAS thread in the mid-size range, and the thread count is put back."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from gradstep import blas_threads


class _FakeBlas:
    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.calls: list[int] = []

    def set(self, n: int) -> None:
        self.calls.append(n)
        self.threads = n

    def get(self) -> int:
        return self.threads


@pytest.fixture
def fake(monkeypatch):
    blas = _FakeBlas(2)
    seen: list[int] = []

    def matmul(a, b, out=None):
        seen.append(blas.threads)  # the thread count the product ran with
        return np.matmul(a, b, out=out)

    class _XP:
        pass

    xp = _XP()
    xp.matmul = matmul
    monkeypatch.setitem(blas_threads._CONTROLS, "numpy", [(blas.get, blas.set)])
    return blas, seen, xp


@pytest.mark.parametrize(
    ("shape_a", "shape_b", "threads_during", "calls"),
    [
        ((16, 64), (64, 128), [2], []),  # 131k ≤ 262,144: OpenBLAS keeps it on one thread itself
        ((100, 100), (100, 100), [1], [1, 2]),  # 1e6: one thread, then back to 2
        ((1, 784), (784, 512), [1], [1, 2]),  # matrix-vector, 401k > 9,216: one thread
        ((1, 64), (64, 32), [2], []),  # 2,048: below OpenBLAS's own threshold
        ((128, 784), (784, 512), [2], []),  # 51M: both threads
        ((4, 50, 50), (4, 50, 50), [1], [1, 2]),  # batched: 4·50·50·50 = 500k counts the batch
    ],
)
def test_thread_count_by_size(fake, shape_a, shape_b, threads_during, calls):
    blas, seen, xp = fake
    a = np.ones(shape_a, np.float32)
    b = np.ones(shape_b, np.float32)
    out = blas_threads.matmul(xp, a, b)
    np.testing.assert_array_equal(out, a @ b)
    assert seen == threads_during
    assert blas.calls == calls
    assert blas.threads == 2


def test_one_thread_already_means_no_calls(fake):
    blas, seen, xp = fake
    blas.threads = 1
    blas_threads.matmul(xp, np.ones((100, 100)), np.ones((100, 100)))
    assert blas.calls == [] and seen == [1]


def test_count_restored_when_the_product_fails(fake):
    blas, _, xp = fake

    def boom(a, b, out=None):
        raise ValueError("shapes")

    xp.matmul = boom
    with pytest.raises(ValueError):
        blas_threads.matmul(xp, np.ones((100, 100)), np.ones((100, 100)))
    assert blas.threads == 2


def _numpy_openblas_threads() -> int | None:
    for lib in threadpool_info():
        if lib.get("internal_api") == "openblas" and "numpy" in lib.get("filepath", ""):
            return lib["num_threads"]
    return None


def test_real_openblas_limit_is_untouched():
    """With NumPy's real OpenBLAS: a user's limit holds after mid-size products, inside and
    outside a threadpoolctl block, and the product is right."""
    if _numpy_openblas_threads() is None:
        pytest.skip(reason="NumPy is not linked to OpenBLAS here: there is nothing to steer")
    a = np.random.default_rng(0).standard_normal((100, 100))
    with threadpool_limits(2):
        out = blas_threads.matmul(np, a, a.T)
        assert _numpy_openblas_threads() == 2
    np.testing.assert_allclose(out, a @ a.T)
    with threadpool_limits(1):
        blas_threads.matmul(np, a, a.T)
        assert _numpy_openblas_threads() == 1
