"""2-D synthetic classification sets drawn with NumPy: interleaved spirals and two moons."""

from __future__ import annotations

import numpy as np

from .bundle import Bundle, build_bundle
from .classic import _check_count, _check_noise
from .registry import register

__all__ = ["moons", "spirals"]


def _per_class(n: int, k: int) -> np.ndarray:
    """Class label of each of ``n`` samples, as even as possible across ``k`` classes."""
    return np.sort(np.arange(n) % k)


@register(
    "spirals",
    task="classification",
    n_samples=300,
    n_features=2,
    n_classes=2,
    description="Interleaved spiral arms in 2-D, one per class (n_classes option).",
)
def spirals(
    seed: int = 0,
    n_samples: int = 300,
    n_classes: int = 2,
    noise: float = 0.05,
    turns: float = 1.5,
    standardize: bool = True,
) -> Bundle:
    """``n_classes`` spiral arms of ``turns`` turns from radius 0.05 to 1, arms evenly rotated.

    Each point is r·(cos θ, sin θ) with θ = 2π·(turns·r + class/n_classes), plus Gaussian
    ``noise`` on both coordinates.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
    if not isinstance(turns, (int, float)) or turns <= 0:
        raise ValueError(f"turns must be a positive number, got {turns!r}.")
    k = int(n_classes)
    n = _check_count(n_samples, 10 * k)
    sigma = _check_noise(noise)
    rng = np.random.default_rng([seed, 1])
    y = _per_class(n, k)
    counts = np.bincount(y, minlength=k)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = (np.arange(n) - starts[y]) / np.maximum(counts[y] - 1, 1)
    radius = 0.05 + 0.95 * position
    theta = 2 * np.pi * (turns * radius + y / k)
    x = radius[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    x = x + rng.normal(scale=sigma, size=x.shape)
    return build_bundle(
        "spirals",
        x,
        y,
        task="classification",
        seed=seed,
        standardize=standardize,
        feature_names=["x1", "x2"],
        target_names=[str(c) for c in range(k)],
        description=f"{k} interleaved spirals ({turns:g} turns), {n} points, noise {sigma:g}.",
    )


@register(
    "moons",
    task="classification",
    n_samples=300,
    n_features=2,
    n_classes=2,
    description="Two interleaving half circles in 2-D.",
)
def moons(
    seed: int = 0, n_samples: int = 300, noise: float = 0.1, standardize: bool = True
) -> Bundle:
    """Two interleaving half circles: class 0 on (cos t, sin t), class 1 on (1 − cos t, ½ − sin t),
    t evenly spaced in [0, π], plus Gaussian ``noise`` on both coordinates.
    """
    n = _check_count(n_samples, 20)
    sigma = _check_noise(noise)
    rng = np.random.default_rng([seed, 1])
    n_outer = n // 2 + n % 2
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n - n_outer)
    outer = np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1)
    inner = np.stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1)
    x = np.concatenate([outer, inner]) + rng.normal(scale=sigma, size=(n, 2))
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n - n_outer, np.int64)])
    return build_bundle(
        "moons",
        x,
        y,
        task="classification",
        seed=seed,
        standardize=standardize,
        feature_names=["x1", "x2"],
        target_names=["0", "1"],
        description=f"Two moons: {n} points on interleaving half circles, noise {sigma:g}.",
    )
