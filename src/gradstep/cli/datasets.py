"""``gradstep datasets [NAME]``: the built-in datasets with their sizes and tasks; with a name,
that dataset's description and options."""

from __future__ import annotations

import inspect

from ._common import ArgParser, fail, print_json, print_table


def _parser() -> ArgParser:
    p = ArgParser(prog="gradstep datasets", description=__doc__.split(":", 1)[1].strip())
    p.add_argument("name", nargs="?", help="show one dataset's description and options")
    p.add_argument("--json", action="store_true", help="print the list as one JSON line")
    return p


def run(args: list[str]) -> int:
    opts = _parser().parse_args(args)
    from ..data import datasets
    from ..data.datasets.registry import get_spec

    if opts.name:
        try:
            spec = get_spec(opts.name)
        except ValueError as err:
            fail(str(err))
        info = spec.info
        params = inspect.signature(spec.builder).parameters
        options = {n: params[n].default for n in spec.options() if n != "standardize"}
        if opts.json:
            print_json({**info._asdict(), "options": {k: repr(v) for k, v in options.items()}})
            return 0
        classes = f", {info.n_classes} classes" if info.n_classes else ""
        print(
            f"{info.name}: {info.task}, {info.n_samples} samples, {info.n_features} "
            f"features{classes}"
        )
        print(info.description)
        doc = inspect.getdoc(spec.builder)
        if doc:
            print()
            print(doc)
        if options:
            print()
            print_table(
                ["option (--data.options.NAME)", "default"],
                [[k, repr(v)] for k, v in options.items()],
            )
        return 0
    rows = datasets.info()
    if opts.json:
        print_json([r._asdict() for r in rows])
        return 0
    print_table(
        ["name", "task", "samples", "features", "classes", "description"],
        [
            [
                r.name,
                r.task,
                r.n_samples,
                r.n_features,
                r.n_classes if r.n_classes else "—",
                r.description,
            ]
            for r in rows
        ],
        title="built-in datasets (train on one: --data.name NAME; details: gradstep datasets NAME)",
        right=[False, False, True, True, True, False],
    )
    return 0
