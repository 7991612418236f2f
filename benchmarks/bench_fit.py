"""Epoch time of ``Trainer.fit`` on digits against a hand-written PyTorch loop and scikit-learn.

The work is the same everywhere: the digits training split (1257 samples, standardised), an MLP
64-128-64-10 with ReLU, cross-entropy, Adam (lr 1e-3), batch 16, shuffled, one epoch per
iteration. ``gradstep-loop`` is the same epoch written by hand on the gradstep engine (no metrics,
progress or logging): the gap between it and ``gradstep`` is the Trainer's own overhead.

Run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_fit.py
"""

from __future__ import annotations

from common import Workload, main

BATCH = 16


def _data():
    from gradstep.data import datasets

    d = datasets.load("digits")
    x, y = d.train.arrays
    return x, y


def build_trainer():
    import gradstep as gs
    from gradstep import nn, optim

    x, y = _data()
    gs.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)
    )
    trainer = gs.Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3))
    optim.kernels.preload()  # steady steps: numba loaded, as a long run has it
    train = (x, y)

    def epoch():
        trainer.fit(train, epochs=1, batch_size=BATCH, verbose=0)

    return epoch


def build_gradstep_loop():
    import numpy as np

    import gradstep as gs
    from gradstep import nn, optim
    from gradstep.functional import cross_entropy

    x, y = _data()
    gs.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)
    )
    opt = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    optim.kernels.preload()  # steady steps: numba loaded, as a long run has it
    n = len(x)

    def epoch():
        order = rng.permutation(n)
        for i in range(0, n, BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad()
            loss = cross_entropy(model(gs.Tensor._make(x[idx])), y[idx])
            loss.backward()
            opt.step()

    return epoch


def build_torch():
    import torch

    x, y = _data()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )  # fmt: skip
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = len(xt)

    def epoch():
        order = torch.randperm(n)
        for i in range(0, n, BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return epoch


def build_sklearn():
    import numpy as np
    from sklearn.neural_network import MLPClassifier

    x, y = _data()
    clf = MLPClassifier(
        hidden_layer_sizes=(128, 64), solver="adam", batch_size=BATCH, learning_rate_init=1e-3,
        alpha=0.0, shuffle=True, random_state=0,
    )  # fmt: skip
    classes = np.unique(y)

    def epoch():
        clf.partial_fit(x, y, classes=classes)

    return epoch


WORKLOADS = [
    Workload(
        "digits-fit",
        "one epoch on digits, MLP 64-128-64-10, batch 16, Adam",
        {
            "gradstep": build_trainer,
            "gradstep-loop": build_gradstep_loop,
            "torch": build_torch,
            "sklearn": build_sklearn,
        },
    )
]

if __name__ == "__main__":
    main(WORKLOADS)
