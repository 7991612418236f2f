"""Inputs for the fuzzing: for every reader, random bytes, files built from the format's own
pieces (headers, tokens, nesting), and valid files with a few bytes changed."""

from __future__ import annotations

import gzip
import io
import json
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradstep as gs
from gradstep import config

# -- generic ------------------------------------------------------------------------------------

raw_bytes = st.binary(max_size=3000)


@st.composite
def mutated(draw, base):
    """``base`` bytes with up to five edits: bit flips, cuts, insertions, deletions, and
    big-endian / little-endian integers (0, -1, huge) written over what was there."""
    data = bytearray(draw(base))
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "number", "repeat"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 16))]
        elif kind == "number":
            value = draw(st.sampled_from([0, 1, 2**31 - 1, 2**32 - 1, 2**63 - 1, 2**64 - 1]))
            fmt = draw(st.sampled_from(["<I", ">I", "<Q", ">Q"]))
            packed = struct.pack(fmt, value & ((1 << 8 * struct.calcsize(fmt)) - 1))
            data[pos : pos + len(packed)] = packed
        elif kind == "repeat" and data:
            piece = data[pos : pos + draw(st.integers(1, 32))]
            data[pos:pos] = piece * draw(st.integers(1, 20))
    return bytes(data)


def _text_bytes(text: str, draw) -> bytes:
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


# -- CSV ----------------------------------------------------------------------------------------

_cells = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "nan", "inf", "-0", "1e400", "0x10", "1_000", "label", "a,b", '"']),
    st.text(max_size=12),
)


@st.composite
def csv_texts(draw) -> bytes:
    """Tables of numbers, words and odd cells, with odd delimiters, quotes and line ends."""
    sep = draw(st.sampled_from([",", ",", ";", "\t", " "]))
    width = draw(st.integers(1, 6))
    n = draw(st.integers(0, 12))
    rows = [[draw(_cells) for _ in range(width)] for _ in range(n)]
    if draw(st.booleans()):
        names = draw(
            st.lists(
                st.sampled_from(["a", "b", "label", "x", "", "label "]),
                min_size=width,
                max_size=width,
            )
        )
        rows.insert(0, names)
    for row in rows:
        if draw(st.integers(0, 9)) == 0:
            row.append(draw(_cells))  # a ragged row
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    quote = draw(st.booleans())

    def cell(c: str) -> str:
        return '"' + c.replace('"', '""') + '"' if quote or sep in c or '"' in c else c

    text = end.join(sep.join(cell(c) for c in row) for row in rows)
    if draw(st.booleans()):
        text += end
    return _text_bytes(text, draw)


@st.composite
def csv_valid(draw) -> bytes:
    n, width = draw(st.integers(1, 20)), draw(st.integers(1, 5))
    values = draw(hnp.arrays(np.float64, (n, width), elements=st.floats(-1e6, 1e6)))
    labels = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    names = ",".join(f"f{i}" for i in range(width)) + ",label"
    lines = [names] + [
        ",".join(map(repr, row)) + f",{t}" for row, t in zip(values.tolist(), labels)
    ]
    return "\n".join(lines).encode()


csv_inputs = st.one_of(raw_bytes, csv_texts(), mutated(csv_valid()), mutated(csv_texts()))


# -- NPZ ----------------------------------------------------------------------------------------

_npz_dtypes = st.sampled_from(["<f4", ">f8", "<i8", "|u1", "|b1", "<U3", "<c8", ">i2"])


@st.composite
def npz_valid(draw) -> bytes:
    n = draw(st.integers(0, 6))
    arrays = {}
    for key in draw(
        st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3, unique=True)
    ):
        shape = (n, *draw(st.lists(st.integers(0, 3), max_size=2)))
        dtype = np.dtype(draw(_npz_dtypes))
        arrays[key] = draw(hnp.arrays(dtype, shape))
        if draw(st.booleans()):
            arrays[key] = np.asfortranarray(arrays[key])
    buf = io.BytesIO()
    (np.savez_compressed if draw(st.booleans()) else np.savez)(buf, **arrays)
    return buf.getvalue()


def npy_claiming(shape: tuple, descr: str = "<f8", data: bytes = b"", version=(1, 0)) -> bytes:
    """The bytes of a .npy member whose header says ``shape`` whatever the data holds."""
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buf, header)
    else:
        np.lib.format.write_array_header_2_0(buf, header)
    return buf.getvalue() + data


def zipped(members: dict[str, bytes], compressed: bool = False) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", method) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buf.getvalue()


