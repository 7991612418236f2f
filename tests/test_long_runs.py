"""Long runs: memory stays flat over 100k training steps (no graph or History kept per step),
and a 1000-layer network backpropagates without recursion (checked under a recursion limit
far below its depth) to the gradient computed by hand."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import gradstep as gs
from gradstep import nn

SRC = str(Path(gs.__file__).resolve().parents[1])

# 100 epochs of 1000 single-sample steps through a tiny MLP; the resident set size is read
# from /proc every 5000 steps. A control phase then keeps 1 KiB per step for 8000 steps,
# which the same measurement must see (so that a leak could not go unnoticed).
LONG_RUN = r"""
import json, os, sys
import numpy as np
import gradstep as gs
from gradstep import nn, optim
from gradstep.train import Callback, Trainer

PAGE = os.sysconf("SC_PAGE_SIZE")

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE

class Sample(Callback):
    def __init__(self, every, keep=0):
        self.every, self.keep, self.kept, self.rss = every, keep, [], []
    def on_train_batch_end(self, batch, logs=None):
        if self.keep:
            self.kept.append(bytearray(self.keep))
        if self.trainer.global_step % self.every == 0:
            self.rss.append(rss())

gs.manual_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(1000, 2)).astype(np.float32)
y = (x[:, :1] - 0.5 * x[:, 1:]).astype(np.float32)
model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01), metrics=[])
sample = Sample(5000)
trainer.fit((x, y), epochs=100, batch_size=1, verbose=0, callbacks=[sample])
steps = trainer.global_step
control = Sample(1000, keep=1024)
trainer.fit((x[:1000], y[:1000]), epochs=8, batch_size=1, verbose=0, callbacks=[control])
print(json.dumps({"steps": steps, "rss": sample.rss, "control": control.rss,
                  "loss": trainer.evaluate((x, y))["loss"]}))
"""


def test_100k_steps_keep_memory_flat():
    env = {
        **os.environ,
        "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-c", LONG_RUN], capture_output=True, text=True, env=env, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["steps"] == 100_000
    rss = np.array(result["rss"], dtype=np.float64)
    assert len(rss) == 20
    growth = rss[-1] - rss[3]  # after 20k steps (warm-up) to 100k
    assert growth < 2 * 2**20, f"RSS grew {growth / 2**20:.2f} MiB over 80k steps: {rss}"
    control = np.array(result["control"], dtype=np.float64)
    kept = control[-1] - control[0]  # 7000 steps that each keep 1 KiB: about 7 MiB
    assert kept > 5 * 2**20, f"the measurement missed a 7 MiB leak: {control}"
    assert result["loss"] < 1e-3  # the run did learn y = x1 - x2 / 2


def test_a_1000_layer_network_backpropagates_without_recursion():
    rng = np.random.default_rng(0)
    layers = []
    for _ in range(1000):
        layer = nn.Linear(4, 4).double()
        q, _ = np.linalg.qr(rng.normal(size=(4, 4)))  # orthogonal: the product stays O(1)
        layer.weight.data[...] = q
        layer.bias.data[...] = 0.01 * rng.normal(size=4)
        layers.append(layer)
    model = nn.Sequential(*layers)
    x = gs.tensor(rng.normal(size=(3, 4)), dtype=gs.float64, requires_grad=True)
    c = rng.normal(size=(3, 4))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 100)  # far below 1000 nested calls
    try:
        out = model(x)
        (out * gs.tensor(c, dtype=gs.float64)).sum().backward()
    finally:
        sys.setrecursionlimit(limit)
    # by hand: out = x·W1ᵀ·…·W1000ᵀ + b, so dL/dx = c·W1000·…·W1 and dL/dW1 = (c·W1000·…·W2)ᵀ·x
    after = np.eye(4)
    for layer in layers[:0:-1]:
        after = after @ layer.weight.data
    grad_x = c @ after @ layers[0].weight.data
    np.testing.assert_allclose(x.grad, grad_x, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        layers[0].weight.grad, (c @ after).T @ x.data, rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(layers[-1].bias.grad, c.sum(axis=0), rtol=1e-12)
