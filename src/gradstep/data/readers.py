"""Readers for data files users bring: CSV tables and NPZ archives (IDX lives in ``idx.py``).

Every malformed file raises one DataFormatError that names the file and the line (CSV), key (NPZ)
or byte offset (IDX) at fault. Nothing is ever unpickled.
"""

from __future__ import annotations

import csv
import os
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .dataset import TensorDataset

__all__ = ["CSVData", "DataFormatError", "read_csv", "read_npz"]

PathLike = str | os.PathLike


class DataFormatError(ValueError):
    """A data file is malformed; the message names the file and where."""


# -- CSV ---------------------------------------------------------------------------------------


@dataclass
class CSVData:
    """What ``read_csv`` returns: the arrays plus their names; unpacks as ``x, y``.

    ``y`` is int64 class ids for classification and float32 ``(n, n_targets)`` for regression.
    ``classes[i]`` is the original label of class id ``i`` when labels were mapped from strings
    (or through ``classes=``), else None.
    """

    x: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_names: list[str]
    task: str
    classes: list[str] | None
    path: str

    @property
    def n_classes(self) -> int | None:
        """Number of classes (None for regression)."""
        if self.task != "classification":
            return None
        if self.classes is not None:
            return len(self.classes)
        return int(self.y.max()) + 1 if self.y.size else 0

    def dataset(self) -> TensorDataset:
        """The rows as a ``TensorDataset(x, y)``."""
        return TensorDataset(self.x, self.y)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.x, self.y))


def _column(name: str | int, header: list[str] | None, width: int, path: str) -> int:
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        if not -width <= name < width:
            raise DataFormatError(
                f"{path}: target column index {name} is out of range for {width} columns."
            )
        return int(name) % width
    if header is None:
        raise ValueError(
            f"target must be a column index when header=False, got {name!r}; pass e.g. target=-1."
        )
    if header.count(name) != 1:
        problem = "is missing from" if name not in header else "appears twice in"
        raise DataFormatError(
            f"{path} line 1: target column {name!r} {problem} the header {header}; "
            "pass target= one of the column names or an index."
        )
    return header.index(name)


def _not_utf8(path: str) -> DataFormatError:
    """Locate the first byte that is not UTF-8 (the text reader decodes ahead in chunks)."""
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        return DataFormatError(
            f"{path} line {line} (byte offset {err.start}): not UTF-8 text ({err.reason}); "
            "save the file as UTF-8."
        )
    return DataFormatError(f"{path}: not UTF-8 text; save the file as UTF-8.")


def _read_rows(path: str, delimiter: str, header: bool) -> tuple[list[str] | None, list, list]:
    rows: list[list[str]] = []
    lines: list[int] = []
    names: list[str] | None = None
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue
                if header and names is None:
                    names = [cell.strip() for cell in row]
                    continue
                width = len(names) if names is not None else len(rows[0]) if rows else len(row)
                if len(row) != width:
                    raise DataFormatError(
                        f"{path} line {reader.line_num}: expected {width} fields, found "
                        f"{len(row)}; every row needs one value per column."
                    )
                rows.append(row)
                lines.append(reader.line_num)
        except csv.Error as err:
            raise DataFormatError(f"{path} line {reader.line_num}: {err}.") from err
        except UnicodeDecodeError as err:
            raise _not_utf8(path) from err
    if not rows:
        raise DataFormatError(f"{path}: the file has no data rows.")
    return names, rows, lines


