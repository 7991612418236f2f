"""Inputs the fuzzing found that once escaped as another exception, kept as regression tests:
each must now give the reader's own error (one line, naming the file)."""

import io
import json
import struct
import zipfile

import pytest

from gradstep import config
from gradstep.data.idx import read_idx
from gradstep.data.npz import read_npz
from gradstep.data.readers import DataFormatError, read_csv
from gradstep.io import CheckpointError, load

READERS = {
    ".idx": (read_idx, DataFormatError),
    ".csv": (read_csv, DataFormatError),
    ".npz": (read_npz, DataFormatError),
    ".safetensors": (load, CheckpointError),
    ".toml": (config.load_file, config.ConfigError),
}

FOUND = [
    # a gzip header followed by a damaged deflate stream: zlib.error escaped read_idx
    (".idx", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "gzip stream"),
    # a zero-size array of an impossible shape: NumPy's "array is too big" escaped read_idx
    (
        ".idx",
        b"\x00\x00\x08\x05" + b"\x00" * 11 + b"\x08@\x00\x00\x00@\x00\x00\x00",
        "larger than any array can be",
    ),
    # a value float64 holds but float32 does not: read_csv returned inf as a feature
    (".csv", b"a,label\n1e39,0\n2,1\n", "beyond the float32 range"),
    # gradstep metadata nested a thousand levels deep: RecursionError escaped gs.load
    (
        ".safetensors",
        None,  # built by _deep_checkpoint()
        "nests deeper than can be read",
    ),
    # a structure that decodes to a list: dict() raised ValueError inside gs.load
    (".safetensors", "structure", "not a mapping"),
    # an .npy header of NUL bytes around a "{": tokenize.TokenError escaped read_npz
    (".npz", "npy_header", "malformed .npy header"),
    # a value nested deeper than tomllib reads: RecursionError escaped load_file
    (".toml", b"[train]\nepochs = " + b"[" * 2000 + b"]" * 2000 + b"\n", "too deeply"),
]


def _checkpoint(gradstep_entry: str) -> bytes:
    """A well-framed safetensors file (one float32) with this gradstep metadata entry."""
    header = {
        "__metadata__": {"gradstep": gradstep_entry},
        "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
    }
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + b"\0\0\x80\x3f"


def _npz_with_header(header: bytes) -> bytes:
    """An .npz archive whose x.npy member is a version 1.0 header of these bytes (and an empty
    y.npy)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("x.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header)
        archive.writestr("y.npy", b"")
    return buf.getvalue()


SPECIAL = {
    None: lambda: _checkpoint('{"format_version": 2, "metadata": ' + "[" * 3000 + "]" * 3000 + "}"),
    "structure": lambda: _checkpoint('{"format_version": 2, "metadata": {}, "structure": [[]]}'),
    "npy_header": lambda: _npz_with_header(b"\x00" * 60 + b"{" + b"\x00" * 57),
}


@pytest.mark.parametrize(("suffix", "payload", "needle"), FOUND)
def test_found_case_gives_the_readers_own_error(tmp_path, suffix, payload, needle):
    path = tmp_path / f"found{suffix}"
    path.write_bytes(payload if isinstance(payload, bytes) else SPECIAL[payload]())
    reader, error = READERS[suffix]
    with pytest.raises(error) as caught:
        reader(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message and needle in message
