"""From a resolved configuration to the run's pieces: model, loss, optimizer, schedule and
stopping conditions (the data comes from ``_dataset.py``). "auto" values are settled
here, because they depend on the data.

Every component comes from its family's table (``optim.registry``, ``nn.registry``): the builders
pass an entry the config values of the keys its constructor takes, and "auto" settles to the
entry's default (the constructor's, or the table's CLI default)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import config as C
from .. import config_tables as T
from ..config import AUTO, NONE, ConfigError
from ..nn import registry as nn_tables
from ._dataset import Data, steps_per_epoch

DEFAULT_LR: Mapping[str, float] = C.LiveMapping(
    lambda: {name: e.defaults()["lr"] for name, e in T.components("optimizer").items()}
)
"""Each optimizer's "auto" learning rate, read from the optimizer table."""
CLASSIFICATION_ONLY = {"accuracy", "acc", "precision", "recall", "f1"}


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
    """The layers as plain tables with every width filled in, checked against the data: each
    layer's entry says which dim of the incoming sample shape its in_field takes and what shape
    comes out (``LayerEntry.output_shape``), so channel counts and linear inputs come from the
    data, and a shape that does not fit names the layer and the fix."""
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
    if len(data.sample_shape) > 1:  # the MLP takes each sample as one row of features
        layers.append({"type": "flatten", **_defaults(nn_tables.LAYERS["flatten"])})
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append({"type": "linear", "in": a, "out": b, "bias": bias})
        if i < len(widths) - 2:
            layers.append(dict(act))
            if m["dropout"] > 0:
                layers.append({"type": "dropout", "p": m["dropout"]})
    if m["output_activation"] != "none":
        layers.append({"type": m["output_activation"]})
    return layers


def _defaults(entry: Any) -> dict[str, Any]:
    return {k: v for k, v in entry.field_defaults().items() if v is not None}


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _rank_fix(ranks: Any, shape: tuple[int, ...]) -> str:
    """How to give a layer a sample of one of the ``ranks`` it takes."""
    if min(ranks) > len(shape):
        example = "[1, 8, 8] for 8x8 images" if max(ranks) == 3 else "[1, 40] for signals"
        return f"set model.input_shape (e.g. {example}) or add an unflatten layer before it"
    twin = {2: "1d", 3: "2d"}.get(len(shape))
    other = f"use the {twin} form of the layer or " if twin else ""
    return f"{other}add a flatten layer before it"


