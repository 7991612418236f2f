"""The suite's networks, built from one set of initial weights in gradstep, PyTorch and JAX.

A :class:`Net` names its layers once (``layers(nn)`` works with ``gradstep.nn`` and ``torch.nn``,
which share names), its weights' shapes (drawn as PyTorch's default init does, U(±1/√fan_in), from
one NumPy seed) and its JAX forward. ``training(system, net, optimizer, lr, seed)`` returns
``predict(x)`` and a ``train_step(x, y)`` that does zero_grad, forward, softmax cross-entropy
(mean), backward and the optimizer step, and returns the loss, so every system runs the same
maths from the same weights::

    predict, train_step = training("torch", W1.net, "sgd", 0.1, seed=0)
    loss = train_step(*as_system_arrays("torch", *batch(W1)))

Every framework is imported inside the functions: a worker process loads only its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from bench_conv import _layers as conv_layers

OPTIMIZERS = {"sgd": ("SGD", "sgd"), "adam": ("Adam", "adam")}  # (gradstep/torch class, optax)
# gradstep's models lay their parameters out in flat buffers, as Trainer.fit does by default
# (``model.flatten_parameters()``), so its optimizers update them in fused passes.
FLATTEN = True
# The OPT rows: bench_optim's 784-1000-256-10 MLP (1,043,826 parameters) and hyperparameters.
OPT_SHAPES = ((1000, 784), (1000,), (256, 1000), (256,), (10, 256), (10,))
OPT_CONFIGS = {
    "SGD": {"lr": 0.01},
    "Adagrad": {"lr": 0.01},
    "RMSprop": {"lr": 1e-3},
    "Adam": {"lr": 1e-3},
}
OPT_NAMES = tuple(OPT_CONFIGS)


@dataclass(frozen=True)
class Net:
    """A network: its layers for any ``nn``, its weights' names and shapes, its JAX forward."""

    name: str
    layers: Callable[[object], list]
    weights: tuple[tuple[str, tuple[int, ...]], ...]  # (module index, weight shape) in order
    jax_forward: Callable[[object, object], object]


@dataclass(frozen=True)
class StepSpec:
    """One training-step workload: a network, a fixed batch and an optimizer."""

    net: Net
    batch: int
    optimizer: str
    lr: float
    describe: str


def mlp(sizes: tuple[int, ...], act: str) -> Net:
    """A fully connected network of ``sizes`` with ``act`` ("relu" or "sigmoid") between layers."""

    def layers(nn) -> list:
        mods: list = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i:
                mods.append(nn.ReLU() if act == "relu" else nn.Sigmoid())
            mods.append(nn.Linear(n_in, n_out))
        return mods

    def jax_forward(params, x):
        import jax

        h = x
        for i, (w, b) in enumerate(params):
            if i:
                h = jax.nn.relu(h) if act == "relu" else jax.nn.sigmoid(h)
            h = h @ w.T + b
        return h

    weights = tuple((str(2 * i), (o, n)) for i, (n, o) in enumerate(zip(sizes[:-1], sizes[1:])))
    name = "-".join(map(str, sizes)) + f" {act}"
    return Net(name, layers, weights, jax_forward)


def _cnn_jax_forward(params, x):
    import jax

    h = x
    for w, b in params[:-1]:
        h = jax.lax.conv_general_dilated(
            h, w, (2,), [(1, 1)], dimension_numbers=("NCH", "OIH", "NCH")
        )
        h = jax.nn.relu(h + b[None, :, None])
    w, b = params[-1]
    return h.reshape(h.shape[0], -1) @ w.T + b


# bench_conv's MNIST-1D CNN: Conv1d 1→25 (k5), 25→25 (k3), 25→25 (k3), stride 2, padding 1, ReLU,
# Flatten, Linear(125, 10); indices as in its nn.Sequential.
MNIST1D_CNN = Net(
    "MNIST-1D CNN",
    lambda nn: conv_layers(nn, False),
    (("0", (25, 1, 5)), ("2", (25, 25, 3)), ("4", (25, 25, 3)), ("7", (10, 125))),
    _cnn_jax_forward,
)
MNIST1D_MLP = mlp((40, 100, 100, 10), "relu")

