"""The engine's random source: one NumPy Generator that ``gs.manual_seed`` resets.

Initialisation and dropout draw from it, so a seeded run repeats bit for bit; its state is plain
JSON-able data so a checkpoint can carry it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_generator = np.random.default_rng()
_seed: int | None = None


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the engine's generator (weights, dropout) and return it, like ``torch.manual_seed``."""
    global _generator, _seed
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    return _generator


def initial_seed() -> int | None:
    return _seed


def get_generator() -> np.random.Generator:
    return _generator


def get_rng_state() -> dict[str, Any]:
    """The generator's state as a JSON-able dict (for checkpoints)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    bg = _generator.bit_generator
    if state.get("bit_generator") != type(bg).__name__:
        raise ValueError(
            f"RNG state is for {state.get('bit_generator')!r}, not {type(bg).__name__}; "
            "pass a state saved by gs.random.get_rng_state()."
        )
    bg.state = state
