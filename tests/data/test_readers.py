import gzip
import struct

import numpy as np
import pytest

from gradstep.data.idx import load_idx_pair, read_idx
from gradstep.data.npz import read_npz
from gradstep.data.readers import DataFormatError, read_csv


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# -- CSV -------------------------------------------------------------------------------------------


def test_csv_integer_labels_are_classification(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,0\n3.5, 4 ,2\n\n5,6,1\n")
    data = read_csv(path)
    x, y = data
    assert x.dtype == np.float32 and x.shape == (3, 2)
    np.testing.assert_array_equal(x[1], [3.5, 4.0])
    assert y.dtype == np.int64 and y.tolist() == [0, 2, 1]
    assert data.task == "classification" and data.n_classes == 3 and data.classes is None
    assert data.feature_names == ["a", "b"] and data.target_names == ["label"]
    assert len(data.dataset()) == 3


def test_csv_string_labels_are_mapped(tmp_path):
    path = write(tmp_path, "species,w\nsetosa,1\nvirginica,2\nsetosa,3\n")
    data = read_csv(path, target="species")
    assert data.classes == ["setosa", "virginica"] and data.y.tolist() == [0, 1, 0]
    fixed = read_csv(path, target="species", classes=["virginica", "setosa"])
    assert fixed.y.tolist() == [1, 0, 1] and fixed.n_classes == 2
    with pytest.raises(DataFormatError, match=r"data.csv line 3, column 'species'.*'virginica'"):
        read_csv(path, target="species", classes=["setosa"])


def test_csv_regression_and_options(tmp_path):
    path = write(tmp_path, "x;t\n1;0.5\n2;1.5\n")
    data = read_csv(path, target="t", delimiter=";")
    assert data.task == "regression" and data.y.shape == (2, 1) and data.y.dtype == np.float32
    forced = read_csv(path, target="x", delimiter=";", task="regression")
    assert forced.y[:, 0].tolist() == [1.0, 2.0]
    raw = write(tmp_path, "1,2,3,0\n4,5,6,1\n", "raw.csv")
    data = read_csv(raw, target=-1, header=False)
    assert data.x.shape == (2, 3) and data.feature_names == ["column_0", "column_1", "column_2"]
    multi = read_csv(raw, target=[0, 1], header=False)
    assert multi.task == "regression" and multi.y.shape == (2, 2) and multi.x.shape == (2, 2)
    with pytest.raises(ValueError, match="column index when header=False"):
        read_csv(raw, header=False)


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("a,label\n1,0\n2\n", r"bad.csv line 3: expected 2 fields, found 1"),
        ("a,label\n1,0\nx1,1\n", r"bad.csv line 3, column 'a': cell 'x1' is not a number"),
        ("a,b,label\n1,,0\n", r"bad.csv line 2, column 'b': empty cell is not a number"),
        ("a,b,label\n1,2,0\n1,nan,1\n", r"bad.csv line 3, column 'b'.*'nan' is not finite"),
        ("a,b\n1,2\n", r"bad.csv line 1: target column 'label' is missing"),
        ("a,label,label\n1,2,3\n", r"bad.csv line 1: column 'label' appears twice in the header"),
        ("", r"bad.csv: the file has no data rows"),
        ("a,label\n", r"bad.csv: the file has no data rows"),
        ("a,label\n1,-1\n2,1\n", r"bad.csv line 2, column 'label'.*negative; pass classes"),
        ("a,label\n1,0\n2,1\n3,\n", r"bad.csv line 4, column 'label': empty cell; every row"),
    ],
)
def test_csv_malformed_files(tmp_path, text, pattern):
    path = write(tmp_path, text, "bad.csv")
    with pytest.raises(DataFormatError, match=pattern):
        read_csv(path)


def test_csv_not_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"a,label\n1,0\n" + "caf\xe9,1\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"latin.csv line 3 \(byte offset 15\): not UTF-8"):
        read_csv(path)


def test_csv_task_conflicts(tmp_path):
    path = write(tmp_path, "a,label\n1,0.5\n2,1\n")
    with pytest.raises(DataFormatError, match=r"line 2, column 'label'.*not an integer"):
        read_csv(path, task="classification")
    strings = write(tmp_path, "a,label\n1,cat\n", "s.csv")
    with pytest.raises(DataFormatError, match=r"s.csv line 2, column 'label': cell 'cat'"):
        read_csv(strings, task="regression")
    with pytest.raises(ValueError, match="task must be"):
        read_csv(path, task="ranking")


