"""``python -m gradstep``: the command line (see ``gradstep.cli``)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
