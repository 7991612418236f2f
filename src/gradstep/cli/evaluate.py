"""``gradstep evaluate RUN_OR_CHECKPOINT [--dataset NAME] [--split test]``: the loss and metrics
of a trained model on a dataset split, and its confusion matrix for classification."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _build as B
from ._common import ArgParser, fail, fmt, print_json, print_table


def _parser() -> ArgParser:
    p = ArgParser(prog="gradstep evaluate", description=__doc__.split(":", 1)[1].strip())
    p.add_argument(
        "target",
        metavar="RUN_OR_CHECKPOINT",
        help="a run directory, a .safetensors checkpoint in one, or its config.toml",
    )
    p.add_argument("--dataset", metavar="NAME", help="a built-in dataset instead of the run's")
    p.add_argument(
        "--split",
        choices=("train", "val", "test"),
        default="test",
        help="which part of the dataset (default: test)",
    )
    p.add_argument("--json", action="store_true", help="print the results as one JSON line")
    return p


def run(args: list[str]) -> int:
    opts = _parser().parse_args(args)
    trained = B.load_trained(opts.target, dataset=opts.dataset)
    data = trained.data
    part = getattr(data, opts.split)
    if part is None or len(part) == 0:
        fail(f"dataset {data.name!r} has no {opts.split} split; pass another --split.")
    trainer = B.trainer_for(trained.cfg, trained.model)
    result: dict[str, Any] = {
        "weights": trained.weights,
        "dataset": data.name,
        "split": opts.split,
        "samples": len(part),
    }
    metrics = trainer.evaluate(part)
    cm = None
    if data.task == "classification":
        from ..train.metrics import confusion_matrix, precision_recall_f1

        x, y = part.arrays[0], part.arrays[1]
        pred = trainer.predict(x).argmax(axis=-1)
        cm = confusion_matrix(y, pred, data.n_classes)
        p, r, f = precision_recall_f1(cm)
        metrics.update({"precision": p, "recall": r, "f1": f})
    result["metrics"] = metrics
    if cm is not None:
        result["confusion_matrix"] = cm
    if opts.json:
        print_json(result)
        return 0
    print(f"{data.name} · {opts.split} split · {len(part)} samples · weights {trained.weights}")
    print_table(["metric", "value"], [[k, fmt(float(v))] for k, v in metrics.items()])
    if cm is not None:
        _print_confusion(cm, data.target_names)
    return 0


def _print_confusion(cm: np.ndarray, names: list[str]) -> None:
    n = cm.shape[0]
    labels = [str(names[i]) if i < len(names) else str(i) for i in range(n)]
    short = [s if len(s) <= 10 else s[:9] + "…" for s in labels]
    rows = [[short[i], *(int(v) for v in cm[i])] for i in range(n)]
    print()
    print_table(
        ["true \\ predicted", *short],
        rows,
        title="confusion matrix (rows: true class, columns: predicted class)",
    )
