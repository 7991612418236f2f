"""Run configuration: one schema for the TOML file, the dotted flags and ``gradstep train --help``.

A run is described by nested TOML tables ([data], [model], [loss], [optimizer], [schedule],
[train], [stop], [output]); every key is also a flag (``--optimizer.lr 0.01``, ``-`` and ``_``
interchangeable) and flags override the file. Each key has a kind, a default, the values it
allows and a line of help. Defaults marked "auto" depend on the data or the optimizer; the
command line settles them when it builds the run and writes the values it used into the run's
config.toml, whose [meta] table (seed, versions, architecture) is ignored when it is read back.

The components come from one table per family (``optim.registry``: OPTIMIZERS, SCHEDULES;
``nn.registry``: LOSSES, LAYERS). The choices of ``optimizer.name`` and the like, which
``optimizer.*`` / ``schedule.*`` / ``loss.*`` key applies to which component (the constructor
takes a parameter of that name) and each such key's default (the constructor's, or the table's
CLI default; "auto" where they differ between components) are read from them when the schema
is read (``config_tables``), so an entry added to a table shows up everywhere.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import tomli_w

from . import config_tables as T
from .config_tables import AUTO, COMPONENT_SECTIONS
from .config_tables import FROM_TABLE as _TABLE
from .config_values import (
    NONE,
    ConfigError,
    Key,
    _check_layers,
    _check_table,
    _check_value,
    _cut,
    _shown,
    normalize_key,
)
from .nn import registry as nn_tables

__all__ = [
    "ACTIVATIONS",
    "AUTO",
    "COMPONENT_SECTIONS",
    "LAYER_FIELDS",
    "LOSSES",
    "NONE",
    "OPTIMIZERS",
    "SCHEDULES",
    "SCHEMA",
    "SECTIONS",
    "ConfigError",
    "Key",
    "LiveMapping",
    "component_keys",
    "config_hash",
    "defaults",
    "dumps",
    "format_help",
    "get",
    "load_file",
    "normalize_key",
    "parse_value",
    "resolve",
    "suggest_key",
    "settle_auto",
    "unused_keys",
]

SECTIONS = ("data", "model", "loss", "optimizer", "schedule", "train", "stop", "output")


_FILE_DATA = {"applies": lambda c: bool(c["data"]["path"]), "applies_text": "data.path is set"}
_BUILTIN = {"applies": lambda c: not c["data"]["path"], "applies_text": "data.path is not set"}
_MLP = {
    "applies": lambda c: not c["model"]["layer"],
    "applies_text": "no [[model.layer]] tables are given",
}
_HIDDEN = {
    "applies": lambda c: not c["model"]["layer"] and not c["model"]["layers"],
    "applies_text": "neither model.layers nor [[model.layer]] is given",
}
_EARLY = {
    "applies": lambda c: c["stop"]["patience"] != NONE,
    "applies_text": "stop.patience is set",
}


# Keys of the component sections: ``_TABLE`` defaults and where each applies come from the tables.
# fmt: off
_DECLARED: list[Key] = [
    # -- data
    Key("data.name", "str", "digits",
        "built-in dataset (list: gradstep datasets)", **_BUILTIN),
    Key("data.path", "str", "",
        "a .csv or .npz file to train on instead of a built-in dataset"),
    Key("data.target", "str", "label", "target column of the CSV file: a name, or an index "
        "such as -1 for the last column (npz: array 'y')", **_FILE_DATA),
    Key("data.delimiter", "str", "auto", "field separator of the CSV file (auto: a tab for "
        ".tsv and .tab files, else a comma; tab, or one character such as ';')", **_FILE_DATA),
    Key("data.task", "choice", "auto", "task of the file's target (auto: integers/strings are "
        "classes, other numbers regression)", choices=("auto", "classification", "regression"),
        **_FILE_DATA),
    Key("data.val_fraction", "float", 0.15, "share of the file's rows kept for validation",
        low=0.0, high=1.0, high_open=True, **_FILE_DATA),
    Key("data.test_fraction", "float", 0.15, "share of the file's rows kept for the test",
        low=0.0, high=1.0, high_open=True, **_FILE_DATA),
    Key("data.seed", "int", 0, "seed of the train/val/test split (and of generated data)",
        low=0),
    Key("data.standardize", "bool", True,
        "standardise the features with the training part's mean and std"),
    Key("data.batch_size", "batch", 32,
        'samples per step: 1 (stochastic), k (mini-batch) or "full" (full-batch)'),
    Key("data.shuffle", "bool", True, "reshuffle the training samples every epoch"),
    Key("data.options", "table", {},
        "dataset options, e.g. --data.options.noise 0.2 (see gradstep datasets)", **_BUILTIN),
    # -- model
    Key("model.hidden", "ints", [128, 64],
        "hidden layer widths of the MLP; input and output widths come from the data", **_HIDDEN),
    Key("model.layers", "ints", [],
        "all layer widths of the MLP, input and output included (instead of hidden)", **_MLP),
    Key("model.activation", "choice", "relu", "activation after each hidden layer",
        table="hidden activations", **_MLP),
    Key("model.output_activation", "choice", "none",
        "activation on the outputs (none: logits, which cross-entropy expects)",
        table="output activations", **_MLP),
    Key("model.dropout", "float", 0.0, "dropout probability after each hidden activation",
        low=0.0, high=1.0, high_open=True, **_MLP),
    Key("model.layer", "layers", [],
        "explicit layers, as [[model.layer]] tables: {type=\"linear\", out=128}, "
        "{type=\"relu\"}, {type=\"dropout\", p=0.2}, {type=\"conv2d\", out_channels=16, "
        "kernel_size=3}, {type=\"maxpool2d\", kernel_size=2}, {type=\"flatten\"}, ..."),
    Key("model.input_shape", "ints", [],
        "shape of one input sample, e.g. [1, 8, 8] for 64 features as a 1x8x8 image or [1, 40] "
        "for a 1-channel signal (each row of the data is reshaped to it); [] keeps flat features"),
    Key("model.dtype", "choice", "float32", "floating-point type of the weights",
        choices=("float32", "float64")),
    # -- loss
    Key("loss.name", "choice", AUTO, "loss", table="losses"),
    Key("loss.label_smoothing", "float", _TABLE,
        "label smoothing ε of the cross-entropy (0: plain loss)",
        low=0.0, high=1.0, high_open=True, auto=True),
    Key("loss.reduction", "choice", _TABLE, "how per-sample losses combine",
        choices=(AUTO, "mean", "sum")),
    # -- optimizer
    Key("optimizer.name", "choice", "adam", "optimizer", table="optimizers"),
    Key("optimizer.lr", "float", _TABLE, "learning rate (the textbook's α or η)", low=0.0),
    Key("optimizer.momentum", "float", _TABLE, "momentum coefficient μ", low=0.0, high=1.0,
        high_open=True),
    Key("optimizer.dampening", "float", _TABLE, "dampening of the momentum", low=0.0,
        high=1.0),
    Key("optimizer.nesterov", "bool", _TABLE, "Nesterov momentum"),
    Key("optimizer.momentum_form", "choice", _TABLE,
        "torch: buf = μ·buf + g, p -= lr·buf; textbook: v = μ·v + lr·g, p -= v",
        choices=("torch", "textbook")),
    Key("optimizer.weight_decay", "float", _TABLE, "L2 penalty (adamw: decoupled decay)",
        low=0.0),
    Key("optimizer.betas", "floats", _TABLE, "Adam's β1, β2", low=0.0, high=1.0,
        high_open=True, length=2),
    Key("optimizer.eps", "float", _TABLE, "term added to the denominator", low=0.0),
    Key("optimizer.amsgrad", "bool", _TABLE, "AMSGrad variant"),
    Key("optimizer.alpha", "float", _TABLE, "RMSprop's decay of the squared-gradient average",
        low=0.0, high=1.0, high_open=True),
    Key("optimizer.centered", "bool", _TABLE, "centred RMSprop"),
    Key("optimizer.eps_inside_sqrt", "bool", _TABLE, "textbook form: sqrt(v + eps)"),
    Key("optimizer.lr_decay", "float", _TABLE, "Adagrad's learning-rate decay", low=0.0),
    Key("optimizer.initial_accumulator_value", "float", _TABLE, "Adagrad's starting sum G0",
        low=0.0),
    # -- schedule
    Key("schedule.name", "choice", "warmup_cosine", "learning-rate schedule",
        table="schedules"),
    Key("schedule.warmup_epochs", "float", 1.0,
        "warm-up length in epochs (when warmup_steps is auto)", low=0.0, param="warmup_steps"),
    Key("schedule.warmup_steps", "int", AUTO,
        "warm-up length in optimizer steps (auto: warmup_epochs × batches per epoch)", low=0,
        auto=True),
    Key("schedule.min_lr", "float", _TABLE, "learning rate at the end of the decay", low=0.0),
    Key("schedule.step_size", "int", _TABLE, "epochs between two decays", low=1),
    Key("schedule.gamma", "float", _TABLE, "decay factor", low=0.0, high=1.0, low_open=True),
    Key("schedule.factor", "float", _TABLE, "lr factor when the validation loss plateaus",
        low=0.0, high=1.0, low_open=True, high_open=True),
    Key("schedule.patience", "int", _TABLE, "epochs without improvement before the lr drops",
        low=0),
    # -- train
    Key("train.epochs", "int", 20, "epochs to train (the total, when resuming)", low=1),
    Key("train.seed", "int", 0,
        "seed of the initial weights and the shuffling (-1: a random seed, recorded)", low=-1),
    Key("train.verbose", "int", 1, "0 silent, 1 progress (a line per epoch), 2 a line per epoch",
        low=0, high=2),
    Key("train.metrics", "strs", AUTO, "metrics to report (auto: accuracy for classification; "
        "mse, mae, r2 for regression); also top5_accuracy", auto=True),
    Key("train.grad_clip", "float", 0.0, "clip the gradient norm to this value (0: off)",
        low=0.0),
    Key("train.threads", "int", 0,
        "CPU threads of the linear algebra (0: the library's default; 1 is often fastest for "
        "small networks or a busy machine)", low=0),
    Key("train.capture", "bool", True,
        "record each batch's forward and backward once and replay it without the engine "
        "(gs.capture; the same numbers; false: every step eager)"),
    Key("train.save_every", "int", 1,
        "write state.safetensors every N epochs, so a killed run can be resumed (0: only at the "
        "end and on Ctrl-C or SIGTERM)", low=0),
    # -- stop
    Key("stop.target_loss", "float", NONE, "stop when the training loss reaches this value",
        optional=True),
    Key("stop.max_error", "float", NONE, "stop when the largest |t - o| on the training set "
        "falls under this tolerance (the textbook's rule)", low=0.0, low_open=True,
        optional=True),
    Key("stop.patience", "int", NONE,
        "early stopping: epochs without improvement of stop.monitor", low=0, optional=True),
    Key("stop.monitor", "str", "val_loss", "value early stopping watches", **_EARLY),
    Key("stop.min_delta", "float", 0.0, "smallest change that counts as an improvement",
        low=0.0, **_EARLY),
    Key("stop.restore_best", "bool", False, "restore the best epoch's weights when stopping",
        **_EARLY),
    Key("stop.time_budget", "float", NONE, "stop after this many seconds of training",
        low=0.0, low_open=True, optional=True),
    # -- output
    Key("output.dir", "str", "runs", "folder that holds the run directories"),
    Key("output.name", "str", "",
        "run directory name (empty: time and a hash of the config; never overwrites)"),
    Key("output.plot", "bool", True, "draw curves.png (needs matplotlib)"),
]
# fmt: on

# common misspellings whose closest key difflib would not find
_ALIASES = {
    "learning_rate": "optimizer.lr",
    "lr": "optimizer.lr",
    "batch": "data.batch_size",
    "batch_size": "data.batch_size",
    "epochs": "train.epochs",
    "epoch": "train.epochs",
    "dataset": "data.name",
    "seed": "train.seed",
    "optimizer": "optimizer.name",
    "loss": "loss.name",
    "hidden": "model.hidden",
    "layers": "model.layers",
    "activation": "model.activation",
    "weight_decay": "optimizer.weight_decay",
    "schedule": "schedule.name",
    "scheduler": "schedule.name",
    "warmup": "schedule.warmup_steps",
    "warmup_steps": "schedule.warmup_steps",
    "patience": "stop.patience",
    "out": "output.dir",
    "output": "output.dir",
    "dir": "output.dir",
    "metrics": "train.metrics",
}


# -- the component tables ------------------------------------------------------------------------

_built: dict[str, Any] = {"stamp": None, "keys": [], "schema": {}}


def _keys() -> list[Key]:
    """Every key, completed from the tables as they are now (rebuilt when an entry changes)."""
    stamp = T.stamp()
    if _built["stamp"] != stamp:
        keys = [T.complete(k) for k in _DECLARED]
        _built.update(stamp=stamp, keys=keys, schema={k.path: k for k in keys})
    return _built["keys"]


def _schema() -> dict[str, Key]:
    _keys()
    return _built["schema"]


def component_keys(section: str) -> list[Key]:
    """The keys of a component section that are its components' parameters (all but name)."""
    return [k for k in _keys() if k.section == section and k.name != "name"]


