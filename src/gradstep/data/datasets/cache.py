"""Where generated datasets are cached, and how a cache file is written safely."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["cache_dir", "save_npz_atomic"]


def cache_dir() -> Path:
    """The cache folder, created only when something is written to it.

    $GRADSTEP_CACHE_DIR if set, else $XDG_CACHE_HOME/gradstep, else ~/.cache/gradstep.
    """
    explicit = os.environ.get("GRADSTEP_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "gradstep"


def save_npz_atomic(path: Path, **arrays: np.ndarray) -> None:
    """Write an .npz next to ``path`` and move it into place, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
