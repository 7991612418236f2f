"""``gradstep compare [CONFIG.toml] [--optimizers sgd,adam] [--warmup both] [--target 0.95]``:
one network, the same initial weights and batch order, trained with several optimizers; a table
of the results and all loss curves on one chart (compare.png)."""

from __future__ import annotations

import copy
import csv
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

from .. import config as C
from .. import config_tables as T
from ..plain import to_plain
from . import _build as B
from . import _dataset as D
from ._common import fail, fmt, print_json, print_table, split_flags

_MAXIMISED = ("acc", "r2", "f1", "precision", "recall")


def default_optimizers() -> list[str]:
    """The optimizers compared when no --optimizers list is given (the table's compared column)."""
    return [name for name, e in T.components("optimizer").items() if e.compared]


def usage() -> str:
    """The help text, with the optimizer names and learning rates read from the table."""
    compared = default_optimizers()
    return f"""\
usage: gradstep compare [CONFIG.toml] [--optimizers LIST] [--warmup on|off|both] [--target T]
                        [--lr.NAME LR ...] [--json] [--section.key VALUE ...]

Train the same network from the same initial weights, in the same batch order, once per
optimizer, and compare them: final loss, best validation metric, epochs to reach a target and
seconds, plus compare.png with every loss curve (in output.dir/compare-<time>-<hash>/).

options:
  --optimizers LIST  comma-separated, from {", ".join(C.OPTIMIZERS)}
                     (default: {",".join(compared)})
  --warmup MODE      on: the configured schedule (default); off: no warm-up; both: each
                     optimizer with and without warm-up
  --target T         a value to reach: a number is the validation accuracy (classification) or
                     validation loss (regression); KEY=VALUE names the logged value, e.g.
                     loss=0.05 or val_accuracy=0.97 (default for classification: 0.95)
  --lr.NAME LR       learning rate of one optimizer (defaults: {
        ", ".join(f"{k} {B.DEFAULT_LR[k]:g}" for k in compared)
    })
  --json             print the results as one JSON line at the end
  -h, --help         show this help

Every config key is a flag as in `gradstep train` (see gradstep train --help), e.g.
--train.epochs 10 --data.name iris.
"""


def run(args: list[str]) -> int:
    own = {
        "--optimizers": True,
        "--warmup": True,
        "--target": True,
        "--json": False,
        "-h": False,
        "--help": False,
    }
    positionals, flags, options = split_flags(args, own)
    if options.get("-h") or options.get("--help"):
        sys.stdout.write(usage())
        return 0
    if len(positionals) > 1:
        fail(f"compare takes one config file, got {len(positionals)}: {' '.join(positionals)}")
    lrs: dict[str, float] = {}
    config_flags = []
    for key, text in flags:
        norm = C.normalize_key(key)
        if norm.startswith("lr."):
            name = norm[3:]
            if name not in C.OPTIMIZERS:
                fail(f"--lr.{name}: unknown optimizer; use one of {', '.join(C.OPTIMIZERS)}.")
            try:
                lrs[name] = float(text)
            except ValueError:
                fail(f"--lr.{name} must be a number, got {text!r}.")
            if not lrs[name] > 0:
                fail(f"--lr.{name} must be > 0, got {text}.")
        else:
            config_flags.append((key, text))
    optimizers = _optimizers(options.get("--optimizers"))
    warmup = (options.get("--warmup") or "on").lower()
    if warmup not in ("on", "off", "both"):
        fail(f"--warmup must be on, off or both, got {warmup!r}.")
    source = positionals[0] if positionals else None
    raw = C.load_file(source) if source else None
    cfg, explicit = C.resolve(raw, config_flags, source=source or "the defaults", strict=False)
    return compare(
        cfg, explicit, optimizers, warmup, lrs, options.get("--target"), bool(options.get("--json"))
    )


