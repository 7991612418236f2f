"""``gradstep paths [--surface rosenbrock] [--optimizers sgd,momentum,adam] [--gif FILE]``: the
library's own optimizers stepping a 2-element parameter over a 2-D test surface, drawn as
paths over its contours (PNG) or growing step by step (animated GIF)."""

from __future__ import annotations

import difflib
import inspect
import sys
from typing import Any

from ._common import ArgParser, fail, fmt, print_json, print_table


def _parser() -> ArgParser:
    from ..viz.paths import DEFAULT_STEPS, OPTIMIZERS
    from ..viz.surfaces import SURFACES

    p = ArgParser(
        prog="gradstep paths",
        description=__doc__.split(":", 1)[1].strip(),
        epilog=(
            "Any optimizer setting is a flag --NAME.KEY VALUE, e.g. --lr.adam 0.1 (or --adam.lr "
            "0.1), --momentum.momentum 0.95, --adam.betas 0.9,0.99, --nesterov.momentum 0.8; "
            "the optimizers are gs.optim's: sgd = SGD, momentum = SGD(momentum=0.9), nesterov "
            "= SGD(momentum=0.9, nesterov=True), adagrad, rmsprop, adam. Surfaces: "
            + "; ".join(
                f"{s.name} (f = {s.formula}, {DEFAULT_STEPS[s.name]} steps)"
                for s in SURFACES.values()
            )
            + "."
        ),
    )
    p.add_argument("--surface", default="rosenbrock", help="test surface (default: rosenbrock)")
    p.add_argument(
        "--optimizers",
        default=",".join(OPTIMIZERS),
        help=f"comma-separated, from {', '.join(OPTIMIZERS)} (default: all)",
    )
    p.add_argument("--steps", type=int, help="optimizer steps (default: per surface)")
    p.add_argument("--start", metavar="X,Y", help="start point (default: per surface)")
    p.add_argument(
        "--warmup",
        type=int,
        default=0,
        metavar="N",
        help="linear learning-rate warm-up over N steps (warmup_constant)",
    )
    p.add_argument(
        "--warmup-both",
        action="store_true",
        help="draw each optimizer with and without the --warmup",
    )
    p.add_argument("--out", metavar="FILE.png", help="picture (default: paths-SURFACE.png)")
    p.add_argument("--gif", metavar="FILE.gif", help="also write an animated GIF")
    p.add_argument("--frames", type=int, default=60, help="frames of the GIF (default: 60)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON line")
    return p


