"""One fuzzing worker per test process, shared by the fuzz tests and closed at the end."""

import pytest

from .harness import Worker


@pytest.fixture(scope="session")
def fuzz_worker():
    worker = Worker()
    yield worker
    worker.close()
