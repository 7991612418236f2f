"""Augmentation: torchvision-style transforms on NumPy arrays, vectorised over a batch.

A transform maps one sample (an image (C, H, W) or (H, W), a signal (C, L)) to a new one,
``t(x)``, and a batch (N, *sample) to a batch, ``t.batch(x, rng)``, with independent random
draws per sample in one vectorised pass. Random numbers come from ``rng`` (a NumPy Generator):
a :class:`~gradstep.data.TransformedDataset` gets one from its DataLoader before every batch,
seeded by the loader's seed, the epoch and the batch index, so a rerun (or a resumed run)
sees the same augmented batches. Called without one, a transform draws from gradstep's global
generator (``gs.manual_seed``), as torchvision's draw from torch's.

>>> augment = Compose([RandomShift(1), GaussianNoise(sigma=0.05)])
>>> train = TransformedDataset(TensorDataset(x, y), augment)
>>> loader = DataLoader(train, batch_size=32, shuffle=True, seed=0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "Compose",
    "GaussianNoise",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomShift",
    "Transform",
    "apply_batch",
    "apply_sample",
    "crop",
    "hflip",
    "shift",
]

_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _global_rng() -> np.random.Generator:
    """A generator drawn from gradstep's global one, so ``gs.manual_seed`` fixes its stream."""
    from ..random import get_generator

    return np.random.default_rng(int(get_generator().integers(2**63)))


def _as_array(x: Any) -> np.ndarray:
    data = getattr(x, "data", None)
    return data if isinstance(data, np.ndarray) and hasattr(x, "numpy") else np.asarray(x)


