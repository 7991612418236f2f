"""The `gradstep` command's entry point, outside the package: importing the library takes a
moment (NumPy, SciPy), and Ctrl-C during that should end the command with one line, as it does
once the command runs, instead of a traceback from inside an import."""

from __future__ import annotations

import sys


def main() -> int:
    """Import the command line and run it; 130 on Ctrl-C during the import."""
    try:
        from gradstep.cli import main as cli_main
    except KeyboardInterrupt:
        print("gradstep: interrupted", file=sys.stderr, flush=True)
        return 130
    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
