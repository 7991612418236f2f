"""From a resolved configuration to the run's pieces: data, model, loss, optimizer, schedule and
stopping conditions. "auto" values are settled here, because they depend on the data."""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import AUTO, NONE, ConfigError

DEFAULT_LR = {
    "sgd": 0.1,
    "momentum": 0.05,
    "adagrad": 0.05,
    "rmsprop": 0.002,
    "adam": 0.003,
    "adamw": 0.003,
}
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
    loss, opt, sched, train = cfg["loss"], cfg["optimizer"], cfg["schedule"], cfg["train"]
    classification = data.task == "classification"
    if loss["name"] == AUTO:
        loss["name"] = "cross_entropy" if classification else "mse"
    if loss["name"] == "cross_entropy" and not classification:
        raise ConfigError(
            f"loss.name = 'cross_entropy' needs a classification dataset, but {data.name!r} is "
            "regression; use mse, sse or l1."
        )
    if loss["name"] != "cross_entropy" and classification:
        raise ConfigError(
            f"loss.name = {loss['name']!r} is a regression loss, but {data.name!r} is "
            "classification; use cross_entropy (the model outputs logits and the loss applies "
            "the softmax)."
        )
    if loss["label_smoothing"] == AUTO:
        loss["label_smoothing"] = 0.1 if loss["name"] == "cross_entropy" else 0.0
    elif loss["name"] != "cross_entropy" and loss["label_smoothing"]:
        raise ConfigError("loss.label_smoothing applies only to cross_entropy; remove it.")
    if loss["reduction"] == AUTO:
        loss["reduction"] = "sum" if loss["name"] == "sse" else "mean"
    name = opt["name"]
    if opt["lr"] == AUTO:
        opt["lr"] = DEFAULT_LR[name]
    if opt["momentum"] == AUTO:
        opt["momentum"] = 0.9 if name == "momentum" else 0.0
    if opt["weight_decay"] == AUTO:
        opt["weight_decay"] = 0.01 if name == "adamw" else 0.0
    if opt["eps"] == AUTO:
        opt["eps"] = 1e-10 if name == "adagrad" else 1e-8
    if sched["gamma"] == AUTO:
        sched["gamma"] = 0.95 if sched["name"] == "exponential" else 0.1
    total = train["epochs"] * steps_per_epoch(cfg, data)
    if sched["warmup_steps"] == AUTO:
        steps = round(sched["warmup_epochs"] * steps_per_epoch(cfg, data))
        sched["warmup_steps"] = int(min(steps, max(total - 1, 0)))
    elif (
        training
        and sched["name"] in ("warmup_cosine", "warmup_linear")
        and sched["warmup_steps"] >= total
    ):
        raise ConfigError(
            f"schedule.warmup_steps = {sched['warmup_steps']} leaves no steps for the decay: the "
            f"run has {total} steps (train.epochs × batches per epoch); shorten the warm-up or "
            "train longer."
        )
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
    if cfg["schedule"]["name"] == "plateau" and data.val is None:
        raise ConfigError(
            "schedule.name = 'plateau' watches val_loss, but there is no validation "
            "data; set data.val_fraction > 0 or pick another schedule."
        )
    return cfg


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
    layers: list[dict[str, Any]] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append({"type": "linear", "in": a, "out": b, "bias": True})
        if i < len(widths) - 2:
            layers.append(dict(act))
            if m["dropout"] > 0:
                layers.append({"type": "dropout", "p": m["dropout"]})
    if m["output_activation"] != "none":
        layers.append({"type": m["output_activation"]})
    return layers


def _explicit_layers(specs: list[dict[str, Any]], data: Data, what: str) -> list[dict[str, Any]]:
    linear_at = [i for i, s in enumerate(specs) if s["type"] == "linear"]
    if not linear_at:
        raise ConfigError('model.layer has no linear layer; add at least one {type="linear"}.')
    width = data.n_features
    out: list[dict[str, Any]] = []
    for i, spec in enumerate(specs):
        layer = dict(spec)
        if layer["type"] == "linear":
            given_in = layer.get("in")
            if given_in is not None and given_in != width:
                raise ConfigError(
                    f"model.layer[{i}] (linear) has in = {given_in} but receives {width} values "
                    f"(dataset {data.name!r} has {data.n_features} features); set in = {width} "
                    "or leave it out."
                )
            last = i == linear_at[-1]
            if layer.get("out") is None:
                if not last:
                    raise ConfigError(
                        f"model.layer[{i}] (linear) needs out = <width>; only the last linear "
                        "layer may leave it to the data."
                    )
                layer["out"] = data.n_outputs
            if last and layer["out"] != data.n_outputs:
                raise ConfigError(
                    f"the last linear layer (model.layer[{i}]) outputs {layer['out']} values but "
                    f"dataset {data.name!r} has {data.n_outputs} {what}; set out = "
                    f"{data.n_outputs} or leave it out."
                )
            layer["in"] = width
            width = layer["out"]
        elif layer["type"] == "batchnorm":
            layer["num_features"] = width
        out.append(layer)
    return out


