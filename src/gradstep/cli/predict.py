"""``gradstep predict RUN_OR_CHECKPOINT --input FILE.csv|.tsv|.npz [--output FILE.csv]``: the
model's predictions for every row of a file: class and probabilities, or values."""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import sys
from typing import Any

import numpy as np

from . import _build as B
from ._common import ArgParser, fail, require_file
from ._inference import inference_config
from ._trained import Trained, load_trained

HEADER_RULE = (
    "the first row is a header when it names the run's features (as the training file's header "
    "did), or when it is not all numbers"
)


def _parser() -> ArgParser:
    p = ArgParser(prog="gradstep predict", description=__doc__.split(":", 1)[1].strip())
    p.add_argument(
        "target",
        metavar="RUN_OR_CHECKPOINT",
        help="a run directory, a .safetensors checkpoint in one, or its config.toml",
    )
    p.add_argument(
        "--input",
        required=True,
        metavar="FILE",
        help="rows to predict: a CSV or TSV (" + HEADER_RULE + "; columns are matched to the "
        "features by name, extra ones such as the label are dropped) or an NPZ with an array 'x'",
    )
    p.add_argument(
        "--output", metavar="FILE.csv", help="write the predictions here (default: standard output)"
    )
    p.add_argument(
        "--data.delimiter",
        dest="delimiter",
        metavar="CHAR",
        default="auto",
        help="field separator of the input (default auto: a tab for .tsv, else a comma)",
    )
    p.add_argument(
        "--raw",
        action="store_true",
        help="the inputs are already standardised: skip the run's standardisation",
    )
    return p


def run(args: list[str]) -> int:
    opts = _parser().parse_args(args)
    require_file(opts.input, "--input")
    if opts.output:
        _check_output(opts.output, opts.input)
    trained = load_trained(opts.target, need_data=False)
    meta = trained.meta
    shape = tuple(trained.input_shape) or (B.input_width(trained.layers),)
    x = _read_inputs(opts.input, math.prod(shape), meta, trained.cfg, opts.delimiter)
    scaling = meta.get("standardize")
    if scaling and not opts.raw:
        x = (x - np.asarray(scaling["mean"])) / np.asarray(scaling["scale"])
    x = x.astype(np.float64 if trained.cfg["model"]["dtype"] == "float64" else np.float32)
    x = x.reshape(len(x), *shape)  # rows of flattened samples, as the model takes them
    trainer = B.trainer_for(inference_config(trained), trained.model)
    out = trainer.predict(x)
    header, rows = _table(out, trained)
    if opts.output:
        _write_file(opts.output, header, rows)
        print(f"wrote {len(rows)} predictions to {opts.output}")
    else:
        _write(sys.stdout, header, rows)
    return 0


def _check_output(output: str, source: str) -> None:
    """Refuse an --output that would overwrite the input or cannot be a file."""
    if os.path.isdir(output):
        fail(f"--output {output} is a folder; pass a file name such as {output}/predictions.csv")
    if os.path.exists(output) and os.path.samefile(output, source):
        fail(f"--output {output} is the --input file; pass another file name")
    parent = os.path.dirname(os.path.abspath(output))
    if os.path.exists(parent) and not os.path.isdir(parent):
        fail(f"--output {output}: {parent} is a file, not a folder; pass another path")


