"""From a resolved configuration to the run's pieces: data, model, loss, optimizer, schedule and
stopping conditions. "auto" values are settled here, because they depend on the data.

Every component comes from its family's table (``optim.registry``, ``nn.registry``): the builders
pass an entry the config values of the keys its constructor takes, and "auto" settles to the
entry's default (the constructor's, or the table's CLI default)."""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import config as C
from .. import config_tables as T
from ..config import AUTO, NONE, ConfigError
from ..nn import registry as nn_tables

DEFAULT_LR: Mapping[str, float] = C.LiveMapping(
    lambda: {name: e.defaults()["lr"] for name, e in T.components("optimizer").items()}
)
"""Each optimizer's "auto" learning rate, read from the optimizer table."""
CLASSIFICATION_ONLY = {"accuracy", "acc", "precision", "recall", "f1"}


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


# -- data ----------------------------------------------------------------------------------------


def load_data(cfg: dict[str, Any]) -> Data:
    """The dataset the config names: a built-in (data.name) or a CSV / NPZ file (data.path)."""
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
    from ..data.dataset import TensorDataset
    from ..data.readers import read_csv, read_npz
    from ..data.split import Standardizer, split_indices

    path = d["path"]
    if not os.path.isfile(path):
        raise ConfigError(f"data.path {path} does not exist; pass a .csv or .npz file.")
    task = None if d["task"] == AUTO else d["task"]
    classes = None
    if path.lower().endswith(".npz"):
        x, y = read_npz(path)
        x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
        if task is None:
            task = "classification" if np.asarray(y).dtype.kind in "iub" else "regression"
        feature_names = [f"x{i}" for i in range(x.shape[1])]
        target_names = ["y"]
        if task == "classification":
            y = np.asarray(y).astype(np.int64).reshape(-1)
        else:
            y = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
    elif path.lower().endswith(".csv"):
        table = read_csv(path, target=d["target"], task=task)
        x, y, task = table.x, table.y, table.task
        feature_names, target_names, classes = (
            table.feature_names,
            table.target_names,
            table.classes,
        )
    else:
        raise ConfigError(f"data.path {path} is neither a .csv nor an .npz file.")
    stratify = task == "classification"
    try:
        tr, va, te = split_indices(
            len(x), y, d["val_fraction"], d["test_fraction"], d["seed"], stratify
        )
    except ValueError as err:
        raise ConfigError(f"data.val_fraction / data.test_fraction: {err}") from None
    scaler = Standardizer().fit(x[tr]) if d["standardize"] else None

    def part(idx: np.ndarray) -> Any:
        if len(idx) == 0:
            return None
        xs = x[idx] if scaler is None else scaler.transform(x[idx]).astype(np.float32)
        return TensorDataset(xs, y[idx])

    n_classes = None
    if task == "classification":
        n_classes = len(classes) if classes else int(y.max()) + 1
        target_names = classes if classes else [str(c) for c in range(n_classes)]
    n_out = n_classes if n_classes is not None else int(y.shape[1])
    return Data(
        name=os.path.basename(path),
        task=task,
        train=part(tr),
        val=part(va),
        test=part(te),
        n_features=int(x.shape[1]),
        n_outputs=int(n_out),
        n_classes=n_classes,
        feature_names=list(feature_names),
        target_names=list(target_names),
        scaler=scaler,
        description=f"{path}: {len(x)} rows",
    )


def steps_per_epoch(cfg: dict[str, Any], data: Data) -> int:
    bs = cfg["data"]["batch_size"]
    n = len(data.train)
    return 1 if bs == "full" else max(1, math.ceil(n / bs))


# -- settling "auto" -----------------------------------------------------------------------------


