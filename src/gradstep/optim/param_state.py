"""An optimizer's per-parameter state, keyed by the parameter object, and copies of its entries."""

from __future__ import annotations

import copy
from collections.abc import Iterator, MutableMapping
from typing import Any


class ParamState(MutableMapping):
    """Per-parameter state keyed by the parameter object itself (by identity, as torch's is).

    Reading a parameter that has no state yet creates an empty dict for it, like torch's
    ``defaultdict(dict)``.
    """

    def __init__(self) -> None:
        self._items: dict[int, tuple[Any, dict[str, Any]]] = {}

    def __getitem__(self, param: Any) -> dict[str, Any]:
        item = self._items.get(id(param))
        if item is None:
            item = (param, {})
            self._items[id(param)] = item
        return item[1]

    def __setitem__(self, param: Any, value: dict[str, Any]) -> None:
        self._items[id(param)] = (param, value)

    def __delitem__(self, param: Any) -> None:
        del self._items[id(param)]

    def __contains__(self, param: object) -> bool:
        return id(param) in self._items

    def __iter__(self) -> Iterator[Any]:
        return (param for param, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"ParamState({len(self)} parameters)"

    def __getstate__(self) -> list[tuple[Any, dict[str, Any]]]:
        """Copies and pickles keep (parameter, state) pairs: the keys are ids of the original
        parameters and mean nothing to a copy, whose parameters are copies too."""
        return list(self._items.values())

    def __setstate__(self, pairs: list[tuple[Any, dict[str, Any]]]) -> None:
        self._items = {id(p): (p, entries) for p, entries in pairs}


def _looks_like_parameter(obj: Any) -> bool:
    return hasattr(obj, "data") and hasattr(obj, "grad")


def _copy_value(value: Any) -> Any:
    """A deep copy of one state entry (arrays copied, numbers kept)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return value.copy()
    return copy.deepcopy(value)
