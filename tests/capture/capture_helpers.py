"""Shared pieces of the capture tests: models, batches, and the eager-versus-replay comparison.

The expectation is the eager engine itself: N replays of a captured step must leave the model,
the optimizer and the returned losses bit-identical to N eager calls of the same step from the
same start (gs.capture's contract). Each run builds its model from the same seed and seeds the
engine's generator the same way before its steps, so dropout draws line up.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import gradstep as gs
from gradstep import nn, optim


def bits(a: Any) -> bytes:
    """The exact bytes of an array (so -0.0 and NaN payloads count)."""
    return np.ascontiguousarray(np.asarray(a)).tobytes()


def mlp(sizes: tuple[int, ...], act: str, dtype: str = "float32", out_act: str | None = None):
    acts = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}
    layers: list = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(acts[act]())
        layers.append(nn.Linear(n_in, n_out))
    if out_act is not None:
        layers.append(acts[out_act]())
    model = nn.Sequential(*layers)
    return model.double() if dtype == "float64" else model


def classic_step(model: Any, opt: Any, loss_fn: Any, sched: Any = None) -> Callable:
    """zero_grad, forward, loss, backward, optimizer step (and a scheduler step)."""

    def train_step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        return loss

    return train_step


def batches(
    n_in: int,
    target: str,
    dtype: str = "float32",
    n: int = 3,
    bs: int = 5,
    n_out: int = 3,
    seed: int = 1,
    shape: tuple | None = None,
) -> list:
    """``n`` batches of inputs (bs, n_in) or (bs, *shape) and targets: "index" class indices,
    "value" real targets (bs, n_out), "binary" 0/1 targets (bs, n_out)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.standard_normal((bs, *(shape or (n_in,)))).astype(dtype)
        if target == "index":
            y = rng.integers(0, n_out, bs)
        elif target == "binary":
            y = (rng.random((bs, n_out)) > 0.5).astype(dtype)
        else:
            y = rng.standard_normal((bs, n_out)).astype(dtype)
        out.append((x, y))
    return out


def state_bytes(model: Any, opt: Any) -> dict:
    """Parameters, buffers, gradients (None or bytes) and optimizer state, as bytes."""
    out = {f"sd.{k}": bits(v) for k, v in model.state_dict().items()}
    for name, p in model.named_parameters():
        out[f"grad.{name}"] = None if p.grad is None else bits(p.grad)
    for i, entries in opt.state_dict()["state"].items():
        for k, v in entries.items():
            out[f"opt.{i}.{k}"] = bits(v) if hasattr(v, "shape") else v
    out["lr"] = [g["lr"] for g in opt.param_groups]
    return out


def eager_vs_captured(build: Callable[[], tuple], data: list, seed: int = 7) -> Any:
    """Run ``build()``'s step eagerly over ``data``, then build again and run the captured step
    over the same data; assert losses and all state match bit for bit. Returns the captured step.

    ``build`` returns (model, optimizer, step_fn).
    """
    model, opt, step_fn = build()
    gs.manual_seed(seed)
    eager = [bits(step_fn(*b).data) for b in data]
    expected = state_bytes(model, opt)
    expected_rng = gs.random.get_rng_state()

    model, opt, step_fn = build()
    gs.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback would fail the test loudly
        step = gs.capture(step_fn, *data[0])
    assert step.captured, step.reason
    replayed = [bits(step(*b).data) for b in data]
    assert replayed == eager
    got = state_bytes(model, opt)
    assert got.keys() == expected.keys()
    for k in expected:
        assert got[k] == expected[k], k
    assert gs.random.get_rng_state() == expected_rng
    return step


def adam(model: Any, **kw: Any) -> Any:
    return optim.Adam(model.parameters(), **kw)


__all__ = ["adam", "batches", "bits", "classic_step", "eager_vs_captured", "mlp", "state_bytes"]