def _value(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    try:
        if "," in text:
            return tuple(float(t) for t in text.split(",") if t.strip())
        return float(text)
    except ValueError:
        fail(f"{text!r} is not a number, a list of numbers or true/false.")


def _settings(extra: list[str]) -> tuple[dict[str, float], dict[str, dict[str, Any]]]:
    """--lr.NAME VALUE and --NAME.KEY VALUE flags as (learning rates, other settings)."""
    from .. import optim
    from ..viz.paths import OPTIMIZERS

    lrs: dict[str, float] = {}
    hyper: dict[str, dict[str, Any]] = {}
    i = 0
    while i < len(extra):
        tok = extra[i]
        i += 1
        name, eq, text = tok.partition("=")
        if not name.startswith("--") or "." not in name:
            fail(f"unknown argument {tok!r} (see gradstep paths --help)")
        if not eq:
            if i >= len(extra) or extra[i].startswith("--"):
                fail(f"{name} needs a value (e.g. {name} 0.1)")
            text = extra[i]
            i += 1
        left, _, key = name[2:].replace("-", "_").partition(".")
        opt, key = (key, "lr") if left == "lr" else (left, key)
        if opt not in OPTIMIZERS:
            close = difflib.get_close_matches(opt, list(OPTIMIZERS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            fail(f"{name}: unknown optimizer {opt!r}{hint}; use {', '.join(OPTIMIZERS)}.")
        cls = getattr(optim, OPTIMIZERS[opt][0])
        allowed = [p for p in inspect.signature(cls).parameters if p != "params"]
        if key not in allowed:
            fail(
                f"{name}: {cls.__name__} has no setting {key!r}; its settings: "
                f"{', '.join(allowed)}."
            )
        value = _value(text)
        if key == "lr":
            if not isinstance(value, float) or not value > 0:
                fail(f"{name} must be a number > 0, got {text!r}.")
            lrs[opt] = value
        else:
            hyper.setdefault(opt, {})[key] = value
    return lrs, hyper


def run(args: list[str]) -> int:
    from ..viz.paths import DEFAULT_STEPS, OPTIMIZERS, optimizer_paths
    from ..viz.surfaces import SURFACES

    opts, extra = _parser().parse_known_args(args)
    surface = opts.surface.strip().lower()
    if surface not in SURFACES:
        fail(f"--surface {opts.surface!r} is not a test surface; use one of {', '.join(SURFACES)}.")
    names = [n.strip().lower() for n in opts.optimizers.split(",") if n.strip()]
    if not names:
        fail("--optimizers needs at least one name, e.g. --optimizers sgd,adam")
    for n in names:
        if n not in OPTIMIZERS:
            close = difflib.get_close_matches(n, list(OPTIMIZERS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            fail(f"--optimizers: unknown optimizer {n!r}{hint}; use {', '.join(OPTIMIZERS)}.")
    steps = opts.steps if opts.steps is not None else DEFAULT_STEPS[surface]
    if steps < 1 or steps > 100_000:
        fail(f"--steps must be between 1 and 100000, got {steps}.")
    if opts.warmup < 0:
        fail(f"--warmup must be a number of steps >= 0, got {opts.warmup}.")
    if opts.warmup_both and not opts.warmup:
        fail("--warmup-both compares with and without warm-up; also pass --warmup N.")
    if opts.frames < 2 or opts.frames > 1000:
        fail(f"--frames must be between 2 and 1000, got {opts.frames}.")
    start = None
    if opts.start:
        try:
            start = [float(t) for t in opts.start.split(",")]
        except ValueError:
            start = []
        if len(start) != 2:
            fail(f"--start must be two numbers X,Y (e.g. --start -1.5,2), got {opts.start!r}.")
    lrs, hyper = _settings(extra)
    unused = sorted((set(lrs) | set(hyper)) - set(names))
    if unused:
        fail(f"settings for {', '.join(unused)}, which is not in --optimizers; add it there.")
    try:
        paths = optimizer_paths(
            surface,
            names,
            steps=steps,
            lrs=lrs,
            hyper=hyper,
            warmup_steps=opts.warmup,
            both=opts.warmup_both,
            start=start,
        )
    except (TypeError, ValueError) as err:
        fail(f"an optimizer rejected its settings: {err}")
    surf = SURFACES[surface]
    rows, results = [], []
    for p in paths:
        end = p.points[-1]
        dist = float(p.distance_to(surf.minimum)[-1]) if surf.minimum is not None else None
        results.append(
            {
                "optimizer": p.label,
                "settings": p.settings,
                "steps": p.steps,
                "end": [float(end[0]), float(end[1])],
                "f_end": float(p.values[-1]),
                "distance_to_minimum": dist,
                "diverged": p.diverged,
            }
        )
        rows.append(
            [
                p.label,
                fmt(p.settings.get("lr")),
                f"({end[0]:.3g}, {end[1]:.3g})",
                fmt(float(p.values[-1])),
                "—" if dist is None else fmt(dist),
                "diverged" if p.diverged else str(p.steps),
            ]
        )
    out = opts.out or f"paths-{surface}.png"
    from ..viz.paths_plot import animate_paths, plot_paths

    plot_paths(paths, out, surf)
    written = [out]
    if opts.gif:
        animate_paths(paths, opts.gif, surf, frames=opts.frames)
        written.append(opts.gif)
    if opts.json:
        print_json({"surface": surface, "results": results, "files": written})
        return 0
    title = f"{surface}: f = {surf.formula}, start {tuple(paths[0].points[0].tolist())}"
    print_table(
        ["optimizer", "lr", "end (x, y)", "f at end", "distance to minimum", "steps"],
        rows,
        title=title,
    )
    print(f"wrote {', '.join(written)}", file=sys.stdout, flush=True)
    return 0