def _read_inputs(
    path: str, n_features: int, meta: dict[str, Any], cfg: dict[str, Any], delimiter: str
) -> np.ndarray:
    from ..config import ConfigError
    from ._datafile import TEXT_SUFFIXES, align_features

    if path.lower().endswith(".npz"):
        from ..data.npz import read_npz

        raw = read_npz(path, y=None)
        if raw.ndim == 0 or raw.dtype.kind not in "biuf":
            fail(
                f"--input {path}: array 'x' of shape {raw.shape} and dtype {raw.dtype} is not "
                "rows of numbers; save one row of numbers per sample."
            )
        x = np.asarray(raw, dtype=np.float64).reshape(len(raw), -1)
        if x.shape[1] != n_features:
            fail(
                f"--input {path}: array 'x' has {x.shape[1]} features per row but the model "
                f"takes {n_features}."
            )
        if not np.isfinite(x).all():
            fail(f"--input {path} holds NaN or infinite values; remove or impute them.")
        return x
    if not path.lower().endswith(TEXT_SUFFIXES):
        fail(f"--input {path} must be a .csv, .tsv or .npz file.")
    from ..data.readers import delimiter_for, read_csv_rows

    try:
        sep = delimiter_for(path, delimiter)
    except ValueError:
        fail(f"--data.delimiter must be auto, tab or one character such as ';', got {delimiter!r}")
    rows, lines = read_csv_rows(path, sep)
    if not rows:
        fail(f"--input {path} has no rows.")
    names = [str(n) for n in meta.get("feature_names") or []]
    first = [c.strip() for c in rows[0]]
    header = None
    if (names and set(names) <= set(first)) or not _numeric(first):
        header = first
        _check_header(header, path, lines[0])
        rows, lines = rows[1:], lines[1:]
    if not rows:
        fail(f"--input {path} has a header but no data rows.")
    keep = list(range(len(rows[0])))
    if header is not None and names and set(names) <= set(header):
        keep = [header.index(n) for n in names]
    elif header is not None and len(keep) != n_features:  # a labelled file: drop the target
        drop = {cfg["data"]["target"], "label", "target", "y", *meta.get("target_names", [])}
        keep = [i for i, h in enumerate(header) if h not in drop]
    x = np.empty((len(rows), len(keep)), dtype=np.float64)
    for j, c in enumerate(keep):
        cells = [row[c] for row in rows]
        try:
            x[:, j] = np.array(cells, dtype=np.float64)
        except (ValueError, OverflowError):
            r = next(i for i, cell in enumerate(cells) if not _numeric([cell]))
            what = header[c] if header is not None else f"column {c + 1}"
            fail(
                f"--input {path} line {lines[r]}, column {what!r}: {cells[r].strip()[:40]!r} is "
                "not a number; every feature must be numeric."
            )
    if not np.isfinite(x).all():
        r = int(np.argwhere(~np.isfinite(x))[0][0])
        fail(f"--input {path} line {lines[r]} holds NaN or an infinite value; remove or impute it.")
    chosen = [header[c] for c in keep] if header is not None else None
    try:
        return align_features(x, chosen, names, n_features, f"--input {path}")
    except ConfigError as err:
        fail(str(err).rstrip("."))


def _check_header(header: list[str], path: str, line: int) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            fail(
                f"--input {path} line {line}: column {name!r} appears twice in the header; "
                "rename one of them (features are matched by name)."
            )
        seen.add(name)


def _numeric(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except (ValueError, OverflowError):
        return False
    return True


def _table(out: np.ndarray, trained: Trained) -> tuple[list[str], list[list[Any]]]:
    meta = trained.meta
    names = [str(n) for n in meta.get("target_names", [])]
    if meta.get("task", "classification") == "classification" and out.ndim == 2:
        z = out - out.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        cls = p.argmax(axis=1)
        k = p.shape[1]
        labels = names if len(names) == k else [str(i) for i in range(k)]
        header = ["class", "label", *(f"p_{n}" for n in labels)]
        rows = [[int(c), labels[c], *(f"{v:.6g}" for v in prob)] for c, prob in zip(cls, p)]
        return header, rows
    out = out.reshape(len(out), -1)
    labels = names if len(names) == out.shape[1] else [f"y{i}" for i in range(out.shape[1])]
    return labels, [[f"{v:.6g}" for v in row] for row in out]


def _write(stream: io.TextIOBase | Any, header: list[str], rows: list[list[Any]]) -> None:
    w = csv.writer(stream, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)


def _write_file(path: str, header: list[str], rows: list[list[Any]]) -> None:
    """Write the predictions through a temporary file renamed over ``path``: an existing file
    is replaced whole or not at all."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", newline="") as f:
            _write(f, header, rows)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
