"""The table of built-in datasets: each family module registers its loaders here."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["DatasetInfo", "DatasetSpec", "get_spec", "register", "specs"]


class DatasetInfo(NamedTuple):
    """One row of ``info()``: what ``gradstep datasets`` prints."""

    name: str
    task: str
    n_samples: int
    n_features: int
    n_classes: int | None
    description: str


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset: its builder and the facts ``info()`` shows without loading it."""

    info: DatasetInfo
    builder: Callable[..., Any]

    def options(self) -> list[str]:
        """The keyword options the builder takes besides ``seed``."""
        params = inspect.signature(self.builder).parameters
        return [p for p in params if p != "seed"]


_REGISTRY: dict[str, DatasetSpec] = {}


def register(
    name: str,
    *,
    task: str,
    n_samples: int,
    n_features: int,
    n_classes: int | None,
    description: str,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator adding a builder ``fn(seed, **options) -> Bundle`` under ``name``."""

    def add(fn: Callable[..., Any]) -> Callable[..., Any]:
        row = DatasetInfo(name, task, n_samples, n_features, n_classes, description)
        _REGISTRY[name] = DatasetSpec(row, fn)
        return fn

    return add


def specs() -> list[DatasetSpec]:
    """All registered datasets in registration order."""
    return list(_REGISTRY.values())


def get_spec(name: str) -> DatasetSpec:
    """Look a dataset up by name (ignoring case, ``_`` vs ``-``); unknown names list the known."""
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}.")
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if key in _REGISTRY:
        return _REGISTRY[key]
    close = difflib.get_close_matches(key, list(_REGISTRY), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(_REGISTRY)}.{hint}")