def settle_auto(cfg: dict[str, Any], section: str) -> None:
    """Replace the "auto" values of a component section in place with the chosen entry's
    defaults (``schedule.warmup_steps``, which depends on the data, is settled before)."""
    T.settle_auto(cfg, section, component_keys(section))


class LiveMapping(Mapping[str, Any]):
    """A read-only mapping computed from the tables whenever it is read."""

    def __init__(self, compute: Callable[[], Mapping[str, Any]]) -> None:
        self._compute = compute

    def __getitem__(self, name: str) -> Any:
        return self._compute()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._compute())

    def __len__(self) -> int:
        return len(self._compute())

    def __repr__(self) -> str:
        return repr(dict(self._compute()))


class _LiveNames(Sequence[str]):
    """A read-only tuple of names computed from the tables whenever it is read."""

    def __init__(self, compute: Callable[[], Sequence[str]]) -> None:
        self._compute = compute

    def __getitem__(self, i: Any) -> Any:
        return tuple(self._compute())[i]

    def __len__(self) -> int:
        return len(self._compute())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _LiveNames | tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(tuple(self._compute()))


def _layer_fields() -> dict[str, dict[str, tuple[str, Any]]]:
    return {
        name: {f: (spec.kind, entry.field_defaults()[f]) for f, spec in entry.fields.items()}
        for name, entry in nn_tables.LAYERS.items()
    }


