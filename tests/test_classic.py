"""The textbook algorithm: a step by hand, δ by finite differences, XOR, stopping, PyTorch."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from gradstep.classic import ClassicHistory, ClassicNetwork, StepTrace, sigmoid

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_T = np.array([[0.0], [1.0], [1.0], [0.0]])


def _s(net: float) -> float:
    return 1.0 / (1.0 + math.exp(-net))


def test_one_step_of_a_2_2_1_network_by_hand():
    eta = 0.5
    net = ClassicNetwork([2, 2, 1], learning_rate=eta)
    # rows are units; column 0 is the bias weight w_j0, then w_j1, w_j2
    w_h = [[0.1, 0.2, -0.3], [-0.2, 0.4, 0.1]]
    w_o = [[0.05, 0.3, -0.25]]
    net.set_weights([w_h, w_o])
    x1, x2, t = 1.0, 0.5, 1.0

    net_h1 = 0.1 + 0.2 * x1 - 0.3 * x2  # 0.15
    net_h2 = -0.2 + 0.4 * x1 + 0.1 * x2  # 0.25
    o_h1, o_h2 = _s(net_h1), _s(net_h2)
    assert o_h1 == pytest.approx(0.5374298453437496, abs=1e-15)
    assert o_h2 == pytest.approx(0.5621765008857981, abs=1e-15)
    net_o = 0.05 + 0.3 * o_h1 - 0.25 * o_h2
    o = _s(net_o)
    E = 0.5 * (t - o) ** 2
    d_o = o * (1 - o) * (t - o)
    d_h1 = o_h1 * (1 - o_h1) * (0.3 * d_o)
    d_h2 = o_h2 * (1 - o_h2) * (-0.25 * d_o)
    dw_o = [[eta * d_o * 1.0, eta * d_o * o_h1, eta * d_o * o_h2]]
    dw_h = [
        [eta * d_h1 * 1.0, eta * d_h1 * x1, eta * d_h1 * x2],
        [eta * d_h2 * 1.0, eta * d_h2 * x1, eta * d_h2 * x2],
    ]

    outputs = net.forward([x1, x2])
    np.testing.assert_allclose(outputs[0], [o_h1, o_h2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(outputs[1], [o], rtol=0, atol=1e-12)

    step = net.train_sample([x1, x2], [t], trace=True)
    assert isinstance(step, StepTrace)
    assert step.error == pytest.approx(E, abs=1e-12)
    np.testing.assert_allclose(step.deltas[1], [d_o], rtol=0, atol=1e-12)
    np.testing.assert_allclose(step.deltas[0], [d_h1, d_h2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(step.weight_changes[1], dw_o, rtol=0, atol=1e-12)
    np.testing.assert_allclose(step.weight_changes[0], dw_h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(net.weights[1], np.add(w_o, dw_o), rtol=0, atol=1e-12)
    np.testing.assert_allclose(net.weights[0], np.add(w_h, dw_h), rtol=0, atol=1e-12)
    assert d_o > 0 and step.weight_changes[1][0, 0] > 0  # target above output: weights go up


def _error(net: ClassicNetwork, x: np.ndarray, t: np.ndarray) -> float:
    return 0.5 * float(np.sum((t - net.forward(x)[-1]) ** 2))


def test_deltas_are_minus_dE_dnet_by_central_differences():
    rng = np.random.default_rng(3)
    net = ClassicNetwork([3, 4, 3, 2], learning_rate=0.3, seed=1, init_range=1.0)
    x, t = rng.standard_normal(3), rng.uniform(0, 1, 2)
    weights = [w.copy() for w in net.weights]
    step = ClassicNetwork([3, 4, 3, 2], learning_rate=0.3, seed=1, init_range=1.0).train_sample(
        x, t, trace=True
    )
    h = 1e-6
    for l, w in enumerate(weights):
        for j in range(w.shape[0]):
            # the bias weight w_j0 multiplies x_0 = 1, so shifting it by h shifts net_j by h
            plus = [v.copy() for v in weights]
            minus = [v.copy() for v in weights]
            plus[l][j, 0] += h
            minus[l][j, 0] -= h
            net.set_weights(plus)
            e_plus = _error(net, x, t)
            net.set_weights(minus)
            e_minus = _error(net, x, t)
            dE_dnet = (e_plus - e_minus) / (2 * h)
            assert step.deltas[l][j] == pytest.approx(-dE_dnet, abs=1e-9), (l, j)
    assert all(np.abs(d).max() > 1e-4 for d in step.deltas)  # the check is not vacuous


def test_xor_is_learnt_to_tolerance():
    net = ClassicNetwork([2, 3, 1], learning_rate=0.5, seed=6)
    history = net.fit(XOR_X, XOR_T, epochs=5000, tolerance=0.2)
    assert isinstance(history, ClassicHistory)
    assert history.stopped_by == "tolerance"
    assert history.epochs < 5000
    assert len(history.error) == len(history.max_error) == history.epochs
    assert history.max_error[-1] < 0.2 <= min(history.max_error[:-1])
    assert np.abs(XOR_T - net.predict(XOR_X)).max() < 0.2
    assert history.error[-1] < history.error[0]
    assert history.traces == []


def test_stopping_by_epochs_and_by_tolerance():
    net = ClassicNetwork([2, 3, 1], learning_rate=0.5, seed=0)
    h = net.fit(XOR_X, XOR_T, epochs=3, tolerance=1e-9)
    assert (h.stopped_by, h.epochs, len(h.error)) == ("epochs", 3, 3)
    h = net.fit(XOR_X, XOR_T, epochs=3)
    assert (h.stopped_by, h.epochs) == ("epochs", 3)
    # |t − o| < 1 always for targets in [0, 1], so a tolerance of 1 stops after the first epoch
    h = net.fit(XOR_X, XOR_T, epochs=50, tolerance=1.0)
    assert (h.stopped_by, h.epochs) == ("tolerance", 1)
    assert h.history == {"error": h.error, "max_error": h.max_error}


def test_history_error_is_measured_after_each_epoch():
    net = ClassicNetwork([2, 3, 1], learning_rate=0.5, seed=0)
    h = net.fit(XOR_X, XOR_T[:, 0], epochs=2)  # 1-D targets for one output
    diff = XOR_T - net.predict(XOR_X)
    assert h.error[-1] == pytest.approx(0.5 * float(np.sum(diff**2)), abs=1e-15)
    assert h.max_error[-1] == pytest.approx(float(np.abs(diff).max()), abs=1e-15)


def test_trace_shapes_and_consistency():
    rng = np.random.default_rng(0)
    X, T = rng.standard_normal((5, 3)), rng.uniform(0, 1, (5, 2))
    traced = ClassicNetwork([3, 4, 2], learning_rate=0.2, seed=2)
    plain = ClassicNetwork([3, 4, 2], learning_rate=0.2, seed=2)
    h = traced.fit(X, T, epochs=2, trace=True)
    plain.fit(X, T, epochs=2)
    assert len(h.traces) == 10
    for i, step in enumerate(h.traces):
        np.testing.assert_array_equal(step.x, X[i % 5])
        np.testing.assert_array_equal(step.target, T[i % 5])
        assert [v.shape for v in step.inputs] == [(4,), (5,)]
        assert [v.shape for v in step.outputs] == [(4,), (2,)]
        assert [v.shape for v in step.deltas] == [(4,), (2,)]
        assert [v.shape for v in step.weight_changes] == [(4, 4), (2, 5)]
        assert step.inputs[0][0] == step.inputs[1][0] == 1.0
        np.testing.assert_array_equal(step.inputs[1][1:], step.outputs[0])
        for d, xin, dw in zip(step.deltas, step.inputs, step.weight_changes):
            np.testing.assert_allclose(dw, 0.2 * np.outer(d, xin), rtol=1e-15, atol=0)
        o = step.outputs[-1]
        assert step.error == pytest.approx(0.5 * np.sum((step.target - o) ** 2), abs=1e-15)
    for a, b in zip(traced.weights, plain.weights):
        np.testing.assert_array_equal(a, b)


def test_seeded_init_and_shuffle_are_deterministic():
    a = ClassicNetwork([2, 3, 1], seed=5)
    b = ClassicNetwork([2, 3, 1], seed=5)
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(wa, wb)
        assert wa.dtype == np.float64 and np.abs(wa).max() <= 0.05
    assert [w.shape for w in a.weights] == [(3, 3), (1, 4)]
    a.fit(XOR_X, XOR_T, epochs=5, shuffle=True)
    b.fit(XOR_X, XOR_T, epochs=5, shuffle=True)
    c = ClassicNetwork([2, 3, 1], seed=5)
    c.fit(XOR_X, XOR_T, epochs=5)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert not np.array_equal(a.weights[0], c.weights[0])


def _torch_model(net: ClassicNetwork) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for n_in, n_out in zip(net.sizes[:-1], net.sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers).double()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    return model


@pytest.mark.parametrize("sizes", [[3, 4, 2], [2, 3, 3, 1]])
def test_same_weights_as_pytorch_sgd_per_sample(sizes):
    eta = 0.5
    rng = np.random.default_rng(7)
    X = rng.standard_normal((6, sizes[0]))
    T = rng.uniform(0, 1, (6, sizes[-1]))
    net = ClassicNetwork(sizes, learning_rate=eta, seed=4, init_range=0.5)
    model = _torch_model(net)
    opt = torch.optim.SGD(model.parameters(), lr=eta)
    history = net.fit(X, T, epochs=2, trace=True)
    for i, step in enumerate(history.traces):
        x = torch.from_numpy(X[i % 6]).unsqueeze(0)
        t = torch.from_numpy(T[i % 6]).unsqueeze(0)
        opt.zero_grad()
        out = model(x)
        loss = 0.5 * ((t - out) ** 2).sum()
        loss.backward()
        assert step.error == pytest.approx(loss.item(), abs=1e-12)
        for l in range(net.n_layers):  # δ_j = −∂E/∂net_j = −∂E/∂b_j
            bias_grad = model[2 * l].bias.grad.numpy()
            np.testing.assert_allclose(step.deltas[l], -bias_grad, rtol=0, atol=1e-12)
        opt.step()
    for l in range(net.n_layers):
        w, b = net.layer_weights(l)
        np.testing.assert_allclose(w, model[2 * l].weight.detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(b, model[2 * l].bias.detach().numpy(), rtol=0, atol=1e-12)
    with torch.no_grad():
        expected = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(net.predict(X), expected, rtol=0, atol=1e-12)


def test_layer_weights_split_and_state_dict_names():
    net = ClassicNetwork([2, 3, 1], seed=0)
    w, b = net.layer_weights(0)
    assert w.shape == (3, 2) and b.shape == (3,)
    np.testing.assert_array_equal(b, net.weights[0][:, 0])
    np.testing.assert_array_equal(w, net.weights[0][:, 1:])
    w[:] = 9.0  # a copy: the network is untouched
    assert net.weights[0].max() < 1.0
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    np.testing.assert_array_equal(net.layer_weights(-1)[0], net.weights[1][:, 1:])
    with pytest.raises(IndexError, match="layer"):
        net.layer_weights(2)


def test_sigmoid_saturates_without_warnings():
    with warnings.catch_warnings(), np.errstate(over="warn", invalid="warn", divide="warn"):
        warnings.simplefilter("error")
        np.testing.assert_array_equal(sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])
        net = ClassicNetwork([1, 1], seed=0)
        net.set_weights([[[0.0, -1000.0]]])
        assert net.predict([[1.0]])[0, 0] == 0.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sizes": [2]}, "sizes"),
        ({"sizes": [2, 0, 1]}, "sizes"),
        ({"sizes": "21"}, "sizes"),
        ({"sizes": [2, 1.5]}, "sizes"),
        ({"sizes": [2, 1], "learning_rate": -0.1}, "learning_rate"),
        ({"sizes": [2, 1], "learning_rate": float("nan")}, "learning_rate"),
        ({"sizes": [2, 1], "init_range": -1}, "init_range"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ClassicNetwork(**kwargs)


def test_bad_data_is_rejected_with_a_clear_message():
    net = ClassicNetwork([2, 3, 1])
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        net.fit(XOR_X, XOR_T * 2)
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        net.train_sample([0.0, 1.0], [-0.5])
    with pytest.raises(ValueError, match="NaN"):
        net.fit(np.array([[np.nan, 0.0]]), [[0.5]])
    with pytest.raises(ValueError, match="NaN"):
        net.train_sample([0.0, 1.0], [np.nan])
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        net.fit(np.ones((4, 3)), XOR_T)
    with pytest.raises(ValueError, match="samples"):
        net.fit(XOR_X, XOR_T[:3])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        net.forward([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="reshape"):
        net.predict([0.0, 1.0])
    with pytest.raises(TypeError, match="numeric"):
        net.predict([["a", "b"]])
    with pytest.raises(ValueError, match="epochs"):
        net.fit(XOR_X, XOR_T, epochs=0)
    with pytest.raises(ValueError, match="tolerance"):
        net.fit(XOR_X, XOR_T, tolerance=-1.0)
    with pytest.raises(ValueError, match=r"shape \(3, 3\)"):
        net.set_weights([np.zeros((3, 2)), np.zeros((1, 4))])
    with pytest.raises(ValueError, match="2 matrices"):
        net.set_weights([np.zeros((3, 3))])
    with pytest.raises(ValueError, match="NaN"):
        net.set_weights([np.full((3, 3), np.nan), np.zeros((1, 4))])
