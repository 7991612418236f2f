"""The dataset a resolved configuration names, ready for the Trainer: a built-in (``data.name``)
or the user's CSV / NPZ file (``data.path``, read by ``_datafile.py``), each sample reshaped to
``model.input_shape`` when one is given, with what the command line needs to know about it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import ConfigError


@dataclass
class Data:
    """A dataset ready for the Trainer, with what the command line needs to know about it."""

    name: str
    task: str
    train: Any
    val: Any
    test: Any
    n_features: int
    n_outputs: int
    n_classes: int | None
    feature_names: list[str] = field(default_factory=list)
    target_names: list[str] = field(default_factory=list)
    scaler: Any = None
    description: str = ""
    input_shape: tuple[int, ...] = ()
    """The shape of one sample as the model receives it (model.input_shape); () for flat rows."""

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """One sample's shape: the input shape, or (n_features,) for flat rows."""
        return self.input_shape or (self.n_features,)


def load_data(cfg: dict[str, Any]) -> Data:
    """The dataset the config names: a built-in (data.name) or a CSV / NPZ file (data.path),
    each sample reshaped to model.input_shape when one is given."""
    return _shaped(_load_data(cfg), cfg["model"]["input_shape"])


def _shaped(data: Data, shape: list[int]) -> Data:
    """``data`` with every part's inputs reshaped to (n, *shape) (views: nothing is copied);
    standardisation has happened before, per flat feature."""
    if not shape:
        return data
    from ..data.dataset import TensorDataset

    size = math.prod(shape)
    if size != data.n_features:
        raise ConfigError(
            f"model.input_shape {list(shape)} holds {size} values per sample but dataset "
            f"{data.name!r} has {data.n_features} features; give a shape whose product is "
            f"{data.n_features}, e.g. [1, {data.n_features}] for a one-channel signal (or [] "
            "for flat features)."
        )
    for name in ("train", "val", "test"):
        part = getattr(data, name)
        if part is not None:
            x, *rest = part.arrays
            x = x.reshape(len(x), *shape)
            setattr(data, name, TensorDataset(x, *rest, float_dtype=None, validate=False))
    data.input_shape = tuple(int(n) for n in shape)
    return data


def _load_data(cfg: dict[str, Any]) -> Data:
    d = cfg["data"]
    if d["path"]:
        return _load_file(d)
    from ..data import datasets
    from ..data.datasets.registry import get_spec

    try:
        spec = get_spec(d["name"])
    except ValueError as err:
        raise ConfigError(f"data.name: {err}") from None
    options = dict(d["options"])
    if "standardize" in spec.options():
        options.setdefault("standardize", d["standardize"])
    try:
        bundle = datasets.load(spec.info.name, seed=d["seed"], **options)
    except ImportError as err:
        raise ConfigError(f"{err} (pip install 'gradstep[datasets]').") from None
    except (TypeError, ValueError) as err:
        raise ConfigError(f"data.options for {spec.info.name!r}: {err}") from None
    y = bundle.train.arrays[1]
    n_out = bundle.n_classes if bundle.task == "classification" else int(np.prod(y.shape[1:]) or 1)
    return Data(
        name=bundle.name,
        task=bundle.task,
        train=bundle.train,
        val=bundle.val,
        test=bundle.test,
        n_features=bundle.n_features,
        n_outputs=int(n_out),
        n_classes=bundle.n_classes,
        feature_names=list(bundle.feature_names),
        target_names=list(bundle.target_names),
        scaler=bundle.scaler,
        description=bundle.description,
    )


def _load_file(d: dict[str, Any]) -> Data:
    from ._datafile import load_training_file

    return Data(**load_training_file(d))


def steps_per_epoch(cfg: dict[str, Any], data: Data) -> int:
    bs = cfg["data"]["batch_size"]
    n = len(data.train)
    return 1 if bs == "full" else max(1, math.ceil(n / bs))


__all__ = ["Data", "load_data", "steps_per_epoch"]