@st.composite
def npz_claims(draw) -> bytes:
    """Archives whose .npy headers claim shapes (up to 10^12 elements and more) that their
    data does not hold, or odd dtypes."""
    dims = draw(
        st.lists(st.sampled_from([0, 1, 3, 10**6, 10**12, 2**40, -1]), min_size=0, max_size=3)
    )
    descr = draw(st.sampled_from(["<f8", "|u1", "|O", "|V0", "<U0", "|V8", "<M8[s]", "S0"]))
    data = draw(st.binary(max_size=64))
    members = {
        "x.npy": npy_claiming(tuple(dims), descr, data, draw(st.sampled_from([(1, 0), (2, 0)]))),
        "y.npy": npy_claiming(
            (draw(st.integers(0, 3)),), "<i8", b"\0" * 8 * draw(st.integers(0, 3))
        ),
    }
    return zipped(members, draw(st.booleans()))


npz_inputs = st.one_of(raw_bytes, npz_claims(), mutated(npz_valid()), mutated(npz_claims()))


# -- IDX ----------------------------------------------------------------------------------------


@st.composite
def idx_headers(draw) -> bytes:
    """An IDX header with any type code and sizes (up to 2^32 − 1 each), then some data."""
    code = draw(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0x0A, 0xFF]))
    dims = draw(st.lists(st.sampled_from([0, 1, 2, 3, 28, 60000, 2**31, 2**32 - 1]), max_size=5))
    ndim = draw(st.sampled_from([len(dims), len(dims), 0, 255, len(dims) + 1]))
    head = struct.pack(">BBBB", 0, 0, code, ndim & 0xFF) + struct.pack(f">{len(dims)}I", *dims)
    raw = head + draw(st.binary(max_size=128))
    return gzip.compress(raw) if draw(st.booleans()) else raw


@st.composite
def idx_valid(draw) -> bytes:
    code, dtype = draw(
        st.sampled_from([(0x08, ">u1"), (0x0B, ">i2"), (0x0D, ">f4"), (0x0E, ">f8")])
    )
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=3)))
    array = draw(hnp.arrays(np.dtype(dtype), shape))
    raw = struct.pack(">BBBB", 0, 0, code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)
    raw += array.tobytes()
    return gzip.compress(raw) if draw(st.booleans()) else raw


idx_inputs = st.one_of(raw_bytes, idx_headers(), mutated(idx_valid()), mutated(idx_headers()))


# -- safetensors checkpoints --------------------------------------------------------------------

_TMP = Path(tempfile.mkdtemp(prefix="gradstep-fuzz-seeds-"))
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def checkpoint_valid(draw) -> bytes:
    arrays = {
        name: draw(hnp.arrays(np.dtype(dt), tuple(draw(st.lists(st.integers(0, 3), max_size=2)))))
        for name, dt in draw(
            st.dictionaries(
                st.sampled_from(["0.weight", "0.bias", "w", "a.b"]),
                st.sampled_from(["<f4", "<f8", "<i8", "|u1", "|b1"]),
                max_size=3,
            )
        ).items()
    }
    nested = draw(st.booleans())
    obj = (
        {"model": arrays, "epoch": draw(st.integers(0, 9)), "tags": [1, (2, 3)]}
        if nested
        else arrays
    )
    meta = draw(st.dictionaries(st.text(max_size=6), _json, max_size=3))
    path = _TMP / "seed.safetensors"
    gs.save(obj, path, metadata=meta)
    return path.read_bytes()


