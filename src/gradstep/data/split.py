"""Preparing arrays for training: seeded (stratified) splits, standardisation and one-hot codes."""

from __future__ import annotations

from typing import Any

import numpy as np

from .dataset import check_finite, to_numpy

__all__ = ["SplitError", "Standardizer", "one_hot", "split_indices", "train_val_test_split"]


class SplitError(ValueError):
    """A train/val/test split that cannot be made. ``option`` says what would fix it:
    "fractions" (smaller val/test shares) or "stratify" (classes too small to stratify), so
    that a front end such as the command line can name its own spelling of the fix."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


def _count(fraction: float, n: int, name: str) -> int:
    if isinstance(fraction, bool) or not 0.0 <= float(fraction) < 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1), got {fraction!r}.")
    return int(np.floor(float(fraction) * n + 0.5))


def _allocate(total: int, ideal: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Integer counts per class near ``ideal`` that sum to ``total`` (largest remainders first)."""
    counts = np.minimum(np.floor(ideal).astype(np.int64), capacity)
    order = np.argsort(-(ideal - np.floor(ideal)), kind="stable")
    while counts.sum() < total:
        room = order[counts[order] < capacity[order]]
        if room.size == 0:
            raise SplitError(
                "the classes are too small for a stratified split of this size; "
                "pass smaller val/test fractions or stratify=False.",
                "stratify",
            )
        room = room[: total - counts.sum()]
        counts[room] += 1
    return counts


