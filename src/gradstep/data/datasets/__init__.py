"""Built-in datasets, never downloaded: ``load(name)`` returns a Bundle with train/val/test.

>>> from gradstep.data import datasets
>>> bundle = datasets.load("iris", seed=0)
>>> bundle.train, bundle.n_classes
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import classic, mnist1d, sklearn_sets, synthetic
from .bundle import Bundle
from .cache import cache_dir
from .registry import DatasetInfo, DatasetSpec, get_spec, specs

__all__ = ["Bundle", "DatasetInfo", "cache_dir", "info", "load", "names"]

# The order ``names()`` lists the families in: the classics first, generated data last.
_FAMILIES = [m.__name__ for m in (classic, synthetic, sklearn_sets, mnist1d)]


def _ordered() -> list[DatasetSpec]:
    rank = {family: i for i, family in enumerate(_FAMILIES)}
    return sorted(specs(), key=lambda spec: rank.get(spec.builder.__module__, len(rank)))


def names() -> list[str]:
    """The names ``load`` accepts, in the order ``gradstep datasets`` lists them."""
    return [spec.info.name for spec in _ordered()]


def info(name: str | None = None) -> Any:
    """Rows of (name, task, n_samples, n_features, n_classes, description), without loading.

    With ``name``, the one row for that dataset.
    """
    if name is not None:
        return get_spec(name).info
    return [spec.info for spec in _ordered()]


def load(name: str, seed: int = 0, **options: Any) -> Bundle:
    """Load built-in dataset ``name`` as a Bundle; ``seed`` fixes its split (and its sampling).

    Options depend on the dataset (e.g. ``standardize=False``, ``n_samples``, ``noise``); an
    unknown option raises a TypeError listing the valid ones.
    """
    spec = get_spec(name)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    valid = spec.options()
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise TypeError(
            f"dataset {spec.info.name!r} has no option {unknown[0]!r}; valid options: "
            f"{', '.join(valid)}."
        )
    return spec.builder(seed=int(seed), **options)