def _explicit_layers(specs: list[dict[str, Any]], data: Data, what: str) -> list[dict[str, Any]]:
    """The layers with the sample shape flowing through them, as each table entry says:
    ``in_field`` takes dim ``in_dim`` of the incoming shape, ``out_field`` sets the next width
    (the last one may leave it out), ``output_shape`` gives the shape after the layer."""
    entries = [nn_tables.LAYERS[s["type"]] for s in specs]
    setting = [i for i, e in enumerate(entries) if e.out_field is not None]
    if not setting:
        name = next(n for n, e in nn_tables.LAYERS.items() if e.out_field is not None)
        raise ConfigError(f'model.layer has no {name} layer; add at least one {{type="{name}"}}.')
    first = data.sample_shape
    shape = first
    out: list[dict[str, Any]] = []
    for i, (spec, entry) in enumerate(zip(specs, entries)):
        layer = dict(spec)
        if entry.by_rank:
            chosen = entry.by_rank.get(len(shape))
            if chosen is None:
                layouts = nn_tables.sample_layouts(entry.by_rank)
                raise ConfigError(
                    f"model.layer[{i}] ({spec['type']}) receives samples of shape "
                    f"{_shape_text(shape)} but takes {layouts} samples; "
                    f"{_rank_fix(tuple(entry.by_rank), shape)}."
                )
            entry = nn_tables.LAYERS[chosen]
            layer = {
                "type": chosen,
                **_defaults(entry),
                **{k: v for k, v in spec.items() if k != "type"},
            }
        kind, takes, sets = layer["type"], entry.in_field, entry.out_field
        where = f"model.layer[{i}] ({kind})"
        seen = f"{_shape_text(shape)}" + (
            f" (dataset {data.name!r})" if shape == first and not out else ""
        )
        if entry.ranks and len(shape) not in entry.ranks:
            layouts = nn_tables.sample_layouts(entry.ranks)
            raise ConfigError(
                f"{where} takes {layouts} samples but receives shape {seen}; "
                f"{_rank_fix(entry.ranks, shape)}."
            )
        if takes is not None:
            width = shape[entry.in_dim]
            if layer.get(takes) is not None and layer[takes] != width:
                unit = "channels" if entry.in_dim == 0 and len(shape) > 1 else "values"
                raise ConfigError(
                    f"{where} has {takes} = {layer[takes]} but receives {width} {unit} (samples "
                    f"of shape {seen}); set {takes} = {width} or leave it out."
                )
            layer[takes] = width
        if sets is not None:
            last = i == setting[-1]
            if layer.get(sets) is None:
                if not last:
                    raise ConfigError(
                        f"{where} needs {sets} = <width>; only the last layer that sets a width "
                        f"(model.layer[{setting[-1]}], {specs[setting[-1]]['type']}) may leave "
                        "it to the data."
                    )
                layer[sets] = data.n_outputs
            if last and layer[sets] != data.n_outputs:
                raise ConfigError(
                    f"the last {kind} layer (model.layer[{i}]) outputs {layer[sets]} values but "
                    f"dataset {data.name!r} has {data.n_outputs} {what}; set {sets} = "
                    f"{data.n_outputs} or leave it out."
                )
        try:
            shape = entry.output_shape(shape, layer)
        except ValueError as err:
            raise ConfigError(f"{where} receives samples of shape {seen}: {err}.") from None
        out.append(layer)
    if shape != (data.n_outputs,):
        hint = (
            'add {type = "flatten"} before the linear head'
            if len(shape) > 1
            else f"end with a layer of {data.n_outputs} outputs"
        )
        raise ConfigError(
            f"the layers give each sample the shape {_shape_text(shape)}, but dataset "
            f"{data.name!r} needs ({data.n_outputs},) ({data.n_outputs} {what}); {hint}."
        )
    return out


def input_shape(layers: list[dict[str, Any]], recorded: Any = None) -> tuple[int, ...]:
    """The sample shape a model built from ``layers`` takes: ``recorded`` (a run's
    model.input_shape) when given, else (its first width-taking layer's in_field,) for a model
    that takes flat rows."""
    if recorded:
        return tuple(int(n) for n in recorded)
    return (input_width(layers),)


def input_width(layers: list[dict[str, Any]]) -> int:
    """The number of features a model built from ``layers`` takes when it takes flat rows (its
    first width-taking layer's ``in_field``); a model that starts with a convolution or
    pooling needs the recorded input shape (:func:`input_shape`) instead."""
    for i, spec in enumerate(layers):
        entry = nn_tables.LAYERS.get(spec.get("type", ""))
        if entry is None:
            continue
        if entry.ranks and 1 not in entry.ranks:
            raise ConfigError(
                f"the model starts with a {spec['type']} layer (model.layer[{i}]), which takes "
                "samples shaped as model.input_shape rather than rows of a width; use the input "
                "shape the run records (model.input_shape in its config.toml)."
            )
        if entry.in_field is not None:
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
    if data.input_shape:
        meta["input_shape"] = list(data.input_shape)
    if data.n_classes is not None:
        meta["n_classes"] = data.n_classes
    if data.scaler is not None and getattr(data.scaler, "mean_", None) is not None:
        meta["standardize"] = {
            "mean": [float(v) for v in np.asarray(data.scaler.mean_).ravel()],
            "scale": [float(v) for v in np.asarray(data.scaler.scale_).ravel()],
        }
    return meta
