"""batch_norm against PyTorch in float64: training and evaluation values and gradients, the
in-place running-statistics update, finite differences and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from oracle import close

import gradstep as gs
from gradstep import functional as F


def _rand(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _compare(shape, training, affine="both", running=True, momentum=0.1, eps=1e-5, seed=0):
    """One batch_norm call in both libraries with the same data, parameters and running stats;
    compares the output, every gradient and the running statistics afterwards."""
    c = shape[1]
    x = _rand(shape, seed) * 3 + 1
    w, b = _rand(c, seed + 1), _rand(c, seed + 2)
    rm, rv = _rand(c, seed + 3), np.abs(_rand(c, seed + 4)) + 0.5
    gx = gs.tensor(x, dtype=gs.float64, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    gw = gs.tensor(w, dtype=gs.float64, requires_grad=True) if affine in ("both", "w") else None
    tw = torch.tensor(w, requires_grad=True) if gw is not None else None
    gb = gs.tensor(b, dtype=gs.float64, requires_grad=True) if affine in ("both", "b") else None
    tb = torch.tensor(b, requires_grad=True) if gb is not None else None
    ours_rm, ours_rv = (rm.copy(), rv.copy()) if running else (None, None)
    ref_rm, ref_rv = (torch.tensor(rm), torch.tensor(rv)) if running else (None, None)
    ours = F.batch_norm(gx, ours_rm, ours_rv, gw, gb, training, momentum, eps)
    ref = TF.batch_norm(tx, ref_rm, ref_rv, tw, tb, training, momentum, eps)
    close(ours.data, ref)
    g = _rand(shape, seed + 5)
    ours.backward(g)
    ref.backward(torch.tensor(g))
    close(gx.grad, tx.grad)
    for a, t in ((gw, tw), (gb, tb)):
        if a is not None:
            close(a.grad, t.grad)
    if running:
        close(ours_rm, ref_rm)
        close(ours_rv, ref_rv)
        if not training:
            np.testing.assert_array_equal(ours_rm, rm)  # evaluation leaves them alone


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 4, 5)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", ["both", "w", "b", "none"])
def test_batch_norm_matches_torch(shape, training, affine):
    _compare(shape, training, affine)


def test_training_without_running_stats_and_other_momentum_and_eps():
    _compare((5, 4, 3), True, running=False)
    _compare((5, 4, 3), True, momentum=0.7, eps=1e-2)
    _compare((2, 3), True, momentum=1.0)  # two values per channel: the unbiased variance doubles


def test_running_variance_takes_the_unbiased_batch_variance_by_hand():
    x = np.array([[1.0], [2.0], [6.0]])  # mean 3, biased var 14/3, unbiased var 7
    rm, rv = np.zeros(1), np.ones(1)
    out = F.batch_norm(gs.tensor(x, dtype=gs.float64), rm, rv, training=True, momentum=0.5)
    np.testing.assert_allclose(rm, [1.5])
    np.testing.assert_allclose(rv, [0.5 * 1 + 0.5 * 7])
    np.testing.assert_allclose(out.data[:, 0], (x[:, 0] - 3) / np.sqrt(14 / 3 + 1e-5))


def test_float32_stays_float32_and_running_stats_keep_their_dtype():
    rm, rv = np.zeros(2, dtype=np.float32), np.ones(2, dtype=np.float32)
    out = F.batch_norm(gs.tensor(_rand((4, 2))), rm, rv, gs.ones(2), gs.zeros(2), training=True)
    assert out.dtype == np.float32 and rm.dtype == np.float32
    assert abs(float(out.data.mean())) < 1e-6


@pytest.mark.parametrize("training", [True, False])
def test_gradcheck(training):
    rm, rv = _rand(3, 1), np.abs(_rand(3, 2)) + 0.5
    inputs = [gs.tensor(_rand(s, i + 3), dtype=gs.float64, requires_grad=True)
              for i, s in enumerate(((4, 3, 2), (3,), (3,)))]  # fmt: skip

    def fn(x, w, b):  # the running stats are copied so that every evaluation sees the same
        return F.batch_norm(x, rm.copy(), rv.copy(), w, b, training=training)

    assert gs.gradcheck(fn, inputs)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda x: F.batch_norm(x[0], None, None, training=True), "at least 2 dims"),
        (lambda x: F.batch_norm(x[:1], None, None, training=True), "more than one value"),
        (lambda x: F.batch_norm(x, None, None), "evaluation"),
        (lambda x: F.batch_norm(x, np.zeros(3), None, training=True), "both running_mean"),
        (
            lambda x: F.batch_norm(x, np.zeros(2), np.ones(2)),
            r"running_mean must have shape \(3,\)",
        ),
        (lambda x: F.batch_norm(x, None, None, gs.ones(4), training=True), "weight must have"),
    ],
)
def test_errors_name_the_problem_and_the_fix(call, match):
    x = gs.tensor(_rand((2, 3)))
    with pytest.raises(ValueError, match=match):
        call(x)
