"""Shared checks for the engine's tests: the same computation in gradstep and PyTorch (float64)."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import settings

import gradstep as gs

RTOL, ATOL = 1e-10, 1e-12
FAST = settings(max_examples=15, deadline=None)


def close(actual, expected) -> None:
    """Values equal to 1e-10 relative (PyTorch tensors are converted)."""
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=RTOL, atol=ATOL)


def both(gs_fn, torch_fn, *arrays, seed: int = 0) -> None:
    """Run the same function in gradstep and PyTorch (float64); compare values and gradients
    (a missing gradient counts as zeros on either side)."""
    gx = [gs.tensor(a, dtype=gs.float64, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    gy, ty = gs_fn(*gx), torch_fn(*tx)
    assert gy.shape == tuple(ty.shape)
    close(gy.data, ty)
    w = np.random.default_rng(seed).standard_normal(tuple(ty.shape))
    gy.backward(w)
    ty.backward(torch.tensor(w))
    for g, t in zip(gx, tx):
        expected = np.zeros(g.shape) if t.grad is None else t.grad
        close(np.zeros(g.shape) if g.grad is None else g.grad, expected)


def f64(a, requires_grad: bool = True) -> gs.Tensor:
    return gs.tensor(a, dtype=gs.float64, requires_grad=requires_grad)
