"""MNIST's IDX format: read one file (gzipped or not), or an images + labels pair for training."""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

from .readers import DataFormatError, PathLike

__all__ = ["load_idx_pair", "read_idx"]


_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_maybe_gzip(path: str) -> tuple[bytes, str]:
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] != b"\x1f\x8b":
        return raw, ""
    try:
        return gzip.decompress(raw), " of the decompressed data"
    except (OSError, EOFError, zlib.error) as err:
        raise DataFormatError(f"{path}: the gzip stream is damaged or truncated ({err}).") from err


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, into a native-endian NumPy array.

    Header: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, then each size as a big-endian uint32.
    """
    spath = os.fspath(path)
    data, note = _read_maybe_gzip(spath)
    if len(data) < 4:
        raise DataFormatError(
            f"{spath}: only {len(data)} bytes{note}; an IDX header has 4 or more."
        )
    if data[0] != 0 or data[1] != 0:
        raise DataFormatError(
            f"{spath} byte offset 0{note}: magic number starts with {data[:2].hex()}, not 0000; "
            "this is not an IDX file."
        )
    code, ndim = data[2], data[3]
    if code not in _IDX_TYPES:
        raise DataFormatError(
            f"{spath} byte offset 2{note}: unknown IDX type code 0x{code:02x}; expected one of "
            + ", ".join(f"0x{c:02x}" for c in _IDX_TYPES)
            + "."
        )
    if ndim == 0:
        raise DataFormatError(f"{spath} byte offset 3{note}: the IDX file declares 0 dimensions.")
    start = 4 + 4 * ndim
    if len(data) < start:
        raise DataFormatError(
            f"{spath} byte offset {len(data)}{note}: header truncated; {ndim} dimension sizes "
            f"need {start} header bytes."
        )
    shape = struct.unpack(f">{ndim}I", data[4:start])
    dtype = np.dtype(_IDX_TYPES[code])
    if math.prod(d for d in shape if d) * dtype.itemsize > np.iinfo(np.intp).max:
        raise DataFormatError(
            f"{spath} byte offset 4{note}: shape {shape} is larger than any array can be; "
            "this is not a valid IDX file."
        )
    expected = math.prod(shape) * dtype.itemsize
    found = len(data) - start
    if found != expected:
        problem = "truncated" if found < expected else "has trailing bytes"
        raise DataFormatError(
            f"{spath} byte offset {start}{note}: data {problem}; shape {shape} of {dtype.name} "
            f"needs {expected} bytes after the header, found {found}."
        )
    array = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=start)
    return array.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def load_idx_pair(
    images: PathLike, labels: PathLike, flatten: bool = True, scale: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST-style image and label IDX files as ``(x float32, y int64)``.

    uint8 pixels are divided by 255 when ``scale`` (so x lies in [0, 1]); ``flatten`` turns each
    image into one row. ``TensorDataset(*load_idx_pair(...))`` is ready for a DataLoader.
    """
    x = read_idx(images)
    y = read_idx(labels)
    if y.ndim != 1:
        raise DataFormatError(f"{os.fspath(labels)}: labels must be 1-D, got shape {y.shape}.")
    if x.shape[0] != y.shape[0]:
        raise DataFormatError(
            f"{os.fspath(images)} holds {x.shape[0]} images but {os.fspath(labels)} holds "
            f"{y.shape[0]} labels; pass matching files."
        )
    xf = x.astype(np.float32)
    if scale and x.dtype == np.uint8:
        xf /= 255.0
    if flatten:
        xf = xf.reshape(x.shape[0], -1)
    return xf, y.astype(np.int64)
