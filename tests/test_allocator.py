"""The allocator setting backend.py applies at import, and its opt-out."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = "import gradstep.backend as b; print(b.malloc_tuned)"


def _run(**env: str) -> str:
    full = {k: v for k, v in os.environ.items() if k != "GRADSTEP_MALLOC"} | env
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=full)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_glibc_keeps_freed_memory_unless_told_not_to():
    import ctypes.util

    glibc = "libc.so" in (ctypes.util.find_library("c") or "")
    assert _run() == str(glibc)
    assert _run(GRADSTEP_MALLOC="system") == "False"
