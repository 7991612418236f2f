"""Every reader of files users bring, fuzzed: any bytes give a result or the library's own
one-line error naming the file — never another exception, a hang (watchdog) or an allocation
that a header asked for (the worker runs under RLIMIT_AS). See harness.py and _worker.py.

Each reader gets ``harness.EXAMPLES`` inputs (500 in the suite, 4000 in the deeper step of
.ci/run; derandomized under CI by the "ci" profile), drawn from random bytes, inputs built from
the format's pieces and valid files with a few bytes changed.
"""

from hypothesis import HealthCheck, given, settings

from . import strategies as S
from .harness import EXAMPLES, check

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(payload=S.csv_inputs)
def test_csv_reader(fuzz_worker, payload):
    check(fuzz_worker.run("csv", payload), payload)


@FUZZ
@given(payload=S.npz_inputs)
def test_npz_reader(fuzz_worker, payload):
    check(fuzz_worker.run("npz", payload), payload)


@FUZZ
@given(payload=S.idx_inputs)
def test_idx_reader(fuzz_worker, payload):
    check(fuzz_worker.run("idx", payload), payload)


@FUZZ
@given(payload=S.checkpoint_inputs)
def test_checkpoint_reader(fuzz_worker, payload):
    check(fuzz_worker.run("checkpoint", payload), payload)


@FUZZ
@given(payload=S.config_inputs)
def test_config_reader(fuzz_worker, payload):
    check(fuzz_worker.run("config", payload), payload)
