"""Convolutional networks on real data with stated bounds (deterministic: fixed seeds).

The bounds leave room below every seed tried, since float32 results differ between BLAS builds
and a few test samples flip with them."""

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn, optim
from gradstep.data import TensorDataset, datasets
from gradstep.train import Trainer


def _images(part: TensorDataset) -> tuple[np.ndarray, np.ndarray]:
    x, y = part.arrays
    return x.reshape(-1, 1, 8, 8), y


def test_a_small_cnn_reaches_98_percent_test_accuracy_on_digits():
    data = datasets.load("digits")  # 8x8 images, each pixel standardised on the training part
    (xt, yt), (xv, yv) = _images(data.train), _images(data.val)
    train = TensorDataset(np.concatenate([xt, xv]), np.concatenate([yt, yv]))  # no model choice
    gs.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 4 * 4, 10),
    )  # fmt: skip
    opt = optim.Adam(model.parameters(), lr=3e-3)
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(label_smoothing=0.1),
        opt,
        scheduler=optim.lr_scheduler.warmup_cosine(opt, warmup_steps=40),
    )
    trainer.fit(train, epochs=15, batch_size=32, verbose=0)
    test = TensorDataset(*_images(data.test))
    assert trainer.evaluate(test)["accuracy"] >= 0.98  # seeds 0-11 gave 0.985-0.996 (270 images)


def test_the_mnist1d_cnn_recipe_shortened_beats_any_mlp():
    pytest.importorskip("mnist1d")
    from gradstep.data.datasets.mnist1d import generate_mnist1d

    d = generate_mnist1d()  # the paper's 4000 training and 1000 test signals of 40 points
    train = TensorDataset(d["x"].reshape(-1, 1, 40), d["y"])
    test = TensorDataset(d["x_test"].reshape(-1, 1, 40), d["y_test"])
    gs.manual_seed(0)
    model = nn.Sequential(
        nn.Conv1d(1, 25, 5, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(125, 10),
    )  # fmt: skip
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2))
    trainer.fit(train, epochs=30, batch_size=100, shuffle=False, verbose=0)  # 1200 of 6000 steps
    # batches in the data's order, as the paper's loop takes them; seeds 0-9 gave 0.886-0.917
    # after these 1200 steps (the full 6000: 0.938 and 0.935 for seeds 0 and 1; the paper's
    # MLP: 0.68), and 0.85 leaves room for other BLAS builds
    assert trainer.evaluate(test)["accuracy"] >= 0.85
