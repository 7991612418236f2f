"""GradientHealth: per-layer gradient norms (checked against PyTorch in float64) and update
ratios (checked against SGD's update rule, Δw = −lr·g), the recording schedule, its saved
state, and the vanishing gradients of a deep sigmoid stack."""

from __future__ import annotations

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn, optim
from gradstep.train import GradientHealth


def _data(n: int = 16, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = x @ rng.normal(size=(d, 2)) + 0.1 * rng.normal(size=(n, 2))
    return x, y


def _fit(model, health, lr=0.1, epochs=1, batch_size=4, momentum=0.0):
    x, y = _data()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    trainer = gs.Trainer(model.double(), nn.MSELoss(), opt)
    trainer.fit(
        (x, y), epochs=epochs, batch_size=batch_size, callbacks=[health], verbose=0, shuffle=False
    )
    return trainer


def test_first_step_gradient_norm_equals_torch():
    torch = pytest.importorskip("torch")
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    w = {k: v.copy() for k, v in model.state_dict().items()}
    health = GradientHealth(every=1)
    _fit(model, health, batch_size=4)
    x, y = _data()
    tm = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    tm = tm.double()
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()})
    loss = torch.nn.functional.mse_loss(tm(torch.from_numpy(x[:4])), torch.from_numpy(y[:4]))
    loss.backward()
    assert list(health.grad_norm) == ["0.weight", "2.weight"]  # weights only, input side first
    for name, (i, _) in zip(health.grad_norm, [(0, "weight"), (2, "weight")]):
        expect = float(tm[i].weight.grad.norm())
        assert health.grad_norm[name][0] == pytest.approx(expect, rel=1e-10)


def test_update_ratio_is_lr_times_gradient_over_weight_for_plain_sgd():
    """SGD without momentum moves w by −lr·g, so ‖Δw‖/‖w‖ = lr·‖g‖/‖w_before‖ exactly."""
    gs.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    lr = 0.05
    before: list[dict[str, np.ndarray]] = []

    class Watch(gs.train.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            before.append({k: v.copy() for k, v in self.trainer.model.state_dict().items()})

    health = GradientHealth(every=1)
    x, y = _data()
    trainer = gs.Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=lr))
    trainer.fit(
        (x, y), epochs=1, batch_size=4, callbacks=[Watch(), health], verbose=0, shuffle=False
    )
    assert health.steps == [1, 2, 3, 4]
    for s in range(4):
        for name in health.grad_norm:
            w0 = np.linalg.norm(before[s][name])
            expect = lr * health.grad_norm[name][s] / w0
            assert health.update_ratio[name][s] == pytest.approx(expect, rel=1e-9)


def test_every_n_steps_and_biases():
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    health = GradientHealth(every=3, biases=True)
    _fit(model, health, epochs=3, batch_size=4)  # 4 steps per epoch, 12 steps
    assert health.steps == [1, 3, 6, 9, 12]
    assert list(health.grad_norm) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert health.layers["0.weight"] == "Linear(3→4)"
    assert health.steps_per_epoch == 4
    assert all(len(v) == 5 for v in health.update_ratio.values())


def test_every_is_sized_from_the_run():
    gs.manual_seed(0)
    health = GradientHealth(points=5)
    _fit(nn.Sequential(nn.Linear(3, 2)), health, epochs=5, batch_size=4)  # 20 steps
    assert health.every == 4
    assert health.steps == [1, 4, 8, 12, 16, 20]


def test_state_round_trip_and_resume(tmp_path):
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    health = GradientHealth(every=2)
    trainer = _fit(model, health, epochs=2)
    copy = GradientHealth()
    copy.load_state_dict(health.state_dict())
    assert copy.as_dict() == health.as_dict()
    path = tmp_path / "state.safetensors"
    trainer.save(path)
    fresh = GradientHealth(every=2)
    gs.manual_seed(0)
    model2 = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    x, y = _data()
    t2 = gs.Trainer(model2, nn.MSELoss(), optim.SGD(model2.parameters(), lr=0.1))
    t2.fit((x, y), epochs=3, batch_size=4, callbacks=[fresh], verbose=0, resume=path, shuffle=False)
    assert fresh.steps == [*health.steps, 10, 12]


def test_bad_arguments():
    with pytest.raises(ValueError, match="every must be a positive int"):
        GradientHealth(every=0)
    with pytest.raises(ValueError, match="points must be a positive int"):
        GradientHealth(points=0)


def test_deep_sigmoid_gradients_vanish_towards_the_input_and_relu_he_does_not():
    """The sigmoid's slope is at most 1/4, so each layer scales the backward signal down; ReLU
    with He initialisation keeps its size."""
    x, y = _data(n=64, d=16)

    def deep(act, he):
        layers = []
        for n_in in [16] + [16] * 5:
            lin = nn.Linear(n_in, 16)
            if he:
                nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")
            layers += [lin, act()]
        return nn.Sequential(*layers, nn.Linear(16, 2))

    ratios = {}
    for act, he in [(nn.Sigmoid, False), (nn.ReLU, True)]:
        gs.manual_seed(0)
        health = GradientHealth(every=1)
        model = deep(act, he).double()
        trainer = gs.Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01))
        trainer.fit((x, y), epochs=1, batch_size=16, callbacks=[health], verbose=0)
        med = [np.median(v) for v in health.grad_norm.values()]
        ratios[act.__name__] = med[0] / med[-1]
    assert ratios["Sigmoid"] < 1e-3
    assert 0.1 < ratios["ReLU"] < 10
