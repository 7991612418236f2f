"""What the component tables share: an entry names one component and the class or function that
builds it; the library's defaults are read from that constructor's signature, never restated.

The tables themselves live with their families (``optim.registry``: OPTIMIZERS and SCHEDULES;
``nn.registry``: LOSSES and LAYERS); the run configuration, ``gradstep train --help``, the
command line's builders and its "auto" values all read them.

>>> entry = Entry("sgd", SGD, cli_defaults={"lr": Default(0.1, "a short run needs big steps")})
>>> entry.parameters()["lr"], entry.defaults()["lr"]
(0.001, 0.1)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

__all__ = ["REQUIRED", "Default", "Entry", "find", "table"]


class _Required:
    """The default of a parameter the constructor has no default for."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Default:
    """One cell of a table's CLI-default column: the value the command line uses instead of the
    library's default, and a one-line reason for it."""

    value: Any
    why: str


@functools.cache
def _signature_defaults(factory: Callable[..., Any]) -> dict[str, Any]:
    params = inspect.signature(factory).parameters.values()
    return {
        p.name: REQUIRED if p.default is inspect.Parameter.empty else p.default
        for p in params
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    }


@dataclass(frozen=True)
class Entry:
    """One component of a family table.

    ``factory`` builds it (a class or a function; None where the family has a "nothing" entry,
    such as schedule "none"). ``cli_defaults`` maps a parameter to the value the command line
    passes instead of the library's default, with the reason. ``rename`` maps a config name to
    the factory's parameter where the two differ (schedule.min_lr is CosineAnnealingLR's
    eta_min). ``aliases`` are other accepted names; ``help`` a short note for ``--help``.
    """

    name: str
    factory: Callable[..., Any] | None
    cli_defaults: Mapping[str, Default] = field(default_factory=dict)
    rename: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    help: str = ""

    supplied: ClassVar[tuple[str, ...]] = ()
    """Parameters the caller always passes itself (an optimizer's params), never config values."""

    def __post_init__(self) -> None:
        if self.factory is None:
            return
        known = self.parameters()
        for name in self.cli_defaults:
            if name not in known:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: cli_defaults names {name!r}, which "
                    f"{_title(self.factory)} does not take; use one of {', '.join(known)}."
                )

    def parameters(self) -> dict[str, Any]:
        """Each parameter the factory takes from a config, under its config name, with the
        library's default (REQUIRED where the constructor has none)."""
        if self.factory is None:
            return {}
        back = {param: name for name, param in self.rename.items()}
        skipped = set(self.supplied) | set(self._filled())
        return {
            back.get(p, p): d
            for p, d in _signature_defaults(self.factory).items()
            if p not in skipped
        }

    def defaults(self) -> dict[str, Any]:
        """:meth:`parameters` with the CLI-default column applied: what "auto" settles to."""
        out = self.parameters()
        out.update({name: d.value for name, d in self.cli_defaults.items()})
        return out

    def build(self, *args: Any, **values: Any) -> Any:
        """The component from config values (by config name). A list becomes a tuple where the
        library's default is one (Adam's betas)."""
        if self.factory is None:
            return None
        library = self.parameters()
        kwargs = {}
        for name, value in values.items():
            if isinstance(value, list) and isinstance(library.get(name), tuple):
                value = tuple(value)
            kwargs[self.rename.get(name, name)] = value
        return self.factory(*args, **kwargs)

    def _filled(self) -> Iterable[str]:
        """Parameters a family fills from the run rather than from the config (see subclasses)."""
        return ()


def _title(factory: Callable[..., Any]) -> str:
    return getattr(factory, "__name__", repr(factory))


E = TypeVar("E", bound=Entry)


def table(*entries: E) -> dict[str, E]:
    """A family table from entries, by name; a name or alias given twice is an error."""
    out: dict[str, E] = {}
    seen: set[str] = set()
    for entry in entries:
        for name in (entry.name, *entry.aliases):
            if name in seen:
                raise ValueError(f"{name!r} names two entries of one table; rename one.")
            seen.add(name)
        out[entry.name] = entry
    return out


def find(entries: Mapping[str, E], name: str) -> E | None:
    """The entry called ``name`` or one of its aliases (case, ``-`` and ``_`` ignored)."""
    key = name.strip().lower().replace("-", "_")
    if key in entries:
        return entries[key]
    for entry in entries.values():
        if key in entry.aliases:
            return entry
    return None