def _optimizers(text: str | None) -> list[str]:
    if text is None:
        return default_optimizers()
    names = [C.normalize_key(t) for t in text.split(",") if t.strip()]
    if not names:
        fail("--optimizers needs at least one name, e.g. --optimizers sgd,adam")
    for n in names:
        if n not in C.OPTIMIZERS:
            import difflib

            close = difflib.get_close_matches(n, C.OPTIMIZERS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            fail(f"--optimizers: unknown optimizer {n!r}{hint}; use {', '.join(C.OPTIMIZERS)}.")
    return names


def _target(text: str | None, task: str, metrics: list[str]) -> tuple[str, float] | None:
    if text is None:
        return (f"val_{metrics[0]}", 0.95) if task == "classification" and metrics else None
    key, eq, value = text.partition("=")
    if not eq:
        key, value = ("val_" + metrics[0]) if task == "classification" else "val_loss", text
    try:
        number = float(value)
    except ValueError:
        fail(f"--target must be a number or KEY=VALUE (e.g. loss=0.05), got {text!r}.")
    return key.strip(), number


def _reached(history: dict[str, list[float]], target: tuple[str, float] | None) -> int | None:
    if target is None:
        return None
    key, value = target
    values = history.get(key)
    if values is None:
        fail(f"--target {key}: this run does not log {key!r}; logged: {', '.join(history)}.")
    bigger = any(k in key.removeprefix("val_") for k in _MAXIMISED)
    for epoch, v in enumerate(values, start=1):
        if (v >= value) if bigger else (v <= value):
            return epoch
    return None


def _variants(cfg: dict[str, Any], warmup: str) -> list[tuple[str, dict[str, Any]]]:
    has_warmup = "warmup_steps" in T.component(cfg, "schedule").parameters()

    def with_warmup(on: bool) -> dict[str, Any]:
        c = copy.deepcopy(cfg)
        if on and not has_warmup:
            c["schedule"]["name"] = "warmup_constant"
        if not on and has_warmup:
            c["schedule"]["warmup_steps"] = 0
        return c

    if warmup == "both":
        return [(" + warm-up", with_warmup(True)), ("", with_warmup(False))]
    if warmup == "off":
        return [("", with_warmup(False))]
    return [("", copy.deepcopy(cfg))]


def compare(
    cfg: dict[str, Any],
    explicit: set[str],
    optimizers: list[str],
    warmup: str,
    lrs: dict[str, float],
    target_text: str | None,
    as_json: bool,
) -> int:
    """Train one run per optimizer (and warm-up variant) from the same start; report them."""
    from ..random import manual_seed
    from .train import _new_run_dir

    cfg = copy.deepcopy(cfg)
    if cfg["train"]["seed"] == -1:
        import secrets

        cfg["train"]["seed"] = secrets.randbelow(2**31 - 1)
    seed = cfg["train"]["seed"]
    manual_seed(seed)
    B.apply_threads(cfg)
    data = D.load_data(cfg)
    probe = B.settle(cfg, data)
    layers = B.architecture(probe, data)
    start_model = B.build_model(layers, cfg["model"]["dtype"])
    start = {k: v.copy() for k, v in start_model.state_dict().items()}
    target = _target(target_text, data.task, probe["train"]["metrics"])
    metric = probe["train"]["metrics"][0] if probe["train"]["metrics"] else None
    verbose = cfg["train"]["verbose"]

    results: list[dict[str, Any]] = []
    histories: dict[str, dict[str, list[float]]] = {}
    for name, (suffix, variant) in itertools.product(optimizers, _variants(cfg, warmup)):
        c = copy.deepcopy(variant)
        c["optimizer"]["name"] = name
        for key in C.component_keys("optimizer"):  # each optimizer's own "auto" values
            if key.default == C.AUTO and key.path not in explicit:
                c["optimizer"][key.name] = C.AUTO
        if name in lrs:
            c["optimizer"]["lr"] = lrs[name]
        c = B.settle(c, data)
        model = B.build_model(layers, c["model"]["dtype"])
        model.load_state_dict(start)
        manual_seed(seed)  # the same batch order and dropout draws for every optimizer
        trainer = B.trainer_for(c, model)
        label = name + suffix
        t0 = time.perf_counter()
        history = trainer.fit(
            data.train,
            epochs=c["train"]["epochs"],
            batch_size=c["data"]["batch_size"],
            val=data.val,
            stop=B.build_stops(c),
            verbose=0,
            shuffle=c["data"]["shuffle"],
        )
        seconds = time.perf_counter() - t0
        h = history.history
        row = {
            "optimizer": label,
            "lr": c["optimizer"]["lr"],
            "final_loss": h["loss"][-1],
            "final_val_loss": h["val_loss"][-1] if h.get("val_loss") else None,
            "epochs": len(h["loss"]),
            "seconds": round(seconds, 3),
        }
        if metric is not None and h.get(f"val_{metric}"):
            vals = h[f"val_{metric}"]
            bigger = any(k in metric for k in _MAXIMISED)
            row[f"best_val_{metric}"] = max(vals) if bigger else min(vals)
        if target is not None:
            row["epochs_to_target"] = _reached(h, target)
        if trainer.stop_reason:
            row["stop_reason"] = trainer.stop_reason
        results.append(row)
        histories[label] = {k: list(v) for k, v in h.items()}
        if verbose:
            print(
                f"{label:<22} lr {row['lr']:<8g} final loss {fmt(row['final_loss'])}"
                f"  ({row['epochs']} epochs, {seconds:.1f} s)",
                flush=True,
            )

    out_cfg = copy.deepcopy(cfg)
    out_cfg["output"]["name"] = cfg["output"]["name"] or (
        f"compare-{time.strftime('%Y%m%d-%H%M%S')}-{C.config_hash(cfg)}"
    )
    out_dir = _new_run_dir(out_cfg)
    _write(out_dir, results, histories, cfg, data, target, optimizers, warmup)
    headers = ["optimizer", "lr", "final loss"]
    keys = ["optimizer", "lr", "final_loss"]
    if data.val is not None:
        headers.append("final val loss")
        keys.append("final_val_loss")
    if metric is not None and data.val is not None:
        headers.append(f"best val {metric}")
        keys.append(f"best_val_{metric}")
    if target is not None:
        op = ">=" if any(k in target[0] for k in _MAXIMISED) else "<="
        headers.append(f"epochs to {target[0]} {op} {target[1]:g}")
        keys.append("epochs_to_target")
    headers.append("seconds")
    keys.append("seconds")
    rows = [[_cell(r.get(k), k) for k in keys] for r in results]
    title = (
        f"{data.name}: {len(results)} runs of {cfg['train']['epochs']} epochs from the same "
        f"initial weights (seed {seed})"
    )
    print_table(headers, rows, title=title)
    chart = out_dir / "compare.png"
    if cfg["output"]["plot"]:
        try:
            from ..viz.curves import plot_compare

            plot_compare(histories, chart, title=f"{data.name}: loss per optimizer")
        except ImportError as err:
            print(f"note: compare.png not drawn ({err})", file=sys.stderr)
    print(f"results in {out_dir}", flush=True)
    if as_json:
        print_json(
            {"dir": str(out_dir), "dataset": data.name, "target": target, "results": results}
        )
    return 0


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "—" if key != "epochs_to_target" else "not reached"
    if key == "lr":
        return f"{value:g}"
    if key == "seconds":
        return f"{value:.2f}"
    return fmt(value)


def _write(
    out_dir: Path,
    results: list[dict[str, Any]],
    histories: dict[str, Any],
    cfg: dict[str, Any],
    data: Any,
    target: Any,
    optimizers: list[str],
    warmup: str,
) -> None:
    (out_dir / "config.toml").write_text(
        C.dumps(
            cfg,
            {
                "note": "settings shared by every optimizer of gradstep compare",
                "optimizers": optimizers,
                "warmup": warmup,
            },
        )
    )
    summary = {
        "dataset": data.name,
        "target": list(target) if target else None,
        "results": results,
        "histories": histories,
    }
    (out_dir / "compare.json").write_text(json.dumps(to_plain(summary), indent=2) + "\n")
    with open(out_dir / "compare.csv", "w", newline="") as f:
        w = csv.writer(f)
        keys = sorted({k for h in histories.values() for k in h})
        w.writerow(["optimizer", "epoch", *keys])
        for label, h in histories.items():
            for e in range(len(h.get("loss", []))):
                w.writerow([label, e, *(h[k][e] if e < len(h.get(k, [])) else "" for k in keys)])
