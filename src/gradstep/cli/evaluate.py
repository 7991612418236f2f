"""``gradstep evaluate RUN_OR_CHECKPOINT [--dataset NAME] [--split test] [--data.path FILE]``:
the loss and metrics of a trained model on a dataset split or on a labelled file of your own;
for classification also each class's precision, recall and F1 and the confusion matrix."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _build as B
from ._common import ArgParser, fail, fmt, print_json, print_table
from ._inference import inference_config
from ._trained import Trained, load_trained

AVERAGE = (
    "macro: the mean over the classes among the true or predicted labels (a class with "
    "neither is left out); a ratio 0/0 counts as 0 (scikit-learn's zero_division default)"
)


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
        default=None,
        help="which part of the dataset (default: test)",
    )
    p.add_argument(
        "--data.path",
        dest="path",
        metavar="FILE",
        help="a labelled .csv, .tsv or .npz file to evaluate on (every row), with the target "
        "column and the features named as in training (or in the same order)",
    )
    p.add_argument(
        "--data.target",
        dest="column",
        metavar="NAME",
        help="the target column of --data.path: a name or an index such as -1 (default: the "
        "run's data.target)",
    )
    p.add_argument(
        "--data.delimiter",
        dest="delimiter",
        metavar="CHAR",
        default="auto",
        help="field separator of --data.path (default auto: a tab for .tsv, else a comma)",
    )
    p.add_argument("--json", action="store_true", help="print the results as one JSON line")
    return p


def run(args: list[str]) -> int:
    opts = _parser().parse_args(args)
    if opts.path is None and (opts.column is not None or opts.delimiter != "auto"):
        fail("--data.target and --data.delimiter describe --data.path; pass --data.path FILE too")
    if opts.path is not None and (opts.dataset is not None or opts.split is not None):
        fail("pass either --data.path FILE or --dataset / --split, not both")
    if opts.path is not None:
        trained = load_trained(opts.target, need_data=False)
        cfg = inference_config(trained)
        part, task, names, title = _file_part(trained, opts)
        source = {"data_path": opts.path}
    else:
        split = opts.split or "test"
        trained = load_trained(opts.target, dataset=opts.dataset)
        data = trained.data
        part = getattr(data, split)
        if part is None or len(part) == 0:
            fail(f"dataset {data.name!r} has no {split} split; pass another --split.")
        cfg, task, names = trained.cfg, data.task, list(data.target_names)
        title = f"{data.name} · {split} split"
        source = {"dataset": data.name, "split": split}
    trainer = B.trainer_for(cfg, trained.model)
    result: dict[str, Any] = {"weights": trained.weights, **source, "samples": len(part)}
    metrics = trainer.evaluate(part)
    cm = scores = None
    notes: list[str] = []
    if task == "classification":
        from ..train.metrics import confusion_matrix, per_class_scores, precision_recall_f1

        x, y = part.arrays[0], part.arrays[1]
        pred = trainer.predict(x).argmax(axis=-1)
        cm = confusion_matrix(y, pred, B.output_width(trained.layers))
        p, r, f = precision_recall_f1(cm)
        metrics.update({"precision": p, "recall": r, "f1": f})
        scores = per_class_scores(cm)
        labels = _labels(names, cm.shape[0])
        notes = _notes(cm, labels)
        result["average"] = AVERAGE
        result["per_class"] = [
            {
                "class": labels[c],
                "precision": float(scores["precision"][c]),
                "recall": float(scores["recall"][c]),
                "f1": float(scores["f1"][c]),
                "support": int(scores["support"][c]),
            }
            for c in range(cm.shape[0])
        ]
    result["metrics"] = metrics
    if cm is not None:
        result["confusion_matrix"] = cm
        result["notes"] = notes
    if opts.json:
        print_json(result)
        return 0
    print(f"{title} · {len(part)} samples · weights {trained.weights}")
    averaged = {"precision", "recall", "f1"}
    rows = [[f"{k} (macro)" if k in averaged else k, fmt(float(v))] for k, v in metrics.items()]
    print_table(["metric", "value"], rows)
    if cm is not None and scores is not None:
        labels = _labels(names, cm.shape[0])
        print()
        print_table(
            ["class", "precision", "recall", "f1", "support"],
            [
                [
                    _short(labels[c]),
                    fmt(float(scores["precision"][c])),
                    fmt(float(scores["recall"][c])),
                    fmt(float(scores["f1"][c])),
                    int(scores["support"][c]),
                ]
                for c in range(cm.shape[0])
            ],
            title="per class (macro = the mean of these rows over the classes that occur)",
        )
        _print_confusion(cm, labels)
        for note in notes:
            print(f"note: {note}")
    return 0


def _file_part(trained: Trained, opts: Any) -> tuple[Any, str, list[str], str]:
    """The rows of --data.path as a dataset in the run's features, classes and scaling."""
    from ..data.dataset import TensorDataset
    from ._datafile import load_labelled

    meta = trained.meta
    d = dict(trained.cfg["data"])
    d.update(path=opts.path, delimiter=opts.delimiter)
    if opts.column is not None:
        d["target"] = opts.column
    shape = tuple(trained.input_shape) or (B.input_width(trained.layers),)
    x, y, classes = load_labelled(d, meta, math.prod(shape))
    scaling = meta.get("standardize")
    if scaling:
        x = (x - np.asarray(scaling["mean"])) / np.asarray(scaling["scale"])
    x = x.reshape(len(x), *shape)  # rows of flattened samples, as the model takes them
    dtype = np.float64 if trained.cfg["model"]["dtype"] == "float64" else np.float32
    task = meta.get("task", "classification")
    names = classes or [str(n) for n in meta.get("target_names", [])]
    return TensorDataset(x.astype(dtype), y), task, names, f"{opts.path}"


