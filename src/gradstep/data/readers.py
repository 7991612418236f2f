"""Reading the data files users bring: the CSV reader, and the error every reader raises (NPZ
archives are read in ``npz.py``, IDX files in ``idx.py``).

Every malformed file raises one DataFormatError that names the file and the line (CSV), key (NPZ)
or byte offset (IDX) at fault. Nothing is ever unpickled, and no size a file declares is
allocated before the bytes that fill it are there.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .dataset import TensorDataset

__all__ = [
    "CSVData",
    "DataFormatError",
    "delimiter_for",
    "read_csv",
    "read_csv_rows",
]

PathLike = str | os.PathLike


class DataFormatError(ValueError):
    """A data file is malformed; the message names the file and where, then the fix.

    ``problem`` is the message without its fix and ``option`` the reader argument the fix is
    about ("task", "classes", "target", "delimiter"; None when the fix is in the file), so that
    a front end such as the command line can name its own spelling of the fix.
    """

    def __init__(self, problem: str, fix: str = "", option: str | None = None) -> None:
        self.problem = problem.rstrip(".")
        self.fix = fix
        self.option = option
        super().__init__(f"{self.problem}; {fix}." if fix else f"{self.problem}.")


# -- CSV ---------------------------------------------------------------------------------------


@dataclass
class CSVData:
    """What ``read_csv`` returns: the arrays plus their names; unpacks as ``x, y``.

    ``y`` is int64 class ids for classification and float32 ``(n, n_targets)`` for regression.
    ``classes[i]`` is the original label of class id ``i`` when labels were mapped from strings
    (or through ``classes=``), else None. ``lines[i]`` is the line of the file row ``i`` came
    from.
    """

    x: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_names: list[str]
    task: str
    classes: list[str] | None
    path: str
    lines: list[int] | None = None

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


def delimiter_for(path: PathLike, delimiter: str | None = None) -> str:
    """The field delimiter of a text table: ``delimiter`` when given ("tab" and a typed ``\\t``
    mean a tab), else a tab for ``.tsv`` / ``.tab`` files and a comma otherwise.

    >>> delimiter_for("data.tsv"), delimiter_for("data.csv", ";")
    ('\\t', ';')
    """
    if delimiter is None or delimiter == "auto":
        ext = os.path.splitext(os.fspath(path))[1].lower()
        return "\t" if ext in (".tsv", ".tab") else ","
    text = {"tab": "\t", "\\t": "\t"}.get(delimiter, delimiter)
    if len(text) != 1 or text in '\r\n"':
        raise ValueError(
            f"delimiter must be one character other than a quote or a line break (or 'tab'), "
            f"got {delimiter!r}."
        )
    return text


def _not_utf8(path: str) -> DataFormatError:
    """Locate the first byte that is not UTF-8 (the text reader decodes ahead in chunks)."""
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return DataFormatError(
            f"{path}: the file is UTF-16 text (it starts with a UTF-16 byte-order mark)",
            "save it as UTF-8",
        )
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        return DataFormatError(
            f"{path} line {line} (byte offset {err.start}): not UTF-8 text ({err.reason})",
            "save the file as UTF-8",
        )
    return DataFormatError(f"{path}: not UTF-8 text", "save the file as UTF-8")


def read_csv_rows(
    path: PathLike, delimiter: str | None = None
) -> tuple[list[list[str]], list[int]]:
    """The non-blank rows of a CSV file as text cells, with the line each starts on; every row
    must have as many fields as the first. The first row is returned like any other (whether it
    is a header is the caller's decision).

    >>> rows, lines = read_csv_rows("new.csv")
    """
    spath = os.fspath(path)
    sep = delimiter_for(spath, delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    with open(spath, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=sep)
        start = 1
        try:
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    if rows and len(row) != len(rows[0]):
                        raise DataFormatError(
                            f"{spath} line {start}: expected {len(rows[0])} fields, found "
                            f"{len(row)}",
                            "every row needs one value per column",
                        )
                    rows.append(row)
                    lines.append(start)
                start = reader.line_num + 1
        except csv.Error as err:
            raise DataFormatError(f"{spath} line {reader.line_num}: {err}") from None
        except UnicodeDecodeError:
            raise _not_utf8(spath) from None
    return rows, lines


def _one_column_hint(cells: Sequence[str], sep: str) -> tuple[str, str | None]:
    """A fix for a table read as one column: the delimiter its text seems to use."""
    text = "".join(cells)
    for guess, shown in ((";", "';'"), ("\t", "'tab'"), ("|", "'|'"), (",", "','")):
        if guess != sep and guess in text:
            return f"the file seems to be separated by {shown}; pass delimiter={shown}", "delimiter"
    return "", None


def _check_header(names: list[str], path: str, line: int) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataFormatError(
                f"{path} line {line}: column {_short(name)} appears twice in the header",
                "rename one of them (columns are matched by name)",
            )
        seen.add(name)


def _column(name: str | int, header: list[str] | None, width: int, path: str, line: int = 1) -> int:
    if isinstance(name, str) and (header is None or name not in header):
        try:
            name = int(name.strip())  # "-1": an index, unless a column has that name
        except ValueError:
            pass
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        if not -width <= name < width:
            raise DataFormatError(
                f"{path}: target column index {name} is out of range for {width} columns",
                f"pass an index from {-width} to {width - 1}",
                "target",
            )
        return int(name) % width
    if header is None:
        raise ValueError(
            f"target must be a column index when header=False, got {name!r}; pass e.g. target=-1."
        )
    if name not in header:
        raise DataFormatError(
            f"{path} line {line}: target column {_short(name)} is missing from the header "
            f"{_listed(header)}",
            "pass target= one of the column names or an index",
            "target",
        )
    return header.index(name)


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _numbers(
    cells: Sequence[str], name: str, lines: list[int], path: str, what: str, integers: bool = False
) -> np.ndarray:
    """One column of text as float64, pointing at the first bad cell on failure; values that
    float32 cannot hold are refused unless the column is read as ``integers`` (class ids)."""
    try:
        values = np.array(cells, dtype=np.float64)
    except (ValueError, OverflowError):
        for r, cell in enumerate(cells):
            try:
                float(cell)
            except (ValueError, OverflowError):
                kind = "empty cell" if not cell.strip() else f"cell {_short(cell)}"
                raise DataFormatError(
                    f"{path} line {lines[r]}, column {_short(name)}: {kind} is not a number",
                    f"{what}s must be numeric",
                ) from None
        raise  # pragma: no cover - numpy refused a column Python parses
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        r = int(bad[0])
        raise DataFormatError(
            f"{path} line {lines[r]}, column {_short(name)}: {what} {_short(cells[r])} is not "
            "finite",
            "remove or impute missing values before loading",
        )
    big = np.flatnonzero(np.abs(values) > _FLOAT32_MAX)
    if big.size and not integers:
        r = int(big[0])
        raise DataFormatError(
            f"{path} line {lines[r]}, column {_short(name)}: {what} {_short(cells[r])} is beyond "
            "the float32 range (±3.4e38) the values are kept in",
            "rescale the column",
        )
    return values


def _listed(names: Sequence[str], limit: int = 8) -> str:
    """Names for a message: the first few, quoted and cut, then how many more."""
    shown = ", ".join(_short(n) for n in names[:limit])
    return f"[{shown}{f', ... ({len(names) - limit} more)' if len(names) > limit else ''}]"


def _short(cell: str, limit: int = 40) -> str:
    """A cell for a message: quoted, and cut when long."""
    text = cell.strip()
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _classes_from(
    cells: Sequence[str],
    task: str | None,
    classes: Sequence[str] | None,
    lines: list[int],
    path: str,
    col: str,
) -> tuple[np.ndarray, str, list[str] | None]:
    """Turn the target column into class ids or regression values."""
    stripped = [c.strip() for c in cells]
    for r, cell in enumerate(stripped):
        if not cell:
            raise DataFormatError(
                f"{path} line {lines[r]}, column {_short(col)}: empty cell",
                "every row needs a target",
            )
    if classes is not None:
        if task == "regression":
            raise ValueError("classes= only applies to classification; drop it or task=.")
        lookup = {str(c): i for i, c in enumerate(classes)}
        ids = np.empty(len(stripped), dtype=np.int64)
        for r, cell in enumerate(stripped):
            if cell not in lookup:
                raise DataFormatError(
                    f"{path} line {lines[r]}, column {_short(col)}: label {_short(cell)} is not "
                    f"one of the classes {_listed(list(lookup))}",
                    "pass classes= with every label",
                    "classes",
                )
            ids[r] = lookup[cell]
        return ids, "classification", [str(c) for c in classes]
    try:
        values = np.array(stripped, dtype=np.float64)
    except (ValueError, OverflowError):
        if task == "regression":
            _numbers(stripped, col, lines, path, "target")
        names = sorted(set(stripped))
        index = {n: i for i, n in enumerate(names)}
        return np.array([index[c] for c in stripped], dtype=np.int64), "classification", names
    _numbers(stripped, col, lines, path, "target", integers=True)
    integral = bool(np.all(values == np.round(values)))
    if task is None and integral and values.size and values.max() >= max(len(values), 2):
        raise DataFormatError(
            f"{path} column {_short(col)}: the target holds integers up to {values.max():.6g} in "
            f"{len(values)} rows, more classes than rows; it looks like a quantity",
            "pass task='regression' for a quantity, or task='classification' for class ids",
            "task",
        )
    if task is None:
        task = "classification" if integral else "regression"
    if task == "regression":
        _numbers(stripped, col, lines, path, "target")  # within float32's range
        return values.astype(np.float32), task, None
    if not integral:
        r = int(np.argmax(values != np.round(values)))
        raise DataFormatError(
            f"{path} line {lines[r]}, column {_short(col)}: class label {_short(stripped[r])} is "
            "not an integer",
            "pass task='regression' for continuous targets",
            "task",
        )
    if values.max() >= 2**31:
        r = int(np.argmax(values))
        raise DataFormatError(
            f"{path} line {lines[r]}, column {_short(col)}: class label {_short(stripped[r])} is "
            "too large to be a class id",
            "pass task='regression' for a quantity",
            "task",
        )
    if values.min() < 0:
        r = int(np.argmin(values))
        raise DataFormatError(
            f"{path} line {lines[r]}, column {_short(col)}: class label {_short(stripped[r])} is "
            "negative",
            "pass classes=[...] to map labels to class ids, or task='regression' for a quantity",
            "task",
        )
    return values.astype(np.int64), task, None


def read_csv(
    path: PathLike,
    target: str | int | Sequence[str | int] = "label",
    task: str | None = None,
    header: bool = True,
    delimiter: str | None = None,
    classes: Sequence[str] | None = None,
) -> CSVData:
    """Read a numeric CSV table into features ``x`` (float32) and a target ``y``.

    ``target`` names the target column (or an index, also as text such as "-1" when no column
    has that name; several columns for multi-output regression); every other column is a
    feature. Column names must be unique. ``task=None`` picks classification when the target
    holds class ids (integers 0, 1, ...) or strings, regression for other numbers. String
    labels become class ids in sorted order; pass ``classes=[...]`` to fix the mapping across
    files. ``delimiter=None`` reads ``.tsv`` / ``.tab`` files as tab-separated, others as
    comma-separated. Returns a CSVData, which unpacks as ``x, y = read_csv(...)``.

    >>> x, y = read_csv("iris.csv", target="species")
    """
    if task not in (None, "classification", "regression"):
        raise ValueError(f"task must be 'classification', 'regression' or None, got {task!r}.")
    spath = os.fspath(path)
    sep = delimiter_for(spath, delimiter)
    rows, lines = read_csv_rows(spath, sep)
    names: list[str] | None = None
    header_line = lines[0] if lines else 1
    if header and rows:
        names = [cell.strip() for cell in rows[0]]
        _check_header(names, spath, lines[0])
        rows, lines = rows[1:], lines[1:]
    if not rows:
        raise DataFormatError(f"{spath}: the file has no data rows")
    width = len(rows[0])
    column_names = names if names is not None else [f"column_{i}" for i in range(width)]
    targets = list(target) if isinstance(target, (list, tuple)) else [target]
    try:
        cols = [_column(t, names, width, spath, header_line) for t in targets]
    except DataFormatError as err:
        if width == 1:
            fix, option = _one_column_hint(names or rows[0], sep)
            if option:
                raise DataFormatError(err.problem, fix, option) from None
        raise
    if len(set(cols)) != len(cols):
        raise ValueError(f"target lists the same column twice: {targets}.")
    if len(cols) > 1 and task == "classification":
        raise ValueError("several target columns need task='regression' (or None).")
    if width - len(cols) < 1:
        fix, option = _one_column_hint(names or rows[0], sep)
        raise DataFormatError(f"{spath}: no feature columns remain besides the target", fix, option)
    columns = list(zip(*rows))
    keep = [c for c in range(width) if c not in cols]
    feature_names = [column_names[c] for c in keep]
    x = np.empty((len(rows), len(keep)), dtype=np.float32)
    for j, c in enumerate(keep):
        x[:, j] = _numbers(columns[c], column_names[c], lines, spath, "feature")
    target_names = [column_names[c] for c in cols]
    if len(cols) > 1:
        y = np.stack(
            [_numbers(columns[c], column_names[c], lines, spath, "target") for c in cols], axis=1
        )
        return CSVData(
            x, y.astype(np.float32), feature_names, target_names, "regression", None, spath, lines
        )
    y, task, labels = _classes_from(columns[cols[0]], task, classes, lines, spath, target_names[0])
    if task == "regression":
        y = y.reshape(-1, 1)
    return CSVData(x, y, feature_names, target_names, task, labels, spath, lines)


def _reason(err: BaseException) -> str:
    """An exception as a short phrase for a message (one line)."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 160 else text[:159] + "…"