@st.composite
def checkpoint_headers(draw) -> bytes:
    """A length prefix (right or wrong), a JSON header made of tensor entries, metadata and
    JSON of any shape (deep nesting included), then some data."""
    entries: dict = {}
    for name in draw(st.lists(st.text(max_size=5), max_size=3)):
        entries[name] = {
            "dtype": draw(st.sampled_from(["F32", "F64", "I64", "BF16", "U8", "x", 3])),
            "shape": draw(
                st.one_of(
                    st.lists(st.sampled_from([0, 1, 2, 10**12, -1, 2**64]), max_size=3), _json
                )
            ),
            "data_offsets": draw(st.one_of(st.lists(st.integers(-5, 2**40), max_size=3), _json)),
        }
    if draw(st.booleans()):
        depth = draw(st.integers(1, 5000))
        body = draw(
            st.sampled_from(["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth])
        )
        inner = '{"format_version": 2, "metadata": ' + body + "}"
        entries["__metadata__"] = {"gradstep": inner}
    elif draw(st.booleans()):
        entries["__metadata__"] = draw(
            st.dictionaries(
                st.sampled_from(["gradstep", "other"]),
                st.one_of(st.text(max_size=30), _json.map(json.dumps)),
                max_size=2,
            )
        )
    text = json.dumps(entries).encode()
    if draw(st.integers(0, 4)) == 0:
        text = draw(st.sampled_from([b"[", b"{", b"null", b"[]", b'{"a": 1}', b"\xff\xfe"])) + text
    length = draw(st.sampled_from([len(text), len(text), len(text) + 1, 0, 2**63, 10**8]))
    return struct.pack("<Q", length) + text + draw(st.binary(max_size=64))


_depths = st.sampled_from([1, 2, 10, 100, 300, 500, 1000, 3000, 20000])
_tagged = st.recursive(
    _json,
    lambda inner: st.builds(
        lambda tag, value: {tag: value},
        st.sampled_from(["$float", "$tuple", "$dict", "$array", "$other"]),
        inner,
    ),
    max_leaves=8,
)


@st.composite
def nested_json(draw) -> str:
    depth = draw(_depths)
    kind = draw(st.sampled_from(["list", "dict", "tuple"]))
    if kind == "list":
        return "[" * depth + "]" * depth
    if kind == "dict":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"$tuple":[' * depth + "1" + "]}" * depth


@st.composite
def checkpoint_metadata(draw) -> bytes:
    """A well-framed file (one small tensor) whose gradstep entry is any JSON: odd format
    versions, tagged values, structures and deep nesting."""
    field = draw(st.sampled_from(["metadata", "structure", "format_version", "whole"]))
    value = draw(st.one_of(nested_json(), _tagged.map(json.dumps)))
    if field == "whole":
        text = value
    else:
        body = {"format_version": 2, "metadata": {}, "structure": {"w": {"$array": "w"}}}
        text = json.dumps(body).replace(json.dumps(body[field]), "@@", 1).replace("@@", value)
    header = {
        "__metadata__": {"gradstep": text},
        "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
    }
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + b"\0\0\x80\x3f"


checkpoint_inputs = st.one_of(
    raw_bytes,
    checkpoint_headers(),
    checkpoint_metadata(),
    mutated(checkpoint_valid()),
    mutated(checkpoint_headers()),
)


# -- TOML configs -------------------------------------------------------------------------------

_keys = sorted(config.SCHEMA)
_scalars = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(
        [
            "nan",
            "inf",
            "-inf",
            "1e400",
            "0.0",
            "-0",
            "1979-05-27",
            "07:32:00",
            "1979-05-27T07:32:00Z",
            "true",
            "false",
            '"auto"',
            '"none"',
            '"full"',
            '""',
            "'x'",
            '"\\u0000"',
            '"\\t"',
            '"adam"',
            '"sgd"',
            '"relu"',
        ]
    ),
    st.text(max_size=10).map(json.dumps),
    st.floats().map(repr),
)


@st.composite
def toml_values(draw) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        depth = draw(st.integers(1, 3000))
        return (
            "[" * depth + "]" * depth if draw(st.booleans()) else "{a=" * depth + "1" + "}" * depth
        )
    if kind == 1:
        return "[" + ", ".join(draw(st.lists(_scalars, max_size=4))) + "]"
    if kind == 2:
        pairs = draw(
            st.lists(st.tuples(st.sampled_from(["type", "out", "p", "x"]), _scalars), max_size=3)
        )
        return "{" + ", ".join(f"{k} = {v}" for k, v in pairs) + "}"
    if kind == 3:
        items = [
            draw(toml_values()) if draw(st.booleans()) else draw(_scalars)
            for _ in range(draw(st.integers(0, 2)))
        ]
        return "[" + ", ".join(items) + "]"
    return draw(_scalars)


@st.composite
def toml_texts(draw) -> bytes:
    """Config files made of the schema's sections and keys (and near misses) with values of
    every TOML type, nesting included."""
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        path = draw(st.one_of(st.sampled_from(_keys), st.text(max_size=8)))
        section, _, name = path.partition(".")
        if draw(st.integers(0, 5)) == 0:
            lines.append(f"[[{section}]]")
        else:
            lines.append(f"[{section}]" if section else "[meta]")
        name = name or "x"
        bare = all(c.isalnum() or c in "_-" for c in name)
        lines.append(f"{name if bare else json.dumps(name)} = {draw(toml_values())}")
    return _text_bytes("\n".join(lines) + "\n", draw)


@st.composite
def toml_valid(draw) -> bytes:
    cfg = config.defaults()
    for path in draw(st.lists(st.sampled_from(_keys), max_size=4)):
        key = config.SCHEMA[path]
        if key.kind == "float":
            cfg[key.section][key.name] = draw(st.floats(0, 1))
        elif key.kind == "int":
            cfg[key.section][key.name] = draw(st.integers(0, 5))
    try:
        return config.dumps(cfg).encode()
    except Exception:  # noqa: BLE001 - a value the schema refuses: start from the defaults
        return config.dumps(config.defaults()).encode()


@st.composite
def toml_nesting(draw) -> bytes:
    """A valid config with one key's value replaced by any TOML value, nesting included."""
    path = draw(st.sampled_from(_keys))
    section, name = path.split(".", 1)
    depth = draw(_depths)
    value = draw(
        st.one_of(
            toml_values(),
            st.just("[" * depth + "]" * depth),
            st.just("{a=" * depth + "1" + "}" * depth),
        )
    )
    return f"[{section}]\n{name} = {value}\n".encode()


config_inputs = st.one_of(
    raw_bytes, toml_texts(), toml_nesting(), mutated(toml_valid()), mutated(toml_texts())
)