def _parse_numbers(
    cells: np.ndarray, names: list[str], lines: list[int], path: str, what: str
) -> np.ndarray:
    """Parse a 2-D array of strings as float64, pointing at the first bad cell on failure."""
    try:
        values = cells.astype(np.float64)
    except ValueError:
        values = None
    if values is not None:
        bad = ~np.isfinite(values)
        if not bad.any():
            return values
        r, c = np.argwhere(bad)[0]
        raise DataFormatError(
            f"{path} line {lines[r]}, column {names[c]!r}: {what} {str(cells[r, c])!r} is not "
            "finite; remove or impute missing values before loading."
        )
    for c in range(cells.shape[1]):
        try:
            cells[:, c].astype(np.float64)
        except ValueError:
            for r, cell in enumerate(cells[:, c]):
                try:
                    float(cell)
                except ValueError:
                    kind = "empty cell" if not cell.strip() else f"cell {str(cell)!r}"
                    raise DataFormatError(
                        f"{path} line {lines[r]}, column {names[c]!r}: {kind} is not a number; "
                        f"{what}s must be numeric."
                    ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _classes_from(
    raw: np.ndarray,
    task: str | None,
    classes: Sequence[str] | None,
    lines: list,
    path: str,
    col: str,
) -> tuple[np.ndarray, str, list[str] | None]:
    """Turn the target column into class ids or regression values."""
    stripped = np.char.strip(raw)
    empty = np.flatnonzero(np.char.str_len(stripped) == 0)
    if empty.size:
        raise DataFormatError(
            f"{path} line {lines[empty[0]]}, column {col!r}: empty cell; every row needs a target."
        )
    if classes is not None:
        if task == "regression":
            raise ValueError("classes= only applies to classification; drop it or task=.")
        lookup = {str(c): i for i, c in enumerate(classes)}
        ids = np.empty(raw.shape[0], dtype=np.int64)
        for r, cell in enumerate(stripped):
            if cell not in lookup:
                raise DataFormatError(
                    f"{path} line {lines[r]}, column {col!r}: label {str(cell)!r} is not one of "
                    f"classes={list(lookup)}."
                )
            ids[r] = lookup[cell]
        return ids, "classification", [str(c) for c in classes]
    try:
        values = stripped.astype(np.float64)
    except ValueError:
        values = None
    if values is None:
        if task == "regression":
            _parse_numbers(stripped[:, None], [col], lines, path, "target")
        names, ids = np.unique(stripped, return_inverse=True)
        return ids.astype(np.int64), "classification", [str(n) for n in names]
    _parse_numbers(stripped[:, None], [col], lines, path, "target")
    integral = bool(np.all(values == np.round(values)))
    if task is None:
        task = "classification" if integral else "regression"
    if task == "regression":
        return values.astype(np.float32), task, None
    if not integral:
        r = int(np.argmax(values != np.round(values)))
        raise DataFormatError(
            f"{path} line {lines[r]}, column {col!r}: class label {str(stripped[r])!r} is not an "
            "integer; pass task='regression' for continuous targets."
        )
    if values.min() < 0:
        r = int(np.argmin(values))
        raise DataFormatError(
            f"{path} line {lines[r]}, column {col!r}: class label {str(stripped[r])!r} is "
            "negative; pass classes=[...] to map labels to class ids."
        )
    return values.astype(np.int64), task, None


def read_csv(
    path: PathLike,
    target: str | int | Sequence[str | int] = "label",
    task: str | None = None,
    header: bool = True,
    delimiter: str = ",",
    classes: Sequence[str] | None = None,
) -> CSVData:
    """Read a numeric CSV table into features ``x`` (float32) and a target ``y``.

    ``target`` names the target column (or an index; several columns for multi-output
    regression); every other column is a feature. ``task=None`` picks classification when the
    target holds integers or strings, regression otherwise. String labels become class ids in
    sorted order; pass ``classes=[...]`` to fix the mapping across files. Returns a CSVData,
    which unpacks as ``x, y = read_csv(...)``.
    """
    if task not in (None, "classification", "regression"):
        raise ValueError(f"task must be 'classification', 'regression' or None, got {task!r}.")
    spath = os.fspath(path)
    names, rows, lines = _read_rows(spath, delimiter, header)
    width = len(rows[0])
    column_names = names if names is not None else [f"column_{i}" for i in range(width)]
    targets = list(target) if isinstance(target, (list, tuple)) else [target]
    cols = [_column(t, names, width, spath) for t in targets]
    if len(set(cols)) != len(cols):
        raise ValueError(f"target lists the same column twice: {targets}.")
    if len(cols) > 1 and task == "classification":
        raise ValueError("several target columns need task='regression' (or None).")
    if width - len(cols) < 1:
        raise DataFormatError(f"{spath}: no feature columns remain besides the target.")
    cells = np.array(rows, dtype=str)
    keep = [c for c in range(width) if c not in cols]
    feature_names = [column_names[c] for c in keep]
    x = _parse_numbers(cells[:, keep], feature_names, lines, spath, "feature").astype(np.float32)
    target_names = [column_names[c] for c in cols]
    if len(cols) > 1:
        y = _parse_numbers(np.char.strip(cells[:, cols]), target_names, lines, spath, "target")
        return CSVData(
            x, y.astype(np.float32), feature_names, target_names, "regression", None, spath
        )
    y, task, labels = _classes_from(cells[:, cols[0]], task, classes, lines, spath, target_names[0])
    if task == "regression":
        y = y.reshape(-1, 1)
    return CSVData(x, y, feature_names, target_names, task, labels, spath)


# -- NPZ ---------------------------------------------------------------------------------------


_NPZ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)


def read_npz(path: PathLike, x: str = "x", y: str | None = "y") -> Any:
    """Read arrays ``x`` and ``y`` from an ``.npz`` archive (never unpickling) as ``(x, y)``.

    With ``y=None`` only the ``x`` array is returned. Arrays come back as stored.
    """
    spath = os.fspath(path)
    try:
        archive = np.load(spath, allow_pickle=False)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except _NPZ_ERRORS as err:
        raise DataFormatError(f"{spath}: not a readable .npz archive (NumPy says: {err}).") from err
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataFormatError(
            f"{spath}: holds a single .npy array, not an .npz archive of x and y."
        )
    with archive:
        wanted = [x] if y is None else [x, y]
        missing = [k for k in wanted if k not in archive.files]
        if missing:
            raise DataFormatError(
                f"{spath}: no array named {missing[0]!r}; the archive holds {archive.files}. "
                "Pass x= and y= with those names."
            )
        out = []
        for key in wanted:
            try:
                out.append(archive[key])
            except _NPZ_ERRORS as err:
                raise DataFormatError(f"{spath}: array {key!r} cannot be read ({err}).") from err
    if y is None:
        return out[0]
    if out[0].ndim == 0 or out[1].ndim == 0 or out[0].shape[0] != out[1].shape[0]:
        raise DataFormatError(
            f"{spath}: {x!r} has shape {out[0].shape} and {y!r} has shape {out[1].shape}; "
            "they need the same number of samples along axis 0."
        )
    return out[0], out[1]
