"""nn.init: gains and fans by hand and against torch, and each filler's bounds / moments against
its formula."""

import math

import numpy as np
import pytest
import torch

import gradstep as gs
from gradstep import nn
from gradstep.nn import init

F64 = np.float64


def test_calculate_gain_by_hand_and_against_torch():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    for name, param in [("tanh", None), ("relu", None), ("leaky_relu", 0.3), ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param), rel=1e-15
        )
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "0.1")


def test_fans_match_torch_for_linear_and_conv_shapes():
    for shape in [(5, 3), (8, 4, 3), (16, 3, 5, 5)]:
        ours = init._calculate_fan_in_and_fan_out(np.empty(shape))
        theirs = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        assert ours == theirs
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(gs.zeros(4))


def test_uniform_and_normal_moments():
    gs.manual_seed(0)
    t = gs.zeros(200, 200, dtype=gs.float64)
    assert init.uniform_(t, -0.05, 0.05) is t  # the textbook's initialisation
    assert t.data.min() >= -0.05 and t.data.max() <= 0.05
    assert abs(t.data.mean()) < 0.001 and abs(t.data.std() - 0.1 / math.sqrt(12)) < 0.001
    init.normal_(t, mean=2.0, std=0.5)
    assert abs(t.data.mean() - 2.0) < 0.01 and abs(t.data.std() - 0.5) < 0.01


def test_constant_zeros_ones_in_place():
    p = nn.Parameter(np.empty((2, 3)))
    arr = p.data
    init.constant_(p, 0.25)
    assert p.data is arr and (arr == 0.25).all()
    init.ones_(p)
    assert (arr == 1).all()
    init.zeros_(p)
    assert not arr.any()


def test_xavier_bounds_and_std():
    gs.manual_seed(1)
    w = gs.zeros(300, 200, dtype=gs.float64)
    bound = 1.5 * math.sqrt(6 / (200 + 300))
    init.xavier_uniform_(w, gain=1.5)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    init.xavier_normal_(w, gain=2.0)
    assert abs(w.data.std() - 2.0 * math.sqrt(2 / 500)) < 0.02 * 2.0 * math.sqrt(2 / 500)


def test_kaiming_bounds_and_std_with_modes():
    gs.manual_seed(2)
    w = gs.zeros(400, 100, dtype=gs.float64)  # fan_in 100, fan_out 400
    init.kaiming_uniform_(w, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 100)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    init.kaiming_uniform_(w, a=math.sqrt(5))  # nn.Linear's default: 1/sqrt(fan_in)
    assert np.abs(w.data).max() <= 0.1 and np.abs(w.data).max() > 0.099
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    std = math.sqrt(2 / 400)
    assert abs(w.data.std() - std) < 0.02 * std
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_uniform_(w, mode="fan_avg")


def test_conv_shaped_weights_use_the_receptive_field():
    gs.manual_seed(3)
    w = gs.zeros(32, 8, 3, 3, dtype=gs.float64)  # fan_in = 8 * 9 = 72
    init.kaiming_uniform_(w, a=math.sqrt(5))
    assert np.abs(w.data).max() <= 1 / math.sqrt(72)
    assert np.abs(w.data).max() > 0.98 / math.sqrt(72)


def test_trunc_normal_stays_in_bounds():
    gs.manual_seed(4)
    t = gs.zeros(10000, dtype=gs.float64)
    init.trunc_normal_(t, mean=1.0, std=2.0, a=0.0, b=2.0)
    assert t.data.min() >= 0.0 and t.data.max() <= 2.0
    assert abs(t.data.mean() - 1.0) < 0.03  # symmetric truncation keeps the mean


def test_seeded_and_explicit_generators_repeat_and_dtype_is_kept():
    a, b = gs.zeros(5, 5), gs.zeros(5, 5)
    gs.manual_seed(9)
    init.xavier_normal_(a)
    gs.manual_seed(9)
    init.xavier_normal_(b)
    np.testing.assert_array_equal(a.data, b.data)
    assert a.dtype == np.float32
    c = np.zeros((5, 5), dtype=np.float32)  # raw arrays are filled too
    init.xavier_normal_(c, generator=np.random.default_rng(0))
    d = np.zeros((5, 5), dtype=np.float32)
    init.xavier_normal_(d, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(c, d)
    assert c.any()


def test_zero_element_and_non_float_inputs():
    empty = gs.zeros(0, 3)
    assert init.kaiming_uniform_(empty) is empty
    with pytest.raises(TypeError, match="floating"):
        init.uniform_(gs.tensor([1, 2]))
    with pytest.raises(TypeError, match="Tensor or an array"):
        init.zeros_([1.0, 2.0])
