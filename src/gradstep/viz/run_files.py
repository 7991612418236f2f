"""A run directory read back for pictures: the per-epoch metrics.csv, the per-step steps.csv,
summary.json, config.toml, gradient_health.json and boundary.npz, whichever are there.

>>> run = load_run("runs/20250101-120000-abc123")
>>> run.history["val_loss"], run.summary["best_epoch"]
"""

from __future__ import annotations

import csv
import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["RunRecord", "describe_model", "describe_run", "load_run", "read_csv_columns"]


@dataclass
class RunRecord:
    """What a run directory holds, as plain values (missing files give empty values)."""

    path: Path
    history: dict[str, list[float]]
    steps: dict[str, list[float]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    config_text: str = ""
    gradient_health: dict[str, Any] | None = None
    boundary: dict[str, np.ndarray] | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def steps_per_epoch(self) -> int | None:
        """Optimizer steps in a full epoch: those of the first epoch in steps.csv."""
        epochs = self.steps.get("epoch")
        if not epochs:
            return None
        return int(sum(1 for e in epochs if e == epochs[0]))

    @property
    def best_epoch(self) -> int | None:
        best = self.summary.get("best_epoch")
        return int(best) if isinstance(best, int | float) else None

    @property
    def task(self) -> str | None:
        return self.summary.get("task") or self.config.get("meta", {}).get("task")

    def title(self) -> str:
        return describe_run(self.config, self.summary)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def read_csv_columns(path: Path, skip: Sequence[str] = ()) -> dict[str, list[float]]:
    """The numeric columns of a CSV file with a header, by name (empty cells become NaN)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    out: dict[str, list[float]] = {h: [] for h in header if h not in skip}
    for row in body:
        for h, cell in zip(header, row):
            if h in out:
                out[h].append(_number(cell))
    return out


def load_run(path: str | Path) -> RunRecord:
    """Read the run directory ``path`` (written by ``gradstep train``)."""
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(
            f"{path} is not a run directory; pass a folder written by gradstep train (runs/<name>)."
        )
    metrics = root / "metrics.csv"
    if not metrics.is_file():
        raise FileNotFoundError(
            f"{path} holds no metrics.csv; pass a run directory written by gradstep train."
        )
    history = read_csv_columns(metrics, skip=("epoch",))
    record = RunRecord(root, history)
    if (root / "steps.csv").is_file():
        record.steps = read_csv_columns(root / "steps.csv", skip=("step",))
    if (root / "summary.json").is_file():
        record.summary = json.loads((root / "summary.json").read_text())
    if (root / "config.toml").is_file():
        record.config_text = (root / "config.toml").read_text()
        try:
            record.config = tomllib.loads(record.config_text)
        except tomllib.TOMLDecodeError:
            record.config = {}
    if (root / "gradient_health.json").is_file():
        record.gradient_health = json.loads((root / "gradient_health.json").read_text())
    if (root / "boundary.npz").is_file():
        with np.load(root / "boundary.npz", allow_pickle=False) as z:
            record.boundary = {k: z[k] for k in z.files}
    return record


def describe_model(layers: Sequence[Mapping[str, Any]]) -> str:
    """ "MLP 64-128-64-10 relu" for a stack of linear layers and activations; other stacks
    name their layer types in order, briefly."""
    widths: list[int] = []
    acts: list[str] = []
    others: list[str] = []
    for layer in layers:
        kind = str(layer.get("type", "?"))
        if kind == "linear":
            if not widths:
                widths.append(int(layer.get("in", 0)))
            widths.append(int(layer.get("out", 0)))
        elif kind in ("dropout", "flatten"):
            continue
        elif "in" in layer or "in_channels" in layer:
            others.append(kind)
        elif kind not in acts:
            acts.append(kind)
    if widths and not others:
        return f"MLP {'-'.join(map(str, widths))}" + (f" {'/'.join(acts)}" if acts else "")
    kinds = [k for k in others] + (["linear"] if widths else [])
    return " → ".join(dict.fromkeys(kinds)) + (f" ({'/'.join(acts)})" if acts else "")


def describe_run(config: Mapping[str, Any], summary: Mapping[str, Any] | None = None) -> str:
    """A picture's title for a run: dataset · model · optimizer and lr · schedule."""
    summary = summary or {}
    data = config.get("data", {})
    meta = config.get("meta", {})
    dataset = summary.get("dataset") or meta.get("dataset") or data.get("name") or "data"
    parts = [str(dataset)]
    layers = summary.get("architecture") or meta.get("architecture")
    if layers:
        parts.append(describe_model(layers))
    opt = config.get("optimizer", {})
    if opt.get("name"):
        lr = opt.get("lr")
        text = f"{opt['name']} lr {lr:g}" if isinstance(lr, int | float) else str(opt["name"])
        if opt.get("momentum"):
            text += f" momentum {opt['momentum']:g}"
        parts.append(text)
    sched = config.get("schedule", {}).get("name")
    if sched and sched != "none":
        parts.append(str(sched))
    bs = data.get("batch_size")
    if bs:
        parts.append(f"batch {bs}")
    return " · ".join(parts)
