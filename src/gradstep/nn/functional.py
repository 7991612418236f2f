"""``gradstep.nn.functional``: the same functions as ``gradstep.functional`` (PyTorch's spelling)."""

from ..functional import *  # noqa: F403
from ..functional import __all__  # noqa: F401
