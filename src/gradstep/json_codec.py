"""An exactly reversible JSON codec for the metadata and state checkpoints carry.

JSON with three extensions, so that what is saved comes back unchanged: non-finite floats become
``{"$float": "nan" | "inf" | "-inf"}``, tuples ``{"$tuple": [...]}`` and dicts with non-string keys
(or keys starting with ``$``) ``{"$dict": [[key, value], ...]}``; an :class:`ArrayRef` (an array
stored beside the JSON) is written as ``{"$array": name}`` and looked up again on decoding.

>>> decode_json(encode_json({1: (float("inf"), "a")}, "meta"))
{1: (inf, 'a')}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

__all__ = ["ArrayRef", "decode_json", "encode_json"]


class ArrayRef(NamedTuple):
    """Stands for an array stored beside the JSON, under ``key``."""

    key: str


def encode_json(value: Any, where: str) -> Any:
    """Python value -> JSON value, exactly reversible by :func:`decode_json`; ``where`` names
    the value in the error for something JSON cannot hold."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return encode_json(float(value), where)
    if isinstance(value, ArrayRef):
        return {"$array": value.key}
    if isinstance(value, list):
        return [encode_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"$tuple": [encode_json(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode_json(v, f"{where}[{k!r}]") for k, v in value.items()}
        return {
            "$dict": [
                [encode_json(k, f"{where} key"), encode_json(v, f"{where}[{k!r}]")]
                for k, v in value.items()
            ]
        }
    raise TypeError(
        f"{where} holds a {type(value).__name__}, which JSON cannot hold; keep arrays in the "
        "mapping and only numbers, strings, lists and dicts in metadata."
    )


def decode_json(value: Any, arrays: Mapping[str, Any] | None = None) -> Any:
    """JSON value -> Python value; ``{"$array": key}`` is looked up in ``arrays``."""
    if isinstance(value, list):
        return [decode_json(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, inner), *_ = value.items()
        if tag == "$float":
            if inner not in ("nan", "inf", "-inf"):
                raise ValueError(f"unknown non-finite float {inner!r}")
            return float(inner)
        if tag == "$tuple":
            return tuple(decode_json(v, arrays) for v in inner)
        if tag == "$dict":
            return {decode_json(k, arrays): decode_json(v, arrays) for k, v in inner}
        if tag == "$array":
            if arrays is None or inner not in arrays:
                raise KeyError(inner)
            return arrays[inner]
    if any(k.startswith("$") for k in value):
        raise ValueError(f"unknown tag in {sorted(value)}")
    return {k: decode_json(v, arrays) for k, v in value.items()}
