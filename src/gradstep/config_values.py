"""A configuration key and the checking of one value against it: kinds, ranges, choices,
"auto" / "none", tables and [[model.layer]] lists, each bad value refused with one sentence that
names the key and the fix. ``config.py`` holds the schema built from these keys and reads,
resolves and writes whole configurations.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import validate
from .components import find
from .config_tables import AUTO
from .nn import registry as nn_tables

__all__ = ["METRICS", "NONE", "ConfigError", "Key", "normalize_key"]

NONE = "none"
METRICS = ("accuracy", "precision", "recall", "f1", "mse", "mae", "r2", "max_error")
"""The metric names ``train.metrics`` takes (and topK_accuracy)."""


class ConfigError(ValueError):
    """A config file or flag is wrong; the message names the key (or file) and the fix."""


@dataclass(frozen=True)
class Key:
    """One configuration key: ``path`` is "section.name"; ``kind`` one of int, float, bool, str,
    choice, ints, floats, strs, batch, table, layers. ``auto`` / ``optional`` allow the strings
    "auto" / "none"; ``applies`` says when the key is used (unused keys are left out of a run's
    config.toml, and setting one to a non-default value is an error). In a component section,
    ``param`` names the constructor parameter that decides where the key applies (default: the
    key's name); ``table`` names the table a choice key's choices come from; ``aliases`` pairs
    other accepted spellings with a choice."""

    path: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    auto: bool = False
    optional: bool = False
    length: int | None = None
    applies: Callable[[dict], bool] | None = None
    applies_text: str = ""
    param: str | None = None
    table: str = ""
    aliases: tuple[tuple[str, str], ...] = ()

    @property
    def section(self) -> str:
        return self.path.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.path.split(".", 1)[1]


def normalize_key(text: str) -> str:
    """``optimizer.weight-decay`` -> ``optimizer.weight_decay`` (``-`` and ``_`` are the same)."""
    return text.strip().replace("-", "_").lower()


def _range_text(key: Key) -> str:
    parts = []
    if key.low is not None:
        parts.append(f"{'>' if key.low_open else '>='} {key.low:g}")
    if key.high is not None:
        parts.append(f"{'<' if key.high_open else '<='} {key.high:g}")
    return " and ".join(parts)


def _in_range(key: Key, v: float) -> bool:
    if key.low is not None and (v < key.low or (key.low_open and v == key.low)):
        return False
    if key.high is not None and (v > key.high or (key.high_open and v == key.high)):
        return False
    return True


def _expect(key: Key) -> str:
    kinds = {
        "int": "an integer",
        "float": "a number",
        "bool": "true or false",
        "str": "a string",
        "choice": "one of " + ", ".join(key.choices),
        "ints": "a list of integers (64,128,10)",
        "floats": "a list of numbers",
        "strs": "a list of names (accuracy,f1)",
        "batch": 'a positive integer or "full"',
        "table": "a table of options",
        "layers": "a list of layer tables",
    }
    text = kinds[key.kind]
    if key.kind in ("int", "float", "floats") and _range_text(key):
        text += " " + _range_text(key)
    if key.length:
        text += f" ({key.length} of them)"
    extra = [s for s, ok in ((AUTO, key.auto), (NONE, key.optional)) if ok]
    if extra:
        text += " or " + " / ".join(f'"{s}"' for s in extra)
    return text


class _Bad(Exception):
    """Internal: a value does not fit its key (turned into a ConfigError naming the origin)."""


def _number(v: Any, integer: bool) -> float | int:
    """A number from TOML or from a flag's text; the checks are ``validate``'s, the message the
    caller's (which names the key and where it was set)."""
    if isinstance(v, str):
        try:
            v = int(v) if integer else float(v)
        except ValueError:
            raise _Bad from None
    if integer and isinstance(v, float) and v.is_integer():
        v = int(v)
    try:
        return validate.integer("value", v) if integer else validate.real("value", v)
    except (TypeError, ValueError):
        raise _Bad from None


def _boolean(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        low = v.strip().lower()
        if low in ("true", "yes", "on", "1"):
            return True
        if low in ("false", "no", "off", "0"):
            return False
    raise _Bad


def _listed(v: Any) -> list[Any]:
    if isinstance(v, list):
        return v
    if isinstance(v, str):
        text = v.strip().strip("[]")
        return [p.strip() for p in text.split(",") if p.strip()] if text else []
    return [v]


def _check(key: Key, v: Any) -> Any:
    """The value ``v`` converted to ``key``'s kind; raises _Bad when it does not fit."""
    if key.auto and isinstance(v, str) and v.strip().lower() == AUTO:
        return AUTO
    if key.optional and isinstance(v, str) and v.strip().lower() in (NONE, "off"):
        return NONE
    kind = key.kind
    if kind in ("int", "float"):
        n = _number(v, kind == "int")
        if not _in_range(key, n):
            raise _Bad
        return n
    if kind == "bool":
        return _boolean(v)
    if kind == "str":
        if not isinstance(v, str):
            raise _Bad
        return v
    if kind == "choice":
        if not isinstance(v, str):
            raise _Bad
        low = v.strip().lower().replace("-", "_")
        low = dict(key.aliases).get(low, low)
        if low not in key.choices:
            raise _Bad
        return low
    if kind == "batch":
        if isinstance(v, str) and v.strip().lower() == "full":
            return "full"
        n = _number(v, True)
        if n < 1:
            raise _Bad
        return n
    if kind in ("ints", "floats"):
        out = [_number(x, kind == "ints") for x in _listed(v)]
        if kind == "ints" and any(x < 1 for x in out):
            raise _Bad
        if kind == "floats" and not all(_in_range(key, x) for x in out):
            raise _Bad
        if key.length is not None and len(out) != key.length:
            raise _Bad
        return out
    if kind == "strs":
        out = _listed(v)
        if not all(isinstance(x, str) and x for x in out):
            raise _Bad
        return [x.strip().lower() for x in out]
    raise AssertionError(kind)  # tables and layers are checked by their own functions


def _shown(value: Any, limit: int = 60) -> str:
    """A value from a file for a message: as written (strings quoted), cut when long."""
    return _cut(repr(value) if isinstance(value, str) else str(value), limit)


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_value(key: Key, v: Any, origin: str) -> Any:
    try:
        value = _check(key, v)
    except _Bad:
        raise ConfigError(f"{origin} must be {_expect(key)}, got {_shown(v)}.") from None
    if key.path == "train.metrics" and value != AUTO:
        for m in value:
            top_k = m.startswith("top") and m.endswith("_accuracy") and m[3:-9].isdigit()
            if m not in METRICS and not top_k:
                close = difflib.get_close_matches(m, METRICS, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise ConfigError(
                    f"{origin} has an unknown metric {m!r}{hint}; use {', '.join(METRICS)} or "
                    "topK_accuracy."
                )
    return value


def _check_table(key: Key, value: Any, origin: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{origin} must be a table (e.g. [{key.path}] noise = 0.2).")
    return {normalize_key(name): v for name, v in value.items()}


def _check_layers(value: Any, origin: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ConfigError(
            f'{origin} must be a list of layer tables, e.g. [[model.layer]] type = "linear" '
            "out = 64."
        )
    layers = []
    for i, item in enumerate(value):
        where = f"{origin}[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(
                f'{where} must be a table like {{type = "relu"}}, got {_shown(item)}.'
            )
        item = {normalize_key(k): v for k, v in item.items()}
        kind = item.get("type")
        if not isinstance(kind, str):
            raise ConfigError(f"{where} needs a type: one of {', '.join(nn_tables.LAYERS)}.")
        entry = find(nn_tables.LAYERS, kind)
        if entry is None:
            close = difflib.get_close_matches(normalize_key(kind), list(nn_tables.LAYERS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{where} has an unknown type {_shown(item['type'])}{hint}; use one of "
                f"{', '.join(nn_tables.LAYERS)}."
            )
        kind = entry.name
        fields = entry.fields
        layer: dict[str, Any] = {"type": kind}
        for name, v in item.items():
            if name == "type":
                continue
            if name not in fields:
                close = difflib.get_close_matches(name, list(fields), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                allowed = ", ".join(fields) or "no fields"
                raise ConfigError(
                    f"{where} ({kind}) has no field {_shown(name)}{hint} ({kind} takes {allowed})."
                )
            spec = fields[name]
            if spec.kind not in ("int", "float", "bool"):  # sizes: an int, a list or a word
                try:
                    layer[name] = spec.convert(v)
                except ValueError:
                    raise ConfigError(
                        f"{where}.{name} must be {spec.expect()}, got {_shown(v)}."
                    ) from None
                continue
            probe = Key(
                f"{where}.{name}",
                spec.kind,
                None,
                "",
                low=spec.low,
                high=spec.high,
                high_open=spec.high_open,
            )
            layer[name] = _check_value(probe, v, f"{where}.{name}")
        for name, default in entry.field_defaults().items():
            if name not in layer and default is not None:
                layer[name] = default
        layers.append(layer)
    return layers
