"""Checkpoints: named arrays in one safetensors file, JSON metadata in its header, atomic writes.

A file never carries code: nothing is unpickled and no module or class named in a file is imported.
The header is checked here before safetensors reads the data, so a damaged file fails with one
sentence naming the file, what is wrong and what to do.

Header layout (``"__metadata__"`` of the safetensors header, which holds only str -> str):

- ``"gradstep"``: a JSON string ``{"format_version": 2, "metadata": <the user's metadata>,
  "structure": <the saved tree>}``. This entry is the one :func:`load` reads back. "structure" is
  there only when a nested mapping was saved: the tree with each array replaced by
  ``{"$array": "its.dotted.name"}``. Format 1 (no structure) still loads.
- every top-level entry of the user's metadata whose key and value are both strings is also copied
  as a plain entry, so that other tools (``safe_open(...).metadata()``) can read it.

Metadata values are JSON with three exact extensions (``json_codec.py``), so that what is saved
comes back unchanged.

A model's own weights use bare PyTorch names (``"0.weight"``) so that
``torch.nn.Module.load_state_dict`` takes them; the layout of a whole training state is
``gradstep.train.state``'s. State that holds arrays beside JSON (an optimizer's, a callback's)
refers to them with :class:`ArrayRef`, which :func:`encode_json` writes as ``{"$array": name}``
and :func:`decode_json` looks up again.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import struct
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import safetensors
import safetensors.numpy

from .json_codec import ArrayRef, decode_json, encode_json

__all__ = [
    "FORMAT_VERSION",
    "ArrayRef",
    "Checkpoint",
    "CheckpointError",
    "decode_json",
    "encode_json",
    "load",
    "save",
]

FORMAT_VERSION = 2
"""The newest checkpoint format this version writes and reads (2 added the nested structure; files
of format 1 load as flat mappings)."""

METADATA_KEY = "gradstep"
_MAX_HEADER_BYTES = 100_000_000  # the limit safetensors itself enforces

# safetensors dtype name -> NumPy dtype, for every dtype NumPy can hold.
_DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "U8": np.dtype(np.uint8),
    "I8": np.dtype(np.int8),
    "U16": np.dtype(np.uint16),
    "I16": np.dtype(np.int16),
    "F16": np.dtype(np.float16),
    "U32": np.dtype(np.uint32),
    "I32": np.dtype(np.int32),
    "F32": np.dtype(np.float32),
    "U64": np.dtype(np.uint64),
    "I64": np.dtype(np.int64),
    "F64": np.dtype(np.float64),
    "C64": np.dtype(np.complex64),
}
_SAVABLE = frozenset(_DTYPES.values())

_before_replace: Callable[[str, str], None] | None = None
"""Called with (temporary path, target path) after the data is on disk and before the rename.
Tests set it to a function that raises, to simulate a crash at the worst moment."""


class CheckpointError(ValueError):
    """A checkpoint file is damaged, not a checkpoint, or does not match what it is loaded into."""


# ----------------------------------------------------------------------------------------- save


class Checkpoint(dict):
    """What :func:`load` gives: the saved mapping, nested as it was saved, with the JSON
    ``metadata`` on an attribute (``{}`` when none was saved)."""

    metadata: Any

    def __init__(self, content: Mapping[Any, Any] = (), metadata: Any = None) -> None:
        super().__init__(content)
        self.metadata = {} if metadata is None else metadata

    def __repr__(self) -> str:
        return f"Checkpoint({dict.__repr__(self)}, metadata={self.metadata!r})"


def save(obj: Mapping[Any, Any], path: str | os.PathLike, metadata: Any = None) -> None:
    """Write ``obj`` and JSON ``metadata`` to one .safetensors file, atomically.

    ``obj`` is a mapping of names to arrays (``model.state_dict()``), or a tree of them as PyTorch
    users write it (``{"model": sd, "optim": opt.state_dict(), "epoch": 3}``, integer keys and
    lists included): its arrays are stored flat under dotted names ("model.0.weight"), everything
    else and the tree's exact shape in the JSON header, so :func:`load` gives the same structure
    back. Values may be NumPy arrays, NumPy scalars or gradstep Tensors. The bytes go to a
    temporary file in the same directory, are flushed to disk, and then renamed over ``path``: a
    crash at any moment leaves either the old file or the new one, never a mix.

    >>> gs.save({"model": model.state_dict(), "epoch": 3}, "ckpt.safetensors")
    >>> model.load_state_dict(gs.load("ckpt.safetensors")["model"])
    """
    path = os.fspath(path)
    if not isinstance(obj, Mapping):
        raise TypeError(
            f"obj must be a dict of name -> array (or a nested dict of them), got "
            f"{type(obj).__name__}; pass e.g. model.state_dict()."
        )
    if all(isinstance(k, str) and _as_numpy(v) is not None for k, v in obj.items()):
        flat, structure = dict(obj), None  # names -> arrays: the plain layout PyTorch reads
    else:
        flat = {}
        structure = encode_json(_tree(obj, "", flat), "obj")
    arrays = _arrays_for_saving(flat)
    header = _header_metadata(metadata, structure)
    payload = safetensors.numpy.save(arrays, metadata=header)
    _atomic_write(path, payload)


def _tree(value: Any, name: str, flat: dict[str, Any]) -> Any:
    """``value`` with every array moved into ``flat`` under its dotted name (an ArrayRef left
    in its place); numbers, strings and the like stay, for the JSON."""
    if _as_numpy(value) is not None:
        if not name:
            raise TypeError("obj must be a mapping, not a single array; pass {'name': array}.")
        if name in flat:
            raise ValueError(
                f"two entries are both saved as {name!r}; rename one (a key with a dot can "
                "clash with a nested one)."
            )
        flat[name] = value
        return ArrayRef(name)
    if isinstance(value, Mapping):
        out = {}
        for key, v in value.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise TypeError(
                    f"key {key!r} under {name or 'the top level'!r} cannot be saved; use string "
                    "or integer keys."
                )
            out[key] = _tree(v, f"{name}.{key}" if name else str(key), flat)
        return out
    if isinstance(value, list | tuple):
        items = [_tree(v, f"{name}.{i}", flat) for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    return value


def _arrays_for_saving(mapping: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if not isinstance(mapping, Mapping):
        raise TypeError(
            f"mapping must be a dict of name -> array, got {type(mapping).__name__}; "
            "pass e.g. model.state_dict()."
        )
    arrays: dict[str, np.ndarray] = {}
    for name, value in mapping.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ValueError(
                f"array name {name!r} cannot be saved; use a non-empty string other than "
                "'__metadata__'."
            )
        array = _as_numpy(value)
        if array is None:
            raise TypeError(
                f"value {name!r} is a {type(value).__name__}, not an array; pass NumPy arrays or "
                "tensors (np.asarray(value)), and put numbers and settings in metadata."
            )
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))  # the file is little-endian
        if array.dtype not in _SAVABLE:
            raise TypeError(
                f"array {name!r} has dtype {array.dtype}, which a checkpoint cannot hold; convert "
                "it to a numeric or bool dtype (e.g. .astype(np.float32)) before saving."
            )
        # safetensors copies raw memory from the start of the buffer: it must be C-contiguous.
        arrays[name] = array if array.flags.c_contiguous else np.array(array, order="C")
    return arrays


def _as_numpy(value: Any) -> np.ndarray | None:
    """The NumPy array behind ``value`` (an array, a NumPy scalar or a Tensor), or None."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, np.generic):
        return np.asarray(value)
    data = getattr(value, "data", None)
    if isinstance(data, np.ndarray):
        return data
    return None


