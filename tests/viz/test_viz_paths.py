"""Optimizer paths: the data (checked against the known minima, hand-derived gradients and
PyTorch's optimizers in float64) and the pictures drawn from it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from gradstep.viz import (
    SURFACES,
    Surface,
    animate_paths,
    get_surface,
    optimizer_path,
    optimizer_paths,
    plot_paths,
    surface_grid,
)

from .pixels import assert_picture

ROSENBROCK_MIN = (1.0, 1.0)


def _rosenbrock_grad(x: float, y: float) -> tuple[float, float]:
    """∂f/∂x = −2(1 − x) − 400·x·(y − x²), ∂f/∂y = 200·(y − x²), by hand."""
    return -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)


def test_rosenbrock_minimum_and_value():
    path = optimizer_path("rosenbrock", "sgd", steps=1, lr=1e-4, start=ROSENBROCK_MIN)
    assert path.values[0] == 0.0
    np.testing.assert_array_equal(path.points[1], path.points[0])  # zero gradient at (1, 1)


@pytest.mark.parametrize("start", [(-1.5, 2.0), (0.3, -0.7), (1.2, 1.1)])
def test_first_sgd_step_follows_the_hand_gradient(start):
    lr = 1e-4
    path = optimizer_path("rosenbrock", "sgd", steps=1, lr=lr, start=start)
    gx, gy = _rosenbrock_grad(*start)
    np.testing.assert_allclose(path.points[1], [start[0] - lr * gx, start[1] - lr * gy], rtol=1e-12)


@pytest.mark.parametrize("name", ["rosenbrock", "beale", "saddle", "quadratic"])
def test_grid_is_the_same_formula_as_the_path(name):
    surf = get_surface(name)
    X, Y, Z = surface_grid(surf, n=7)
    x, y = X[3, 5], Y[3, 5]
    path = optimizer_path(surf, "sgd", steps=1, lr=1e-9, start=(x, y))
    assert Z[3, 5] == pytest.approx(path.values[0], rel=1e-12)
    assert Z.shape == (7, 7)


def test_known_minima_have_zero_value_and_gradient():
    for surf in SURFACES.values():
        if surf.minimum is None:
            continue
        path = optimizer_path(surf, "sgd", steps=1, lr=1.0, start=surf.minimum)
        assert abs(path.values[0]) < 1e-12, surf.name
        np.testing.assert_allclose(path.points[1], surf.minimum, atol=1e-12)


@pytest.mark.parametrize(
    "name, lr, reach_by",
    [("adam", 0.05, 1200), ("momentum", 1e-3, 1200), ("nesterov", 1e-3, 1200)],
)
def test_adam_and_momentum_reach_the_rosenbrock_minimum(name, lr, reach_by):
    """Within 0.05 of (1, 1) by step ``reach_by``, within 0.01 at step 1500."""
    path = optimizer_path("rosenbrock", name, steps=1500, lr=lr)
    d = path.distance_to(ROSENBROCK_MIN)
    assert d[:reach_by].min() < 0.05
    assert d[-1] < 0.01
    assert not path.diverged


def test_plain_sgd_is_still_in_the_valley_after_1500_steps():
    """The same lr as momentum (1e-3), no momentum: the flat valley floor stalls it."""
    path = optimizer_path("rosenbrock", "sgd", steps=1500, lr=1e-3)
    assert path.distance_to(ROSENBROCK_MIN).min() > 0.5
    assert not path.diverged


def test_adagrad_steps_shrink_as_one_over_root_t_on_a_plane():
    """Constant gradient g: Adagrad's sum after t steps is t·g², so every coordinate moves
    lr·g/√(t·g²) = lr/√t (ε = 1e-10 aside): a step of length lr·√2/√t."""
    plane = Surface("plane", lambda x, y: 3 * x - 4 * y, (0.0, 0.0), (-1, 1), (-1, 1))
    lr = 0.1
    path = optimizer_path(plane, "adagrad", steps=50, lr=lr)
    t = np.arange(1, 51)
    np.testing.assert_allclose(path.step_lengths(), lr * math.sqrt(2) / np.sqrt(t), rtol=1e-8)
    moves = np.diff(path.points, axis=0)
    assert (moves[:, 0] < 0).all() and (moves[:, 1] > 0).all()  # downhill in both


def test_adagrad_steps_shrink_on_rosenbrock():
    steps = optimizer_path("rosenbrock", "adagrad", steps=600, lr=0.5).step_lengths()
    assert steps[-100:].mean() < 0.2 * steps[:100].mean()


def test_warmup_lr_per_step_is_the_closed_form():
    path = optimizer_path("quadratic", "adam", steps=12, lr=0.2, warmup_steps=8)
    expect = [0.2 * min(1.0, (s + 1) / 8) for s in range(12)]
    np.testing.assert_allclose(path.lrs, expect, rtol=1e-12)
    assert path.label == "adam + warm-up"
    assert path.settings["warmup_steps"] == 8


def test_a_diverging_path_stops_and_says_so():
    path = optimizer_path("rosenbrock", "sgd", steps=500, lr=0.05)
    assert path.diverged and path.steps < 500
    assert path.label == "sgd"


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_paths_equal_torch_optimizers(name):
    """The same 40 steps with torch.optim in float64, warm-up included (LambdaLR with the
    closed-form warm-up factor), on Beale."""
    torch = pytest.importorskip("torch")
    kw = {"sgd": {}, "momentum": {"momentum": 0.9}, "nesterov": {"momentum": 0.9,
          "nesterov": True}, "adagrad": {}, "rmsprop": {}, "adam": {}}[name]  # fmt: skip
    cls = {"adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam"}.get(name, "SGD")
    lr, warm, start = 0.002, 5, (1.0, 1.5)
    path = optimizer_path("beale", name, steps=40, lr=lr, warmup_steps=warm, start=start)
    assert not path.diverged and path.values[-1] < path.values[0]

    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, cls)([p], lr=lr, **kw)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm))
    points = [p.detach().clone().numpy()]
    for _ in range(40):
        opt.zero_grad()
        x, y = p[0], p[1]
        f = (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
        f.backward()
        opt.step()
        sched.step()
        points.append(p.detach().clone().numpy())
    np.testing.assert_allclose(path.points, np.array(points), rtol=1e-10, atol=1e-12)


def test_settings_reach_the_optimizer():
    a = optimizer_path("quadratic", "momentum", steps=30, lr=0.02)
    b = optimizer_path("quadratic", "momentum", steps=30, lr=0.02, momentum=0.5)
    assert b.settings["momentum"] == 0.5 and a.settings["momentum"] == 0.9
    assert not np.allclose(a.points, b.points)


def test_optimizer_paths_with_and_without_warmup():
    paths = optimizer_paths("saddle", ["sgd", "adam"], steps=5, warmup_steps=3, both=True)
    assert [p.label for p in paths] == ["sgd + warm-up", "sgd", "adam + warm-up", "adam"]
    assert all(np.array_equal(p.points[0], paths[0].points[0]) for p in paths)
    with pytest.raises(ValueError, match="warmup_steps > 0"):
        optimizer_paths("saddle", ["sgd"], both=True)


def test_a_factory_builds_any_optimizer():
    from gradstep import optim

    path = optimizer_path("quadratic", lambda ps: optim.AdamW(ps, lr=0.1), steps=3, label="adamw")
    assert path.label == "adamw" and path.steps == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"optimizer": "adm"}, "unknown optimizer 'adm'"),
        ({"steps": 0}, "steps must be a positive int"),
        ({"lr": -1.0}, "lr must be a positive number"),
        ({"start": (1.0, 2.0, 3.0)}, "start must be two numbers"),
    ],
)
def test_bad_arguments_say_what_to_fix(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimizer_path("quadratic", **kwargs)
    with pytest.raises(ValueError, match="unknown surface 'ring'; use one of rosenbrock"):
        get_surface("ring")


def test_plot_paths_writes_a_picture(tmp_path):
    paths = optimizer_paths("rosenbrock", ["sgd", "adam"], steps=40)
    paths.append(optimizer_path("rosenbrock", "sgd", steps=100, lr=0.05))  # diverges
    fig = plot_paths(paths, tmp_path / "paths.png")
    assert_picture(tmp_path / "paths.png")
    labels = fig.legends[0].get_texts()
    assert any("diverged at step" in t.get_text() for t in labels)


@pytest.mark.parametrize("name", ["saddle", "quadratic"])
def test_plot_paths_on_each_kind_of_surface(tmp_path, name):
    plot_paths(optimizer_paths(name, ["momentum", "rmsprop"], steps=20), tmp_path / "p.png")
    assert_picture(tmp_path / "p.png")


def test_animated_gif(tmp_path):
    paths = optimizer_paths("quadratic", ["sgd", "adam"], steps=30)
    animate_paths(paths, tmp_path / "p.gif", frames=6)
    assert_picture(tmp_path / "p.gif", kind="GIF")
    with Image.open(tmp_path / "p.gif") as im:
        assert im.n_frames == 6
        im.seek(0)
        first = np.asarray(im.convert("RGB"), dtype=float)
        im.seek(5)
        last = np.asarray(im.convert("RGB"), dtype=float)
    assert np.abs(first - last).mean() > 0.1  # the paths grew


def test_no_paths_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no optimizer paths"):
        plot_paths([], tmp_path / "x.png")