SCHEMA: Mapping[str, Key] = LiveMapping(_schema)
"""Every key by path, read from the tables (an entry added to a table shows up here)."""
OPTIMIZERS: Sequence[str] = _LiveNames(lambda: tuple(T.components("optimizer")))
SCHEDULES: Sequence[str] = _LiveNames(lambda: tuple(T.components("schedule")))
LOSSES: Sequence[str] = _LiveNames(lambda: _schema()["loss.name"].choices)
ACTIVATIONS: Sequence[str] = _LiveNames(lambda: _schema()["model.activation"].choices)
LAYER_FIELDS: Mapping[str, dict[str, tuple[str, Any]]] = LiveMapping(_layer_fields)
"""type -> field -> (kind, default); a None default is required or filled in from the width."""


# -- helpers -------------------------------------------------------------------------------------


def suggest_key(path: str) -> str | None:
    """The valid key closest to ``path``: by a known alias, then by difflib within the section,
    then over all keys; None when nothing is close."""
    section, _, last = normalize_key(path).rpartition(".")
    if last in _ALIASES:
        return _ALIASES[last]
    alias = difflib.get_close_matches(last, list(_ALIASES), n=1, cutoff=0.85)
    if alias:
        return _ALIASES[alias[0]]
    keys = _keys()
    names = {k.name: k.path for k in keys if k.section == section}
    close = difflib.get_close_matches(last, list(names), n=1, cutoff=0.6)
    if close:
        return names[close[0]]
    close = difflib.get_close_matches(normalize_key(path), list(SCHEMA), n=1, cutoff=0.6)
    if close:
        return close[0]
    everywhere = {k.name: k.path for k in keys}
    close = difflib.get_close_matches(last, list(everywhere), n=1, cutoff=0.75)
    return everywhere[close[0]] if close else None


