"""A trained model back from its files: a run directory, a checkpoint or a run's config.toml,
rebuilt from the settled configuration beside it (what ``evaluate``, ``predict`` and ``plot``
load)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..config import ConfigError
from ._build import (
    _shape_text,
    architecture,
    build_model,
    input_shape,
    output_width,
    settle,
)
from ._dataset import Data, load_data

__all__ = ["Trained", "load_trained"]


@dataclass
class Trained:
    """A model rebuilt from a run directory or checkpoint, with its settled config."""

    model: Any
    cfg: dict[str, Any]
    meta: dict[str, Any]
    layers: list[dict[str, Any]]
    weights: str
    data: Data | None = None
    input_shape: tuple[int, ...] = ()
    """The shape of one sample the model takes (flat models: (n_features,)); rows read from a
    file are reshaped to it."""


def load_trained(target: str, dataset: str | None = None, need_data: bool = True) -> Trained:
    """Rebuild the model saved at ``target`` (a run directory, a checkpoint file or a run's
    config.toml) from the config.toml beside it, and load its weights. With ``need_data`` the
    config's dataset (or ``dataset``) is loaded and checked against the model."""
    from ..io import CheckpointError, load
    from ..train.state import STATE_KIND, unpack
    from ._common import fail, find_model_files, load_run_config

    weights, config_path = find_model_files(target)
    cfg, meta = load_run_config(config_path)
    try:
        arrays = load(weights)
    except CheckpointError as err:
        fail(str(err))
    file_meta = arrays.metadata
    file_meta = file_meta if isinstance(file_meta, dict) else {}
    if file_meta.get("kind") == STATE_KIND:
        arrays = unpack(arrays, "model")
    if config_path is None and not file_meta.get("architecture"):
        fail(
            f"{weights} has no config.toml beside it and records no architecture; pass the run "
            "directory it came from."
        )
    if dataset is not None:
        cfg["data"]["name"] = dataset
        cfg["data"]["path"] = ""
        cfg["data"]["options"] = {}
    elif config_path is None and file_meta.get("dataset"):
        cfg["data"]["name"] = file_meta["dataset"]
    layers = meta.get("architecture") or file_meta.get("architecture")
    recorded = meta.get("input_shape") or file_meta.get("input_shape")
    if recorded:
        cfg["model"]["input_shape"] = [int(n) for n in recorded]
    data = None
    if need_data or not layers:
        try:
            data = load_data(cfg)
        except ConfigError as err:
            if not cfg["model"]["input_shape"] or dataset is None:
                raise
            fail(f"--dataset {dataset} does not fit the model: {err}")
        if not layers:
            layers = architecture(cfg, data)
        shape = input_shape(layers, cfg["model"]["input_shape"])
        n_out = output_width(layers)
        if shape != data.sample_shape:
            want = math.prod(shape)
            text = (
                f"{want} features but dataset {data.name!r} has {data.n_features}"
                if len(shape) == len(data.sample_shape) == 1
                else f"samples of shape {_shape_text(shape)} but dataset {data.name!r} has "
                f"{_shape_text(data.sample_shape)}"
            )
            fail(f"the model takes {text}; pass --dataset with a dataset of {want} features.")
        if n_out != data.n_outputs:
            kind = "classes" if data.task == "classification" else "outputs"
            fail(
                f"the model gives {n_out} outputs but dataset {data.name!r} has "
                f"{data.n_outputs} {kind}; pass --dataset with a matching dataset."
            )
        cfg = settle(cfg, data, training=False)
    model = build_model(layers, cfg["model"]["dtype"])
    try:
        model.load_state_dict(arrays)
    except (KeyError, ValueError, RuntimeError) as err:
        fail(
            f"the weights in {weights} do not fit the model described by "
            f"{config_path or 'the file'}: {err}"
        )
    shape = input_shape(layers, cfg["model"]["input_shape"])
    return Trained(model, cfg, meta or file_meta, layers, str(weights), data, shape)
