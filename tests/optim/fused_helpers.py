"""Shared pieces of the fused-step tests: a flattened gradstep MLP and its torch twin, gradients
for both, the kernel paths to run, and a spy that records which update calls a step made."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

import gradstep as gs
from gradstep import nn
from gradstep.optim import SGD, Adagrad, Adam, AdamW, RMSprop

HAS_NUMBA = importlib.util.find_spec("numba") is not None
KERNELS = [
    "numpy",
    pytest.param(
        "numba",
        marks=pytest.mark.skipif(
            not HAS_NUMBA, reason="numba is not installed (the `fast` extra): kernels untested"
        ),
    ),
]
GS = {"SGD": SGD, "Adagrad": Adagrad, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW}
# (the update function in the optimizer's module, the numba kernel's name)
UPDATE = {
    "SGD": ("gradstep.optim.sgd", "sgd_update", "sgd"),
    "Adagrad": ("gradstep.optim.adagrad", "adagrad_update", "adagrad"),
    "RMSprop": ("gradstep.optim.rmsprop", "rmsprop_update", "rmsprop"),
    "Adam": ("gradstep.optim.adam", "adam_update", "adam"),
    "AdamW": ("gradstep.optim.adam", "adam_update", "adam"),
}
SIZES = [(12, 6), (12,), (12, 12), (12,), (3, 12), (3,)]  # w1 b1 w2 b2 w3 b3
STEPS = 6


def mlp(dtype, seed: int = 0) -> nn.Module:
    gs.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(6, 12, dtype=dtype),
        nn.Tanh(),
        nn.Linear(12, 12, dtype=dtype),
        nn.Tanh(),
        nn.Linear(12, 3, dtype=dtype),
    )


def twin(model: nn.Module) -> list[torch.Tensor]:
    """torch leaf tensors with the model's current values."""
    return [torch.tensor(p.data.copy(), requires_grad=True) for p in model.parameters()]


def torch_forward(ws: list[torch.Tensor], x: np.ndarray) -> torch.Tensor:
    w1, b1, w2, b2, w3, b3 = ws
    h = torch.tanh(torch.from_numpy(x) @ w1.T + b1)
    h = torch.tanh(h @ w2.T + b2)
    return h @ w3.T + b3


def batch(t: int, dtype=np.float64):
    rng = np.random.default_rng(100 + t)
    return rng.standard_normal((8, 6)).astype(dtype), rng.integers(0, 3, size=8)


def lr_at(t: int, base: float) -> float:
    """Warm-up then decay: lr changes at every step (momentum forms differ only then)."""
    return base * min(1.0, (t + 1) / 3) * 0.9**t


def set_lr(opts, t: int, bases: list[float]) -> None:
    for opt in opts:
        for group, base in zip(opt.param_groups, bases):
            group["lr"] = lr_at(t, base)


def gs_backward(model: nn.Module, t: int) -> None:
    """zero_grad, forward, cross-entropy, backward: gradients land in the flat gradient buffer."""
    model.zero_grad()
    x, y = batch(t, model[0].weight.data.dtype)
    out = model(gs.tensor(x, dtype=model[0].weight.data.dtype))
    gs.functional.cross_entropy(out, y).backward()


def torch_backward(ws: list[torch.Tensor], t: int) -> None:
    for w in ws:
        w.grad = None
    x, y = batch(t, ws[0].detach().numpy().dtype)
    torch.nn.functional.cross_entropy(torch_forward(ws, x), torch.from_numpy(y)).backward()


def linear_grads(t: int, dtype) -> list[np.ndarray]:
    """Gradients of the loss Σᵢ (pᵢ · cᵢ).sum(): exactly cᵢ in any dtype, in both frameworks."""
    rng = np.random.default_rng(500 + t)
    return [rng.standard_normal(s).astype(dtype) for s in SIZES]


def gs_linear_backward(model: nn.Module, cs: list[np.ndarray]) -> None:
    model.zero_grad()
    loss = None
    for p, c in zip(model.parameters(), cs):
        term = (p * gs.tensor(c, dtype=c.dtype)).sum()
        loss = term if loss is None else loss + term
    loss.backward()


def torch_linear_backward(ws: list[torch.Tensor], cs: list[np.ndarray]) -> None:
    for w, c in zip(ws, cs):
        w.grad = torch.from_numpy(c.copy())


class Spy:
    """Wraps an optimizer's NumPy update function and its numba kernel; records, per call, the
    path and the shape of the parameter array it was given."""

    def __init__(self, monkeypatch, name: str) -> None:
        module_name, fn_name, kernel_name = UPDATE[name]
        self.calls: list[tuple[str, tuple]] = []
        module = __import__(module_name, fromlist=[fn_name])
        self._wrap(monkeypatch, module, fn_name, "numpy")
        if HAS_NUMBA:
            from gradstep.optim import kernels_numba

            self._wrap(monkeypatch, kernels_numba, kernel_name, "numba")

    def _wrap(self, monkeypatch, module, attr: str, path: str) -> None:
        real = getattr(module, attr)

        def spy(param, *args, **kwargs):
            self.calls.append((path, tuple(param.shape)))
            return real(param, *args, **kwargs)

        monkeypatch.setattr(module, attr, spy)

    def take(self) -> list[tuple[str, tuple]]:
        calls, self.calls = self.calls, []
        return calls


def state_arrays(opt, params, name: str) -> list[np.ndarray]:
    return [opt.state[p][name] for p in params]


def compare(model: nn.Module, ws: list[torch.Tensor], rtol: float, atol: float) -> None:
    for p, w in zip(model.parameters(), ws):
        np.testing.assert_allclose(p.data, w.detach().numpy(), rtol=rtol, atol=atol)


def compare_state(opt, ref, params, rtol: float, atol: float) -> None:
    """Same state names and values as torch's (steps as numbers)."""
    ours, theirs = opt.state_dict()["state"], ref.state_dict()["state"]
    assert ours.keys() == theirs.keys()
    for k, entries in theirs.items():
        assert set(ours[k]) == set(entries), k
        for key, value in entries.items():
            if key == "step":
                assert ours[k][key] == float(value)
            else:
                np.testing.assert_allclose(ours[k][key], value.numpy(), rtol=rtol, atol=atol)