W1 = StepSpec(mlp((64, 32, 10), "sigmoid"), 1, "sgd", 0.1, "64-32-10 sigmoid, batch 1, SGD lr 0.1")
W2 = StepSpec(mlp((64, 128, 64, 10), "relu"), 16, "adam", 1e-3, "64-128-64-10 ReLU, batch 16, Adam")
W3 = StepSpec(
    mlp((784, 512, 256, 10), "relu"), 128, "adam", 1e-3, "784-512-256-10 ReLU, batch 128, Adam"
)
W4 = StepSpec(
    mlp((2048, 2048, 2048, 10), "relu"), 512, "sgd", 0.01, "2048-2048-2048-10 ReLU, batch 512, SGD"
)
STEPS = {"W1": W1, "W2": W2, "W3": W3, "W4": W4}


def init_state(net: Net, seed: int) -> dict:
    """Initial weights and biases as float32 NumPy arrays under PyTorch's state_dict names."""
    import numpy as np

    rng = np.random.default_rng(seed)
    state = {}
    for name, shape in net.weights:
        bound = 1.0 / math.sqrt(math.prod(shape[1:]))
        state[f"{name}.weight"] = rng.uniform(-bound, bound, shape).astype(np.float32)
        state[f"{name}.bias"] = rng.uniform(-bound, bound, shape[0]).astype(np.float32)
    return state


def batch(spec: StepSpec, seed: int = 1):
    """The fixed batch a step workload trains on: standard normal inputs, uniform class labels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n_in, n_out = spec.net.weights[0][1][1], spec.net.weights[-1][1][0]
    x = rng.standard_normal((spec.batch, n_in)).astype(np.float32)
    return x, rng.integers(0, n_out, spec.batch).astype(np.int64)


def training(system: str, net: Net, optimizer: str, lr: float, seed: int):
    """``(predict, train_step)`` in ``system`` ("gradstep", "torch" or "jax") from the shared init.

    ``predict(x)`` gives the logits as a NumPy array (no gradient); ``train_step(x, y)`` takes
    arrays of the system's own kind and returns the loss (for JAX: after block_until_ready).
    """
    build = {"gradstep": _gradstep, "torch": _torch, "jax": _jax}[system]
    return build(net, optimizer, lr, init_state(net, seed))


def _gradstep(net: Net, optimizer: str, lr: float, state: dict):
    import gradstep as gs
    from gradstep import nn, optim

    model = nn.Sequential(*net.layers(nn))
    model.load_state_dict(state)
    if FLATTEN and hasattr(model, "flatten_parameters"):
        model.flatten_parameters()
    opt = getattr(optim, OPTIMIZERS[optimizer][0])(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()

    def train_step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def predict(x):
        with gs.no_grad():
            return model(gs.tensor(x)).numpy()

    return predict, train_step


def _torch(net: Net, optimizer: str, lr: float, state: dict):
    import torch

    model = torch.nn.Sequential(*net.layers(torch.nn))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    opt = getattr(torch.optim, OPTIMIZERS[optimizer][0])(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    def train_step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def predict(x):
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()

    return predict, train_step


def _jax(net: Net, optimizer: str, lr: float, state: dict):
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    params = [
        (jnp.asarray(state[f"{name}.weight"]), jnp.asarray(state[f"{name}.bias"]))
        for name, _ in net.weights
    ]
    tx = getattr(optax, OPTIMIZERS[optimizer][1])(lr)

    def loss_fn(p, x, y):
        logits = net.jax_forward(p, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @jax.jit
    def step(p, opt_state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(p, x, y)
        updates, opt_state = tx.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, loss

    held = [params, tx.init(params)]

    def train_step(x, y):
        held[0], held[1], loss = step(held[0], held[1], x, y)
        return loss.block_until_ready()

    forward = jax.jit(net.jax_forward)

    def predict(x):
        return np.asarray(forward(held[0], jnp.asarray(x)))

    return predict, train_step


def as_system_arrays(system: str, *arrays):
    """The NumPy arrays as the system's own tensors (gradstep/torch tensors, JAX device arrays)."""
    if system.startswith("gradstep"):
        import gradstep as gs

        return tuple(gs.tensor(a) for a in arrays)
    if system == "torch":
        import torch

        return tuple(torch.from_numpy(a) for a in arrays)
    import jax.numpy as jnp

    return tuple(jnp.asarray(a) for a in arrays)
