"""``gradstep.nn.functional``: ``gradstep.functional`` under PyTorch's module name."""

from ..functional import *  # noqa: F403
from ..functional import __all__  # noqa: F401
