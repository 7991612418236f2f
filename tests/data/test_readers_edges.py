"""The edges of the CSV and NPZ readers: duplicate names, targets by index, delimiters by
extension, quantities that look like class ids, encodings, float32's range, and NPZ headers
that claim more than their archive holds."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import numpy as np
import pytest

from gradstep.data.npz import read_npz
from gradstep.data.readers import (
    DataFormatError,
    delimiter_for,
    read_csv,
    read_csv_rows,
)


def write(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_duplicate_column_names_are_refused_by_name(tmp_path):
    path = write(tmp_path, "\n\na,b,a,label\n1,2,3,0\n")
    with pytest.raises(DataFormatError, match=r"data.csv line 3: column 'a' appears twice") as err:
        read_csv(path)
    assert err.value.option is None and "rename one" in err.value.fix


def test_a_target_index_may_be_given_as_text_and_a_column_name_wins(tmp_path):
    path = write(tmp_path, "x,y,kind\n1,2,0\n3,4,1\n5,6,0\n")
    by_name, by_index = read_csv(path, target="kind"), read_csv(path, target="-1")
    np.testing.assert_array_equal(by_index.y, by_name.y)
    assert by_index.feature_names == ["x", "y"] and by_index.target_names == ["kind"]
    numbered = write(tmp_path, "0,1,2\n7,0,1\n8,1,0\n9,0,0\n", "numbered.csv")
    data = read_csv(numbered, target="0", task="regression")  # the column named "0", not index 0
    assert data.target_names == ["0"] and data.y[:, 0].tolist() == [7.0, 8.0, 9.0]
    with pytest.raises(DataFormatError, match="index 5 is out of range for 3 columns") as err:
        read_csv(path, target="5")
    assert err.value.option == "target"


def test_the_delimiter_follows_the_extension_unless_given(tmp_path):
    assert delimiter_for("a.tsv") == "\t" and delimiter_for("a.TAB") == "\t"
    assert delimiter_for("a.csv") == "," and delimiter_for("a.txt", "tab") == "\t"
    assert delimiter_for("a.csv", "\\t") == "\t" and delimiter_for("a.tsv", ";") == ";"
    for bad in (";;", "", '"', "\n"):
        with pytest.raises(ValueError, match="delimiter must be one character"):
            delimiter_for("a.csv", bad)
    tsv = write(tmp_path, "a\tb\tlabel\n1\t2\t0\n3\t4\t1\n", "data.tsv")
    csv = write(tmp_path, "a,b,label\n1,2,0\n3,4,1\n", "data.csv")
    np.testing.assert_array_equal(read_csv(tsv).x, read_csv(csv).x)


def test_a_table_read_as_one_column_suggests_its_delimiter(tmp_path):
    path = write(tmp_path, "a;b;label\n1;2;0\n")
    with pytest.raises(DataFormatError, match=r"pass delimiter=';'") as err:
        read_csv(path)
    assert (
        err.value.option == "delimiter" and "target column 'label' is missing" in err.value.problem
    )
    tabs = write(tmp_path, "a\tb\n1\t2\n", "tabs.csv")
    with pytest.raises(DataFormatError, match=r"no feature columns.*pass delimiter='tab'"):
        read_csv(tabs, target=0)


def test_integers_with_more_values_than_rows_are_not_guessed_to_be_classes(tmp_path):
    path = write(tmp_path, "rooms,price\n2,250000\n3,310000\n2,250000\n")
    with pytest.raises(DataFormatError, match="integers up to 310000 in 3 rows") as err:
        read_csv(path, target="price")
    assert err.value.option == "task" and "task='regression'" in err.value.fix
    assert read_csv(path, target="price", task="regression").y[:, 0].tolist() == [
        250000.0,
        310000.0,
        250000.0,
    ]
    big = write(tmp_path, "a,label\n1,3000000000\n2,0\n", "big.csv")
    with pytest.raises(DataFormatError, match="too large to be a class id"):
        read_csv(big, task="classification")


def test_utf16_and_values_beyond_float32_are_named(tmp_path):
    path = write(tmp_path, "a,label\n1,0\n", encoding="utf-16")
    with pytest.raises(DataFormatError, match="UTF-16 text .* save it as UTF-8"):
        read_csv(path)
    big = write(tmp_path, "a,t\n1,3e38\n2,4e38\n", "big.csv")
    with pytest.raises(DataFormatError, match=r"line 3, column 't': target '4e38' is beyond"):
        read_csv(big, target="t", task="regression")
    edge = write(tmp_path, "a,t\n3e38,1.5\n2,2.5\n", "edge.csv")
    assert read_csv(edge, target="t").x[0, 0] == np.float32(3e38)


def test_messages_stay_short_for_long_names(tmp_path):
    name = "n" * 5000
    path = write(tmp_path, f"{name},{name}x\n1,2\n")
    with pytest.raises(DataFormatError) as err:
        read_csv(path)
    assert len(str(err.value)) < 400 and "…" in str(err.value)


def test_rows_keep_the_line_they_start_on(tmp_path):
    path = write(tmp_path, 'a,b\n\n1,"two\nlines"\n3,4\n')
    rows, lines = read_csv_rows(path)
    assert rows == [["a", "b"], ["1", "two\nlines"], ["3", "4"]] and lines == [1, 3, 5]


# -- NPZ -------------------------------------------------------------------------------------------


def test_npz_arrays_come_back_as_numpy_stores_them(tmp_path):
    path = tmp_path / "a.npz"
    x = np.asfortranarray(np.arange(12, dtype=">f8").reshape(3, 4))
    y = np.array([b"ab", b"c", b""], dtype="S2")
    np.savez_compressed(path, x=x, y=y)
    got_x, got_y = read_npz(path)
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)
    assert got_x.dtype == np.float64 and got_x.dtype.isnative and got_x.flags.writeable


def _claiming(shape: tuple[int, ...], data: bytes = b"") -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", header.getvalue() + data)
        archive.writestr("y.npy", header.getvalue() + data)
    return buf.getvalue()


def test_an_npz_header_claiming_10_to_the_12_elements_is_refused_before_allocating(tmp_path):
    path = tmp_path / "claim.npz"
    path.write_bytes(_claiming((10**12,), b"\0" * 64))
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match=r"declares shape \(1000000000000,\) of float64"):
            read_npz(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # not the 8 TB the header asks for, nor any part of it
    short = tmp_path / "short.npz"
    short.write_bytes(_claiming((4,), b"\0" * 8))
    with pytest.raises(DataFormatError, match=r"32 bytes, but the archive holds 8"):
        read_npz(short)