def _header_metadata(metadata: Any, structure: Any = None) -> dict[str, str]:
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, Mapping):
        raise TypeError(
            f"metadata must be a dict, got {type(metadata).__name__}; pass e.g. "
            "{'epoch': 3, 'note': 'baseline'}."
        )
    body = {"format_version": FORMAT_VERSION, "metadata": encode_json(metadata, "metadata")}
    if structure is not None:
        body["structure"] = structure
    header = {
        key: value
        for key, value in metadata.items()
        if isinstance(key, str) and isinstance(value, str) and key != METADATA_KEY
    }
    header[METADATA_KEY] = json.dumps(body, allow_nan=False, separators=(",", ":"))
    return header


def _atomic_write(path: str, payload: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"cannot save checkpoint {path!r}: directory {directory!r} does not exist; create it "
            "first (os.makedirs)."
        )
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"cannot save checkpoint {path!r}: it is a directory; pass a file name such as "
            f"{os.path.join(path, 'model.safetensors')!r}."
        )
    tmp: str | None = None
    try:
        tmp, fd = _create_temp(directory, os.path.basename(path))
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if _before_replace is not None:
            _before_replace(tmp, path)
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    _fsync_directory(directory)


def _create_temp(directory: str, base: str) -> tuple[str, int]:
    """A new temporary file beside the target, with the usual permissions (the umask applies)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(8)}.tmp")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable; platforms that cannot open a directory skip this."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------------------- load


def load(path: str | os.PathLike) -> Checkpoint:
    """Read a .safetensors file: the mapping given to :func:`save` (nested as it was, arrays as
    writable NumPy arrays), with the metadata given to it as ``.metadata``.

    Files written by other tools (e.g. ``safetensors.torch.save_file``) load too, as a flat
    mapping with metadata ``{}``. A damaged or foreign file raises :class:`CheckpointError`;
    nothing is ever unpickled.

    >>> ckpt = gs.load("model.safetensors")
    >>> model.load_state_dict(ckpt); ckpt.metadata["epoch"]
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"checkpoint {path!r} does not exist; check the path (gs.save writes one "
            ".safetensors file)."
        ) from None
    except IsADirectoryError:
        raise IsADirectoryError(
            f"checkpoint {path!r} is a directory; pass the file inside it, e.g. "
            f"{os.path.join(path, 'model.safetensors')!r}."
        ) from None
    header_meta = _check_file(data, path)
    metadata, structure = _read_metadata(header_meta, path)
    try:
        views = safetensors.numpy.load(data)
    except safetensors.SafetensorError as e:
        raise CheckpointError(
            f"checkpoint {path!r} could not be read by safetensors ({_why(e)}); save it again or "
            "restore it from a backup."
        ) from None
    # safetensors hands out read-only views of its bytes; callers expect arrays they can update.
    arrays = {name: np.array(view) for name, view in views.items()}
    if structure is None:
        return Checkpoint(arrays, metadata)
    try:
        content = decode_json(structure, arrays)
    except (KeyError, TypeError, ValueError, RecursionError) as e:
        raise CheckpointError(
            _damaged(path, f"has a structure that cannot be rebuilt ({_why(e)})")
        ) from None
    if not isinstance(content, Mapping):
        raise CheckpointError(
            _damaged(path, f"has a structure that is a {type(content).__name__}, not a mapping")
        )
    return Checkpoint(content, metadata)


