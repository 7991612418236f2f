"""The user's own data file on the command line (``data.path``): a CSV / TSV table or an NPZ
archive, read for training (split into train, val and test) or for evaluating a trained run.

Every problem is one sentence that names the file and a fix spelled as a flag
(``--data.task regression``, not a Python argument); a file with nothing to learn is refused,
and a split that leaves no validation or test rows is said once, on standard error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import ConfigError
from ..data.npz import read_npz
from ..data.readers import DataFormatError, delimiter_for, read_csv
from ..data.split import SplitError

__all__ = ["TEXT_SUFFIXES", "align_features", "load_labelled", "load_training_file", "warn"]

TEXT_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
_TASK_FIX = (
    "pass --data.task regression if the column is a quantity, or --data.task classification if "
    "it holds class ids"
)


def warn(message: str) -> None:
    """One ``gradstep: warning: ...`` line on standard error."""
    print(f"gradstep: warning: {' '.join(message.split())}", file=sys.stderr, flush=True)


def _cli_error(err: DataFormatError) -> ConfigError:
    """The reader's error with its fix spelled as the command line's flag."""
    fixes = {
        "task": _TASK_FIX,
        "target": "pass --data.target NAME (a column of the header) or a column index such as "
        "--data.target -1",
        "classes": "those are the classes the run was trained on; evaluate on rows of them",
    }
    if err.option == "delimiter":
        shown = err.fix.rpartition("=")[2] if "=" in err.fix else "','"
        fix = f"pass --data.delimiter {shown}"
    else:
        fix = fixes.get(err.option or "", err.fix)
    return ConfigError(f"{err.problem}; {fix}." if fix else f"{err.problem}.")


def _delimiter(path: str, text: str) -> str:
    try:
        return delimiter_for(path, text)
    except ValueError:
        raise ConfigError(
            f"data.delimiter must be auto, tab or one character such as ';', got {text!r}."
        ) from None


def _check_path(path: str, what: str) -> None:
    if not os.path.exists(path):
        raise ConfigError(f"{what} {path} does not exist; pass a .csv, .tsv or .npz file.")
    if os.path.isdir(path):
        raise ConfigError(f"{what} {path} is a folder; pass a .csv, .tsv or .npz file.")
    if not path.lower().endswith((*TEXT_SUFFIXES, ".npz")):
        raise ConfigError(f"{what} {path} is neither a .csv / .tsv table nor an .npz archive.")


def _read(
    d: dict[str, Any], task: str | None, classes: Sequence[str] | None = None
) -> dict[str, Any]:
    """x, y, task, names and classes of the file ``d["path"]`` (the [data] settings)."""
    path = d["path"]
    if path.lower().endswith(".npz"):
        try:
            x, y = read_npz(path)
        except DataFormatError as err:
            raise _cli_error(err) from None
        return _from_arrays(path, x, y, task)
    try:
        table = read_csv(
            path,
            target=d["target"],
            task=task,
            delimiter=_delimiter(path, d.get("delimiter", "auto")),
            classes=classes,
        )
    except DataFormatError as err:
        raise _cli_error(err) from None
    return {
        "x": table.x,
        "y": table.y,
        "task": table.task,
        "feature_names": table.feature_names,
        "target_names": table.target_names,
        "classes": table.classes,
    }


def _from_arrays(path: str, x: np.ndarray, y: np.ndarray, task: str | None) -> dict[str, Any]:
    if x.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        bad, arr = ("x", x) if x.dtype.kind not in "biuf" else ("y", y)
        raise ConfigError(
            f"data.path {path}: array {bad!r} has dtype {arr.dtype}, not numbers; save numeric "
            "arrays (class labels as integers 0, 1, 2, ...)."
        )
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    if not np.isfinite(x).all():
        raise ConfigError(
            f"data.path {path}: array 'x' holds NaN or infinite values; remove or impute them."
        )
    if task is None:
        task = "classification" if y.dtype.kind in "iub" else "regression"
    if task == "regression":
        y = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
        if not np.isfinite(y).all():
            raise ConfigError(
                f"data.path {path}: array 'y' holds NaN or infinite values; remove them."
            )
    else:
        labels = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if labels.shape[1] != 1 or not np.all(labels == np.round(labels)):
            raise ConfigError(
                f"data.path {path}: array 'y' of shape {y.shape} does not hold one integer class "
                f"label per sample; {_TASK_FIX}."
            )
        if labels.size and (labels.min() < 0 or labels.max() >= max(len(labels), 2)):
            raise ConfigError(
                f"data.path {path}: array 'y' holds labels from {labels.min():.0f} to "
                f"{labels.max():.0f}, which are not class ids 0, 1, 2, ... for "
                f"{len(labels)} samples; {_TASK_FIX}."
            )
        y = labels[:, 0].astype(np.int64)
    return {
        "x": x,
        "y": y,
        "task": task,
        "feature_names": [f"x{i}" for i in range(x.shape[1])],
        "target_names": ["y"],
        "classes": None,
    }


def _check_learnable(path: str, target: str, y: np.ndarray, task: str, classes: Any) -> None:
    """Refuse a file with nothing to learn: one row, one class, or one target value."""
    if len(y) < 2:
        raise ConfigError(
            f"data.path {path} has {len(y)} data row{'' if len(y) == 1 else 's'}; there is "
            "nothing to learn; pass a file with more rows."
        )
    if task == "classification" and np.unique(y).size < 2:
        label = classes[int(y[0])] if classes else str(int(y[0]))
        quantity = "" if classes else ", or --data.task regression if the column is a quantity"
        raise ConfigError(
            f"data.path {path}: every row of column {target!r} is class {label!r}; a classifier "
            f"has nothing to learn from one class; pass a file with two or more classes{quantity}."
        )
    if task == "regression" and np.all(y == y[:1]):
        raise ConfigError(
            f"data.path {path}: every row of column {target!r} has the value {float(y.flat[0]):g}; "
            "there is nothing to learn; pass a file whose target varies."
        )


def _split(path: str, d: dict[str, Any], y: np.ndarray, task: str) -> tuple[np.ndarray, ...]:
    from ..data.split import split_indices

    val, test = d["val_fraction"], d["test_fraction"]
    try:
        return split_indices(len(y), y, val, test, d["seed"], task == "classification")
    except SplitError as err:
        if err.option == "stratify":
            sizes = np.bincount(y)
            sizes = sizes[sizes > 0]
            raise ConfigError(
                f"data.path {path}: the {sizes.size} classes of column {d['target']!r} are too "
                f"small to split into train, validation and test (the smallest has "
                f"{sizes.min()} rows); pass --data.task regression if the column is a quantity, "
                "or smaller --data.val_fraction / --data.test_fraction."
            ) from None
        raise ConfigError(
            f"data.val_fraction = {val} and data.test_fraction = {test} leave no training rows "
            f"out of the {len(y)} of {path}; pass smaller fractions."
        ) from None


def load_training_file(d: dict[str, Any]) -> dict[str, Any]:
    """The [data] settings' file, checked and split: the fields of ``_dataset.Data``."""
    from ..data.dataset import TensorDataset
    from ..data.split import Standardizer

    path = d["path"]
    _check_path(path, "data.path")
    task = None if d["task"] == "auto" else d["task"]
    f = _read(d, task)
    x, y, task = f["x"], f["y"], f["task"]
    _check_learnable(path, f["target_names"][0], y, task, f["classes"])
    tr, va, te = _split(path, d, y, task)
    gaps = [
        f"no {'validation' if kind == 'val' else 'test'} rows (data.{kind}_fraction = "
        f"{d[kind + '_fraction']})"
        for kind, idx in (("val", va), ("test", te))
        if len(idx) == 0 and d[kind + "_fraction"] > 0
    ]
    if gaps:
        warn(
            f"data.path {path} has {len(y)} rows, which leave {' and '.join(gaps)}; the run "
            "reports no figures for them; pass a larger file or larger fractions."
        )
    scaler = Standardizer().fit(x[tr]) if d["standardize"] else None

    def part(idx: np.ndarray) -> Any:
        if len(idx) == 0:
            return None
        xs = x[idx] if scaler is None else scaler.transform(x[idx]).astype(np.float32)
        return TensorDataset(xs, y[idx])

    n_classes = None
    target_names = f["target_names"]
    if task == "classification":
        classes = f["classes"]
        n_classes = len(classes) if classes else int(y.max()) + 1
        target_names = classes if classes else [str(c) for c in range(n_classes)]
    return {
        "name": os.path.basename(path),
        "task": task,
        "train": part(tr),
        "val": part(va),
        "test": part(te),
        "n_features": int(x.shape[1]),
        "n_outputs": int(n_classes if n_classes is not None else y.shape[1]),
        "n_classes": n_classes,
        "feature_names": list(f["feature_names"]),
        "target_names": list(target_names),
        "scaler": scaler,
        "description": f"{path}: {len(y)} rows",
    }


