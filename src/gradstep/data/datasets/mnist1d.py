"""MNIST-1D: the ten digit templates as 40-sample 1-D signals, made by the ``mnist1d`` generator.

The data is generated locally (never downloaded or unpickled) and cached as a plain .npz in
``cache_dir()``. The generator seeds NumPy's and Python's global random state, so both are saved
before the call and restored after it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .bundle import Bundle, build_bundle
from .cache import cache_dir, save_npz_atomic
from .registry import register

__all__ = ["generate_mnist1d", "mnist1d"]

_KEYS = ("x", "y", "x_test", "y_test")
_FORMAT = 1


def _generator() -> Any:
    try:
        return importlib.import_module("mnist1d.data")
    except ImportError as err:
        raise ImportError("install gradstep[datasets] to use the 'mnist1d' dataset") from err


def _arguments(module: Any, overrides: dict[str, Any] | None) -> Any:
    view = module.get_dataset_args()
    settings = vars(view)
    settings.pop("url", None)
    for key, value in (overrides or {}).items():
        if key not in settings:
            raise ValueError(
                f"unknown mnist1d generator argument {key!r}; valid ones: {sorted(settings)}."
            )
        settings[key] = value
    return view


def _cache_path(settings: dict[str, Any]) -> Path:
    text = json.dumps({"format": _FORMAT, **settings}, sort_keys=True, default=str)
    return cache_dir() / f"mnist1d-{hashlib.sha256(text.encode()).hexdigest()[:16]}.npz"


def _read_cache(path: Path) -> dict[str, np.ndarray] | None:
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            if sorted(archive.files) != sorted(_KEYS):
                return None
            return {key: archive[key] for key in _KEYS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def generate_mnist1d(
    args: dict[str, Any] | None = None, regenerate: bool = False
) -> dict[str, np.ndarray]:
    """The MNIST-1D arrays ``x, y, x_test, y_test`` (4000/1000 with the default arguments).

    ``args`` overrides entries of ``mnist1d.data.get_dataset_args()`` (e.g. ``num_samples``,
    ``seed``); each distinct setting has its own cache file. The global RNG states are unchanged.
    """
    module = _generator()
    view = _arguments(module, args)
    path = _cache_path(vars(view))
    cached = None if regenerate else _read_cache(path)
    if cached is not None:
        return cached
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        raw = module.make_dataset(view)
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    arrays = {
        "x": np.asarray(raw["x"], dtype=np.float32),
        "y": np.asarray(raw["y"], dtype=np.int64),
        "x_test": np.asarray(raw["x_test"], dtype=np.float32),
        "y_test": np.asarray(raw["y_test"], dtype=np.int64),
    }
    save_npz_atomic(path, **arrays)
    return arrays


@register(
    "mnist1d",
    task="classification",
    n_samples=5000,
    n_features=40,
    n_classes=10,
    description="MNIST-1D: digit templates as 40-point 1-D signals, 10 classes (4000/1000 split).",
)
def mnist1d(
    seed: int = 0,
    standardize: bool = True,
    args: dict[str, Any] | None = None,
    regenerate: bool = False,
) -> Bundle:
    """MNIST-1D with its own train/test split (4000/1000); val is 15 % of train, stratified.

    Generated with the ``mnist1d`` package's ``make_dataset`` and cached in ``cache_dir()``;
    ``args`` overrides the generator's arguments, ``regenerate=True`` ignores the cache.
    """
    data = generate_mnist1d(args, regenerate)
    n_features = data["x"].shape[1]
    return build_bundle(
        "mnist1d",
        data["x"],
        data["y"],
        task="classification",
        seed=seed,
        standardize=standardize,
        feature_names=[f"t{i}" for i in range(n_features)],
        target_names=[str(d) for d in range(10)],
        description=(
            f"MNIST-1D: {len(data['y']) + len(data['y_test'])} signals of {n_features} points "
            "made from 10 digit templates (padding, scaling, shift, shear, noise); "
            "the generator's own train/test split."
        ),
        test_data=(data["x_test"], data["y_test"]),
    )
