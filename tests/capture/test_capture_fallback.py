"""What cannot be recorded runs eagerly, with one CaptureWarning naming the reason and the line
of the step that caused it; results stay those of eager execution."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from capture_helpers import batches, bits, state_bytes

import gradstep as gs
from gradstep import nn, optim
from gradstep.capture import CaptureWarning

DATA = batches(6, "index", n=3)


def _line(fn, marker: str) -> str:
    """file:line of the line of ``fn`` that holds ``marker``."""
    lines, first = inspect.getsourcelines(fn)
    for i, text in enumerate(lines):
        if marker in text:
            return f"{inspect.getsourcefile(fn)}:{first + i}"
    raise AssertionError(marker)


def _setup(seed=0):
    gs.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 10), nn.Tanh(), nn.Linear(10, 3))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return model, opt, nn.CrossEntropyLoss()


def _falls_back(make_step, reason: str, marker: str | None):
    """Capture ``make_step()``'s step: one warning with ``reason`` and the marked line; every
    call then gives the eager results."""
    model, opt, step_fn = make_step()
    eager = [bits(step_fn(*b).data) for b in DATA]
    expected = state_bytes(model, opt)
    model, opt, step_fn = make_step()
    with pytest.warns(CaptureWarning) as record:
        step = gs.capture(step_fn, *DATA[0])
    assert len(record) == 1
    message = str(record[0].message)
    assert reason in message
    if marker is not None:
        assert _line(step_fn, marker) in message
    assert not step.captured and reason in step.program()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        assert [bits(step(*b).data) for b in DATA] == eager
    assert state_bytes(model, opt) == expected


def test_item_inside_the_step():
    def make():
        model, opt, loss_fn = _setup()
        log = []

        def step_fn(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            log.append(loss.item())  # mark: item
            loss.backward()
            opt.step()
            return loss

        return model, opt, step_fn

    _falls_back(make, ".item() reads an array's value", "# mark: item")


def test_data_dependent_control_flow():
    def make():
        model, opt, loss_fn = _setup()

        def step_fn(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            if loss > 1.0:  # mark: branch
                loss = loss * 0.5
            loss.backward()
            opt.step()
            return loss

        return model, opt, step_fn

    _falls_back(make, "branches on an array's value", "# mark: branch")


def test_float_of_an_array_inside_the_step():
    def make():
        model, opt, loss_fn = _setup()

        def step_fn(x, y):
            opt.zero_grad()
            out = model(x)
            scale = 1.0 / float(out.data.std())  # mark: float
            loss = loss_fn(out * scale, y)
            loss.backward()
            opt.step()
            return loss

        return model, opt, step_fn

    _falls_back(make, "float() reads an array's value", "# mark: float")


def test_work_done_outside_the_recorder_is_caught_by_the_check():
    """Plain NumPy on a parameter's values (np.asarray drops the tracing) would freeze the
    penalty at its captured value; the check against two eager steps catches it."""

    def make():
        model, opt, loss_fn = _setup()

        def step_fn(x, y):
            opt.zero_grad()
            penalty = gs.tensor(np.square(np.asarray(model[0].weight.data)).sum())
            loss = loss_fn(model(x), y) + penalty
            loss.backward()
            opt.step()
            return loss

        return model, opt, step_fn

    _falls_back(make, "differs from the eager step", None)


def test_a_constant_that_is_the_same_for_reversed_rows_is_caught_too():
    """A value computed outside the recorder from the batch (np.ascontiguousarray drops the
    tracing) that does not change when the rows are reversed, as a mean or a maximum over the
    rows: the check's second batch has other rows (the first replaced by a copy of the second),
    so the frozen value shows in the returned loss."""
    model, opt, loss_fn = _setup()
    x, y = (a.copy() for a in DATA[0])
    x[0, 0] = 10.0  # the batch's largest value sits in its first row

    def step_fn(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss + gs.tensor(np.ascontiguousarray(x.data).max())

    with pytest.warns(CaptureWarning, match="differs from the eager step in the returned value"):
        step = gs.capture(step_fn, x, y)
    assert not step.captured


def test_an_optimizer_gs_capture_cannot_find_and_the_state_argument():
    def make():
        model, opt, loss_fn = _setup()
        hidden = {"opt": opt}

        def step_fn(x, y):
            o = hidden[next(iter(hidden))]  # found: hidden is a closure variable
            o.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            o.step()
            return loss

        return model, opt, step_fn

    model, opt, step_fn = make()
    assert gs.capture(step_fn, *DATA[0]).captured

    def make_hidden():
        model, opt, loss_fn = _setup()
        gs._capture_test_optimizer = opt  # reachable only by a name built at run time

        def step_fn(x, y):
            o = getattr(gs, "_capture_test_" + "optimizer")
            o.zero_grad()  # mark: hidden
            loss = loss_fn(model(x), y)
            loss.backward()
            o.step()
            return loss

        return model, opt, step_fn

    try:
        _falls_back(make_hidden, "did not find", "# mark: hidden")
        model, opt, step_fn = make_hidden()
        assert gs.capture(step_fn, *DATA[0], state=[opt]).captured
    finally:
        del gs._capture_test_optimizer


def test_an_optimizer_closure():
    def make():
        model, opt, loss_fn = _setup()

        def step_fn(x, y):
            def closure():
                opt.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                return loss

            return opt.step(closure)  # mark: closure

        return model, opt, step_fn

    _falls_back(make, "closure", "# mark: closure")


def test_an_input_that_requires_grad_runs_eagerly():
    model, opt, loss_fn = _setup()
    x, y = DATA[0]
    xt = gs.tensor(x, requires_grad=True)

    def step_fn(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    with pytest.warns(CaptureWarning, match="requires grad"):
        step = gs.capture(step_fn, xt, y)
    step(xt, y)
    assert xt.grad is not None  # eager: the input's gradient is there


def test_a_failing_guard_runs_that_call_eagerly():
    """The engine's label check was recorded as a guard: a bad label at replay time gives the
    engine's own error, and the state is as the failed eager call leaves it."""
    model, opt, loss_fn = _setup()

    def step_fn(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step = gs.capture(step_fn, *DATA[0])
    assert step.captured and "check" in step.program()
    before = state_bytes(model, opt)
    x, y = DATA[1]
    with pytest.raises(ValueError, match="out of range"):
        step(x, np.where(np.arange(len(y)) == 2, 7, y))
    after = state_bytes(model, opt)
    assert {k: v for k, v in after.items() if not k.startswith("grad.")} == {
        k: v for k, v in before.items() if not k.startswith("grad.")
    }
    step(x, y)  # and the recording is still used


def test_warnings_the_engine_silences_stay_silent_in_replays():
    """BCE on saturated probabilities takes log(0) under np.errstate(divide="ignore"): the
    replay keeps that state for those calls, so no RuntimeWarning appears."""
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 3), nn.Sigmoid())
    model[0].weight.data *= 200.0  # outputs of exactly 0.0 and 1.0 in float32
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.BCELoss()

    def step_fn(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    x, y = batches(6, "binary")[0]
    step = gs.capture(step_fn, x, y)
    assert step.captured, step.reason
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = float(step(x, y))
    assert loss > 10  # the clamped logs (-100) are in it


def test_switching_modes_inside_the_step():
    def make():
        model, opt, loss_fn = _setup()

        def step_fn(x, y):
            model.train()
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            model.eval()
            return loss

        return model, opt, step_fn

    _falls_back(make, "switches modules between train and eval mode", None)
    model, opt, step_fn = make()
    with pytest.warns(CaptureWarning):
        gs.capture(step_fn, *DATA[0])
    assert model.training  # capturing left the mode as it was
