"""The parent side of the fuzzing: one worker subprocess per test process (see ``_worker.py``),
a watchdog on every answer, and the outcome check.

``GRADSTEP_FUZZ_EXAMPLES`` sets the examples per reader (the suite's default below; the deeper
CI step sets more); ``GRADSTEP_FUZZ_WATCHDOG`` the seconds one input may take.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import gradstep

EXAMPLES = int(os.environ.get("GRADSTEP_FUZZ_EXAMPLES", "500"))
WATCHDOG = float(os.environ.get("GRADSTEP_FUZZ_WATCHDOG", "20"))
SRC = str(Path(gradstep.__file__).resolve().parents[1])
WORKER = str(Path(__file__).with_name("_worker.py"))


class Worker:
    """A reader process under a memory limit; ``run`` answers one input or reports a hang."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.stderr = tempfile.TemporaryFile()

    def start(self) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
        }
        self.stderr.seek(0)
        self.stderr.truncate()
        self.proc = subprocess.Popen(
            [sys.executable, WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            start_new_session=True,
        )
        assert self._line(120.0) == b"ready\n", self._died()

    def _line(self, timeout: float) -> bytes | None:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline() if ready else None

    def _died(self) -> str:
        assert self.proc is not None
        code = self.proc.wait()
        self.stderr.seek(0)
        tail = self.stderr.read()[-3000:].decode(errors="replace")
        self.proc = None
        return f"the worker died (exit status {code}): {tail}"

    def run(self, reader: str, payload: bytes) -> dict[str, Any]:
        """The worker's answer for ``payload``; a hang past the watchdog or the worker's death
        (a crash, the memory limit) is an answer too ("hang", "died")."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        header = json.dumps({"reader": reader, "size": len(payload)}).encode() + b"\n"
        try:
            self.proc.stdin.write(header + payload)
            self.proc.stdin.flush()
        except BrokenPipeError:
            return {"outcome": "died", "message": self._died()}
        line = self._line(WATCHDOG)
        if line is None:
            self.close()
            return {"outcome": "hang", "message": f"no answer within {WATCHDOG:g} s"}
        if not line:
            return {"outcome": "died", "message": self._died()}
        return json.loads(line)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None


def check(answer: dict[str, Any], payload: bytes) -> None:
    """Fail unless the reader gave a result or its own one-line error naming the file."""
    if answer["outcome"] in ("ok", "refused"):
        return
    shown = payload[:300]
    raise AssertionError(
        f"{answer['outcome']}: {answer.get('type', '')}: {answer.get('message', '')}\n"
        f"input ({len(payload)} bytes): {shown!r}{'...' if len(payload) > 300 else ''}\n"
        f"{answer.get('detail', '')}"
    )