def align_features(
    x: np.ndarray, names: Sequence[str] | None, known: Sequence[str], width: int, where: str
) -> np.ndarray:
    """The columns of ``x`` (named ``names``, or unnamed) in the order of the model's features
    ``known``: by name when the file names them all, by position when it names none of them
    and has ``width`` columns; a file naming only some of them is refused."""
    if names is not None and known:
        found = [n for n in known if n in names]
        if len(found) == len(known):
            return x[:, [list(names).index(n) for n in known]]
        if found:
            missing = [n for n in known if n not in names]
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            shown = ", ".join(known[:5]) + (", ..." if len(known) > 5 else "")
            raise ConfigError(
                f"{where} has no column {missing[0]!r}{more}, a feature of the model; name the "
                f"columns as in training ({shown})."
            )
    if x.shape[1] != width:
        raise ConfigError(
            f"{where} has {x.shape[1]} feature columns but the model takes {width}; pass one "
            "column per feature (a header with the training feature names selects them)."
        )
    return x


def load_labelled(
    d: dict[str, Any], meta: dict[str, Any], width: int
) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """A labelled file for evaluating a trained run: (x in the model's feature order, y as the
    run's class ids or values, the run's class names). Labels are read with the run's classes,
    so that a file holding only some of them keeps their ids."""
    path = d["path"]
    _check_path(path, "--data.path")
    task = meta.get("task", "classification")
    names = [str(n) for n in meta.get("target_names", [])]
    n_classes = meta.get("n_classes", len(names) if task == "classification" else None)
    by_index = names == [str(i) for i in range(len(names))]
    classes = names if task == "classification" and names and not by_index else None
    f = _read(d, task, classes)
    x, y = f["x"], f["y"]
    if task == "classification" and classes is None and n_classes and y.size:
        if y.max() >= n_classes:
            raise ConfigError(
                f"--data.path {path}: label {int(y.max())} is not one of the run's "
                f"{n_classes} classes (0 to {n_classes - 1}); evaluate on a file with those labels."
            )
    if task == "regression" and y.shape[1] != meta.get("n_outputs", y.shape[1]):
        raise ConfigError(
            f"--data.path {path} has {y.shape[1]} target columns but the model gives "
            f"{meta.get('n_outputs')} outputs."
        )
    if path.lower().endswith(".npz"):
        file_names = None
    else:
        file_names = f["feature_names"]
    x = align_features(x, file_names, meta.get("feature_names") or [], width, f"--data.path {path}")
    return x, y, (names if task == "classification" else None)