def _damaged(path: str, what: str, fix: str = "save it again or restore it from a backup") -> str:
    return f"checkpoint {path!r} {what}; {fix}."


def _brief(value: Any, limit: int = 60) -> str:
    """A value read from a header, for a message: its repr, cut when long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _why(err: BaseException) -> str:
    """An exception from decoding a header as a short phrase for a message."""
    if isinstance(err, RecursionError):
        return "it nests deeper than can be read"
    text = " ".join(str(err).split())
    return text if len(text) <= 200 else text[:199] + "…"


def _check_file(data: bytes, path: str) -> dict[str, str]:
    """Validate the safetensors framing and header; return the header's ``__metadata__``."""
    size = len(data)
    if size == 0:
        raise CheckpointError(_damaged(path, "is empty (0 bytes)"))
    if size < 8:
        raise CheckpointError(
            _damaged(path, f"is {size} bytes long, shorter than the 8-byte header length")
        )
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > size - 8 or header_len > _MAX_HEADER_BYTES:
        if data[:1] == b"\x80" or data[:4] == b"PK\x03\x04":
            raise CheckpointError(
                _damaged(
                    path,
                    "looks like a pickle or a torch.save archive, which is never loaded because "
                    "it can carry code",
                    "convert it in PyTorch with safetensors.torch.save_file(model.state_dict(), "
                    "'model.safetensors')",
                )
            )
        raise CheckpointError(
            _damaged(
                path,
                f"declares a {header_len}-byte header but the file has only {size - 8} bytes "
                "after the length (truncated, or not a safetensors file)",
            )
        )
    try:
        header = json.loads(data[8 : 8 + header_len].decode("utf-8"), object_pairs_hook=_no_dups)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CheckpointError(
            _damaged(path, f"has a header that is not valid JSON ({_why(e)})")
        ) from None
    if not isinstance(header, dict):
        raise CheckpointError(_damaged(path, "has a header that is not a JSON object"))
    header_meta = header.pop("__metadata__", None)
    if header_meta is None:
        header_meta = {}
    if not isinstance(header_meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in header_meta.items()
    ):
        raise CheckpointError(_damaged(path, "has a '__metadata__' entry that is not str -> str"))
    _check_entries(header, size - 8 - header_len, path)
    return header_meta


