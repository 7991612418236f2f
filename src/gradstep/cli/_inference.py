"""A trained run's configuration made ready for evaluating or predicting, without its data."""

from __future__ import annotations

from typing import Any

from . import _build as B
from . import _dataset as D
from ._trained import Trained

__all__ = ["inference_config"]


def inference_config(trained: Trained) -> dict[str, Any]:
    """The run's config with the "auto" values that evaluating or predicting needs (loss,
    metrics) settled from the model itself: its task and its number of outputs."""
    cfg = trained.cfg
    if cfg["loss"]["name"] != "auto" and cfg["train"]["metrics"] != "auto":
        return cfg
    task = trained.meta.get("task", "classification")
    n_out = B.output_width(trained.layers)
    stub = D.Data(
        name="input",
        task=task,
        train=[0],
        val=None,
        test=None,
        n_features=0,
        n_outputs=n_out,
        n_classes=n_out if task == "classification" else None,
    )
    return B.settle(cfg, stub, training=False)
