"""``gradstep lr-find [CONFIG.toml] [--section.key VALUE ...]``: the learning-rate range test for
the run a config describes (same data, model, optimizer and batch size as ``gradstep train``).

It prints the suggested learning rates (heuristics: where the loss falls fastest, and a tenth of
the lr at its lowest) and draws the curve to lr_find.png (``--output``), changing nothing else.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

from .. import config as C
from . import _build as B
from . import _dataset as D
from ._common import fail, print_json, split_flags

USAGE = """\
usage: gradstep lr-find [CONFIG.toml] [--section.key VALUE ...] [--start-lr LR] [--end-lr LR]
                        [--steps N] [--output FILE.png] [--json] [--debug]

The learning-rate range test: train for --steps steps (default 100) while the learning rate grows
from --start-lr (1e-7) to --end-lr (10), on the data, model, optimizer and batch size of the
config (the same settings and flags as `gradstep train`). Prints the suggested learning rates and
draws the curve to --output (default lr_find.png). The suggestions are heuristics: try them as
--optimizer.lr and watch the first epochs.
"""

_OWN = {
    "--start-lr": True,
    "--end-lr": True,
    "--steps": True,
    "--output": True,
    "--json": False,
    "-h": False,
    "--help": False,
}


def _number(options: dict[str, Any], flag: str, default: float, integer: bool = False) -> Any:
    text = options.get(flag)
    if text is None:
        return default
    try:
        return int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        fail(f"{flag} must be {kind}, got {text!r}; e.g. {flag} {default}")


def run(args: list[str]) -> int:
    positionals, flags, options = split_flags(args, _OWN)
    if options.get("-h") or options.get("--help"):
        sys.stdout.write(USAGE)
        return 0
    if len(positionals) > 1:
        fail(f"lr-find takes one config file, got {len(positionals)}: {' '.join(positionals)}")
    start = _number(options, "--start-lr", 1e-7)
    end = _number(options, "--end-lr", 10.0)
    steps = _number(options, "--steps", 100, integer=True)
    if not 0 < start < end:
        fail(f"--start-lr ({start:g}) must be > 0 and below --end-lr ({end:g})")
    if steps < 2:
        fail(f"--steps must be at least 2, got {steps}")
    source = positionals[0] if positionals else None
    cfg, _ = C.resolve(
        C.load_file(source) if source else None, flags, source=source or "the defaults"
    )
    return lr_find(cfg, start, end, steps, options.get("--output") or "lr_find.png", options)


def lr_find(
    cfg: dict[str, Any], start: float, end: float, steps: int, output: str, options: dict
) -> int:
    from ..random import manual_seed

    cfg = copy.deepcopy(cfg)
    manual_seed(max(cfg["train"]["seed"], 0))
    B.apply_threads(cfg)
    data = D.load_data(cfg)
    cfg = B.settle(cfg, data)
    model = B.build_model(B.architecture(cfg, data), cfg["model"]["dtype"])
    trainer = B.trainer_for(cfg, model)
    try:
        result = trainer.lr_find(
            data.train, cfg["data"]["batch_size"], start_lr=start, end_lr=end, num_steps=steps
        )
    except (TypeError, ValueError) as err:
        fail(f"lr-find: {err}")
    summary = {
        "suggestions": result.suggestions,
        "stopped_by": result.stopped_by,
        "steps": len(result.lrs),
        "plot": None,
    }
    try:
        from ..viz.lr_find import plot_lr_find

        plot_lr_find(result, output)
        summary["plot"] = output
    except ImportError as err:
        print(f"note: {output} not drawn ({err})", file=sys.stderr)
    if options.get("--json"):
        print_json(summary)
        return 0
    print(f"{len(result.lrs)} steps from lr {start:g}; stopped: {result.stopped_by}")
    if not result.suggestions:
        print("no suggestion: the curve is too short; raise --steps or lower --start-lr")
    for name, lr in result.suggestions.items():
        print(f"suggested lr ({name}, a heuristic): {lr:.3g}  ->  --optimizer.lr {lr:.3g}")
    if summary["plot"]:
        print(f"curve: {output}")
    return 0
