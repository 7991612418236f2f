"""The small classic tables bundled with scikit-learn (iris, wine, breast cancer, digits).

scikit-learn ships these files inside its package, so nothing is downloaded; it is an optional
extra (``gradstep[datasets]``) imported only when one of these sets is loaded for the first time.
The arrays are then cached as .npz in the cache folder, since importing scikit-learn costs
seconds while the file loads in milliseconds.
"""

from __future__ import annotations

import importlib
import zipfile
from types import SimpleNamespace
from typing import Any

import numpy as np

from .bundle import Bundle, build_bundle
from .cache import cache_dir, save_npz_atomic
from .registry import register

__all__ = ["breast_cancer", "digits", "iris", "wine"]


_CACHE_VERSION = 1


def _sklearn_loader(function: str, name: str) -> Any:
    """``data``, ``target``, ``feature_names`` and ``target_names`` from the cache or
    scikit-learn (which then fills the cache; an unwritable cache folder is not an error)."""
    path = cache_dir() / f"sklearn-{name}-v{_CACHE_VERSION}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as f:
                return SimpleNamespace(**{k: f[k] for k in f.files})
        except (OSError, ValueError, zipfile.BadZipFile):
            pass  # a damaged cache file is rebuilt below
    try:
        module = importlib.import_module("sklearn.datasets")
    except ImportError as err:
        raise ImportError(f"install gradstep[datasets] to use the {name!r} dataset") from err
    raw = getattr(module, function)()
    data = SimpleNamespace(
        data=np.asarray(raw.data),
        target=np.asarray(raw.target),
        feature_names=np.asarray([str(f) for f in getattr(raw, "feature_names", [])], dtype=str),
        target_names=np.asarray([str(t) for t in raw.target_names], dtype=str),
    )
    try:
        save_npz_atomic(path, **vars(data))
    except OSError:
        pass
    return data


def _from_sklearn(function: str, name: str, seed: int, standardize: bool, text: str) -> Bundle:
    data = _sklearn_loader(function, name)
    n_features = data.data.shape[1]
    feature_names = [str(f) for f in getattr(data, "feature_names", [])] or [
        f"x{i}" for i in range(n_features)
    ]
    return build_bundle(
        name,
        data.data,
        data.target,
        task="classification",
        seed=seed,
        standardize=standardize,
        feature_names=feature_names,
        target_names=[str(t) for t in data.target_names],
        description=text,
    )


@register(
    "iris",
    task="classification",
    n_samples=150,
    n_features=4,
    n_classes=3,
    description="Fisher's iris flowers: 4 measurements -> 3 species (scikit-learn's copy).",
)
def iris(seed: int = 0, standardize: bool = True) -> Bundle:
    """Fisher's iris: sepal/petal length and width of 150 flowers, 3 species."""
    return _from_sklearn(
        "load_iris",
        "iris",
        seed,
        standardize,
        "Iris: 150 flowers, 4 measurements (cm), 3 species; scikit-learn's bundled copy.",
    )


@register(
    "wine",
    task="classification",
    n_samples=178,
    n_features=13,
    n_classes=3,
    description="Wine recognition: 13 chemical measurements -> 3 cultivars (scikit-learn's copy).",
)
def wine(seed: int = 0, standardize: bool = True) -> Bundle:
    """UCI wine recognition: 178 wines, 13 chemical measurements, 3 cultivars."""
    return _from_sklearn(
        "load_wine",
        "wine",
        seed,
        standardize,
        "Wine: 178 wines, 13 chemical measurements, 3 cultivars; scikit-learn's bundled copy.",
    )


@register(
    "breast-cancer",
    task="classification",
    n_samples=569,
    n_features=30,
    n_classes=2,
    description="Wisconsin breast cancer: 30 cell-nucleus features -> malignant/benign.",
)
def breast_cancer(seed: int = 0, standardize: bool = True) -> Bundle:
    """Wisconsin diagnostic breast cancer: 569 samples, 30 features, malignant or benign."""
    return _from_sklearn(
        "load_breast_cancer",
        "breast-cancer",
        seed,
        standardize,
        "Breast cancer (Wisconsin diagnostic): 569 samples, 30 features, malignant/benign; "
        "scikit-learn's bundled copy.",
    )


@register(
    "digits",
    task="classification",
    n_samples=1797,
    n_features=64,
    n_classes=10,
    description="Handwritten digits, 8x8 pixels (0-16) -> 10 classes (scikit-learn's copy).",
)
def digits(seed: int = 0, standardize: bool = True) -> Bundle:
    """UCI optical handwritten digits: 1797 images of 8×8 pixels with values 0–16, 10 classes.

    Constant pixels (always 0 in the border) get scale 1 when standardised.
    """
    return _from_sklearn(
        "load_digits",
        "digits",
        seed,
        standardize,
        "Digits: 1797 handwritten digits as 8x8 images (64 pixels, 0-16), 10 classes; "
        "scikit-learn's bundled copy.",
    )
