"""Matrix products on one BLAS thread when they are small, on all of them when they are big.

OpenBLAS splits a product over its threads and then waits for every one of them. When another
process keeps a core busy, the thread on that core runs only when the scheduler gives it a slice
(milliseconds later), so a product that takes 20 µs on one thread can take 2–20 ms on two.
OpenBLAS already runs the smallest products on one thread (m·n·k ≤ 262,144 for a matrix product,
m·n < 9,216 for a matrix-vector one); :func:`matmul` runs the next range, up to
:data:`SMALL_PRODUCT`, on one thread as well, where a second thread saves little even on an idle
machine, and leaves bigger products to the thread limit (``gs.set_num_threads``). The thread
count is set back after each such product, so nothing outside sees a change. Only NumPy's
OpenBLAS is steered; with another BLAS, or with ``GRADSTEP_BLAS_THREADS=fixed``, :func:`matmul`
is plain ``xp.matmul``.
"""

from __future__ import annotations

import os
from typing import Any

#: m·n·k below which a product runs on one thread. Measured on 2 cores (AMD EPYC, OpenBLAS
#: 0.3.31), idle: two threads gave no gain up to 1e6 (100×100×100: 1.00×; 128×64×128: slower)
#: and 1.5× at 4.2e6 (256×128×128); with the other core busy, two threads were 4–40× slower.
SMALL_PRODUCT = 4_000_000
#: Sizes OpenBLAS itself keeps on one thread (interface/gemm.c and gemv.c thresholds).
_GEMM_SINGLE = 262_144
GEMV_SINGLE = 9_216

_blas: list[Any] = []  # [set, get] once bound; [] before; [None, None] when nothing to steer


def _bind() -> None:
    """Find NumPy's OpenBLAS and its thread functions (once, at the first mid-size product)."""
    found: list[Any] = [None, None]
    if os.environ.get("GRADSTEP_BLAS_THREADS", "").lower() != "fixed":
        try:
            from threadpoolctl import ThreadpoolController

            for lib in ThreadpoolController().select(internal_api="openblas").lib_controllers:
                if "numpy" not in str(lib.filepath):
                    continue
                setter = lib._get_symbol("openblas_set_num_threads")
                getter = lib._get_symbol("openblas_get_num_threads")
                if setter is not None and getter is not None:
                    found = [setter, getter]
                    break
        except Exception:  # noqa: BLE001 - steering is an optimisation: never fail over it
            pass
    _blas[:] = found


def matmul(xp: Any, a: Any, b: Any, out: Any = None) -> Any:
    """``xp.matmul(a, b, out=out)``, on one BLAS thread when the product is small (see above)."""
    k = a.shape[-1]
    m = a.size // k if k else 0  # batched operands count every matrix of the batch
    n = b.shape[-1] if b.ndim > 1 else 1
    mnk = m * k * n
    vector = a.ndim == 1 or a.shape[-2] == 1 or n == 1
    if mnk < SMALL_PRODUCT and mnk > (GEMV_SINGLE if vector else _GEMM_SINGLE):
        if not _blas:
            _bind()
        setter, getter = _blas
        if setter is not None:
            before = getter()
            if before > 1:
                setter(1)
                try:
                    return xp.matmul(a, b, out=out)
                finally:
                    setter(before)
    return xp.matmul(a, b, out=out)


__all__ = ["GEMV_SINGLE", "SMALL_PRODUCT", "matmul"]
