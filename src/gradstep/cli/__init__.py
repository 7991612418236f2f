"""The ``gradstep`` command line: one module per subcommand, errors as one line on stderr.

``main(argv)`` returns the exit status: 0 on success, 2 for a usage or input error (one line
``gradstep: error: ...`` naming the key or file and the fix), 130 when interrupted, 1 for an
unexpected failure. ``--debug`` anywhere on the line shows the traceback instead.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "main"]

COMMANDS = {
    "train": "train a model from a TOML config and flags, into a run directory",
    "evaluate": "metrics (and a confusion matrix) of a trained run on a dataset split",
    "predict": "predictions of a trained run for the rows of a CSV or NPZ file",
    "compare": "train one network from the same start with several optimizers",
    "explain": "backpropagation step by step on a tiny network, checked against the engine",
    "datasets": "list the built-in datasets",
    "paths": "optimizer paths on a 2-D test surface, as a PNG or an animated GIF",
    "plot": "pictures of one run (curves, confusion, gradients) or several runs overlaid",
    "report": "one self-contained HTML page of a run: summary, pictures, configuration",
    "lr-find": "the learning-rate range test for a config: loss against lr, suggested lrs",
}

USAGE = "usage: gradstep [--debug] {" + ",".join(COMMANDS) + "} ...\n"


def _help() -> str:
    lines = [USAGE, "Neural-network training on NumPy.\n", "commands:"]
    lines += [f"  {name:<10} {text}" for name, text in COMMANDS.items()]
    lines += ["", "`gradstep COMMAND --help` describes a command; --debug shows tracebacks.", ""]
    return "\n".join(lines)


def _error(message: str) -> None:
    text = " ".join(str(message).split())
    print(f"gradstep: error: {text}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    from ..config import ConfigError
    from ._common import CLIError

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    if not args:
        sys.stderr.write(_help())
        return 2
    if args[0] in ("-h", "--help"):
        sys.stdout.write(_help())
        return 0
    if args[0] == "--version":
        from .. import __version__

        print(f"gradstep {__version__}")
        return 0
    command = args[0]
    if command not in COMMANDS:
        close = difflib.get_close_matches(command, list(COMMANDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        _error(f"unknown command {command!r}{hint} (commands: {', '.join(COMMANDS)})")
        return 2
    try:
        module = importlib.import_module(f"{__name__}.{command.replace('-', '_')}")
        if debug:
            return int(module.run(args[1:]) or 0)
        from ._common import tidy_warnings

        with tidy_warnings():
            return int(module.run(args[1:]) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print("gradstep: interrupted", file=sys.stderr)
        return 130
    except (CLIError, ConfigError) as err:
        if debug:
            raise
        _error(str(err))
        return 2
    except (ValueError, TypeError, KeyError, OSError, ImportError) as err:
        if debug:
            raise
        if isinstance(err, KeyError) and err.args:
            err = err.args[0]
        if isinstance(err, OSError) and err.filename and err.strerror:
            err = f"{err.filename}: {err.strerror}"
        _error(str(err))
        return 2
    except Exception as err:  # a bug: say so in one line, the traceback is one flag away
        if debug:
            raise
        _error(
            f"{type(err).__name__}: {err} (this looks like a bug; rerun with --debug for the "
            "traceback)"
        )
        return 1
