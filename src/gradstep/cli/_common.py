"""What every subcommand shares: the usage error, argument parsing, tables, finding a run."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from ..config import ConfigError
from ..plain import to_plain


class CLIError(Exception):
    """A usage error: printed as one ``gradstep: error: ...`` line, exit status 2."""


def fail(message: str) -> NoReturn:
    raise CLIError(message)


class ArgParser(argparse.ArgumentParser):
    """argparse that reports a bad argument as a CLIError (one line, exit 2) instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{message} (see {self.prog} --help)")


def is_terminal(stream: TextIO | None = None) -> bool:
    out = stream if stream is not None else sys.stdout
    return bool(getattr(out, "isatty", lambda: False)())


def fmt(value: Any, digits: int = 4) -> str:
    """A number for a table: ints as they are, floats to ``digits`` significant places."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}f}"
    return str(value)


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    title: str | None = None,
    stream: TextIO | None = None,
    right: Sequence[bool] | None = None,
) -> None:
    """A table: drawn with rich on a terminal, plain aligned columns otherwise (pipes, files)."""
    out = stream if stream is not None else sys.stdout
    cells = [[c if isinstance(c, str) else fmt(c) for c in row] for row in rows]
    if right is None:
        right = [i > 0 for i in range(len(headers))]
    if is_terminal(out):
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, title_justify="left", header_style="bold")
        for h, r in zip(headers, right):
            table.add_column(h, justify="right" if r else "left")
        for row in cells:
            table.add_row(*row)
        Console(file=out).print(table)
        return
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right)]
        return "  ".join(parts).rstrip()

    if title:
        print(title, file=out)
    print(line(headers), file=out)
    for row in cells:
        print(line(row), file=out)


def print_json(obj: Any) -> None:
    """One line of JSON on standard output (non-finite floats as strings)."""
    print(json.dumps(to_plain(obj), separators=(", ", ": ")), flush=True)


def split_flags(
    args: Sequence[str], own: dict[str, bool]
) -> tuple[list[str], list[tuple[str, str]], dict[str, Any]]:
    """Split a command line into positionals, dotted config flags ((key, text) pairs) and the
    command's own options (``own`` maps each option to whether it takes a value)."""
    positionals: list[str] = []
    flags: list[tuple[str, str]] = []
    options: dict[str, Any] = {}
    i = 0
    args = list(args)
    while i < len(args):
        tok = args[i]
        i += 1
        if tok == "--":
            positionals.extend(args[i:])
            break
        if not tok.startswith("-") or tok == "-":
            positionals.append(tok)
            continue
        name, eq, value = tok.partition("=")
        if name in own:
            if own[name]:
                if not eq:
                    if i >= len(args):
                        fail(f"{name} needs a value")
                    value = args[i]
                    i += 1
                options[name] = value
            else:
                if eq:
                    fail(f"{name} takes no value")
                options[name] = True
            continue
        if name.startswith("--") and "." in name:
            if not eq:
                from ..config import SCHEMA, normalize_key

                key = SCHEMA.get(normalize_key(name[2:]))
                nxt = args[i] if i < len(args) else None
                takes_bare = key is not None and key.kind == "bool"
                if takes_bare and (nxt is None or nxt.startswith("--")):
                    value = "true"
                elif nxt is None or nxt.startswith("--"):
                    fail(f"{name} needs a value (e.g. {name} VALUE or {name}=VALUE)")
                else:
                    value = nxt
                    i += 1
            flags.append((name[2:], value))
            continue
        from ..config import suggest_key

        guess = suggest_key(name.lstrip("-").replace("-", "_"))
        own_close = [o for o in own if o.lstrip("-").startswith(name.lstrip("-")[:3])]
        hint = f"; did you mean --{guess}?" if guess else ""
        if own_close and not guess:
            hint = f"; did you mean {own_close[0]}?"
        fail(f"unknown option {name}{hint}")
    return positionals, flags, options


# -- runs and checkpoints ------------------------------------------------------------------------


def find_model_files(target: str) -> tuple[Path, Path | None]:
    """From a run directory, a checkpoint file or a config.toml: (weights file, config.toml or
    None). A checkpoint inside a run directory finds the config.toml beside it."""
    path = Path(target)
    if not path.exists():
        fail(
            f"{target} does not exist; pass a run directory (runs/<name>), a .safetensors "
            "checkpoint or a run's config.toml."
        )
    if path.is_dir():
        config = path / "config.toml"
        for name in ("model.safetensors", "best.safetensors", "state.safetensors"):
            if (path / name).is_file():
                return path / name, config if config.is_file() else None
        fail(f"{target} holds no model.safetensors; pass a finished run or a checkpoint file.")
    if path.suffix == ".toml":
        weights = path.parent / "model.safetensors"
        if not weights.is_file():
            fail(f"{weights} does not exist; train the run first or pass a checkpoint file.")
        return weights, path
    if path.suffix != ".safetensors":
        fail(f"{target} is not a run directory, a .safetensors checkpoint or a config.toml.")
    config = path.parent / "config.toml"
    return path, config if config.is_file() else None


def load_run_config(config_path: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings and the [meta] table of a run's config.toml."""
    from ..config import load_file, resolve

    if config_path is None:
        return resolve()[0], {}
    raw = load_file(config_path)
    meta = raw.get("meta", {}) if isinstance(raw.get("meta"), dict) else {}
    cfg, _ = resolve(raw, source=str(config_path), strict=False)
    return cfg, meta


_GLYPH = re.compile(r"Glyph (\d+) \(.*\) missing from font")


@contextlib.contextmanager
def tidy_warnings(stream: TextIO | None = None) -> Iterator[None]:
    """Run a command without the warnings that are noise on a terminal: NumPy's floating-point
    RuntimeWarnings (a diverging run is reported by the trainer's own check) are not shown, and
    matplotlib's "Glyph ... missing from font" warnings become one note naming the characters.
    Every other warning is shown as usual."""
    import numpy as np

    missing: list[str] = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.filterwarnings("ignore", r".* encountered in ", RuntimeWarning)
        shown = warnings.showwarning

        def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
            found = _GLYPH.search(str(message))
            if found:
                char = chr(int(found[1])) if int(found[1]) < 0x110000 else "?"
                if char not in missing:
                    missing.append(char)
                return
            shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        warnings.filterwarnings("always", r"Glyph \d+ .* missing from font")
        try:
            yield
        finally:
            if missing:
                chars = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
                print(
                    f"gradstep: note: the plotting font has no glyph for {chars}; those "
                    "characters show as boxes in the pictures.",
                    file=stream if stream is not None else sys.stderr,
                    flush=True,
                )


def require_file(path: str, what: str) -> str:
    if not os.path.exists(path):
        fail(f"{what} {path} does not exist; check the path.")
    if os.path.isdir(path):
        fail(f"{what} {path} is a folder; pass a file.")
    return path


__all__ = [
    "ArgParser",
    "CLIError",
    "ConfigError",
    "fail",
    "find_model_files",
    "fmt",
    "is_terminal",
    "load_run_config",
    "print_json",
    "print_table",
    "require_file",
    "split_flags",
    "tidy_warnings",
]
