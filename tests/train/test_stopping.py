"""Stopping conditions, each in isolation with hand-made logs and an injected clock."""

import numpy as np
import pytest

from gradstep.train import EarlyStopping, MaxEpochs, MaxError, TargetLoss, TimeBudget
from gradstep.train.stopping import as_conditions


class FakeModel:
    def __init__(self):
        self.w = np.zeros(2)

    def state_dict(self):
        return {"w": self.w.copy()}

    def load_state_dict(self, d):
        self.w[...] = d["w"]


class FakeTrainer:
    def __init__(self):
        self.model = FakeModel()


def test_max_epochs():
    c = MaxEpochs(3)
    assert c.check(1, {}, None) is None
    assert "3 epochs" in c.check(2, {}, None)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        MaxEpochs(0)


def test_target_loss_and_monitor():
    c = TargetLoss(0.1)
    assert c.check(0, {"loss": 0.2}, None) is None
    assert c.check(0, {"loss": 0.1}, None)
    c = TargetLoss(0.5, monitor="val_loss")
    with pytest.raises(KeyError, match="val_loss"):
        c.check(0, {"loss": 0.2}, None)


def test_max_error_tolerance():
    c = MaxError(0.1)
    assert c.needs_max_error
    assert c.check(0, {"max_error": 0.2}, None) is None
    assert "fell under" in c.check(0, {"max_error": 0.05}, None)


def test_early_stopping_patience_min_delta_and_restore():
    t = FakeTrainer()
    c = EarlyStopping(monitor="val_loss", patience=2, min_delta=0.01, restore_best_weights=True)
    seq = [1.0, 0.5, 0.495, 0.6, 0.4905]
    reasons = []
    for e, v in enumerate(seq):
        t.model.w[...] = e
        reasons.append(c.check(e, {"val_loss": v}, t))
    # epoch 2 improves by only 0.005 < min_delta; epochs 2, 3, 4 do not count: stops at 4
    assert reasons[:4] == [None, None, None, None]
    assert reasons[4] is not None and "restored the weights of epoch 2" in reasons[4]
    np.testing.assert_array_equal(t.model.w, [1.0, 1.0])


def test_early_stopping_mode_for_accuracy_and_state_round_trip():
    c = EarlyStopping(monitor="val_accuracy", patience=0)
    assert c.check(0, {"val_accuracy": 0.5}, None) is None
    assert c.check(1, {"val_accuracy": 0.6}, None) is None
    assert c.check(2, {"val_accuracy": 0.55}, None) is not None
    d = EarlyStopping(monitor="val_accuracy", patience=0)
    d.load_state_dict({"best": 0.6, "best_epoch": 1, "wait": 0})
    assert d.check(2, {"val_accuracy": 0.55}, None) is not None


def test_time_budget_with_injected_clock():
    now = [100.0]
    c = TimeBudget(10, clock=lambda: now[0])
    c.on_train_begin(None)
    now[0] = 105.0
    assert c.check(0, {}, None) is None
    now[0] = 110.5
    assert "time budget" in c.check(1, {}, None)


def test_as_conditions_rejects_non_conditions():
    assert as_conditions(None) == []
    with pytest.raises(TypeError, match="stopping conditions"):
        as_conditions([object()])
