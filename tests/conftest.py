"""Test-session settings: one BLAS/OpenMP thread per test process.

pytest-xdist runs one process per core; a multi-threaded BLAS in each of them oversubscribes the
cores, and OpenBLAS's waiting threads then make small matrix products hundreds of times slower.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(1)

# Datasets cache into a folder of this session, never the user's cache.
import tempfile  # noqa: E402

os.environ.setdefault("GRADSTEP_CACHE_DIR", tempfile.mkdtemp(prefix="gradstep-cache-"))
