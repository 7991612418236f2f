"""The NPZ reader: arrays ``x`` and ``y`` from an ``.npz`` archive, never unpickling.

Each member's ``.npy`` header is checked against the bytes the archive holds for it before any of
the array is allocated; a malformed archive raises DataFormatError naming the file and the key.
"""

from __future__ import annotations

import lzma
import math
import os
import struct
import tokenize
import zipfile
import zlib
from typing import Any

import numpy as np

from .readers import DataFormatError, PathLike, _listed, _reason

__all__ = ["read_npz"]

_ZIP_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    NotImplementedError,  # a compression method zipfile lacks
    RuntimeError,  # an encrypted member
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    struct.error,
)
_NPY_MAGIC = b"\x93NUMPY"
# what parsing a damaged header's text raises besides ValueError (tokenize, ast, the literal)
_HEADER_ERRORS = (ValueError, SyntaxError, tokenize.TokenError, TypeError, RecursionError)


def _npy_member(archive: zipfile.ZipFile, key: str, path: str) -> np.ndarray:
    """One ``.npy`` member, its header checked against the member's size before any of the
    array is allocated; object arrays are refused (they would need unpickling)."""
    info = archive.getinfo(f"{key}.npy")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            read_header = np.lib.format.read_array_header_1_0
        elif version == (2, 0):
            read_header = np.lib.format.read_array_header_2_0
        else:
            raise DataFormatError(
                f"{path}: array {key!r} is in .npy format {version[0]}.{version[1]}, which this "
                "reader does not take",
                "save it again with np.savez",
            )
        try:
            shape, fortran, dtype = read_header(member)
        except _HEADER_ERRORS as err:  # NumPy parses the header text as a Python literal
            raise DataFormatError(
                f"{path}: array {key!r} has a malformed .npy header ({_reason(err)})",
                "save the file again",
            ) from None
        if dtype.hasobject or dtype.itemsize == 0 or dtype.kind == "V":
            raise DataFormatError(
                f"{path}: array {key!r} has dtype {_reason(str(dtype))}, not plain numbers or "
                "text (object arrays would need unpickling, which is never done)",
                "save numeric arrays (e.g. x.astype(np.float32))",
            )
        if any(d < 0 for d in shape):
            raise DataFormatError(f"{path}: array {key!r} declares a negative shape {shape}")
        needed = math.prod(shape) * dtype.itemsize
        held = info.file_size - member.tell()
        if needed != held:
            raise DataFormatError(
                f"{path}: array {key!r} declares shape {shape} of {dtype}, {needed} bytes, but "
                f"the archive holds {held} bytes for it (damaged or truncated)",
                "save the file again",
            )
        data = member.read(needed)  # grows with the bytes that are really there
    if len(data) != needed:
        raise DataFormatError(
            f"{path}: array {key!r} is truncated ({len(data)} of {needed} bytes)",
            "save the file again",
        )
    flat = np.frombuffer(data, dtype=dtype, count=needed // dtype.itemsize)
    out = flat.reshape(shape, order="F" if fortran else "C")
    return out.astype(dtype.newbyteorder("="), copy=True)


def read_npz(path: PathLike, x: str = "x", y: str | None = "y") -> Any:
    """Read arrays ``x`` and ``y`` from an ``.npz`` archive (never unpickling) as ``(x, y)``.

    With ``y=None`` only the ``x`` array is returned. Arrays come back as stored (in native
    byte order).

    >>> x, y = read_npz("data.npz")
    """
    spath = os.fspath(path)
    with open(spath, "rb") as handle:
        start = handle.read(len(_NPY_MAGIC))
    if start == _NPY_MAGIC:
        raise DataFormatError(
            f"{spath}: holds a single .npy array, not an .npz archive of x and y",
            "save both with np.savez(path, x=x, y=y)",
        )
    try:
        archive = zipfile.ZipFile(spath)
    except _ZIP_ERRORS as err:
        raise DataFormatError(
            f"{spath}: not a readable .npz archive ({_reason(err)})",
            "save the arrays with np.savez(path, x=x, y=y)",
        ) from None
    with archive:
        files = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
        wanted = [x] if y is None else [x, y]
        missing = [k for k in wanted if k not in files]
        if missing:
            raise DataFormatError(
                f"{spath}: no array named {missing[0]!r}; the archive holds {_listed(files)}",
                "pass x= and y= with those names",
            )
        out = []
        for key in wanted:
            try:
                out.append(_npy_member(archive, key, spath))
            except DataFormatError:
                raise
            except _ZIP_ERRORS as err:
                raise DataFormatError(
                    f"{spath}: array {key!r} cannot be read ({_reason(err)})",
                    "save the file again",
                ) from None
    if y is None:
        return out[0]
    if out[0].ndim == 0 or out[1].ndim == 0 or out[0].shape[0] != out[1].shape[0]:
        raise DataFormatError(
            f"{spath}: {x!r} has shape {out[0].shape} and {y!r} has shape {out[1].shape}",
            "they need the same number of samples along axis 0",
        )
    return out[0], out[1]
