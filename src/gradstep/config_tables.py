"""What the run configuration reads from the component tables (``optim.registry``:
OPTIMIZERS, SCHEDULES; ``nn.registry``: LOSSES, LAYERS): which entry a section names, which
keys apply to it, what "auto" settles to, and the choices, defaults and help of table-backed keys.

A key of a component section applies to an entry when the entry's constructor takes a parameter
of the key's name (or of its ``param``); its default is that parameter's default in the
constructor, or the table's CLI default, and "auto" where the entries disagree.

>>> components("optimizer")["adamw"].defaults()["weight_decay"]
0.01
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .components import REQUIRED, Entry
from .nn import registry as nn_tables
from .optim import registry as optim_tables

__all__ = [
    "AUTO",
    "COMPONENT_SECTIONS",
    "FROM_TABLE",
    "auto_loss",
    "complete",
    "component",
    "components",
    "settle_auto",
    "stamp",
    "takes",
    "unused_value",
]

AUTO = "auto"
COMPONENT_SECTIONS = ("loss", "optimizer", "schedule")
"""Sections whose ``name`` picks a table entry and whose other keys are its parameters."""


class _FromTable:
    def __repr__(self) -> str:
        return "<from the table>"


FROM_TABLE: Any = _FromTable()
"""A declared key's default that :func:`complete` reads from the tables."""


def components(section: str) -> dict[str, Entry]:
    """The table entries ``[section] name`` chooses from: "optimizer", "schedule" or "loss"
    (the losses the command line offers)."""
    if section == "optimizer":
        return dict(optim_tables.OPTIMIZERS)
    if section == "schedule":
        return dict(optim_tables.SCHEDULES)
    if section == "loss":
        return {n: e for n, e in nn_tables.LOSSES.items() if e.cli}
    raise KeyError(f"[{section}] has no component table; use one of {COMPONENT_SECTIONS}.")


def stamp() -> tuple[Any, ...]:
    """Changes whenever an entry of a table is added, removed or replaced."""
    tables = (
        optim_tables.OPTIMIZERS,
        optim_tables.SCHEDULES,
        nn_tables.LOSSES,
        nn_tables.LAYERS,
    )
    return tuple(tuple(map(id, t.values())) for t in tables)


def auto_loss(task: str) -> Any:
    """The loss entry ``loss.name = "auto"`` picks for a task (the losses' auto_for column)."""
    for entry in components("loss").values():
        if entry.auto_for is not None and entry.auto_for.value == task:
            return entry
    raise ValueError(f"no loss of the losses table is marked auto_for {task!r}; set loss.name.")


def component(cfg: Mapping[str, Any], section: str) -> Any:
    """The table entry a (validated) config names in ``section``."""
    return components(section)[cfg[section]["name"]]


def takes(entry: Entry, key: Any) -> bool:
    """Whether a component takes config ``key``: its constructor has the parameter it names."""
    return (key.param or key.name) in entry.parameters()


def unused_value(key: Any) -> Any:
    """What an "auto" key settles to where the chosen component does not take it: the library
    default most components that take it share (unused, but it keeps a settled config, and its
    hash, free of another component's CLI default)."""
    counts: dict[str, int] = {}
    for entry in components(key.section).values():
        value = entry.parameters().get(key.name, REQUIRED)
        if value is not REQUIRED and takes(entry, key):
            shown = json.dumps(_as_kind(key, value))
            counts[shown] = counts.get(shown, 0) + 1
    if not counts:
        return AUTO
    return json.loads(max(counts, key=lambda v: counts[v]))


def settle_auto(cfg: dict[str, Any], section: str, keys: Sequence[Any]) -> None:
    """Replace the "auto" values of ``keys`` in a component section in place: the chosen entry's
    default (its constructor's, or the table's CLI default) where it takes the key, else
    :func:`unused_value`."""
    entry = component(cfg, section)
    defaults = entry.defaults()
    values = cfg[section]
    for key in keys:
        if values[key.name] != AUTO:
            continue
        if takes(entry, key) and defaults.get(key.name, REQUIRED) is not REQUIRED:
            values[key.name] = _as_kind(key, defaults[key.name])
        else:
            values[key.name] = unused_value(key)


def _as_kind(key: Any, value: Any) -> Any:
    """A table's default in the key's kind (the signature's ``0`` for a float key is 0.0)."""
    if key.kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if key.kind == "floats" and isinstance(value, list | tuple):
        return [float(v) for v in value]
    return value


