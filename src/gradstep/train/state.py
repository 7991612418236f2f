"""The whole training state as (arrays, JSON metadata): what ``Trainer.save`` writes in one file.

Layout: the model's weights under ``"model."`` (``"model.0.weight"``), the optimizer's arrays
under ``"optim.state.<i>.<name>"``, and a callback's arrays (EarlyStopping's best weights) under
``"callbacks.<key>.<name>"``, the samples ``validation_split`` held out under
``"validation_indices"``, a fitted standardisation under ``"preprocessing.mean"`` /
``"preprocessing.scale"``; numbers, settings, the RNG, the History and every callback's
``state_dict()`` go into the metadata, arrays referred to by name. Files written by gradstep 0.1.0
(stopping conditions kept apart from callbacks) still load.

>>> arrays, meta = training_state(trainer)
>>> gs.save(arrays, "state.safetensors", metadata=meta)
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import random as _random
from ..io import CheckpointError
from ..json_codec import ArrayRef, decode_json, encode_json

__all__ = [
    "STATE_KIND",
    "callback_key",
    "load_optimizer_state",
    "pack",
    "restore_training_state",
    "save_optimizer_state",
    "training_state",
    "unpack",
]

STATE_KIND = "gradstep.training_state"


# -- named groups of arrays -----------------------------------------------------------------------


def pack(groups: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Join named groups into one mapping: {"model": {"0.weight": w}} -> {"model.0.weight": w}.

    Values pass through unchanged; a name produced twice is an error.
    """
    flat: dict[str, Any] = {}
    for prefix, group in groups.items():
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"group name {prefix!r} must be a non-empty string, e.g. 'model'.")
        if not isinstance(group, Mapping):
            raise TypeError(
                f"group {prefix!r} must be a dict of name -> array, got {type(group).__name__}."
            )
        for name, value in group.items():
            key = f"{prefix.rstrip('.')}.{name}"
            if key in flat:
                raise ValueError(
                    f"name {key!r} occurs twice when packing; rename one of the groups or arrays."
                )
            flat[key] = value
    return flat