def build_model(layers: list[dict[str, Any]], dtype: str = "float32") -> Any:
    """A ``gs.nn.Sequential`` from architecture tables (as :func:`architecture` writes them)."""
    from .. import nn

    modules = []
    for i, spec in enumerate(layers):
        kind = spec.get("type")
        if kind == "linear":
            modules.append(
                nn.Linear(int(spec["in"]), int(spec["out"]), bias=spec.get("bias", True))
            )
        elif kind == "relu":
            modules.append(nn.ReLU())
        elif kind == "sigmoid":
            modules.append(nn.Sigmoid())
        elif kind == "tanh":
            modules.append(nn.Tanh())
        elif kind == "gelu":
            modules.append(nn.GELU())
        elif kind == "leaky_relu":
            modules.append(nn.LeakyReLU(spec.get("negative_slope", 0.01)))
        elif kind == "dropout":
            modules.append(nn.Dropout(spec.get("p", 0.5)))
        elif kind == "flatten":
            modules.append(nn.Flatten())
        elif kind == "batchnorm":
            cls = getattr(nn, "BatchNorm1d", None)
            if cls is None:
                raise ConfigError(
                    f"model.layer[{i}]: batchnorm is not available in this version of gradstep; "
                    "remove the layer."
                )
            modules.append(
                cls(
                    int(spec["num_features"]),
                    eps=spec.get("eps", 1e-5),
                    momentum=spec.get("momentum", 0.1),
                )
            )
        else:
            raise ConfigError(f"layer {i} has an unknown type {kind!r}.")
    model = nn.Sequential(*modules)
    if dtype == "float64":
        model.double()
    return model


# -- loss, optimizer, schedule, stopping ---------------------------------------------------------


def build_loss(cfg: dict[str, Any]) -> Any:
    from .. import nn

    loss = cfg["loss"]
    red = loss["reduction"]
    if loss["name"] == "cross_entropy":
        return nn.CrossEntropyLoss(reduction=red, label_smoothing=loss["label_smoothing"])
    cls = {"mse": nn.MSELoss, "sse": nn.SSELoss, "l1": nn.L1Loss}[loss["name"]]
    return cls(reduction=red)


def build_optimizer(cfg: dict[str, Any], params: Any) -> Any:
    from .. import optim

    o = cfg["optimizer"]
    name = o["name"]
    try:
        if name in ("sgd", "momentum"):
            return optim.SGD(
                params,
                lr=o["lr"],
                momentum=o["momentum"],
                dampening=o["dampening"],
                weight_decay=o["weight_decay"],
                nesterov=o["nesterov"],
                momentum_form=o["momentum_form"],
            )
        if name == "adagrad":
            return optim.Adagrad(
                params,
                lr=o["lr"],
                lr_decay=o["lr_decay"],
                weight_decay=o["weight_decay"],
                initial_accumulator_value=o["initial_accumulator_value"],
                eps=o["eps"],
                eps_inside_sqrt=o["eps_inside_sqrt"],
            )
        if name == "rmsprop":
            return optim.RMSprop(
                params,
                lr=o["lr"],
                alpha=o["alpha"],
                eps=o["eps"],
                weight_decay=o["weight_decay"],
                momentum=o["momentum"],
                centered=o["centered"],
                eps_inside_sqrt=o["eps_inside_sqrt"],
            )
        cls = optim.Adam if name == "adam" else optim.AdamW
        return cls(
            params,
            lr=o["lr"],
            betas=tuple(o["betas"]),
            eps=o["eps"],
            weight_decay=o["weight_decay"],
            amsgrad=o["amsgrad"],
        )
    except (TypeError, ValueError) as err:
        raise ConfigError(f"optimizer ({name}): {err}") from None


def build_scheduler(cfg: dict[str, Any], optimizer: Any) -> Any:
    from ..optim import lr_scheduler as S

    s = cfg["schedule"]
    name = s["name"]
    try:
        if name == "none":
            return None
        if name == "warmup_cosine":
            return S.warmup_cosine(optimizer, s["warmup_steps"], min_lr=s["min_lr"])
        if name == "warmup_linear":
            return S.warmup_linear(optimizer, s["warmup_steps"], min_lr=s["min_lr"])
        if name == "warmup_constant":
            return S.warmup_constant(optimizer, s["warmup_steps"])
        if name == "step":
            return S.StepLR(optimizer, step_size=s["step_size"], gamma=s["gamma"])
        if name == "exponential":
            return S.ExponentialLR(optimizer, gamma=s["gamma"])
        if name == "cosine":
            return S.CosineAnnealingLR(optimizer, T_max=cfg["train"]["epochs"], eta_min=s["min_lr"])
        return S.ReduceLROnPlateau(
            optimizer, factor=s["factor"], patience=s["patience"], min_lr=s["min_lr"]
        )
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
    from ..io import CheckpointError, load, unpack
    from ..train.trainer import STATE_KIND
    from ._common import fail, find_model_files, load_run_config

    weights, config_path = find_model_files(target)
    cfg, meta = load_run_config(config_path)
    try:
        arrays, file_meta = load(weights)
    except CheckpointError as err:
        fail(str(err))
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
        linears = [s for s in layers if s.get("type") == "linear"]
        n_in, n_out = int(linears[0]["in"]), int(linears[-1]["out"])
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