class Transform:
    """Base class: subclasses implement :meth:`batch`; calling the transform on one sample runs
    it on a batch of one."""

    def __call__(self, x: Any, rng: np.random.Generator | None = None) -> np.ndarray:
        """The transformed sample ``x`` (a new array; ``x`` is left as it is)."""
        return self.batch(_as_array(x)[None], rng)[0]

    def batch(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """The transformed batch ``x`` (N, *sample): each sample gets its own random draw."""
        raise NotImplementedError(f"{type(self).__name__} must implement batch(x, rng).")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


def apply_sample(transform: Callable[..., Any], x: Any, rng: np.random.Generator | None) -> Any:
    """``transform`` on one sample: a :class:`Transform` with ``rng``, any other callable as
    it is (it brings its own randomness)."""
    if isinstance(transform, Transform):
        return transform(x, rng)
    return transform(x)


def apply_batch(
    transform: Callable[..., Any], x: np.ndarray, rng: np.random.Generator | None
) -> np.ndarray:
    """``transform`` on a batch: one vectorised call where it has ``batch``, else sample by
    sample (a plain callable)."""
    if isinstance(transform, Transform):
        return transform.batch(x, rng)
    return np.stack([np.asarray(transform(s)) for s in x])


class Compose(Transform):
    """Apply ``transforms`` one after another (torchvision's Compose); plain callables may
    be among them (they are applied sample by sample)."""

    def __init__(self, transforms: Sequence[Callable[..., Any]]) -> None:
        items = list(transforms)
        for t in items:
            if not callable(t):
                raise TypeError(f"Compose takes callables (transforms), got {t!r}.")
        self.transforms = items

    def __call__(self, x: Any, rng: np.random.Generator | None = None) -> np.ndarray:
        rng = rng if rng is not None else _global_rng()
        for t in self.transforms:
            x = apply_sample(t, x, rng)
        return x

    def batch(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        rng = rng if rng is not None else _global_rng()
        for t in self.transforms:
            x = apply_batch(t, x, rng)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


# -- deterministic operations (torchvision.transforms.functional's) ------------------------------


def _pairs(padding: Any, dims: int) -> list[tuple[int, int]]:
    """torchvision's padding forms as (before, after) per spatial dim, outermost first: an int
    pads every side; for images (left/right, top/bottom) or (left, top, right, bottom)."""
    p = [padding] if isinstance(padding, int) else list(padding)
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in p):
        raise ValueError(f"padding must be non-negative ints, got {padding!r}.")
    if len(p) == 1:
        return [(p[0], p[0])] * dims
    if dims == 1 and len(p) == 2:
        return [(p[0], p[1])]
    if dims == 2 and len(p) == 2:
        return [(p[1], p[1]), (p[0], p[0])]
    if dims == 2 and len(p) == 4:
        left, top, right, bottom = p
        return [(top, bottom), (left, right)]
    raise ValueError(
        f"padding must be an int, (left/right, top/bottom) or (left, top, right, bottom) for "
        f"images, (left, right) for signals, got {padding!r}."
    )


def _pad(x: np.ndarray, pairs: list[tuple[int, int]], fill: float, mode: str) -> np.ndarray:
    """Pad the last ``len(pairs)`` dims of ``x``."""
    if mode not in _PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {', '.join(_PADDING_MODES)}, got {mode!r}.")
    width = [(0, 0)] * (x.ndim - len(pairs)) + pairs
    if mode == "constant":
        return np.pad(x, width, mode="constant", constant_values=np.asarray(fill, x.dtype))
    return np.pad(x, width, mode=mode)


def _windows(padded: np.ndarray, starts: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """From a batch ``padded`` (N, *lead, *spatial) the window of ``size`` starting at
    ``starts[n]`` (N, dims) in sample n: one gather through a strided view, no loop."""
    dims = len(size)
    n = padded.shape[0]
    lead = padded.shape[1 : padded.ndim - dims]
    flat = padded.reshape(n, -1, *padded.shape[padded.ndim - dims :])
    view = sliding_window_view(flat, tuple(size), axis=tuple(range(2, 2 + dims)))
    picked = view[(np.arange(n), slice(None), *(starts[:, d] for d in range(dims)))]
    return np.ascontiguousarray(picked).reshape(n, *lead, *size)


def shift(x: Any, offset: Sequence[int], fill: float = 0.0) -> np.ndarray:
    """``x`` (one sample) moved by ``offset`` along its last ``len(offset)`` dims: out[i] =
    x[i − offset] where that lies inside, ``fill`` elsewhere (offset (1, -2) moves an image one
    row down and two columns left)."""
    x = _as_array(x)
    offset = [int(o) for o in offset]
    return _shifted(x[None], np.asarray([offset]), fill)[0]


def _shifted(x: np.ndarray, offsets: np.ndarray, fill: float) -> np.ndarray:
    dims = offsets.shape[1]
    reach = [int(np.abs(offsets[:, d]).max(initial=0)) for d in range(dims)]
    padded = _pad(x, [(r, r) for r in reach], fill, "constant")
    starts = np.asarray(reach)[None, :] - offsets
    return _windows(padded, starts, x.shape[x.ndim - dims :])


def crop(x: Any, top: int, left: int, height: int, width: int) -> np.ndarray:
    """The window of ``x[..., top:top+height, left:left+width]`` (torchvision's crop, for
    windows inside the image)."""
    x = _as_array(x)
    return x[..., top : top + height, left : left + width].copy()


def hflip(x: Any) -> np.ndarray:
    """``x`` mirrored left to right: the last dim reversed (torchvision's hflip)."""
    return _as_array(x)[..., ::-1].copy()


# -- random transforms -----------------------------------------------------------------------------


def _check_rank(x: np.ndarray, dims: int, name: str) -> None:
    if x.ndim < dims + 1:
        want = "(N, L)" if dims == 1 else "(N, H, W)"
        raise ValueError(
            f"{name} needs a batch of at least {want} ({dims} spatial dims), got shape "
            f"{x.shape}; pass (C, H, W) images or (C, L) signals with dims set to match."
        )


class RandomShift(Transform):
    """Move each sample by a random whole number of positions, up to ``max_shift`` along each
    of its last ``dims`` dims (2: images [..., H, W], 1: signals [..., L]), filling what is
    uncovered with ``fill``. The offsets are drawn uniformly from −max_shift..max_shift, per
    sample and dim (``rng.integers(-m, m + 1, size=(N, dims))``). The same as torchvision's
    ``RandomCrop(size=(H, W), padding=max_shift, fill=fill)``: a shift of d is the crop
    starting at max_shift − d.

    >>> RandomShift(2)(np.ones((1, 8, 8))).shape
    (1, 8, 8)
    """

    def __init__(self, max_shift: int | Sequence[int], dims: int = 2, fill: float = 0.0) -> None:
        if dims not in (1, 2):
            raise ValueError(f"dims must be 1 (signals) or 2 (images), got {dims!r}.")
        shifts = [max_shift] * dims if isinstance(max_shift, int) else list(max_shift)
        if len(shifts) != dims or any(
            not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in shifts
        ):
            raise ValueError(
                f"max_shift must be a non-negative int or {dims} of them, got {max_shift!r}."
            )
        self.max_shift = max_shift
        self.dims = dims
        self.fill = fill
        self._shifts = np.asarray(shifts)

    def batch(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        x = _as_array(x)
        _check_rank(x, self.dims, "RandomShift")
        rng = rng if rng is not None else _global_rng()
        offsets = rng.integers(-self._shifts, self._shifts + 1, size=(x.shape[0], self.dims))
        return _shifted(x, offsets, self.fill)


class RandomCrop(Transform):
    """torchvision's RandomCrop on the last two dims [..., H, W]: pad by ``padding`` (an int,
    (left/right, top/bottom) or (left, top, right, bottom)) with ``padding_mode`` "constant"
    (``fill``), "edge", "reflect" or "symmetric"; with ``pad_if_needed`` pad a side shorter
    than ``size`` (int or (h, w)) on both ends by the shortfall; then cut a window of ``size``
    at a top-left corner drawn uniformly, per sample, from 0..H−h and 0..W−w.

    >>> RandomCrop(28, padding=4)(np.ones((1, 28, 28))).shape
    (1, 28, 28)
    """

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float = 0.0,
        padding_mode: str = "constant",
    ) -> None:
        sizes = [size, size] if isinstance(size, int) else list(size)
        if len(sizes) == 1:
            sizes *= 2
        if len(sizes) != 2 or any(not isinstance(s, int) or s < 1 for s in sizes):
            raise ValueError(f"size must be a positive int or (h, w), got {size!r}.")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {', '.join(_PADDING_MODES)}, got {padding_mode!r}."
            )
        self.size = size
        self.padding = padding
        self.pad_if_needed = bool(pad_if_needed)
        self.fill = fill
        self.padding_mode = padding_mode
        self._size = tuple(sizes)
        self._pairs = _pairs(padding, 2) if padding is not None else None

    def batch(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        x = _as_array(x)
        _check_rank(x, 2, "RandomCrop")
        if self._pairs is not None:
            x = _pad(x, self._pairs, self.fill, self.padding_mode)
        th, tw = self._size
        if self.pad_if_needed:
            grow = [(max(0, t - n),) * 2 for t, n in zip((th, tw), x.shape[-2:])]
            if any(g[0] for g in grow):
                x = _pad(x, grow, self.fill, self.padding_mode)
        h, w = x.shape[-2:]
        if th > h or tw > w:
            raise ValueError(
                f"RandomCrop size {(th, tw)} is larger than the (padded) input {(h, w)}; use a "
                "smaller size, more padding or pad_if_needed=True."
            )
        rng = rng if rng is not None else _global_rng()
        n = x.shape[0]
        starts = np.stack(
            [rng.integers(0, h - th + 1, size=n), rng.integers(0, w - tw + 1, size=n)], axis=1
        )
        return _windows(x, starts, (th, tw))


class RandomHorizontalFlip(Transform):
    """Mirror each sample left to right (its last dim reversed) with probability ``p``, drawn
    per sample (torchvision's RandomHorizontalFlip)."""

    def __init__(self, p: float = 0.5) -> None:
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p!r}.")
        self.p = p

    def batch(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        x = _as_array(x)
        rng = rng if rng is not None else _global_rng()
        flip = rng.random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = x[flip][..., ::-1]
        return out


class GaussianNoise(Transform):
    """Add noise drawn from N(mean, sigma²) to every value (torchvision's v2 GaussianNoise).
    ``clip=True`` then clips to [0, 1], as torchvision does by default for images in [0, 1];
    here the default is False, since gradstep's inputs are usually standardised (mean 0, std
    1), which clipping would ruin. Float inputs keep their dtype."""

    def __init__(self, mean: float = 0.0, sigma: float = 0.1, clip: bool = False) -> None:
        if not sigma >= 0:
            raise ValueError(f"sigma must be >= 0, got {sigma!r}.")
        self.mean = mean
        self.sigma = sigma
        self.clip = bool(clip)

    def batch(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        x = _as_array(x)
        if x.dtype.kind != "f":
            raise TypeError(
                f"GaussianNoise needs floating inputs, got {x.dtype}; convert with "
                "x.astype(np.float32)."
            )
        rng = rng if rng is not None else _global_rng()
        noise = rng.normal(self.mean, self.sigma, size=x.shape).astype(x.dtype, copy=False)
        out = x + noise
        return np.clip(out, 0.0, 1.0, out=out) if self.clip else out
