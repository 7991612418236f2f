"""Autodiff engine speed against PyTorch: one optimizer-free training step of small and large MLPs.

A step is zero_grad + forward + loss + backward. Both systems use the same functional form (plain
parameter tensors, ``linear``, the activations, the loss), the same initial values and the same
data, so the table compares the engines and not their module layers.

Run: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_engine.py``
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from common import Workload, main


@dataclass(frozen=True)
class Net:
    """An MLP workload: layer sizes, hidden and output activations, loss and batch size.

    ``loss`` is "sse", the textbook's E = ½·Σ(t − o)² summed over the batch (gradstep's
    ``sse_loss``, PyTorch's ``0.5 * mse_loss(reduction="sum")``), or "ce", softmax cross-entropy
    of the logits averaged over the batch (``cross_entropy`` in both).
    """

    sizes: tuple[int, ...]
    act: str
    out_act: str | None
    loss: str
    batch: int


TEXTBOOK = Net((64, 32, 10), "sigmoid", "sigmoid", "sse", 1)
SMALL_CE = Net((64, 32, 10), "sigmoid", None, "ce", 1)
LARGE = Net((784, 512, 256, 10), "relu", None, "ce", 128)


def _init(net: Net, seed: int = 0):
    """Weights (out, in) and biases drawn as torch.nn.Linear does (U(±1/√in)), inputs and targets
    (class indices for "ce", values in (0, 1) for "sse"), all NumPy."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sizes = net.sizes
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(n_in)
        w = rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, n_out).astype(np.float32)
        layers.append((w, b))
    x = rng.standard_normal((net.batch, sizes[0])).astype(np.float32)
    if net.loss == "ce":
        y = rng.integers(0, sizes[-1], net.batch).astype(np.int64)
    else:
        y = rng.uniform(0.1, 0.9, (net.batch, sizes[-1])).astype(np.float32)
    return layers, x, y


def gradstep_step(net: Net, forward_only: bool = False) -> Callable[[], Callable[[], object]]:
    def build() -> Callable[[], object]:
        import gradstep as gs
        from gradstep import functional as F

        layers, x_np, y_np = _init(net)
        params = []
        for w, b in layers:
            params += [gs.tensor(w, requires_grad=True), gs.tensor(b, requires_grad=True)]
        pairs = list(zip(params[0::2], params[1::2]))
        last = len(pairs) - 1
        act = getattr(F, net.act)
        out_act = getattr(F, net.out_act) if net.out_act else None
        loss_fn = F.cross_entropy if net.loss == "ce" else F.sse_loss
        x, y = gs.tensor(x_np), gs.tensor(y_np)

        def forward():
            h = x
            for i, (w, b) in enumerate(pairs):
                h = F.linear(h, w, b)
                if i < last:
                    h = act(h)
                elif out_act is not None:
                    h = out_act(h)
            return loss_fn(h, y)

        if forward_only:
            return forward

        def step():
            for p in params:
                p.grad = None
            forward().backward()

        return step

    return build


def torch_step(net: Net, forward_only: bool = False) -> Callable[[], Callable[[], object]]:
    def build() -> Callable[[], object]:
        import torch
        import torch.nn.functional as F

        layers, x_np, y_np = _init(net)
        params = []
        for w, b in layers:
            params += [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
        pairs = list(zip(params[0::2], params[1::2]))
        last = len(pairs) - 1
        act = getattr(torch, net.act)
        out_act = getattr(torch, net.out_act) if net.out_act else None
        x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)

        if net.loss == "ce":
            loss_fn = F.cross_entropy
        else:

            def loss_fn(o, t):
                return 0.5 * F.mse_loss(o, t, reduction="sum")

        def forward():
            h = x
            for i, (w, b) in enumerate(pairs):
                h = F.linear(h, w, b)
                if i < last:
                    h = act(h)
                elif out_act is not None:
                    h = out_act(h)
            return loss_fn(h, y)

        if forward_only:
            return forward

        def step():
            for p in params:
                p.grad = None
            forward().backward()

        return step

    return build


def _workload(name: str, net: Net, forward_only: bool, what: str) -> Workload:
    return Workload(
        name,
        what,
        {"gradstep": gradstep_step(net, forward_only), "torch": torch_step(net, forward_only)},
    )


STEP = "zero_grad + forward + loss + backward"
WORKLOADS = [
    _workload(
        "mlp-64-32-10-b1",
        TEXTBOOK,
        False,
        f"the textbook net: 64-32-10 sigmoid units, E = ½·Σ(t − o)², batch 1: {STEP}",
    ),
    _workload(
        "mlp-64-32-10-b1-ce",
        SMALL_CE,
        False,
        f"64-32-10, sigmoid hidden layer, softmax cross-entropy on the logits, batch 1: {STEP}",
    ),
    _workload(
        "mlp-784-512-256-10-b128",
        LARGE,
        False,
        f"784-512-256-10, ReLU hidden layers, softmax cross-entropy (mean), batch 128: {STEP}",
    ),
    _workload("mlp-64-32-10-b1-fwd", TEXTBOOK, True, "the textbook step's forward + loss only"),
    _workload(
        "mlp-784-512-256-10-b128-fwd", LARGE, True, "the batch-128 step's forward + loss only"
    ),
]

if __name__ == "__main__":
    main(WORKLOADS)