def _labels(names: list[str], n: int) -> list[str]:
    return [str(names[i]) if i < len(names) else str(i) for i in range(n)]


def _short(label: str) -> str:
    return label if len(label) <= 10 else label[:9] + "…"


def _notes(cm: np.ndarray, labels: list[str]) -> list[str]:
    """What the averages leave out or count as 0, said once per kind."""
    predicted, true = cm.sum(axis=0), cm.sum(axis=1)
    absent = [labels[c] for c in range(len(labels)) if predicted[c] == 0 and true[c] == 0]
    unpredicted = [labels[c] for c in range(len(labels)) if predicted[c] == 0 and true[c] > 0]
    unseen = [labels[c] for c in range(len(labels)) if true[c] == 0 and predicted[c] > 0]
    notes = []
    if absent:
        notes.append(
            f"{_subject(absent, 'neither present nor predicted here')}: left out of the macro "
            "averages."
        )
    if unpredicted:
        notes.append(
            f"{_subject(unpredicted, 'never predicted')}: precision 0/0, counted as 0 "
            "(scikit-learn's zero_division default)."
        )
    if unseen:
        notes.append(
            f"{_subject(unseen, 'predicted but without samples here')}: recall 0/0, counted as 0 "
            "(scikit-learn's zero_division default)."
        )
    return notes


def _subject(labels: list[str], what: str) -> str:
    """ "class 'a' is <what>" or "classes 'a', 'b' are <what>"."""
    many = len(labels) > 1
    return f"class{'es' if many else ''} {_names(labels)} {'are' if many else 'is'} {what}"


def _names(labels: list[str]) -> str:
    shown = ", ".join(repr(s) for s in labels[:8])
    return shown + (f" and {len(labels) - 8} more" if len(labels) > 8 else "")


def _print_confusion(cm: np.ndarray, labels: list[str]) -> None:
    short = [_short(s) for s in labels]
    rows = [[short[i], *(int(v) for v in cm[i])] for i in range(cm.shape[0])]
    print()
    print_table(
        ["true \\ predicted", *short],
        rows,
        title="confusion matrix (rows: true class, columns: predicted class)",
    )