def split_indices(
    n: int,
    y: Any = None,
    val: float = 0.15,
    test: float = 0.15,
    seed: int | None = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded train/val/test index arrays for ``n`` samples (each shuffled).

    Sizes are ``round(val·n)`` and ``round(test·n)``; with ``stratify`` (``y`` holding class
    labels) every class is split in the same proportions, keeping at least one sample of each
    class in train.
    """
    n_val, n_test = _count(val, n, "val"), _count(test, n, "test")
    if n - n_val - n_test < 1:
        raise SplitError(
            f"val={val} and test={test} leave no training samples out of {n}; "
            "pass smaller fractions.",
            "fractions",
        )
    rng = np.random.default_rng(seed)
    if not stratify:
        perm = rng.permutation(n)
        return perm[n_val + n_test :], perm[n_test : n_test + n_val], perm[:n_test]
    labels = to_numpy(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.shape != (n,) or labels.dtype.kind == "f":
        raise ValueError(
            f"stratify=True needs one integer (or string) class label per sample, got y with "
            f"dtype {labels.dtype} and shape {labels.shape}; pass stratify=False for regression."
        )
    classes, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    capacity = np.maximum(sizes - 1, 0)
    n_test_c = _allocate(n_test, sizes * (n_test / n), capacity)
    rest = sizes - n_test_c
    n_val_c = _allocate(n_val, rest * (n_val / (n - n_test)), capacity - n_test_c)
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    by_class = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    for c in range(classes.size):
        members = rng.permutation(by_class[bounds[c] : bounds[c + 1]])
        t, v = n_test_c[c], n_val_c[c]
        parts[2].append(members[:t])
        parts[1].append(members[t : t + v])
        parts[0].append(members[t + v :])
    train, valid, tst = (rng.permutation(np.concatenate(p)) for p in parts)
    return train, valid, tst


def train_val_test_split(
    x: Any,
    y: Any,
    val: float = 0.15,
    test: float = 0.15,
    seed: int | None = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split (x, y) into train/val/test, stratified by class unless ``stratify=False``.

    Returns ``x_train, x_val, x_test, y_train, y_val, y_test`` (scikit-learn's order). Use
    ``stratify=False`` for regression targets.
    """
    xa, ya = to_numpy(x), to_numpy(y)
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(
            f"x and y must have the same number of samples, got {xa.shape[0]} and {ya.shape[0]}."
        )
    tr, va, te = split_indices(xa.shape[0], ya, val, test, seed, stratify)
    return xa[tr], xa[va], xa[te], ya[tr], ya[va], ya[te]


class Standardizer:
    """Per-feature standardisation ``(x − mean_) / scale_``, like scikit-learn's StandardScaler,
    with a floor on the scale.

    Fit on the training part only, then transform every part with those statistics. Statistics
    are taken over axis 0 in float64. ``scale_`` is the standard deviation, but at least
    ``min_scale`` times the feature's range (max − min) in the fitted data: an almost constant
    feature (a pixel lit in one image of a thousand, std ≈ 0.03 of its range) would otherwise
    reach ±30 after scaling; with the default 0.1 no fitted value lies more than 10 scales
    from the mean, and ordinary features (whose range is a few standard deviations) are left
    alone. ``min_scale=0`` gives StandardScaler's scale exactly; constant features get
    ``scale_ = 1``. Floating inputs keep their dtype, integer inputs become float32.

    >>> Standardizer().fit(x_train).transform(x_test)
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True, min_scale: float = 0.1):
        if isinstance(min_scale, bool) or not 0.0 <= float(min_scale) <= 1.0:
            raise ValueError(f"min_scale must be a fraction in [0, 1], got {min_scale!r}.")
        self.with_mean = with_mean
        self.with_std = with_std
        self.min_scale = float(min_scale)
        self.mean_: np.ndarray | None = None
        self.var_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.n_samples_seen_: int = 0

    def fit(self, x: Any) -> Standardizer:
        """Compute mean_, var_ and scale_ from ``x`` (samples along axis 0)."""
        arr = check_finite(to_numpy(x), "x")
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise ValueError("Standardizer.fit needs at least one sample in x.")
        data = arr.astype(np.float64, copy=False)
        mean = data.mean(axis=0)
        var = data.var(axis=0)
        scale = np.maximum(np.sqrt(var), self.min_scale * (data.max(axis=0) - data.min(axis=0)))
        tiny = 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
        scale = np.where(scale <= tiny, 1.0, scale)
        self.mean_ = mean if self.with_mean else np.zeros_like(mean)
        self.var_ = var
        self.scale_ = scale if self.with_std else np.ones_like(scale)
        self.n_samples_seen_ = int(arr.shape[0])
        return self

    def _checked(self, x: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.mean_ is None or self.scale_ is None:
            raise ValueError("Standardizer is not fitted; call fit(x_train) first.")
        arr = to_numpy(x)
        if arr.shape[1:] != self.mean_.shape:
            raise ValueError(
                f"x has per-sample shape {arr.shape[1:]} but the Standardizer was fitted on "
                f"{self.mean_.shape}; pass data with the same features."
            )
        dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)
        return arr.astype(dtype, copy=False), self.mean_.astype(dtype), self.scale_.astype(dtype)

    def transform(self, x: Any) -> np.ndarray:
        """Return ``(x − mean_) / scale_`` as a new array."""
        arr, mean, scale = self._checked(x)
        return (arr - mean) / scale

    def fit_transform(self, x: Any) -> np.ndarray:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def inverse_transform(self, x: Any) -> np.ndarray:
        """Undo ``transform``: ``x · scale_ + mean_``."""
        arr, mean, scale = self._checked(x)
        return arr * scale + mean

    def state_dict(self) -> dict[str, np.ndarray]:
        """The fitted statistics as arrays (for checkpoints)."""
        if self.mean_ is None or self.scale_ is None or self.var_ is None:
            raise ValueError("Standardizer is not fitted; call fit(x_train) first.")
        return {"mean": self.mean_, "scale": self.scale_, "var": self.var_}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore statistics saved by ``state_dict()``."""
        self.mean_ = np.asarray(state["mean"], dtype=np.float64)
        self.scale_ = np.asarray(state["scale"], dtype=np.float64)
        self.var_ = np.asarray(state.get("var", self.scale_**2), dtype=np.float64)

    def __repr__(self) -> str:
        fitted = "unfitted" if self.mean_ is None else f"features={self.mean_.shape}"
        return f"Standardizer({fitted})"


def one_hot(labels: Any, num_classes: int | None = None, dtype: Any = np.int64) -> np.ndarray:
    """One-hot codes with a trailing class axis, like ``torch.nn.functional.one_hot``.

    ``num_classes=None`` (or -1, PyTorch's spelling) infers ``labels.max() + 1``. Labels must be
    integers in ``[0, num_classes)``.
    """
    arr = to_numpy(labels)
    if arr.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot needs integer class labels, got dtype {arr.dtype}; "
            "cast them with labels.astype(np.int64)."
        )
    if num_classes is None or num_classes == -1:
        if arr.size == 0:
            raise ValueError("cannot infer num_classes from empty labels; pass num_classes.")
        num_classes = int(arr.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"num_classes must be an integer, got {num_classes!r}.")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}.")
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        bad = arr[(arr < 0) | (arr >= num_classes)].ravel()[0]
        raise ValueError(
            f"label {int(bad)} is out of range for num_classes={num_classes}; "
            f"labels must lie in [0, {num_classes - 1}]."
        )
    out = np.zeros((*arr.shape, int(num_classes)), dtype=dtype)
    np.put_along_axis(out, arr[..., None].astype(np.intp), 1, axis=-1)
    return out