def settle(cfg: dict[str, Any], data: Data, training: bool = True) -> dict[str, Any]:
    """A copy of ``cfg`` with every "auto" replaced by the value this run uses, and the
    choices that depend on the data checked against it (``training=False``: only what
    evaluating a trained model needs)."""
    cfg = copy.deepcopy(cfg)
    loss, sched, train = cfg["loss"], cfg["schedule"], cfg["train"]
    classification = data.task == "classification"
    _settle_loss(loss, data)
    C.settle_auto(cfg, "optimizer")
    total = train["epochs"] * steps_per_epoch(cfg, data)
    if sched["warmup_steps"] == AUTO:
        steps = round(sched["warmup_epochs"] * steps_per_epoch(cfg, data))
        sched["warmup_steps"] = int(min(steps, max(total - 1, 0)))
    elif (
        training
        and "total_steps" in T.component(cfg, "schedule").parameters()
        and sched["warmup_steps"] >= total
    ):
        raise ConfigError(
            f"schedule.warmup_steps = {sched['warmup_steps']} leaves no steps for the decay: the "
            f"run has {total} steps (train.epochs × batches per epoch); shorten the warm-up or "
            "train longer."
        )
    C.settle_auto(cfg, "schedule")
    if train["metrics"] == AUTO:
        train["metrics"] = ["accuracy"] if classification else ["mse", "mae", "r2"]
    if not classification:
        bad = [m for m in train["metrics"] if m in CLASSIFICATION_ONLY or m.startswith("top")]
        if bad:
            raise ConfigError(
                f"train.metrics {bad[0]!r} needs a classification dataset, but {data.name!r} is "
                "regression; use mse, mae, r2 or max_error."
            )
    stop = cfg["stop"]
    if not training:
        return cfg
    if stop["patience"] != NONE:
        known = {"loss", "lr", "grad_norm", *train["metrics"]}
        if data.val is not None:
            known |= {"val_loss", *(f"val_{m}" for m in train["metrics"])}
        if stop["monitor"] not in known:
            import difflib

            close = difflib.get_close_matches(stop["monitor"], sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"stop.monitor {stop['monitor']!r} is not logged by this run{hint}; use one of "
                f"{', '.join(sorted(known))}."
            )
    watches = T.component(cfg, "schedule").watches
    if watches.startswith("val_") and data.val is None:
        raise ConfigError(
            f"schedule.name = {sched['name']!r} watches {watches}, but there is no validation "
            "data; set data.val_fraction > 0 or pick another schedule."
        )
    return cfg


def _settle_loss(loss: dict[str, Any], data: Data) -> None:
    """loss.name "auto" by the task, the loss checked against the data, then its "auto" keys."""
    classification = data.task == "classification"
    if loss["name"] == AUTO:
        loss["name"] = T.auto_loss(data.task).name
    entry = T.components("loss")[loss["name"]]
    if entry.task == "classification" and not classification:
        raise ConfigError(
            f"loss.name = {loss['name']!r} needs a classification dataset, but {data.name!r} is "
            f"regression; use {_listed(_losses_for('regression'))}."
        )
    if entry.task != "classification" and classification:
        raise ConfigError(
            f"loss.name = {loss['name']!r} is a regression loss, but {data.name!r} is "
            f"classification; use {_listed(_losses_for('classification'))} (the model outputs "
            "logits and the loss applies the softmax)."
        )
    for key in C.component_keys("loss"):
        value = loss[key.name]
        if value != AUTO and not T.takes(entry, key) and value != T.unused_value(key):
            users = [e.name for e in T.components("loss").values() if T.takes(e, key)]
            raise ConfigError(f"loss.{key.name} applies only to {_listed(users)}; remove it.")
    C.settle_auto({"loss": loss}, "loss")


def _losses_for(task: str) -> list[str]:
    return [n for n, e in T.components("loss").items() if e.task == task]


def _listed(names: list[str]) -> str:
    """The names as one phrase: a, b or c."""
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


# -- the model -----------------------------------------------------------------------------------


def architecture(cfg: dict[str, Any], data: Data) -> list[dict[str, Any]]:
    """The layers as plain tables with every width filled in, checked against the data."""
    m = cfg["model"]
    what = "classes" if data.task == "classification" else "outputs"
    if m["layer"]:
        return _explicit_layers(m["layer"], data, what)
    if m["layers"]:
        widths = list(m["layers"])
        if len(widths) < 2:
            raise ConfigError(
                f"model.layers needs the input and output widths at least, got {widths}; e.g. "
                f"[{data.n_features}, 64, {data.n_outputs}] (or use model.hidden)."
            )
        if widths[0] != data.n_features:
            raise ConfigError(
                f"model.layers starts with {widths[0]} inputs but dataset {data.name!r} has "
                f"{data.n_features} features; set model.layers[0] = {data.n_features} (or give "
                "model.hidden and let the data set the widths)."
            )
        if widths[-1] != data.n_outputs:
            raise ConfigError(
                f"model.layers ends with {widths[-1]} outputs but dataset {data.name!r} has "
                f"{data.n_outputs} {what}; set the last width to {data.n_outputs} (or give "
                "model.hidden)."
            )
    else:
        widths = [data.n_features, *m["hidden"], data.n_outputs]
    act = {"type": m["activation"]}
    bias = nn_tables.LAYERS["linear"].field_defaults()["bias"]
    layers: list[dict[str, Any]] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append({"type": "linear", "in": a, "out": b, "bias": bias})
        if i < len(widths) - 2:
            layers.append(dict(act))
            if m["dropout"] > 0:
                layers.append({"type": "dropout", "p": m["dropout"]})
    if m["output_activation"] != "none":
        layers.append({"type": m["output_activation"]})
    return layers


