"""Test-session settings: one BLAS/OpenMP thread per test process, and hypothesis's profiles.

pytest-xdist runs one process per core; a multi-threaded BLAS in each of them oversubscribes the
cores, and OpenBLAS's waiting threads then make small matrix products hundreds of times slower.
Under CI (the CI environment variable set) hypothesis runs derandomized: the same examples on
every run, so a failure there is reproducible and never a one-in-a-hundred draw.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(1)

# Datasets cache into a folder of this session, never the user's cache.
import tempfile  # noqa: E402

os.environ.setdefault("GRADSTEP_CACHE_DIR", tempfile.mkdtemp(prefix="gradstep-cache-"))

# Hypothesis: the "ci" profile under CI; tests never time anything (deadline=None everywhere).
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
