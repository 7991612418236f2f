"""Convolutional networks against PyTorch: the time of one training step, and the MNIST-1D CNN
recipe's test accuracy.

Step timing (the harness of ``common.py``): zero_grad + forward + cross-entropy + backward +
Adam step, both systems built from their ``nn`` layers with the same shapes and random data.

- ``mnist1d-cnn-b100``: the MNIST-1D CNN, 3 x Conv1d (25 channels, kernel 5/3/3, stride 2,
  padding 1) + ReLU and Linear(125, 10); input (100, 1, 40).
- ``lenet-28x28-b64``: LeNet-5 style, Conv2d(1, 6, 5, padding 2), ReLU, MaxPool2d(2),
  Conv2d(6, 16, 5), ReLU, MaxPool2d(2), Linear 400-120-84-10 with ReLU; input (64, 1, 28, 28).

``--recipe``: the MNIST-1D CNN recipe of Greydanus (2020) in full — the generator's 4000
training and 1000 test signals, Adam lr 1e-2, batches of 100 taken in the data's order (step s
trains on rows 100·s mod 4000 onwards, as the paper's loop does: no reshuffling), 6000 steps
(150 epochs), plain cross-entropy — once per seed and system, each in its own process (gradstep
through ``Trainer.fit``, PyTorch as the paper's plain loop), and the test accuracy as the mean
over the seeds (the seed sets the initial weights). ``--shuffle`` reshuffles every epoch
instead. Needs the ``mnist1d`` package (``gradstep[datasets]``).

Run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_conv.py
     env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_conv.py --recipe
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from common import THREADS, Workload, _spawn, cpu_model, load_average, main

RECIPE = {"lr": 1e-2, "batch": 100, "epochs": 150}  # 150 epochs x 40 batches = 6000 steps


def _layers(nn, two_d: bool) -> list:
    """The workload's network from a library's ``nn`` (gradstep's and torch's share names)."""
    if not two_d:
        return [
            nn.Conv1d(1, 25, 5, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(125, 10),
        ]  # fmt: skip
    return [
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    ]  # fmt: skip


def _batch(two_d: bool):
    import numpy as np

    rng = np.random.default_rng(0)
    shape = (64, 1, 28, 28) if two_d else (100, 1, 40)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, 10, shape[0])


def _gradstep_step(two_d: bool):
    import gradstep as gs
    from gradstep import nn, optim

    x, y = _batch(two_d)
    gs.manual_seed(0)
    model = nn.Sequential(*_layers(nn, two_d))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xt = gs.tensor(x)
    optim.kernels.preload()  # steady steps: numba loaded, as a long run has it

    def step():
        opt.zero_grad()
        loss_fn(model(xt), y).backward()
        opt.step()

    return step


def _torch_step(two_d: bool):
    import torch

    x, y = _batch(two_d)
    torch.manual_seed(0)
    model = torch.nn.Sequential(*_layers(torch.nn, two_d))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss_fn(model(xt), yt).backward()
        opt.step()

    return step


WORKLOADS = [
    Workload(
        "mnist1d-cnn-b100",
        "MNIST-1D CNN (3 Conv1d of 25 channels, stride 2, Linear 125-10), batch 100, Adam step",
        {"gradstep": lambda: _gradstep_step(False), "torch": lambda: _torch_step(False)},
    ),
    Workload(
        "lenet-28x28-b64",
        "LeNet-5 style (Conv2d 6 and 16 channels, 5x5, max pooling, Linear 400-120-84-10), "
        "28x28 inputs, batch 64, Adam step",
        {"gradstep": lambda: _gradstep_step(True), "torch": lambda: _torch_step(True)},
    ),
]


# -- the accuracy recipe -------------------------------------------------------------------------


def _mnist1d():
    from gradstep.data.datasets.mnist1d import generate_mnist1d

    d = generate_mnist1d()
    return (
        d["x"].reshape(-1, 1, 40),
        d["y"],
        d["x_test"].reshape(-1, 1, 40),
        d["y_test"],
    )


def recipe_gradstep(seed: int, shuffle: bool) -> dict:
    import gradstep as gs
    from gradstep import nn, optim
    from gradstep.data import TensorDataset

    x, y, xt, yt = _mnist1d()
    gs.manual_seed(seed)
    model = nn.Sequential(*_layers(nn, False))
    trainer = gs.Trainer(
        model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=RECIPE["lr"])
    )
    t0 = time.perf_counter()
    train = TensorDataset(x, y)
    trainer.fit(
        train, epochs=RECIPE["epochs"], batch_size=RECIPE["batch"], shuffle=shuffle, verbose=0
    )
    seconds = time.perf_counter() - t0
    return {"accuracy": trainer.evaluate((xt, yt))["accuracy"], "seconds": seconds}


def recipe_torch(seed: int, shuffle: bool) -> dict:
    import torch

    torch.set_num_threads(THREADS)
    x, y, xt, yt = (torch.from_numpy(a) for a in _mnist1d())
    torch.manual_seed(seed)
    model = torch.nn.Sequential(*_layers(torch.nn, False))
    opt = torch.optim.Adam(model.parameters(), lr=RECIPE["lr"])
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(seed)
    n, b = len(x), RECIPE["batch"]
    t0 = time.perf_counter()
    for _ in range(RECIPE["epochs"]):
        perm = torch.randperm(n, generator=order) if shuffle else torch.arange(n)
        for i in range(0, n, b):
            idx = perm[i : i + b]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        accuracy = float((model(xt).argmax(1) == yt).float().mean())
    return {"accuracy": accuracy, "seconds": seconds}


def recipe_main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description="The MNIST-1D CNN recipe in gradstep and PyTorch.")
    p.add_argument("--recipe", action="store_true")
    p.add_argument("--system", help="run one system in this process (internal)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--shuffle", action="store_true", help="reshuffle the batches every epoch")
    args = p.parse_args(argv)
    if args.system:
        run = recipe_gradstep if args.system == "gradstep" else recipe_torch
        print(json.dumps(run(args.seeds[0], args.shuffle)))
        return
    script = os.path.abspath(__file__)
    load_start = load_average()
    results: dict[str, list[dict]] = {"gradstep": [], "torch": []}
    for i, seed in enumerate(args.seeds):
        for system in ("gradstep", "torch") if i % 2 == 0 else ("torch", "gradstep"):
            print(f"seed {seed}: {system}", file=sys.stderr, flush=True)
            wargs = ["--recipe", "--system", system, "--seeds", str(seed)]
            out = _spawn(script, wargs + (["--shuffle"] if args.shuffle else []))
            results[system].append(out)
    lines = [
        "| system | " + " | ".join(f"seed {s}" for s in args.seeds) + " | mean | training s |",
        "|---|" + "---:|" * (len(args.seeds) + 2),
    ]
    for system, runs in results.items():
        accs = [r["accuracy"] for r in runs]
        cells = " | ".join(f"{100 * a:.1f} %" for a in accs)
        secs = statistics.median(r["seconds"] for r in runs)
        mean = f"**{100 * statistics.mean(accs):.1f} %**"
        lines.append(f"| {system} | {cells} | {mean} | {secs:.1f} |")
    lines += [
        "",
        f"Batches {'reshuffled every epoch' if args.shuffle else 'in the data order'}. "
        f"CPU: {cpu_model()} ({os.cpu_count()} logical cores); {THREADS} threads per process; "
        f"load average {load_start} at the start, {load_average()} at the end.",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    if "--recipe" in sys.argv:
        recipe_main(sys.argv[1:])
    else:
        main(WORKLOADS)