def _explicit_layers(specs: list[dict[str, Any]], data: Data, what: str) -> list[dict[str, Any]]:
    """The layers with the width flowing through them, as each table entry says: ``in_field``
    takes the incoming width, ``out_field`` sets the next (the last one may leave it out)."""
    entries = [nn_tables.LAYERS[s["type"]] for s in specs]
    setting = [i for i, e in enumerate(entries) if e.out_field is not None]
    if not setting:
        names = [n for n, e in nn_tables.LAYERS.items() if e.out_field is not None]
        raise ConfigError(
            f"model.layer has no {' or '.join(names)} layer; add at least one "
            f'{{type="{names[0]}"}}.'
        )
    width = data.n_features
    out: list[dict[str, Any]] = []
    for i, (spec, entry) in enumerate(zip(specs, entries)):
        layer = dict(spec)
        kind, takes, sets = layer["type"], entry.in_field, entry.out_field
        if takes is not None and layer.get(takes) is not None and layer[takes] != width:
            raise ConfigError(
                f"model.layer[{i}] ({kind}) has {takes} = {layer[takes]} but receives {width} "
                f"values (dataset {data.name!r} has {data.n_features} features); set {takes} = "
                f"{width} or leave it out."
            )
        if sets is not None:
            last = i == setting[-1]
            if layer.get(sets) is None:
                if not last:
                    raise ConfigError(
                        f"model.layer[{i}] ({kind}) needs {sets} = <width>; only the last {kind} "
                        "layer may leave it to the data."
                    )
                layer[sets] = data.n_outputs
            if last and layer[sets] != data.n_outputs:
                raise ConfigError(
                    f"the last {kind} layer (model.layer[{i}]) outputs {layer[sets]} values but "
                    f"dataset {data.name!r} has {data.n_outputs} {what}; set {sets} = "
                    f"{data.n_outputs} or leave it out."
                )
        if takes is not None:
            layer[takes] = width
        if sets is not None:
            width = layer[sets]
        out.append(layer)
    return out


def input_width(layers: list[dict[str, Any]]) -> int:
    """The number of features a model built from ``layers`` takes (its first width-taking
    layer's ``in_field``)."""
    for spec in layers:
        entry = nn_tables.LAYERS.get(spec.get("type", ""))
        if entry is not None and entry.in_field is not None:
            return int(spec[entry.in_field])
    raise ConfigError("the architecture has no layer that takes a width; retrain the run.")


def output_width(layers: list[dict[str, Any]]) -> int:
    """The number of outputs of a model built from ``layers`` (its last ``out_field``)."""
    for spec in reversed(layers):
        entry = nn_tables.LAYERS.get(spec.get("type", ""))
        if entry is not None and entry.out_field is not None:
            return int(spec[entry.out_field])
    raise ConfigError("the architecture has no layer that sets a width; retrain the run.")


def build_model(layers: list[dict[str, Any]], dtype: str = "float32") -> Any:
    """A ``gs.nn.Sequential`` from architecture tables (as :func:`architecture` writes them),
    each layer built by its entry in the layers table."""
    from .. import nn

    modules = []
    for i, spec in enumerate(layers):
        kind = spec.get("type")
        entry = nn_tables.LAYERS.get(kind) if isinstance(kind, str) else None
        if entry is None:
            raise ConfigError(f"layer {i} has an unknown type {kind!r}.")
        if entry.factory is None:
            raise ConfigError(
                f"model.layer[{i}]: {kind} is not available in this version of gradstep; "
                "remove the layer."
            )
        values = {}
        for name, field_ in entry.fields.items():
            if name in spec:
                value = spec[name]
                values[name] = int(value) if field_.kind == "int" else value
        try:
            modules.append(entry.build(**values))
        except (TypeError, ValueError) as err:
            raise ConfigError(f"model.layer[{i}] ({kind}): {err}") from None
    model = nn.Sequential(*modules)
    if dtype == "float64":
        model.double()
    return model


# -- loss, optimizer, schedule, stopping ---------------------------------------------------------


def _arguments(cfg: dict[str, Any], section: str) -> dict[str, Any]:
    """The config values of the keys the chosen entry's constructor takes, by config name."""
    params = T.component(cfg, section).parameters()
    return {k.name: cfg[section][k.name] for k in C.component_keys(section) if k.name in params}