# -- completing declared keys --------------------------------------------------------------------


def complete(key: Any) -> Any:
    """A declared config key with what the tables say filled in: the choices of a key with a
    ``table`` ("optimizers", "schedules", "losses", "hidden activations", "output activations");
    for a component section's key, where it applies and its default (FROM_TABLE)."""
    if key.table:
        choices, aliases, notes = _choices(key.table)
        text = f"{key.help} ({notes})" if notes else key.help
        return replace(key, choices=choices, aliases=tuple(aliases.items()), help=text)
    if key.section not in COMPONENT_SECTIONS:
        return key
    takers = [e for e in components(key.section).values() if takes(e, key)]
    key = replace(key, **_applicability(key, takers))
    if key.default is not FROM_TABLE:
        return key
    values = {}
    for entry in takers:
        value = entry.defaults()[key.name]
        if value is REQUIRED:
            raise ValueError(
                f"{key.section} {entry.name!r} has no default for {key.name}; give its table "
                "entry a cli_defaults value."
            )
        values[entry.name] = _as_kind(key, value)
    if not key.auto and len({json.dumps(v) for v in values.values()}) == 1:
        return replace(key, default=next(iter(values.values())))
    text = f"{key.help}; auto: {_auto_text(values)}" if values else key.help
    reason = takers[0].cli_defaults.get(key.name) if len(takers) == 1 else None
    if reason is not None:
        text += f", {reason.why}"
    return replace(key, default=AUTO, auto=key.auto or AUTO not in key.choices, help=text)


def _choices(kind: str) -> tuple[tuple[str, ...], dict[str, str], str]:
    """(choices, alias -> choice, notes for the help) of a table-backed choice key."""
    if kind in ("hidden activations", "output activations"):
        role = kind.split()[0]
        entries: list[Any] = [e for e in nn_tables.LAYERS.values() if role in e.activation]
        first: tuple[str, ...] = ("none",) if role == "output" else ()
    else:
        section = {"optimizers": "optimizer", "schedules": "schedule", "losses": "loss"}[kind]
        entries = list(components(section).values())
        first = (AUTO,) if section == "loss" else ()
    aliases = {a: e.name for e in entries for a in e.aliases}
    notes = [f"{e.name} = {e.help}" for e in entries if e.help]
    autos = [e for e in entries if getattr(e, "auto_for", None) is not None]
    if autos:
        notes.insert(0, "auto: " + ", ".join(f"{e.name} for {e.auto_for.value}" for e in autos))
    return first + tuple(e.name for e in entries), aliases, "; ".join(notes)


def _applicability(key: Any, takers: Sequence[Any]) -> dict[str, Any]:
    """``applies`` / ``applies_text`` of a component key taken by ``takers`` only (nothing when
    every entry takes it)."""
    section = key.section
    names = tuple(e.name for e in takers)
    if len(names) == len(components(section)):
        return {"applies": None, "applies_text": ""}
    auto_tasks = [e.auto_for.value for e in takers if getattr(e, "auto_for", None) is not None]
    chosen = names + ((AUTO,) if auto_tasks else ())
    text = f"{section}.name = " + " or ".join(repr(n) for n in names)
    if auto_tasks:
        text += f" (or auto for {' or '.join(auto_tasks)})"
    return {"applies": lambda cfg: cfg[section]["name"] in chosen, "applies_text": text}


def _number_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m[1].lstrip("+") + m[2], f"{value:g}")
    if isinstance(value, list | tuple):
        return ",".join(_number_text(v) for v in value)
    return str(value)


def _auto_text(values: Mapping[str, Any]) -> str:
    """The "auto" part of a key's help from {component: default}, e.g. "0.9 for momentum, else
    0": the value most components share is the "else" when two or more share it and more than
    share any other."""
    groups: dict[str, list[str]] = {}
    for name, value in values.items():
        groups.setdefault(_number_text(value), []).append(name)
    if len(groups) == 1:
        return next(iter(groups))
    sizes = sorted((len(v) for v in groups.values()), reverse=True)
    common = next(t for t, names in groups.items() if len(names) == sizes[0])
    fallback = common if sizes[0] >= 2 and sizes[0] > sizes[1] else None
    parts = [f"{t} for {'/'.join(n)}" for t, n in groups.items() if t != fallback]
    return ", ".join(parts) + (f", else {fallback}" if fallback else "")
