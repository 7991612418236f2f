"""``gradstep report RUN [--out FILE.html]``: one self-contained HTML page of a run — config,
summary, curves, confusion matrix, gradient health and decision boundaries, pictures embedded —
that opens without a network and can be attached to a question or a lab report."""

from __future__ import annotations

from pathlib import Path

from ._common import ArgParser, fail, print_json


def _parser() -> ArgParser:
    p = ArgParser(prog="gradstep report", description=__doc__.split(":", 1)[1].strip())
    p.add_argument("run", metavar="RUN", help="a run directory (runs/<name>)")
    p.add_argument("--out", metavar="FILE.html", help="where to write (default: RUN/report.html)")
    p.add_argument(
        "--split",
        choices=("train", "val", "test"),
        help="split for the confusion matrix (default: test, else val)",
    )
    p.add_argument("--json", action="store_true", help="print the file written as JSON")
    return p


def run(args: list[str]) -> int:
    from ..viz.report import run_report
    from ..viz.run_files import load_run
    from .plot import confusion_for

    opts = _parser().parse_args(args)
    if not Path(opts.run).is_dir():
        fail(f"{opts.run} is not a run directory; pass a folder written by gradstep train.")
    rec = load_run(opts.run)
    cm, names, split = None, None, opts.split or "test"
    if rec.task == "classification" and (Path(opts.run) / "model.safetensors").is_file():
        cm, names, split = confusion_for(opts.run, opts.split)
    elif names is None:
        names = rec.config.get("meta", {}).get("target_names") or None
    out = run_report(rec, opts.out, confusion=cm, class_names=names, confusion_split=split)
    if opts.json:
        print_json({"file": str(out)})
    else:
        print(f"wrote {out}", flush=True)
    return 0
