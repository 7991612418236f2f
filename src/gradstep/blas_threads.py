"""BLAS calls on one thread when they are small, on all of them when they are big.

OpenBLAS splits a call over its threads and then waits for every one of them. When another
process keeps a core busy, the thread on that core runs only when the scheduler gives it a slice
(milliseconds later), so a product that takes 20 µs on one thread can take 2–20 ms on two.
OpenBLAS already runs the smallest products on one thread (m·n·k ≤ 262,144 for a matrix product,
m·n < 9,216 for a matrix-vector one); :func:`matmul` runs the next range, up to
:data:`SMALL_PRODUCT`, on one thread as well, where a second thread saves little even on an idle
machine, and leaves bigger products to the thread limit (``gs.set_num_threads``). The thread
count is set back after each such call, so nothing outside sees a change.

:func:`openblas_controls` finds the thread controls of NumPy's or scipy's OpenBLAS (their wheels
bundle one each) and :func:`on_one_thread` runs any call under them: the optimizers' BLAS
``axpy`` (optim/blas.py) uses the same two. With another BLAS, or with
``GRADSTEP_BLAS_THREADS=fixed``, nothing is steered.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

#: m·n·k below which a product runs on one thread. Measured on 2 cores (AMD EPYC, OpenBLAS
#: 0.3.31), idle: two threads gave no gain up to 1e6 (100×100×100: 1.00×; 128×64×128: slower)
#: and 1.5× at 4.2e6 (256×128×128); with the other core busy, two threads were 4–40× slower.
SMALL_PRODUCT = 4_000_000
#: Sizes OpenBLAS itself keeps on one thread (interface/gemm.c and gemv.c thresholds).
_GEMM_SINGLE = 262_144
GEMV_SINGLE = 9_216

Controls = list[tuple[Callable[[], int], Callable[[int], Any]]]
_CONTROLS: dict[str, Controls] = {}


def openblas_libs(package: str, own_only: bool = False) -> list[Any]:
    """threadpoolctl's controllers of the OpenBLAS that ``package`` ("numpy" or "scipy")
    bundles; when none lies in that package's folder, every OpenBLAS loaded (none with
    ``own_only``); empty with another BLAS, without threadpoolctl, or when
    GRADSTEP_BLAS_THREADS=fixed."""
    if os.environ.get("GRADSTEP_BLAS_THREADS", "").lower() == "fixed":
        return []
    try:
        from threadpoolctl import ThreadpoolController

        libs = ThreadpoolController().select(internal_api="openblas").lib_controllers
    except Exception:  # noqa: BLE001 - steering is an optimisation: never fail over it
        return []
    own = [
        lib
        for lib in libs
        if os.path.basename(os.path.dirname(str(lib.filepath))).startswith(package)
    ]
    return own if own or own_only else list(libs)


def openblas_controls(package: str) -> Controls:
    """``(get, set)`` thread-count functions of :func:`openblas_libs`, found once; empty when
    there is nothing to steer."""
    found = _CONTROLS.get(package)
    if found is not None:
        return found
    found = []
    for lib in openblas_libs(package):
        get = lib._get_symbol("openblas_get_num_threads")
        put = lib._get_symbol("openblas_set_num_threads")
        if get is not None and put is not None:
            found.append((get, put))
    _CONTROLS[package] = found
    return found


def on_one_thread(controls: Controls, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with the OpenBLAS libraries of ``controls`` held to one thread,
    their counts set back afterwards (no lock: another thread that reads our 1 leaves it alone,
    and the count restored is the one read before it changed)."""
    saved = [get() for get, _ in controls]
    if not any(n > 1 for n in saved):
        return fn(*args, **kwargs)
    for _, put in controls:
        put(1)
    try:
        return fn(*args, **kwargs)
    finally:
        for (_, put), n in zip(controls, saved):
            put(n)


def matmul(xp: Any, a: Any, b: Any, out: Any = None) -> Any:
    """``xp.matmul(a, b, out=out)``, on one BLAS thread when the product is small (see above)."""
    k = a.shape[-1]
    m = a.size // k if k else 0  # batched operands count every matrix of the batch
    n = b.shape[-1] if b.ndim > 1 else 1
    mnk = m * k * n
    vector = a.ndim == 1 or a.shape[-2] == 1 or n == 1
    if mnk < SMALL_PRODUCT and mnk > (GEMV_SINGLE if vector else _GEMM_SINGLE):
        controls = _CONTROLS.get("numpy")
        if controls is None:
            controls = openblas_controls("numpy")
        if controls:
            return on_one_thread(controls, xp.matmul, a, b, out=out)
    return xp.matmul(a, b, out=out)


__all__ = [
    "GEMV_SINGLE",
    "SMALL_PRODUCT",
    "matmul",
    "on_one_thread",
    "openblas_controls",
    "openblas_libs",
]