# -- NPZ -------------------------------------------------------------------------------------------


def test_npz_round_trip_and_errors(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, x=np.ones((3, 2), np.float32), y=np.arange(3), extra=np.zeros(1))
    x, y = read_npz(good)
    assert x.shape == (3, 2) and x.dtype == np.float32 and y.tolist() == [0, 1, 2]
    assert read_npz(good, x="extra", y=None).shape == (1,)
    with pytest.raises(DataFormatError, match=r"good.npz: no array named 'labels'.*extra"):
        read_npz(good, y="labels")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, x=np.array([{"a": 1}], dtype=object), y=np.arange(1))
    with pytest.raises(DataFormatError, match=r"pickled.npz: array 'x' has dtype object"):
        read_npz(pickled)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip archive at all")
    with pytest.raises(DataFormatError, match="junk.npz: not a readable .npz"):
        read_npz(junk)
    single = tmp_path / "single.npy"
    np.save(single, np.ones(3))
    with pytest.raises(DataFormatError, match="single .npy array"):
        read_npz(single)
    uneven = tmp_path / "uneven.npz"
    np.savez(uneven, x=np.ones((3, 2)), y=np.arange(4))
    with pytest.raises(DataFormatError, match=r"uneven.npz: 'x' has shape \(3, 2\)"):
        read_npz(uneven)


# -- IDX -------------------------------------------------------------------------------------------


def idx_bytes(array, code):
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize(
    "dtype, code",
    [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C), (np.float32, 0x0D),
     (np.float64, 0x0E)],
)  # fmt: skip
@pytest.mark.parametrize("zipped", [False, True])
def test_idx_round_trip(tmp_path, dtype, code, zipped):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    raw = idx_bytes(array, code)
    path = tmp_path / "a.idx"
    path.write_bytes(gzip.compress(raw) if zipped else raw)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize(
    "mutate, pattern",
    [
        (lambda b: b"\x08\x03" + b[2:], r"byte offset 0: magic number starts with 0803"),
        (lambda b: b[:2] + b"\x0a" + b[3:], r"byte offset 2: unknown IDX type code 0x0a"),
        (lambda b: b[:-5], r"byte offset 12: data truncated; shape \(2, 3\) of uint8"),
        (lambda b: b + b"\x00", r"byte offset 12: data has trailing bytes"),
        (lambda b: b[:10], r"byte offset 10: header truncated"),
        (lambda b: b[:3], r"only 3 bytes"),
    ],
)
def test_idx_malformed(tmp_path, mutate, pattern):
    path = tmp_path / "bad-images.idx"
    path.write_bytes(mutate(idx_bytes(np.zeros((2, 3), np.uint8), 0x08)))
    with pytest.raises(DataFormatError, match="bad-images.idx.*" + pattern):
        read_idx(path)


def test_idx_damaged_gzip_and_offsets_in_decompressed_data(tmp_path):
    raw = idx_bytes(np.zeros((50, 3), np.uint8), 0x08)
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(raw)[:-12])
    with pytest.raises(DataFormatError, match="cut.gz: the gzip stream is damaged"):
        read_idx(path)
    path.write_bytes(gzip.compress(raw[:-1]))
    with pytest.raises(DataFormatError, match="offset 12 of the decompressed data: data truncated"):
        read_idx(path)


def test_load_idx_pair(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.int64).reshape(2, 28, 28) % 256
    (tmp_path / "img.gz").write_bytes(gzip.compress(idx_bytes(images.astype(np.uint8), 0x08)))
    (tmp_path / "lab").write_bytes(idx_bytes(np.array([7, 2], np.uint8), 0x08))
    x, y = load_idx_pair(tmp_path / "img.gz", tmp_path / "lab")
    assert x.shape == (2, 784) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.max() == 1.0 and x.min() == 0.0 and y.tolist() == [7, 2]
    np.testing.assert_allclose(x[1, 5], images[1, 0, 5] / 255.0)
    x2, _ = load_idx_pair(tmp_path / "img.gz", tmp_path / "lab", flatten=False, scale=False)
    assert x2.shape == (2, 28, 28) and x2.max() == 255.0
    (tmp_path / "lab3").write_bytes(idx_bytes(np.array([1, 2, 3], np.uint8), 0x08))
    with pytest.raises(DataFormatError, match="holds 2 images but .*lab3 holds 3 labels"):
        load_idx_pair(tmp_path / "img.gz", tmp_path / "lab3")
