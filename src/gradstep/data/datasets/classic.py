"""The classic teaching examples: the water heater (regression) and XOR (classification)."""

from __future__ import annotations

import numpy as np

from ..dataset import TensorDataset
from .bundle import Bundle, build_bundle
from .registry import register

__all__ = ["water_heater", "xor"]


def _check_count(n_samples: object, minimum: int) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise TypeError(f"n_samples must be an integer, got {n_samples!r}.")
    if n_samples < minimum:
        raise ValueError(f"n_samples must be >= {minimum}, got {n_samples}.")
    return int(n_samples)


def _check_noise(noise: object) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or noise < 0:
        raise ValueError(f"noise must be a non-negative number, got {noise!r}.")
    return float(noise)


@register(
    "water-heater",
    task="regression",
    n_samples=1000,
    n_features=2,
    n_classes=None,
    description="Mixing valve: hot/cold openings -> mixed temperature (C) and total flow.",
)
def water_heater(
    seed: int = 0,
    n_samples: int = 1000,
    noise: float = 0.0,
    hot_temp: float = 60.0,
    cold_temp: float = 10.0,
    standardize: bool = True,
) -> Bundle:
    """Hot and cold valve openings a_h, a_c ~ U(0.05, 1) with flows proportional to them.

    Outputs: the mixed temperature (a_h·T_h + a_c·T_c)/(a_h + a_c) in °C (T_h = ``hot_temp``,
    T_c = ``cold_temp``) and the amount a_h + a_c. ``noise`` adds Gaussian noise with standard
    deviation ``noise`` × that output's standard deviation. Features are standardised on the
    train part; the targets stay in their units (not standardised).
    """
    n = _check_count(n_samples, 10)
    sigma = _check_noise(noise)
    rng = np.random.default_rng([seed, 1])
    openings = rng.uniform(0.05, 1.0, size=(n, 2))
    hot, cold = openings[:, 0], openings[:, 1]
    amount = hot + cold
    temperature = (hot * hot_temp + cold * cold_temp) / amount
    y = np.stack([temperature, amount], axis=1)
    if sigma > 0:
        y = y + rng.normal(size=y.shape) * (sigma * y.std(axis=0))
    return build_bundle(
        "water-heater",
        openings,
        y,
        task="regression",
        seed=seed,
        standardize=standardize,
        feature_names=["hot_valve", "cold_valve"],
        target_names=["temperature", "amount"],
        description=(
            f"Water heater: hot ({hot_temp:g} C) and cold ({cold_temp:g} C) valve openings in "
            "[0.05, 1] -> mixed temperature (C) and amount (hot + cold flow). Features "
            f"{'standardised on train' if standardize else 'raw'}; targets not standardised."
        ),
    )


_XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=np.float32)
_XOR_Y = np.array([0, 1, 1, 0], dtype=np.int64)


@register(
    "xor",
    task="classification",
    n_samples=4,
    n_features=2,
    n_classes=2,
    description="The XOR truth table: 4 points, train = val = test (noisy=True samples more).",
)
def xor(
    seed: int = 0,
    noisy: bool = False,
    n_samples: int | None = None,
    noise: float | None = None,
    standardize: bool = True,
) -> Bundle:
    """The four points of XOR, labels x1 ≠ x2; train, val and test are all those four points.

    The exact table is never standardised. ``noisy=True`` samples ``n_samples`` points (200 by
    default) around the four corners with Gaussian ``noise`` (0.1 by default), split 70/15/15.
    """
    if not noisy:
        if n_samples is not None or noise is not None:
            raise ValueError("n_samples and noise apply only to xor with noisy=True.")
        table = TensorDataset(_XOR_X.copy(), _XOR_Y.copy())
        return Bundle(
            name="xor",
            task="classification",
            train=table,
            val=table,
            test=table,
            n_classes=2,
            n_features=2,
            feature_names=["x1", "x2"],
            target_names=["0", "1"],
            description="XOR truth table: the four corners of the unit square; train = val = test.",
            scaler=None,
        )
    n = _check_count(200 if n_samples is None else n_samples, 20)
    sigma = _check_noise(0.1 if noise is None else noise)
    rng = np.random.default_rng([seed, 1])
    corner = np.arange(n) % 4
    x = _XOR_X[corner] + rng.normal(scale=sigma, size=(n, 2))
    return build_bundle(
        "xor",
        x,
        _XOR_Y[corner],
        task="classification",
        seed=seed,
        standardize=standardize,
        feature_names=["x1", "x2"],
        target_names=["0", "1"],
        description=f"Noisy XOR: {n} points around the unit square's corners (noise {sigma:g}).",
    )
