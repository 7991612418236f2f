"""Checkpoints: exact round trips, PyTorch interoperability, atomic writes, loud failures."""

from __future__ import annotations

import json
import math
import os
import pickle
import struct

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

from gradstep import io as gio
from gradstep.io import CheckpointError, load, save


class FakeTensor:
    """Stands for a gradstep Tensor: a NumPy array under ``.data``."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data


def _arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal(5),
        "i64": np.array([[-(2**62), 0, 7]], dtype=np.int64),
        "mask": np.array([True, False, True]),
        "scalar": np.array(3.5),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "u8": np.arange(6, dtype=np.uint8).reshape(2, 3),
    }


def _assert_same(a: dict, b: dict) -> None:
    assert list(sorted(a)) == list(sorted(b))
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        assert a[k].shape == b[k].shape, k
        np.testing.assert_array_equal(a[k], b[k])


def test_round_trip_arrays_and_metadata(tmp_path):
    arrays = _arrays()
    meta = {
        "epoch": 3,
        "lr": 0.1 + 0.2,
        "best": float("nan"),
        "worst": float("-inf"),
        "betas": (0.9, 0.999),
        "by_index": {0: "a", 1: [1, 2.5, None, True]},
        "$odd": {"$float": "nan"},
        "note": "baseline",
    }
    path = tmp_path / "ckpt.safetensors"
    save(arrays, path, metadata=meta)
    loaded = load(path)
    meta2 = loaded.metadata
    _assert_same(arrays, loaded)
    assert meta2.keys() == meta.keys()
    assert math.isnan(meta2["best"]) and meta2["worst"] == -math.inf
    assert meta2["lr"] == 0.1 + 0.2 and type(meta2["epoch"]) is int
    assert meta2["betas"] == (0.9, 0.999) and isinstance(meta2["betas"], tuple)
    assert meta2["by_index"] == {0: "a", 1: [1, 2.5, None, True]}
    assert meta2["$odd"] == {"$float": "nan"}
    assert meta2["note"] == "baseline"
    for v in loaded.values():
        assert v.flags.writeable


def test_tensors_and_non_contiguous_arrays_are_saved_by_value(tmp_path):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    mapping = {"t": FakeTensor(base.T), "s": base[::2, 1::2], "big": base.astype(">f4")}
    save(mapping, tmp_path / "a.safetensors")
    loaded = load(tmp_path / "a.safetensors")
    meta = loaded.metadata
    np.testing.assert_array_equal(loaded["t"], base.T)
    np.testing.assert_array_equal(loaded["s"], base[::2, 1::2])
    np.testing.assert_array_equal(loaded["big"], base.astype(np.float32))
    assert meta == {}


def test_file_is_plain_safetensors_with_documented_header(tmp_path):
    arrays = _arrays()
    path = tmp_path / "m.safetensors"
    save(arrays, path, metadata={"note": "hello", "epoch": 2})
    _assert_same(arrays, safetensors.numpy.load_file(str(path)))
    with safetensors.safe_open(str(path), framework="np") as f:
        header = f.metadata()
    assert header["note"] == "hello"  # str -> str entries stay readable by other tools
    assert "epoch" not in header
    assert json.loads(header["gradstep"]) == {
        "format_version": 2,
        "metadata": {"note": "hello", "epoch": 2},
    }


def test_file_written_by_pytorch_loads(tmp_path):
    tensors = {
        "w": torch.randn(3, 2, dtype=torch.float64),
        "b": torch.arange(4, dtype=torch.int64),
        "h": torch.randn(5).half(),
    }
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(tensors, str(path), metadata={"format": "pt"})
    loaded = load(path)
    meta = loaded.metadata
    assert meta == {}
    for k, t in tensors.items():
        np.testing.assert_array_equal(loaded[k], t.numpy())
        assert loaded[k].dtype == t.numpy().dtype


def test_gradstep_weights_load_into_pytorch_linear(tmp_path):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    path = tmp_path / "model.safetensors"
    save({"0.weight": FakeTensor(w), "0.bias": b}, path, metadata={"epoch": 1})
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    model.load_state_dict(safetensors.torch.load_file(str(path)))
    x = rng.standard_normal((4, 3)).astype(np.float32)
    with torch.no_grad():
        out = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, x @ w.T + b, rtol=1e-6, atol=1e-6)


def test_crash_before_rename_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    old = {"w": np.ones(3)}
    save(old, path, metadata={"epoch": 1})
    seen = []

    def crash(tmp: str, target: str) -> None:
        seen.append(tmp)
        assert os.path.getsize(tmp) > 0  # the new bytes were fully written
        raise KeyboardInterrupt("simulated crash")

    monkeypatch.setattr(gio, "_before_replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save({"w": np.zeros(3)}, path, metadata={"epoch": 2})
    with pytest.raises(KeyboardInterrupt):
        save({"w": np.zeros(3)}, tmp_path / "new.safetensors")
    assert len(seen) == 2 and all(os.path.dirname(s) == str(tmp_path) for s in seen)
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors"]
    loaded = load(path)
    meta = loaded.metadata
    np.testing.assert_array_equal(loaded["w"], np.ones(3))
    assert meta == {"epoch": 1}


def test_overwrite_replaces_file(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"w": np.ones(2)}, path)
    save({"v": np.zeros(1)}, path, metadata={"k": 1})
    loaded = load(path)
    meta = loaded.metadata
    assert list(loaded) == ["v"] and meta == {"k": 1}
    assert os.listdir(tmp_path) == ["c.safetensors"]


def _valid_bytes() -> bytes:
    return safetensors.numpy.save({"a": np.arange(4.0), "b": np.ones(2, np.float32)})


def _with_header(header: dict, data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def _bad_files() -> dict[str, bytes]:
    good = _valid_bytes()
    future = safetensors.numpy.save(
        {"a": np.ones(1)},
        metadata={"gradstep": json.dumps({"format_version": 99, "metadata": {}})},
    )
    return {
        "empty": b"",
        "short": b"\x01\x02\x03",
        "truncated": good[: len(good) - 5],
        "huge header length": struct.pack("<Q", 10**12) + b"{}",
        "garbage header": struct.pack("<Q", 6) + b"{oops}",
        "header not object": _with_header([1, 2], b""),  # type: ignore[arg-type]
        "bad offsets": _with_header(
            {"a": {"dtype": "F64", "shape": [4], "data_offsets": [0, 64]}}, bytes(32)
        ),
        "negative offsets": _with_header(
            {"a": {"dtype": "F64", "shape": [1], "data_offsets": [-8, 0]}}, bytes(8)
        ),
        "size mismatch": _with_header(
            {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8)
        ),
        "overlap": _with_header(
            {
                "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            },
            bytes(8),
        ),
        "trailing bytes": _with_header(
            {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(8)
        ),
        "unknown dtype": _with_header(
            {"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, bytes(4)
        ),
        "bad shape": _with_header(
            {"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, bytes(4)
        ),
        "future version": future,
        "metadata not json": safetensors.numpy.save(
            {"a": np.ones(1)}, metadata={"gradstep": "{not json"}
        ),
        "pickle": pickle.dumps({"w": [1.0, 2.0]}),
    }


@pytest.mark.parametrize("kind", sorted(_bad_files()))
def test_malformed_files_raise_checkpoint_error_naming_the_file(tmp_path, kind):
    path = tmp_path / f"bad_{kind.replace(' ', '_')}.safetensors"
    path.write_bytes(_bad_files()[kind])
    with pytest.raises(CheckpointError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message
    assert message.count(";") >= 1  # what is wrong; what to do
    assert isinstance(info.value, ValueError)


def test_specific_messages(tmp_path):
    files = _bad_files()
    cases = {
        "future version": "upgrade gradstep",
        "unknown dtype": "BF16",
        "pickle": "pickle",
        "empty": "empty",
    }
    for kind, needle in cases.items():
        path = tmp_path / "f.safetensors"
        path.write_bytes(files[kind])
        with pytest.raises(CheckpointError, match=needle):
            load(path)


def test_torch_save_archive_is_rejected_without_unpickling(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, str(path))

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling was attempted")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(np, "load", forbidden)
    with pytest.raises(CheckpointError, match="torch.save"):
        load(path)
    good = tmp_path / "good.safetensors"
    save({"w": np.ones(2)}, good, metadata={"a": [1]})
    assert load(good).metadata == {"a": [1]}


def test_missing_file_and_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load(tmp_path / "nope.safetensors")
    with pytest.raises(FileNotFoundError, match="create it first"):
        save({"w": np.ones(1)}, tmp_path / "no_dir" / "x.safetensors")
    with pytest.raises(IsADirectoryError):
        load(tmp_path)


@pytest.mark.parametrize(
    "mapping, metadata, error",
    [
        ({"w": object()}, None, TypeError),
        ({"w": {1.5: np.ones(1)}}, None, TypeError),
        ({"w": np.array(["a"])}, None, TypeError),
        ({"w": np.array([1 + 2j])}, None, TypeError),
        ({"": np.ones(1)}, None, ValueError),
        ({"__metadata__": np.ones(1)}, None, ValueError),
        ({"w": np.ones(1)}, {"arr": np.ones(2)}, TypeError),
        ({"w": np.ones(1)}, [1, 2], TypeError),
        ([np.ones(1)], None, TypeError),
    ],
)
def test_save_rejects_bad_input_and_writes_nothing(tmp_path, mapping, metadata, error):
    with pytest.raises(error):
        save(mapping, tmp_path / "x.safetensors", metadata=metadata)
    assert os.listdir(tmp_path) == []


# -- nested objects, as PyTorch users save them ----------------------------------------------------


def test_nested_object_round_trips_with_its_exact_structure(tmp_path):
    import gradstep as gs
    from gradstep import nn, optim

    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(gs.tensor(np.ones((4, 3)))).sum().backward()
    opt.step()
    obj = {
        "model": model.state_dict(),
        "optim": opt.state_dict(),
        "epoch": 3,
        "history": [0.5, float("nan")],
        "pair": (1, "a"),
    }
    path = tmp_path / "ckpt.safetensors"
    save(obj, path, metadata={"note": "x"})
    back = load(path)
    assert back.metadata == {"note": "x"}
    assert list(back) == ["model", "optim", "epoch", "history", "pair"]
    assert back["epoch"] == 3 and back["pair"] == (1, "a") and math.isnan(back["history"][1])
    for k, v in obj["model"].items():
        np.testing.assert_array_equal(back["model"][k], v)
    state = back["optim"]["state"]
    assert list(state) == [0, 1]  # integer keys stay integers
    for i in (0, 1):
        for k, v in obj["optim"]["state"][i].items():
            np.testing.assert_array_equal(state[i][k], v)
    assert back["optim"]["param_groups"] == obj["optim"]["param_groups"]
    model.load_state_dict(back["model"])
    opt.load_state_dict(back["optim"])
    # the arrays sit flat under dotted names, readable by any safetensors reader
    flat = safetensors.numpy.load_file(str(path))
    assert "model.0.weight" in flat and "optim.state.0.exp_avg" in flat


def test_a_flat_mapping_loads_into_a_model_directly(tmp_path):
    sd = {"0.weight": np.ones((2, 3), np.float32), "0.bias": np.zeros(2, np.float32)}
    save(sd, tmp_path / "w.safetensors", metadata={"epoch": 1})
    ckpt = load(tmp_path / "w.safetensors")
    assert isinstance(ckpt, dict) and set(ckpt) == set(sd) and ckpt.metadata == {"epoch": 1}
    with safetensors.safe_open(str(tmp_path / "w.safetensors"), framework="np") as f:
        assert "structure" not in json.loads(f.metadata()["gradstep"])


def test_names_that_clash_after_flattening_are_refused(tmp_path):
    with pytest.raises(ValueError, match="both saved as 'a.b'"):
        save({"a.b": np.ones(1), "a": {"b": np.ones(1)}}, tmp_path / "x.safetensors")
    assert os.listdir(tmp_path) == []


def test_format_1_files_still_load(tmp_path):
    """A file as 0.1.0 wrote it: format_version 1, no structure."""
    path = tmp_path / "old.safetensors"
    body = json.dumps({"format_version": 1, "metadata": {"epoch": 2}})
    safetensors.numpy.save_file({"w": np.arange(3.0)}, str(path), metadata={"gradstep": body})
    ckpt = load(path)
    assert ckpt.metadata == {"epoch": 2}
    np.testing.assert_array_equal(ckpt["w"], np.arange(3.0))