def unpack(mapping: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The entries under ``prefix``, stripped of it: ``unpack(m, "model")`` -> ``{"0.weight": w}``.

    A trailing dot on ``prefix`` is optional; entries under other prefixes are left out.
    """
    if not isinstance(prefix, str) or not prefix.strip("."):
        raise ValueError(f"prefix must be a non-empty string such as 'model', got {prefix!r}.")
    head = prefix.rstrip(".") + "."
    return {k[len(head) :]: v for k, v in mapping.items() if k.startswith(head)}


def _as_array(value: Any, scalars: bool) -> np.ndarray | None:
    if isinstance(value, np.ndarray):
        return value
    if scalars and isinstance(value, np.generic):
        return np.asarray(value)
    data = getattr(value, "data", None)
    return data if isinstance(data, np.ndarray) and hasattr(value, "grad") else None


def _split(value: Any, key: str, arrays: dict[str, np.ndarray], scalars: bool) -> Any:
    """``value`` with every array replaced by an :class:`ArrayRef` to ``arrays[key...]``."""
    array = _as_array(value, scalars)
    if array is not None:
        if key in arrays:
            raise ValueError(f"state name {key!r} occurs twice; rename the entry.")
        arrays[key] = array
        return ArrayRef(key)
    if isinstance(value, Mapping):
        return {k: _split(v, f"{key}.{k}", arrays, scalars) for k, v in value.items()}
    if isinstance(value, list | tuple):
        parts = [_split(v, f"{key}.{i}", arrays, scalars) for i, v in enumerate(value)]
        return parts if isinstance(value, list) else tuple(parts)
    return value


def _join(json_part: Any, arrays: Mapping[str, Any], what: str) -> Any:
    try:
        return decode_json(json_part, arrays)
    except KeyError as e:
        raise CheckpointError(
            f"{what} refers to array {e.args[0]!r}, which the checkpoint does not hold; save the "
            "training state again."
        ) from None
    except (TypeError, ValueError) as e:
        raise CheckpointError(
            f"{what} in the checkpoint cannot be decoded ({e}); save the training state again."
        ) from None


# -- optimizer state ------------------------------------------------------------------------------


def save_optimizer_state(
    state_dict: Mapping[str, Any], prefix: str = "optim"
) -> tuple[dict[str, np.ndarray], Any]:
    """Split a torch-style optimizer ``state_dict()`` into (arrays, JSON part); writes no file.

    ``{"state": {idx: {name: array_or_number}}, "param_groups": [...]}`` gives arrays named
    ``"<prefix>.state.<idx>.<name>"`` (NumPy scalars become 0-d arrays, keeping their dtype) and a
    JSON-able value holding everything else (numbers, param_groups, and a reference to each array).
    Pass the arrays to ``gs.save`` (merged with the model's) and the JSON part inside its metadata;
    :func:`load_optimizer_state` rebuilds the state dict exactly.
    """
    if not isinstance(state_dict, Mapping) or not isinstance(state_dict.get("state"), Mapping):
        raise TypeError(
            "state_dict must be an optimizer state_dict with a 'state' dict and 'param_groups'; "
            "pass optimizer.state_dict()."
        )
    if not isinstance(prefix, str) or not prefix.strip("."):
        raise ValueError(f"prefix must be a non-empty string such as 'optim', got {prefix!r}.")
    head = prefix.rstrip(".")
    arrays: dict[str, np.ndarray] = {}
    state: dict[Any, dict[str, Any]] = {}
    for idx, entries in state_dict["state"].items():
        if not isinstance(entries, Mapping):
            raise TypeError(
                f"optimizer state for parameter {idx!r} must be a dict of name -> value, got "
                f"{type(entries).__name__}."
            )
        state[idx] = {
            name: _split(value, f"{head}.state.{idx}.{name}", arrays, scalars=True)
            for name, value in entries.items()
        }
    rest = dict(state_dict)
    rest["state"] = state
    return arrays, encode_json(rest, "optimizer state")


def load_optimizer_state(arrays: Mapping[str, Any], json_part: Any) -> dict[str, Any]:
    """Rebuild the optimizer state dict from :func:`save_optimizer_state`'s two parts.

    ``arrays`` may be the whole loaded mapping (model weights too); only the names the JSON part
    refers to are used.
    """
    return _join(json_part, arrays, "optimizer state")


# -- the trainer's whole state --------------------------------------------------------------------


def callback_key(cb: Any, callbacks: list[Any]) -> str:
    """A callback's name in a saved state: its class and its place among those of its class
    (``"EarlyStopping.0"``), so that a resumed run built the same way finds its state."""
    same = [c for c in callbacks if type(c) is type(cb)]
    return f"{type(cb).__name__}.{same.index(cb)}"


def training_state(trainer: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(arrays, metadata) of the trainer's whole state: a snapshot, copied where it could change.

    Every stateful callback (stopping conditions included) saves through its ``state_dict()``."""
    arrays = pack({"model": trainer.model.state_dict()})
    opt_arrays, opt_json = save_optimizer_state(trainer.optimizer.state_dict(), prefix="optim")
    arrays.update(opt_arrays)
    cb_states: dict[str, Any] = {}
    user = trainer.stateful_callbacks()
    for cb in user:
        st = cb.state_dict()
        if st:
            key = callback_key(cb, user)
            cb_states[key] = encode_json(
                _split(st, f"callbacks.{key}", arrays, scalars=False), f"callback {key}"
            )
    arrays = {k: np.array(v, copy=True) for k, v in arrays.items()}
    meta = {
        "kind": STATE_KIND,
        "epoch": trainer.epoch,
        "global_step": trainer.global_step,
        "optimizer": opt_json,
        "scheduler": None if trainer.scheduler is None else trainer.scheduler.state_dict(),
        "rng": _random.get_rng_state(),
        "loader_seed": trainer.loader_seed,
        "history": copy.deepcopy(trainer.history.state_dict()),
        "callbacks": cb_states,
        "schedule_sized_by_fit": trainer.schedule_sized_by_fit,
    }
    if trainer.scaler is not None:  # what standardize=True fitted travels with the weights
        arrays["preprocessing.mean"] = np.asarray(trainer.scaler.mean_)
        arrays["preprocessing.scale"] = np.asarray(trainer.scaler.scale_)
    if trainer.validation_indices is not None:
        arrays["validation_indices"] = np.array(trainer.validation_indices, dtype=np.int64)
    return arrays, meta


def restore_training_state(
    trainer: Any, arrays: Mapping[str, Any], meta: Any, path: str
) -> dict[str, Any]:
    """Put a loaded state back into the trainer's model, optimizer, scheduler, counters, RNG and
    History; returns the callbacks' states by key, for the next ``fit`` to hand to its callbacks."""
    if not isinstance(meta, dict) or meta.get("kind") != STATE_KIND:
        raise CheckpointError(
            f"{path} is not a training state (it holds weights only?); pass a file written by "
            "Trainer.save, or load weights with model.load_state_dict(gs.load(path))."
        )
    trainer.model.load_state_dict(unpack(arrays, "model"))
    trainer.optimizer.load_state_dict(load_optimizer_state(arrays, meta["optimizer"]))
    if trainer.scheduler is not None and meta.get("scheduler") is not None:
        trainer.scheduler.load_state_dict(meta["scheduler"])
    _random.set_rng_state(meta["rng"])
    trainer.epoch = int(meta["epoch"])
    trainer.global_step = int(meta["global_step"])
    trainer.loader_seed = meta.get("loader_seed")
    trainer.history.load_state_dict(meta.get("history", {}))
    trainer.schedule_sized_by_fit = bool(meta.get("schedule_sized_by_fit", False))
    if "preprocessing.mean" in arrays:
        from ..data.split import Standardizer

        scaler = Standardizer()
        scaler.mean_ = np.asarray(arrays["preprocessing.mean"], dtype=np.float64)
        scaler.scale_ = np.asarray(arrays["preprocessing.scale"], dtype=np.float64)
        trainer.scaler = scaler
    held_out = arrays.get("validation_indices")
    trainer.validation_indices = None if held_out is None else np.asarray(held_out)
    states = {
        key: _join(st, arrays, f"the state of callback {key}")
        for key, st in (meta.get("callbacks") or {}).items()
    }
    states.update(_legacy_stopping(meta.get("stopping"), arrays))
    return states


def _legacy_stopping(entries: Any, arrays: Mapping[str, Any]) -> dict[str, Any]:
    """States of 0.1.0's separately saved stopping conditions, keyed as callbacks now are. Only
    EarlyStopping kept arrays then (its best weights, under "stop.<i>.<name>")."""
    states: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries or []):
        cls = entry.get("class", "")
        key = f"{cls}.{seen.get(cls, 0)}"
        seen[cls] = seen.get(cls, 0) + 1
        state = dict(entry.get("state", {}))
        if entry.get("arrays"):
            state["best_weights"] = {k: arrays[f"stop.{i}.{k}"] for k in entry["arrays"]}
        states[key] = state
    return states
