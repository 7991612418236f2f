"""``gradstep plot RUN [RUN ...]``: the pictures of a run directory (curves, confusion matrix,
gradient health, decision boundaries), or several runs' curves overlaid on one picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._common import ArgParser, fail, print_json

PICTURES = ("curves", "confusion", "gradients", "boundary")


def _parser() -> ArgParser:
    p = ArgParser(
        prog="gradstep plot",
        description=__doc__.split(":", 1)[1].strip(),
        epilog=(
            "With one run the pictures go into the run directory: curves.png, confusion.png "
            "(classification), gradients.png and boundary.png (2-D classification), whichever "
            "apply. With several runs: their loss, main metric and learning rate overlaid in "
            "--out (default: runs.png)."
        ),
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories (runs/<name>)")
    p.add_argument(
        "--what",
        default="all",
        help=f"comma-separated, from {', '.join(PICTURES)} (default: all that apply; one run)",
    )
    p.add_argument("--out", metavar="FILE.png", help="where to write (one picture only)")
    p.add_argument(
        "--split",
        choices=("train", "val", "test"),
        help="split for the confusion matrix (default: test, else val)",
    )
    p.add_argument("--json", action="store_true", help="print the files written as JSON")
    return p


def confusion_for(run: str | Path, split: str | None = None) -> tuple[np.ndarray, list[str], str]:
    """(confusion matrix, class names, split) of a classification run's final weights."""
    from ..train.metrics import confusion_matrix
    from ..viz.boundary import probabilities
    from . import _build as B
    from ._trained import load_trained

    trained = load_trained(str(run))
    data = trained.data
    if data.task != "classification":
        fail(f"{run} is a {data.task} run; a confusion matrix needs a classification run.")
    order = [split] if split else ["test", "val", "train"]
    name = next(
        (s for s in order if getattr(data, s, None) is not None and len(getattr(data, s))), None
    )
    if name is None:
        fail(f"dataset {data.name!r} has no {split} split; pass another --split.")
    part = getattr(data, name)
    trainer = B.trainer_for(trained.cfg, trained.model)
    x, y = part.arrays[0], part.arrays[1]
    pred = probabilities(trainer.predict(x), trainer.rule).argmax(axis=1)
    n = data.n_classes or int(max(np.max(y), np.max(pred)) + 1)
    names = list(data.target_names) if len(data.target_names) == n else [str(i) for i in range(n)]
    return confusion_matrix(y, pred, n), names, name


def _choose(what: str) -> list[str]:
    if what.strip().lower() == "all":
        return list(PICTURES)
    names = [w.strip().lower() for w in what.split(",") if w.strip()]
    for w in names:
        if w not in PICTURES:
            fail(f"--what {w!r} is not a picture; use {', '.join(PICTURES)} or all.")
    return names


def _one(run: str, wanted: list[str], explicit: bool, out: str | None, split: str | None) -> list:
    from ..viz import (
        load_run,
        plot_confusion_matrix,
        plot_decision_boundaries,
        plot_gradient_health,
        plot_run,
    )

    rec = load_run(run)
    if out is not None and len(wanted) != 1:
        fail("--out names one file; pass --what with one picture (e.g. --what curves).")
    written: list[str] = []

    def target(name: str) -> Path:
        return Path(out) if out is not None else rec.path / f"{name}.png"

    def skip(why: str) -> None:
        if explicit:
            fail(why)

    for what in wanted:
        if what == "curves":
            plot_run(rec, target("curves"))
        elif what == "confusion":
            if rec.task != "classification":
                skip(f"{run} is not a classification run; no confusion matrix to draw.")
                continue
            cm, names, split_used = confusion_for(run, split)
            plot_confusion_matrix(
                cm,
                target("confusion"),
                names,
                title=f"{rec.title().split(' · ')[0]} · {split_used} split · "
                f"accuracy {np.trace(cm) / max(cm.sum(), 1):.1%}",
            )
        elif what == "gradients":
            if not (rec.gradient_health and rec.gradient_health.get("steps")):
                skip(f"{run} has no gradient_health.json; train it with this version of gradstep.")
                continue
            plot_gradient_health(rec.gradient_health, target("gradients"), title=rec.title())
        elif what == "boundary":
            bd = rec.boundary
            if bd is None or not len(bd.get("probs", [])):
                skip(
                    f"{run} has no boundary.npz; decision boundaries need a 2-D classification run."
                )
                continue
            names = rec.config.get("meta", {}).get("target_names") or None
            plot_decision_boundaries(bd, bd["x"], bd["y"], target("boundary"), names, rec.title())
        written.append(str(target(what)))
    return written


def run(args: list[str]) -> int:
    opts = _parser().parse_args(args)
    explicit = opts.what.strip().lower() != "all"
    wanted = _choose(opts.what)
    for r in opts.runs:
        if not Path(r).is_dir():
            fail(
                f"{r} is not a run directory; pass folders written by gradstep train (runs/<name>)."
            )
    if len(opts.runs) == 1:
        written = _one(opts.runs[0], wanted, explicit, opts.out, opts.split)
    else:
        if explicit and wanted != ["curves"]:
            fail("several runs are overlaid as curves only; drop --what or pass one run.")
        from ..viz import plot_runs

        out = opts.out or "runs.png"
        plot_runs(opts.runs, out)
        written = [out]
    if opts.json:
        print_json({"files": written})
    else:
        print("wrote " + ", ".join(written), flush=True)
    return 0


__all__ = ["confusion_for", "run"]
