"""The fuzzing worker: reads requests on stdin, runs a reader on the bytes, answers on stdout.

Run as a subprocess (``python _worker.py``) under a memory limit (RLIMIT_AS: what it has mapped
after its imports, plus ``GRADSTEP_FUZZ_MEMORY`` bytes, 1 GiB by default), so that a reader that
allocates what a header claims fails with MemoryError here instead of taking the machine.

A request is one JSON line ``{"reader": NAME, "size": N}`` followed by N bytes; the answer is
one JSON line: ``{"outcome": "ok" | "refused" | "crashed", "type", "message", "detail"}``.
"refused" is the library's own error for that reader; "crashed" is anything else (another
exception, or a result that breaks the reader's promises), with the traceback as detail.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import tomllib
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from gradstep import config
from gradstep.data.idx import read_idx
from gradstep.data.npz import read_npz
from gradstep.data.readers import DataFormatError, read_csv, read_csv_rows
from gradstep.io import CheckpointError, load


def _check_csv(path: str) -> str:
    rows, lines = read_csv_rows(path)
    assert len(rows) == len(lines) and all(len(r) == len(rows[0]) for r in rows)
    refusals = []
    for kwargs in ({"target": -1}, {}, {"target": 0, "header": False}):
        try:
            data = read_csv(path, **kwargs)
        except DataFormatError as err:
            _clear(str(err), path)
            refusals.append(err)
            continue
        x, y = data.x, data.y
        assert x.dtype == np.float32 and x.ndim == 2 and np.isfinite(x).all(), x
        assert len(y) == len(x) and x.shape[1] == len(data.feature_names) >= 1
        if data.task == "classification":
            assert y.dtype == np.int64 and y.min() >= 0 and y.max() < data.n_classes
        else:
            assert y.dtype == np.float32 and np.isfinite(y).all()
    if len(refusals) == 3:
        raise refusals[0]
    return "read"


def _check_npz(path: str) -> str:
    x, y = read_npz(path)
    assert len(x) == len(y) and x.flags.writeable and x.dtype.isnative
    return f"x{x.shape} y{y.shape}"


def _check_idx(path: str) -> str:
    array = read_idx(path)
    assert array.dtype.isnative and array.ndim >= 1
    return f"{array.dtype}{array.shape}"


def _check_checkpoint(path: str) -> str:
    ckpt = load(path)
    assert isinstance(ckpt, dict)
    return f"{len(ckpt)} entries"


def _check_config(path: str) -> str:
    raw = config.load_file(path)
    cfg, _ = config.resolve(raw, source=path)
    text = config.dumps(cfg)  # what resolves must write and read back unchanged
    again, _ = config.resolve(tomllib.loads(text), source="the written config")
    assert again == cfg, (cfg, again)
    return "resolved"


READERS: dict[str, tuple[str, Callable[[str], str], tuple[type[BaseException], ...]]] = {
    "csv": (".csv", _check_csv, (DataFormatError,)),
    "npz": (".npz", _check_npz, (DataFormatError,)),
    "idx": (".idx", _check_idx, (DataFormatError,)),
    "checkpoint": (".safetensors", _check_checkpoint, (CheckpointError,)),
    "config": (".toml", _check_config, (config.ConfigError,)),
}


def _clear(message: str, path: str) -> None:
    """The promise of every refusal: one line that names the file, of a readable length."""
    assert message and "\n" not in message, f"not one line: {message!r}"
    assert len(message) <= 1500, f"{len(message)} characters: {message[:300]!r}..."
    assert path in message, f"does not name the file: {message!r}"


def _limit_memory(extra: int) -> None:
    with open("/proc/self/status") as f:
        mapped = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (mapped + extra, mapped + extra))


def _answer(reader: str, payload: bytes, folder: str) -> dict[str, Any]:
    suffix, check, expected = READERS[reader]
    path = os.path.join(folder, "input" + suffix)
    with open(path, "wb") as f:
        f.write(payload)
    try:
        return {"outcome": "ok", "detail": check(path)}
    except expected as err:
        try:
            _clear(str(err), path)
        except AssertionError as unclear:
            return {"outcome": "crashed", "type": "unclear message", "message": str(unclear)}
        return {"outcome": "refused", "type": type(err).__name__, "message": str(err)}
    except BaseException as err:  # noqa: BLE001 - anything else is what the fuzzing looks for
        return {
            "outcome": "crashed",
            "type": type(err).__name__,
            "message": str(err)[:2000],
            "detail": traceback.format_exc()[-4000:],
        }


def main() -> None:
    _limit_memory(int(os.environ.get("GRADSTEP_FUZZ_MEMORY", 1 << 30)))
    folder = tempfile.mkdtemp(prefix="gradstep-fuzz-")
    source, sink = sys.stdin.buffer, sys.stdout
    sink.write("ready\n")
    sink.flush()
    while True:
        line = source.readline()
        if not line:
            return
        request = json.loads(line)
        payload = source.read(request["size"])
        sink.write(json.dumps(_answer(request["reader"], payload, folder)) + "\n")
        sink.flush()


if __name__ == "__main__":
    main()