def _did_you_mean(path: str, prefix: str = "") -> str:
    best = suggest_key(path)
    return f"; did you mean {prefix}{best}?" if best else ""


def defaults() -> dict[str, Any]:
    """The default configuration as nested dicts (fresh copies)."""
    cfg: dict[str, Any] = {s: {} for s in SECTIONS}
    for key in _keys():
        cfg[key.section][key.name] = _copy(key.default)
    return cfg


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def get(cfg: Mapping[str, Any], path: str) -> Any:
    """``get(cfg, "optimizer.lr")``: the value of a dotted key."""
    section, name = path.split(".", 1)
    return cfg[section][name]


def parse_value(text: str) -> Any:
    """A flag's text as a TOML value when it is one (``0.01``, ``true``, ``[64, 10]``), else the
    text itself (``digits``, ``64,128,10``)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


# -- reading -------------------------------------------------------------------------------------


def load_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML config file as nested dicts; a missing or malformed file is a ConfigError."""
    spath = os.fspath(path)
    if os.path.isdir(spath):
        inner = os.path.join(spath, "config.toml")
        if not os.path.isfile(inner):
            raise ConfigError(f"{spath} is a folder without a config.toml; pass a .toml file.")
        spath = inner
    try:
        with open(spath, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(
            f"config file {spath} does not exist; check the path (examples/ holds ready configs)."
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{spath} is a folder; pass a .toml file.") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{spath} is not valid TOML ({err}); fix the file.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{spath} is not a UTF-8 text file; pass a .toml config.") from None
    except RecursionError:
        raise ConfigError(
            f"{spath} nests arrays or tables too deeply to read; fix the file."
        ) from None
    return data


def _merge_file(cfg: dict[str, Any], data: Mapping[str, Any], where: str, explicit: set[str]):
    for section, table in data.items():
        sec = normalize_key(section)
        if sec == "meta":
            continue  # written by a run for the record; never read back
        if sec not in SECTIONS:
            close = difflib.get_close_matches(sec, SECTIONS, n=1)
            hint = f"; did you mean [{close[0]}]?" if close else ""
            raise ConfigError(
                f"unknown section [{_cut(section)}] in {where}{hint} (sections: "
                f"{', '.join(SECTIONS)})."
            )
        if not isinstance(table, dict):
            raise ConfigError(
                f"{section} in {where} must be a table ([{section}] with keys under it), got "
                f"{_shown(table)}."
            )
        for name, value in table.items():
            path = f"{sec}.{normalize_key(name)}"
            key = SCHEMA.get(path)
            if key is None:
                raise ConfigError(
                    f"unknown key {_cut(section)}.{_cut(name)} in {where}{_did_you_mean(path)}"
                )
            origin = f"{path} in {where}"
            cfg[sec][key.name] = _checked(key, value, origin)
            explicit.add(path)


def _checked(key: Key, value: Any, origin: str) -> Any:
    if key.kind == "table":
        return _check_table(key, value, origin)
    if key.kind == "layers":
        return _check_layers(value, origin)
    return _check_value(key, value, origin)


def _apply_flags(cfg: dict[str, Any], flags: Iterable[tuple[str, str]], explicit: set[str]):
    for flag, text in flags:
        path = normalize_key(flag.lstrip("-"))
        if path.startswith("data.options."):
            name = path.removeprefix("data.options.")
            cfg["data"]["options"][name] = parse_value(text)
            explicit.add("data.options")
            continue
        key = SCHEMA.get(path)
        if key is None:
            raise ConfigError(
                f"unknown option --{flag.lstrip('-')}{_did_you_mean(path, '--')} (all options: "
                "gradstep train --help)"
            )
        origin = f"--{path}"
        if key.kind in ("str", "choice", "batch"):
            value: Any = text
        else:
            value = parse_value(text)
            if key.kind in ("ints", "floats", "strs") and isinstance(value, str | int | float):
                value = text if isinstance(value, str) else [value]
        cfg[key.section][key.name] = _checked(key, value, origin)
        explicit.add(path)


def resolve(
    data: Mapping[str, Any] | None = None,
    flags: Iterable[tuple[str, str]] = (),
    source: str = "the config file",
    strict: bool = True,
) -> tuple[dict[str, Any], set[str]]:
    """Defaults, then the file's ``data``, then ``flags`` ((name, text) pairs, e.g.
    ("optimizer.lr", "0.01")); every value checked. Returns (config, keys set explicitly).

    With ``strict``, a key set to a non-default value where it is unused (``optimizer.betas``
    with sgd) is an error, so that nothing given is silently ignored. A run's config.toml (a
    file with a [meta] table) holds the values the run settled, not only those its user chose:
    a flag that picks another component of a section gives that component its own defaults
    (``RUN/config.toml --optimizer.name sgd`` drops Adam's settled lr and eps), a file value
    that no longer applies is dropped instead of refused, and the component sections' settled
    values are not counted as set explicitly.
    """
    cfg = defaults()
    from_file: set[str] = set()
    if data:
        _merge_file(cfg, data, source, from_file)
    chosen = {section: cfg[section]["name"] for section in COMPONENT_SECTIONS}
    from_flags: set[str] = set()
    _apply_flags(cfg, flags, from_flags)
    if data and "meta" in data:
        from_file = _forget_settled(cfg, chosen, from_file, from_flags)
    explicit = from_file | from_flags
    if strict:
        for path in sorted(explicit):
            key = SCHEMA[path]
            if key.applies is not None and not key.applies(cfg) and get(cfg, path) != key.default:
                where = "" if path in from_flags else f" in {source}"
                raise ConfigError(
                    f"{path} is set{where} but only used when {key.applies_text}; remove it or "
                    "change that setting."
                )
    return cfg, explicit


def _forget_settled(
    cfg: dict[str, Any], chosen: Mapping[str, str], from_file: set[str], from_flags: set[str]
) -> set[str]:
    """For a run's config.toml: reset the file's values that described the run rather than a
    choice (a switched component's settled parameters, keys that no longer apply) and return
    the file keys that still count as set (component parameters never do)."""
    kept = set(from_file)
    for section, name in chosen.items():
        if f"{section}.name" in from_flags and cfg[section]["name"] != name:
            for key in component_keys(section):
                if key.path in kept and key.path not in from_flags:
                    cfg[section][key.name] = _copy(key.default)
                    kept.discard(key.path)
    for path in sorted(kept - from_flags):
        key = SCHEMA[path]
        if key.applies is not None and not key.applies(cfg):
            cfg[key.section][key.name] = _copy(key.default)
            kept.discard(path)
    settled = {k.path for s in COMPONENT_SECTIONS for k in component_keys(s)}
    return kept - settled


def unused_keys(cfg: Mapping[str, Any]) -> set[str]:
    """Keys that do not apply to this configuration (left out of a run's config.toml)."""
    return {k.path for k in _keys() if k.applies is not None and not k.applies(cfg)}


# -- writing -------------------------------------------------------------------------------------


def _toml_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _toml_ready(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_toml_ready(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value


def dumps(cfg: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> str:
    """The configuration as TOML (unused keys left out), with an optional [meta] table last."""
    skip = unused_keys(cfg)
    out: dict[str, Any] = {}
    for section in SECTIONS:
        table = {}
        for name, value in cfg[section].items():
            if f"{section}.{name}" in skip:
                continue
            if name in ("options", "layer") and not value:
                continue
            table[name] = value
        out[section] = table
    if meta:
        out["meta"] = dict(meta)
    return _compact_arrays(tomli_w.dumps(_toml_ready(out)))


def _compact_arrays(text: str, width: int = 100) -> str:
    """Put arrays of plain values (tomli_w writes one item per line) on one line, ``[64, 10]``,
    or, when that is too long, several items per line."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.endswith(" = ["):
            j = i + 1
            items = []
            while j < len(lines) and lines[j].startswith("    ") and lines[j].endswith(","):
                items.append(lines[j].strip()[:-1])
                j += 1
            if j < len(lines) and lines[j] == "]" and all("[" not in it for it in items):
                joined = f"{line}{', '.join(items)}]"
                if len(joined) <= width:
                    out.append(joined)
                    i = j + 1
                    continue
                if all("{" not in it for it in items):
                    out.append(line)
                    row = "   "
                    for it in items:
                        if len(row) + len(it) + 2 > width:
                            out.append(row)
                            row = "   "
                        row += f" {it},"
                    out.append(row)
                    out.append("]")
                    i = j + 1
                    continue
        out.append(line)
        i += 1
    return "\n".join(out)


def config_hash(cfg: Mapping[str, Any]) -> str:
    """A short hash of what the run computes (the output section left out)."""
    body = {s: cfg[s] for s in SECTIONS if s != "output"}
    text = json.dumps(_toml_ready(body), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def _shown_default(key: Key) -> str:
    d = key.default
    if isinstance(d, list):
        return ",".join(str(x) for x in d) if d else "[]"
    if isinstance(d, bool):
        return "true" if d else "false"
    if d == "":
        return '""'
    if isinstance(d, dict):
        return "{}"
    return str(d)


def format_help(width: int = 100) -> str:
    """Every key of the schema with its default and help, grouped by section."""
    lines = []
    metavars = {
        "int": "N",
        "float": "X",
        "bool": "BOOL",
        "str": "TEXT",
        "ints": "N,N,..",
        "floats": "X,X",
        "strs": "A,B",
        "batch": "N|full",
        "table": "",
        "layers": "TOML",
    }
    for section in SECTIONS:
        lines.append(f"[{section}]")
        for key in (k for k in _keys() if k.section == section):
            meta = metavars.get(key.kind, "")
            if key.kind == "choice":
                meta = "|".join(key.choices) if len("|".join(key.choices)) <= 24 else "NAME"
            flag = f"--{key.path}" + (".NAME VALUE" if key.kind == "table" else f" {meta}")
            default = _shown_default(key)
            text = key.help
            if key.kind == "choice" and meta == "NAME":
                text += f" ({', '.join(key.choices)})"
            if key.applies_text:
                text += f" [when {key.applies_text}]"
            lines.append(f"  {flag:<40} {default:<13} {text}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