def _no_dups(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _check_entries(header: dict[str, Any], buffer_len: int, path: str) -> None:
    """Every tensor entry names a NumPy dtype, a shape, and a byte range that fits exactly."""
    spans = []
    for name, entry in header.items():
        if not isinstance(entry, dict):
            raise CheckpointError(
                _damaged(path, f"has a header entry {_brief(name)} that is not a dict")
            )
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if dtype not in _DTYPES:
            raise CheckpointError(
                _damaged(
                    path,
                    f"stores tensor {_brief(name)} with dtype {_brief(dtype)}, which NumPy cannot "
                    f"hold (known: {', '.join(_DTYPES)})",
                    "convert it to float32 (e.g. tensor.float() in PyTorch) before saving",
                )
            )
        if not _int_list(shape) or any(d < 0 for d in shape):
            raise CheckpointError(
                _damaged(path, f"has tensor {_brief(name)} with an invalid shape {_brief(shape)}")
            )
        if not _int_list(offsets) or len(offsets) != 2:
            raise CheckpointError(
                _damaged(
                    path, f"has tensor {_brief(name)} with invalid data_offsets {_brief(offsets)}"
                )
            )
        begin, end = offsets
        if not 0 <= begin <= end <= buffer_len:
            raise CheckpointError(
                _damaged(
                    path,
                    f"has tensor {_brief(name)} at bytes [{begin}, {end}) outside the "
                    f"{buffer_len}-byte data section (truncated or corrupted)",
                )
            )
        expected = math.prod(shape) * _DTYPES[dtype].itemsize
        if end - begin != expected:
            raise CheckpointError(
                _damaged(
                    path,
                    f"has tensor {_brief(name)} of shape {_brief(shape)} and dtype {dtype} "
                    f"spanning {end - begin} bytes instead of {expected}",
                )
            )
        spans.append((begin, end, name))
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            raise CheckpointError(
                _damaged(
                    path, f"has tensor {_brief(name)} starting at byte {begin}, expected {position}"
                )
            )
        position = end
    if position != buffer_len:
        raise CheckpointError(
            _damaged(path, f"has {buffer_len - position} bytes after its last tensor")
        )


def _int_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    )


def _read_metadata(header_meta: dict[str, str], path: str) -> tuple[Any, Any]:
    """The user's metadata from the ``"gradstep"`` entry (``{}`` for files from other tools) and
    the saved tree's structure (None for a flat mapping, and in format 1)."""
    raw = header_meta.get(METADATA_KEY)
    if raw is None:
        return {}, None
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise CheckpointError(
            _damaged(path, f"has gradstep metadata that is not valid JSON ({_why(e)})")
        ) from None
    version = body.get("format_version") if isinstance(body, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(
            _damaged(
                path, f"has gradstep metadata without a valid format_version ({_brief(version)})"
            )
        )
    if version > FORMAT_VERSION:
        raise CheckpointError(
            _damaged(
                path,
                f"was written in checkpoint format {version}, newer than the format "
                f"{FORMAT_VERSION} this gradstep reads",
                "upgrade gradstep (pip install -U gradstep) to load it",
            )
        )
    try:
        return decode_json(body.get("metadata", {})), body.get("structure")
    except (KeyError, TypeError, ValueError, RecursionError) as e:
        raise CheckpointError(
            _damaged(path, f"has gradstep metadata that cannot be decoded ({_why(e)})")
        ) from None