def build_loss(cfg: dict[str, Any]) -> Any:
    """The loss module the settled config names."""
    return T.component(cfg, "loss").build(**_arguments(cfg, "loss"))


def build_optimizer(cfg: dict[str, Any], params: Any) -> Any:
    """The optimizer the settled config names, over ``params``."""
    name = cfg["optimizer"]["name"]
    try:
        return T.component(cfg, "optimizer").build(params, **_arguments(cfg, "optimizer"))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"optimizer ({name}): {err}") from None


def build_scheduler(cfg: dict[str, Any], optimizer: Any) -> Any:
    """The learning-rate schedule the settled config names on ``optimizer`` (None for "none")."""
    name = cfg["schedule"]["name"]
    run = {"epochs": cfg["train"]["epochs"]}
    try:
        return T.component(cfg, "schedule").build(optimizer, run, **_arguments(cfg, "schedule"))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"schedule ({name}): {err}") from None


def build_stops(cfg: dict[str, Any]) -> list[Any]:
    from ..train import stopping as T

    s = cfg["stop"]
    stops: list[Any] = []
    if s["target_loss"] != NONE:
        stops.append(T.TargetLoss(s["target_loss"]))
    if s["max_error"] != NONE:
        stops.append(T.MaxError(s["max_error"]))
    if s["patience"] != NONE:
        stops.append(
            T.EarlyStopping(
                monitor=s["monitor"],
                patience=s["patience"],
                min_delta=s["min_delta"],
                restore_best_weights=s["restore_best"],
            )
        )
    if s["time_budget"] != NONE:
        stops.append(T.TimeBudget(s["time_budget"]))
    return stops


def apply_threads(cfg: dict[str, Any]) -> None:
    """Limit the BLAS thread pools to train.threads (0 leaves the library's default)."""
    n = cfg["train"]["threads"]
    if n:
        from ..backend import set_num_threads

        set_num_threads(n)


def trainer_for(cfg: dict[str, Any], model: Any, callbacks: Any = ()) -> Any:
    """A Trainer with the config's loss, optimizer, schedule and metrics (cfg settled)."""
    from ..train.trainer import Trainer

    optimizer = build_optimizer(cfg, model.parameters())
    scheduler = build_scheduler(cfg, optimizer)
    clip = cfg["train"]["grad_clip"] or None
    return Trainer(
        model,
        build_loss(cfg),
        optimizer,
        metrics=cfg["train"]["metrics"],
        scheduler=scheduler,
        callbacks=callbacks,
        grad_clip=clip,
    )


def meta_for(cfg: dict[str, Any], data: Data, layers: list[dict[str, Any]]) -> dict[str, Any]:
    """What a run records beside its settings: versions, the data's shape and the architecture
    (so that evaluate and predict rebuild the model without loading the data)."""
    import platform
    import time

    from .. import __version__

    meta: dict[str, Any] = {
        "note": "written by gradstep train for the record; ignored when this file is read back",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "seed": cfg["train"]["seed"],
        "versions": {
            "gradstep": __version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "dataset": data.name,
        "task": data.task,
        "n_features": data.n_features,
        "n_outputs": data.n_outputs,
        "feature_names": data.feature_names,
        "target_names": data.target_names,
        "architecture": layers,
    }
    if data.n_classes is not None:
        meta["n_classes"] = data.n_classes
    if data.scaler is not None and getattr(data.scaler, "mean_", None) is not None:
        meta["standardize"] = {
            "mean": [float(v) for v in np.asarray(data.scaler.mean_).ravel()],
            "scale": [float(v) for v in np.asarray(data.scaler.scale_).ravel()],
        }
    return meta


# -- a trained model back from its files ---------------------------------------------------------


@dataclass
class Trained:
    """A model rebuilt from a run directory or checkpoint, with its settled config."""

    model: Any
    cfg: dict[str, Any]
    meta: dict[str, Any]
    layers: list[dict[str, Any]]
    weights: str
    data: Data | None = None


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
    data = None
    if need_data or not layers:
        data = load_data(cfg)
        if not layers:
            layers = architecture(cfg, data)
        n_in, n_out = input_width(layers), output_width(layers)
        if n_in != data.n_features:
            fail(
                f"the model takes {n_in} features but dataset {data.name!r} has "
                f"{data.n_features}; pass --dataset with a dataset of {n_in} features."
            )
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
    return Trained(model, cfg, meta or file_meta, layers, str(weights), data)
