"""The textbook algorithm (explicit δ) equals the engine: autodiff, SSELoss, SGD, batch 1."""

import numpy as np

import gradstep as gs
from gradstep import nn, optim
from gradstep.classic import ClassicNetwork
from gradstep.train import Trainer


def engine_twin(net: ClassicNetwork) -> nn.Sequential:
    layers = []
    for i in range(net.n_layers):
        w, b = net.layer_weights(i)
        lin = nn.Linear(w.shape[1], w.shape[0], dtype=gs.float64)
        lin.weight.data[...] = w
        lin.bias.data[...] = b
        layers += [lin, nn.Sigmoid()]
    return nn.Sequential(*layers)


def data(seed=0, n=12, d_in=3, d_out=2):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, d_in)), rng.uniform(0.1, 0.9, (n, d_out))


def test_each_update_and_delta_equal_the_engines():
    x, t = data()
    net = ClassicNetwork([3, 4, 2], learning_rate=0.3, seed=1)
    model = engine_twin(net)
    opt = optim.SGD(model.parameters(), lr=0.3)
    loss_fn = nn.SSELoss()
    for i in range(len(x)):
        trace = net.train_sample(x[i], t[i], trace=True)
        opt.zero_grad()
        out = model(gs.tensor(x[i : i + 1], dtype=gs.float64))
        loss = loss_fn(out, gs.tensor(t[i : i + 1], dtype=gs.float64))
        assert abs(loss.item() - trace.error) < 1e-12
        loss.backward()
        # δ_j = −∂E/∂net_j, and ∂E/∂b_j = ∂E/∂net_j
        for layer, delta in enumerate(trace.deltas):
            np.testing.assert_allclose(-model[2 * layer].bias.grad, delta, rtol=0, atol=1e-13)
        opt.step()
        for layer in range(net.n_layers):
            w, b = net.layer_weights(layer)
            np.testing.assert_allclose(model[2 * layer].weight.data, w, rtol=0, atol=1e-12)
            np.testing.assert_allclose(model[2 * layer].bias.data, b, rtol=0, atol=1e-12)


def test_classic_fit_equals_trainer_with_batch_size_one():
    x, t = data(seed=3, n=10, d_in=2, d_out=1)
    net = ClassicNetwork([2, 3, 1], learning_rate=0.5, seed=2)
    model = engine_twin(net)
    trainer = Trainer(model, nn.SSELoss(), optim.SGD(model.parameters(), lr=0.5))
    net.fit(x, t, epochs=3)
    trainer.fit((x, t), epochs=3, batch_size=1, shuffle=False, verbose=0)
    for layer in range(net.n_layers):
        w, b = net.layer_weights(layer)
        np.testing.assert_allclose(model[2 * layer].weight.data, w, rtol=0, atol=1e-12)
        np.testing.assert_allclose(model[2 * layer].bias.data, b, rtol=0, atol=1e-12)
