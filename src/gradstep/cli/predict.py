"""``gradstep predict RUN_OR_CHECKPOINT --input FILE.csv|.npz [--output FILE.csv]``: the model's
predictions for every row of a file: class and probabilities, or values."""

from __future__ import annotations

import csv
import io
import os
import sys
from typing import Any

import numpy as np

from . import _build as B
from ._common import ArgParser, fail, require_file


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
        help="rows to predict: a CSV (header optional; extra columns such as the "
        "label are dropped by name) or an NPZ with an array 'x'",
    )
    p.add_argument(
        "--output", metavar="FILE.csv", help="write the predictions here (default: standard output)"
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
    trained = B.load_trained(opts.target, need_data=False)
    meta = trained.meta
    n_features = B.input_width(trained.layers)
    x = _read_inputs(opts.input, n_features, meta, trained.cfg)
    scaling = meta.get("standardize")
    if scaling and not opts.raw:
        x = (x - np.asarray(scaling["mean"])) / np.asarray(scaling["scale"])
    x = x.astype(np.float64 if trained.cfg["model"]["dtype"] == "float64" else np.float32)
    trainer = B.trainer_for(_settled(trained), trained.model)
    out = trainer.predict(x)
    header, rows = _table(out, trained)
    if opts.output:
        os.makedirs(os.path.dirname(os.path.abspath(opts.output)), exist_ok=True)
        with open(opts.output, "w", newline="") as f:
            _write(f, header, rows)
        print(f"wrote {len(rows)} predictions to {opts.output}")
    else:
        _write(sys.stdout, header, rows)
    return 0


def _settled(trained: B.Trained) -> dict[str, Any]:
    cfg = trained.cfg
    if cfg["loss"]["name"] != "auto" and cfg["train"]["metrics"] != "auto":
        return cfg
    task = trained.meta.get("task", "classification")
    n_out = B.output_width(trained.layers)
    stub = B.Data(
        name="input",
        task=task,
        train=[0],
        val=None,
        test=None,
        n_features=0,
        n_outputs=n_out,
        n_classes=n_out if task == "classification" else None,
    )
    return B.settle(cfg, stub, training=False)


def _read_inputs(path: str, n_features: int, meta: dict[str, Any], cfg: dict[str, Any]):
    if path.lower().endswith(".npz"):
        from ..data.readers import read_npz

        x = np.asarray(read_npz(path, y=None), dtype=np.float64)
        x = x.reshape(len(x), -1)
        if x.shape[1] != n_features:
            fail(
                f"--input {path}: array 'x' has {x.shape[1]} features per row but the model "
                f"takes {n_features}."
            )
        return x
    if not path.lower().endswith(".csv"):
        fail(f"--input {path} must be a .csv or .npz file.")
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if not rows:
        fail(f"--input {path} has no rows.")
    header = None
    if not _numeric(rows[0]):
        header = [c.strip() for c in rows[0]]
        rows = rows[1:]
    if not rows:
        fail(f"--input {path} has a header but no data rows.")
    width = len(rows[0])
    keep = list(range(width))
    names = meta.get("feature_names") or []
    if header is not None and names and all(n in header for n in names):
        keep = [header.index(n) for n in names]
    elif width != n_features and header is not None:
        drop = {cfg["data"]["target"], "label", "target", "y", *meta.get("target_names", [])}
        keep = [i for i, h in enumerate(header) if h not in drop]
    if len(keep) != n_features:
        fail(
            f"--input {path} has {len(keep)} feature columns but the model takes {n_features}; "
            "pass one column per feature (a header with the feature names selects them)."
        )
    x = np.empty((len(rows), n_features), dtype=np.float64)
    for r, row in enumerate(rows):
        if len(row) != width:
            fail(
                f"--input {path} line {r + 1 + (header is not None)}: expected {width} fields, "
                f"found {len(row)}."
            )
        try:
            x[r] = [float(row[i]) for i in keep]
        except ValueError:
            fail(f"--input {path} line {r + 1 + (header is not None)}: a feature is not a number.")
    if not np.isfinite(x).all():
        fail(f"--input {path} holds NaN or infinite values; remove or impute them.")
    return x


def _numeric(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except ValueError:
        return False
    return True


def _table(out: np.ndarray, trained: B.Trained) -> tuple[list[str], list[list[Any]]]:
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
