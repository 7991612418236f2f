"""get_total_norm, clip_grad_norm_ and clip_grad_value_ against torch.nn.utils, float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradstep.nn.utils import clip_grad_norm_, clip_grad_value_, get_total_norm
from gradstep.tensor import tensor

SHAPES = [(5, 3), (3,), (2, 2, 2)]


def pair(scale: float, seed: int = 0):
    """The same gradients on gradstep parameters and on torch parameters."""
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(s) * scale for s in SHAPES]
    ours = [tensor(np.zeros(s), dtype=np.float64, requires_grad=True) for s in SHAPES]
    theirs = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
    for p, q, g in zip(ours, theirs, grads):
        p.grad = g.copy()
        q.grad = torch.from_numpy(g.copy())
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, math.inf])
@pytest.mark.parametrize(("scale", "max_norm"), [(1.0, 0.5), (1.0, 100.0), (10.0, 1.0)])
def test_clip_grad_norm_matches_torch(norm_type, scale, max_norm):
    ours, theirs = pair(scale)
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    want = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type, foreach=False)
    assert isinstance(total, float)
    assert total == pytest.approx(float(want), rel=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_by_hand():
    p = tensor(np.zeros(2), dtype=np.float64, requires_grad=True)
    q = tensor(np.zeros(1), dtype=np.float64, requires_grad=True)
    p.grad = np.array([3.0, 0.0])
    q.grad = np.array([4.0])  # joint 2-norm 5
    assert clip_grad_norm_([p, q], 1.0) == 5.0
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(p.grad, [3 * coef, 0.0], rtol=1e-15)
    np.testing.assert_allclose(q.grad, [4 * coef], rtol=1e-15)
    assert clip_grad_norm_(p, 10.0) == pytest.approx(3 * coef, rel=1e-15)  # one parameter
    np.testing.assert_allclose(p.grad, [3 * coef, 0.0], rtol=1e-15)  # below the limit: unchanged


def test_clip_grad_norm_skips_missing_grads_and_keeps_arrays_and_dtype():
    a = tensor(np.ones((2, 2)), requires_grad=True)  # float32
    b = tensor(np.ones(3), requires_grad=True)
    a.grad = np.full((2, 2), 10.0, dtype=np.float32)
    held = a.grad
    total = clip_grad_norm_([a, b], 1.0)
    assert total == pytest.approx(20.0, rel=1e-6)
    assert a.grad is held and a.grad.dtype == np.float32
    assert b.grad is None
    assert np.linalg.norm(a.grad) == pytest.approx(1.0, rel=1e-5)
    assert clip_grad_norm_([b], 1.0) == 0.0
    assert clip_grad_norm_(iter([a]), 1.0) == pytest.approx(1.0, rel=1e-5)  # a generator works


def test_clip_grad_norm_nonfinite():
    p = tensor(np.zeros(3), dtype=np.float64, requires_grad=True)
    p.grad = np.array([1.0, np.nan, 2.0])
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert p.grad[0] == 1.0  # untouched when it raises
    p.grad = np.array([1.0, np.inf, 2.0])
    with pytest.raises(RuntimeError, match="inf"):
        clip_grad_norm_([p], 1.0, norm_type="inf", error_if_nonfinite=True)
    total = clip_grad_norm_([p], 1.0)
    assert math.isinf(total)


def test_clip_grad_norm_bad_arguments():
    p = tensor(np.zeros(3), dtype=np.float64, requires_grad=True)
    with pytest.raises(TypeError, match="max_norm"):
        clip_grad_norm_([p], "big")
    with pytest.raises(TypeError, match="norm_type"):
        clip_grad_norm_([p], 1.0, norm_type=None)
    with pytest.raises(TypeError, match="parameters"):
        clip_grad_norm_([np.zeros(3)], 1.0)


@pytest.mark.parametrize("clip", [0.1, 0.5, 5.0])
def test_clip_grad_value_matches_torch(clip):
    ours, theirs = pair(1.0, seed=3)
    assert clip_grad_value_(ours, clip) is None
    torch.nn.utils.clip_grad_value_(theirs, clip, foreach=False)
    for p, q in zip(ours, theirs):
        assert np.array_equal(p.grad, q.grad.numpy())
        assert np.abs(p.grad).max() <= clip


def test_clip_grad_value_in_place_and_bad_value():
    p = tensor(np.zeros(3), requires_grad=True)
    p.grad = np.array([-2.0, 0.5, 3.0], dtype=np.float32)
    held = p.grad
    clip_grad_value_(p, 1.0)
    assert p.grad is held and p.grad.dtype == np.float32
    assert p.grad.tolist() == [-1.0, 0.5, 1.0]
    with pytest.raises(TypeError, match="clip_value"):
        clip_grad_value_([p], [1.0])


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, 0.0, math.inf, "inf"])
def test_get_total_norm_matches_torch_and_changes_nothing(norm_type):
    ours, theirs = pair(3.0, seed=5)
    before = [p.grad.copy() for p in ours]
    want = float(
        torch.nn.utils.get_total_norm([q.grad for q in theirs], norm_type=norm_type, foreach=False)
    )
    from_params = get_total_norm(ours, norm_type)
    from_arrays = get_total_norm([p.grad for p in ours], norm_type)
    assert isinstance(from_params, float)
    assert from_params == pytest.approx(want, rel=1e-12)
    assert from_arrays == from_params
    for p, g in zip(ours, before):
        assert np.array_equal(p.grad, g)


def test_get_total_norm_edges():
    assert get_total_norm(np.array([3.0, 4.0])) == 5.0  # one array, by hand
    assert get_total_norm([np.array([[1.0, -2.0]]), np.array([2.0])], 1.0) == 5.0
    p = tensor(np.zeros(2), dtype=np.float64, requires_grad=True)
    assert get_total_norm([p]) == 0.0  # no gradient yet: nothing to measure
    p.grad = np.array([6.0, 8.0])
    assert get_total_norm(p) == 10.0
    p.grad = np.array([1.0, np.inf])
    assert math.isinf(get_total_norm([p]))
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        get_total_norm([p], error_if_nonfinite=True)
    with pytest.raises(TypeError, match=r"tensors\[0\] is a str"):
        get_total_norm(["grad"])
    with pytest.raises(ValueError, match="norm_type"):
        get_total_norm([p], math.nan)
