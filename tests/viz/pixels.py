"""Checks that a written picture is a real one: a PNG (or GIF) file that opens, of a sensible
size, whose pixels are not one flat colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def assert_picture(path: str | Path, min_side: int = 100, kind: str = "PNG") -> np.ndarray:
    """Open ``path`` and check it: the format, both sides at least ``min_side`` pixels, and a
    pixel spread (standard deviation of the grey levels) well above a blank page's. Returns the
    RGB pixels."""
    p = Path(path)
    assert p.is_file() and p.stat().st_size > 0, f"{p} was not written"
    with Image.open(p) as im:
        assert im.format == kind, f"{p} is {im.format}, not {kind}"
        rgb = np.asarray(im.convert("RGB"), dtype=np.float64)
    h, w, _ = rgb.shape
    assert h >= min_side and w >= min_side, f"{p} is only {w}x{h} pixels"
    grey = rgb.mean(axis=2)
    assert grey.std() > 5.0, f"{p} looks blank (grey-level std {grey.std():.2f})"
    assert (grey < 128).mean() > 0.002, f"{p} has almost no dark pixels (no lines or text)"
    return rgb
